"""What the residual block rows (``basic``, ``bottleneck3``, ``regnetx``) share: the projection shortcut and the
closing add + activation."""

from __future__ import annotations

from archlab.spec.rows.base import Context


def shortcut(ctx: Context, block: int, src: str, c: int, stride: int) -> str:
    """The identity, or a strided 1x1 conv + norm (``shortcut``, ``shortcut_bn``) when the shape changes."""
    if ctx.shape_of(src)[0] == c and stride == 1:
        return src
    return ctx.unit(block, "shortcut", src, c, 1, stride, padding=0, act="none")


def close(ctx: Context, block: int, x: str, skip: str) -> str:
    """The residual add (``add``) and the activation after it (``act``, the row's)."""
    x = ctx.builder.add(ctx.name(block, "add"), x, skip)
    if ctx.act != "none":
        x = ctx.builder.act(ctx.name(block, "act"), x, ctx.act)
    return x
