"""Helpers shared by tests (new in issue 12): reference modules with non-trivial BN statistics, output checks."""
