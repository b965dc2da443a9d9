"""Shared test helpers (strategies, module comparisons)."""
