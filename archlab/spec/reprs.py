"""Bounded ``repr`` for error messages: a value from a table is shown in at most :data:`LIMIT` characters.

A message must never grow with its input: a list of 20,000 rows, a string of a megabyte or an integer of a
thousand digits each print as a short prefix and how much was left out.
"""

from __future__ import annotations

LIMIT = 80
ITEMS = 4  # items shown per list or mapping
DEPTH = 2  # nesting levels shown
STRING = 40  # characters shown of a string


def bounded_repr(value: object, limit: int = LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters, built without ever making the full repr."""
    text = _short(value, DEPTH)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: object, depth: int) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        bits = value.bit_length()
        if bits <= 128:
            return repr(value)
        return f"{'-' if value < 0 else ''}<an integer of about {int(bits * 0.30103) + 1} digits>"
    if isinstance(value, str):
        return repr(value) if len(value) <= STRING else repr(value[:STRING]) + f"... ({len(value)} characters)"
    if isinstance(value, bytes):
        return repr(value) if len(value) <= STRING else repr(value[:STRING]) + f"... ({len(value)} bytes)"
    if isinstance(value, dict):
        if depth <= 0:
            return "{...}" if value else "{}"
        items = [f"{_short(k, 0)}: {_short(v, depth - 1)}" for k, v in _first(value.items())]
        return "{" + ", ".join(items) + _more(len(value)) + "}"
    if isinstance(value, (list, tuple)):
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        if depth <= 0:
            return f"{open_}...{close}" if value else f"{open_}{close}"
        items = [_short(v, depth - 1) for v in _first(value)]
        return open_ + ", ".join(items) + _more(len(value)) + close
    text = repr(value)
    return text if len(text) <= LIMIT else text[: LIMIT - 3] + "..."


def _first(items) -> list:
    out: list = []
    for item in items:
        if len(out) == ITEMS:
            break
        out.append(item)
    return out


def _more(n: int) -> str:
    return f", ... ({n} items)" if n > ITEMS else ""
