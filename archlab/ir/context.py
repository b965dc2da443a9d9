"""What a row's expansion sees: the plan builder, its row index, channel rounding and resolved defaults.

The row types' recipes (``archlab.spec.rows``) write their layers through this context.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from archlab.ir.builder import PlanBuilder, RowSettings
from archlab.spec.rounding import round_channels


@dataclass
class RowContext:
    builder: PlanBuilder
    index: int | str
    x: str  # the tensor this row reads; expansion functions move it forward
    width: float
    round_rule: str
    norm: str
    act: str
    padding: str = "auto"  # defaults.padding: auto (PyTorch symmetric) or same (TensorFlow SAME)
    classes: int | None = None  # the table's top-level classes (detection heads)
    sources: tuple[str, ...] = ()  # every tensor named by the row's `from` (concat reads several)

    def row_settings(self, values: dict) -> AbstractContextManager[None]:
        """The row's settings (``bn_eps``, ``bn_momentum``, ``bias``, ``lint``) applied while its recipe runs."""
        waiver = values.get("lint") or {}
        settings = RowSettings(
            bn_eps=1e-5 if values.get("bn_eps") is None else values["bn_eps"],
            bn_momentum=0.1 if values.get("bn_momentum") is None else values["bn_momentum"],
            bias=bool(values.get("bias")),
            waivers=tuple((rule, waiver["why"]) for rule in waiver.get("ignore", ())),
        )
        return settings.apply(self.builder)

    def conv(self, name, src, c, k=1, s=1, **kw) -> str:
        """A bare conv (no norm/act) with the table's default padding unless given."""
        kw.setdefault("padding", self.padding)
        return self.builder.conv(name, src, c, k, s, **kw)

    def name(self, block: int | str, role: str) -> str:
        return f"{self.index}.{block}.{role}"

    @property
    def shape(self) -> tuple[int, ...]:
        return self.builder.shape(self.x)

    def shape_of(self, name: str) -> tuple[int, ...]:
        return self.builder.shape(name)

    def channels(self, c: int, scale: str = "all") -> int:
        """Apply the width multiplier with the table's rounding rule (``scale``: all, up or none)."""
        if scale == "none":
            return c
        w = max(1.0, self.width) if scale == "up" else self.width
        if w == 1.0:
            return c
        return max(1, round_channels(c * w, self.round_rule))

    def unit(
        self, block, role, src, c, k=1, s=1, *, groups=1, dilation=1, padding=None, bias=None, norm=None, act=None
    ) -> str:
        """conv -> norm -> act, named ``role``, ``role_bn``, ``role_act`` (``conv``, ``bn``, ``act`` for role conv).
        ``bias`` None: the row's ``bias`` field (false unless the row sets it)."""
        b = self.builder
        norm = self.norm if norm is None else norm
        act = self.act if act is None else act
        padding = self.padding if padding is None else padding

        def sub(suffix: str) -> str:
            return self.name(block, suffix if role == "conv" else f"{role}_{suffix}")

        x = b.conv(self.name(block, role), src, c, k, s, groups=groups, dilation=dilation, padding=padding, bias=bias)
        if norm == "bn":
            x = b.bn(sub("bn"), x)
        if act != "none":
            x = b.act(sub("act"), x, act)
        return x
