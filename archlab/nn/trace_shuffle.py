"""The channel-shuffle idiom of a traced module (view to groups -> transpose(1, 2) -> [contiguous] -> view back,
as torchvision's ShuffleNetV2 writes it) -> one ``shuffle`` layer; a tensor on that way used otherwise makes
its calls opaque layers after all. A part of :class:`archlab.nn.trace_record.Recorder`."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archlab.nn.calls import call_name
from archlab.nn.trace_map import Step, call_key, flat_values, shape_of


@dataclass
class Pending:
    """A channel shuffle on its way (view to groups -> transpose -> [contiguous] -> view back)."""

    src: object  # the tensor being shuffled
    groups: int
    swapped: bool
    calls: list = field(default_factory=list)  # (scope, target, args, kwargs, out) to replay if it is no shuffle


class ShuffleIdiom:
    """The recorder's handling of the channel-shuffle idiom (its state: ``pending``)."""

    pending: dict

    if TYPE_CHECKING:  # provided by the Recorder
        names: dict

        def is_tensor(self, value) -> bool: ...

        def _name(self, scope: str, key: str) -> str: ...

        def _emit(self, name: str, steps, out, params, src=None): ...

        def _opaque(self, name: str, fn: str, args, kwargs, out, params: int, source: tuple) -> None: ...

    def _shuffle_step(self, scope, target, key, args, kwargs, out) -> bool:
        x = args[0] if args else None
        p = self.pending.get(id(x)) if x is not None else None
        call = (scope, target, args, kwargs, out)
        if not hasattr(out, "dim"):
            return False
        if (
            p is None
            and key in ("view", "reshape")
            and x is not None
            and self.is_tensor(x)
            and x.dim() == 4
            and out.dim() == 5
        ):
            c, h, w = shape_of(x)
            g, cg, oh, ow = shape_of(out)
            if g * cg == c and (oh, ow) == (h, w) and g > 1:
                self._pend(out, Pending(x, g, False, [call]))
                return True
        if p is None:
            return False
        dims = [a % 5 for a in args[1:3] if isinstance(a, int)]
        if key == "transpose" and not p.swapped and sorted(dims) == [1, 2]:
            self._pend(out, Pending(p.src, p.groups, True, [*p.calls, call]))
            return True
        if key == "contiguous":
            self._pend(out, Pending(p.src, p.groups, p.swapped, [*p.calls, call]))
            return True
        if key in ("view", "reshape", "flatten") and p.swapped and shape_of(out) == shape_of(p.src):
            name = self._name(scope, "shuffle")
            if self._emit(name, [_shuffle_of(p)], out, None, p.src) is not None:
                return True
        return False

    def _pend(self, out, p: Pending) -> None:
        key = id(out)
        self.pending[key] = p
        weakref.finalize(out, self.pending.pop, key, None)

    def _flush_pending(self, args, kwargs) -> None:
        """A tensor on its way to a channel shuffle used otherwise: its calls become opaque layers."""
        for v in flat_values(args, kwargs):
            p = self.pending.pop(id(v), None)
            if p is None:
                continue
            for scope, target, a, k, o in p.calls:
                self.pending.pop(id(o), None)
                if id(o) not in self.names:
                    self._opaque(
                        self._name(scope, call_key(call_name(target))), call_name(target), a, k, o, 0, ("call", target)
                    )


def _shuffle_of(p: Pending) -> Step:
    return Step("shuffle", [p.src], {"groups": p.groups})
