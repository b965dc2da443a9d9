"""Shared test helpers: tiny tables, printout parsers, CLI error checks, a fake ceilings cache.

Test modules import from here (``from tests.helpers import tables``), never from one another. The fixtures
that use these helpers live in ``tests/conftest.py``.
"""
