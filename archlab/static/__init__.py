"""Analyses of a plan, without torch and without files: counts, memory, receptive fields, lint, diff."""
