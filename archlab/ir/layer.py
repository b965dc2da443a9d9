"""A plan layer: one primitive op as a small frozen record, computed without torch.

Its ``name`` is also the module path in the built network, so any analysis can join its results to plan rows
by name. ``inputs`` names the tensors a layer reads (``input`` is the network input), so branches and taps form
a graph, not a list. What each ``op`` means (shapes, counts, receptive field, memory, torch module, the tools'
rules) is stated once, in :mod:`archlab.ir.ops`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

INPUT = "input"


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    op: str  # an entry of archlab.ir.ops.OPS: conv | linear | bn | act | pool | add | mul | concat | ... | opaque
    kind: str  # act: relu/relu6/prelu/...; pool: max/avg/global; bn: 2d/1d; upsample: nearest/bilinear; '' else
    row: int | str  # table row index, or 'head'
    inputs: tuple[str, ...]
    in_shape: tuple[int, ...]  # (C, H, W) for maps, (D,) for vectors; the first input's for several inputs
    out_shape: tuple[int, ...]
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, ...] | None = None  # (ph, pw); a pad layer: (top, bottom, left, right)
    dilation: tuple[int, int] | None = None
    groups: int = 1
    bias: bool = False
    p: float = 0.0  # dropout probability
    eps: float = 1e-5  # bn: added to the variance (torch's default)
    momentum: float | None = 0.1  # bn: running-statistics momentum (torch's default; TensorFlow decay d: 1 - d;
    #   None: a cumulative average, as torch allows)
    scale: int = 1  # upsample: the integer scale factor
    channels: tuple[int, int] | None = None  # slice: the channel range [start, stop) of its input it passes on
    ceil_mode: bool = False  # pool: output size rounded up (torch's ceil_mode)
    waivers: tuple[tuple[str, str], ...] = ()  # lint rules waived on this layer's row: (rule, why)
    fn: str = ""  # opaque: the torch function, method or module archlab has no rule for (torch.cumsum)
    args: str = ""  # opaque: how to call it again, as JSON (archlab.nn.modules.Call); '' when it cannot be
    params: int = 0
    params_deployed: int = 0
    madds: int = 0
    other_ops: int = 0
    activations: int = 0

    @property
    def block(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def role(self) -> str:
        return self.name.rsplit(".", 1)[1]


# what a layer computes, apart from its weights' values and its name: the fields that say two layers (a traced
# module's and a table's) are the same op on the same shapes (extract's check, the key map's matching)
STRUCTURE_FIELDS = (
    "op",
    "kind",
    "in_shape",
    "out_shape",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
    "scale",
    "channels",
    "ceil_mode",
    "fn",
)


def numel(shape: Iterable[int]) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


def spatial(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """(H, W) of a feature map, None for a vector."""
    return (shape[1], shape[2]) if len(shape) == 3 else None
