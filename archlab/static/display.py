"""How result records show themselves in a notebook: a short ``repr`` and an HTML table.

The records live in the tiers below ``archlab.render``, so they cannot call it. ``archlab.render.notebook``
registers one HTML renderer per record type here (``import archlab`` does that), and a record's
``_repr_html_`` asks :meth:`Display.html_of` for its HTML. Without a renderer (``archlab.render`` never
imported) it returns None, and a notebook shows the short ``repr`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


class Display:
    """The registry: record type (``module.QualName``) -> a function from the record to an HTML fragment."""

    renderers: ClassVar[dict[str, Callable[[Any], str]]] = {}

    @classmethod
    def register(cls, type_name: str, render: Callable[[Any], str]) -> None:
        cls.renderers[type_name] = render

    @classmethod
    def html_of(cls, record) -> str | None:
        for kind in type(record).__mro__:
            render = cls.renderers.get(f"{kind.__module__}.{kind.__qualname__}")
            if render is not None:
                return render(record)
        return None


def totals_text(totals: dict) -> str:
    """``1,003,136 params, 220,965,376 MAdds``: the figures a repr leads with."""
    return f"{totals['params']:,} params, {totals['madds']:,} MAdds"


def options_suffix(options: dict) -> str:
    if not options:
        return ""
    text = ", ".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in options.items())
    return f" ({text})"
