"""Orchestration: studies that combine analyses and measurements (compare, sweep, rf, report)."""
