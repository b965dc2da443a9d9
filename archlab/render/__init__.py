"""Renderers: records -> rich tables, plain text, JSON, CSV, Markdown (and later figures and HTML)."""
