"""``mbconv``: EfficientNet's MBConv block (Tan & Le 2019, Table 1; torchvision's ``MBConv``).

The ``bottleneck`` recipe with EfficientNet's choices: the expanded width is _make_divisible(t x input, 8), the
expansion layer is dropped when that equals the input (t = 1); squeeze-excite on by default with a squeeze of
input / 4, SiLU and a sigmoid gate (``se: false`` or a mapping changes it); the activation is the table's (SiLU in
EfficientNet's tables); and before each residual add a drop-path placeholder: a layer ``drop_path`` that is the
identity at inference (stochastic depth), counts 0 and builds an ``nn.Identity``.
"""

from __future__ import annotations

from archlab.spec.fields import Field
from archlab.spec.rounding import make_divisible
from archlab.spec.rows.base import BIAS, SCALE, Context, RowType
from archlab.spec.rows.bottleneck import EXPAND, Inverted, inverted_blocks
from archlab.spec.rows.se import EFFICIENTNET, se_field

FIELDS = (
    Field("t", "float", "expansion factor (of each block's input channels)", min=0, exclusive_min=True),
    Field("c", "int", "output channels (scaled by --width)", min=1),
    Field("n", "int", "number of blocks", 1, min=1),
    Field("s", "int", "stride of the first block", 1, min=1),
    Field("k", "int", "depthwise kernel size", 3, min=1),
    se_field(EFFICIENTNET, True),
    Field("residual", "bool", "residual add (after the drop-path placeholder) where the shapes allow it", True),
    EXPAND,
    BIAS,
    SCALE,
)


def mbconv_hidden(ctx: Context, v: dict, cin: int) -> tuple[int, bool]:
    hidden = make_divisible(cin * v["t"], 8)
    return hidden, hidden != cin or v["expand"] == "always"


MBCONV = Inverted(mbconv_hidden, EFFICIENTNET, drop_path=True)


def expand(v: dict, ctx: Context) -> None:
    inverted_blocks(v, ctx, MBCONV)


ROW = RowType("mbconv", "EfficientNet MBConv block(s): bottleneck + squeeze-excite + drop-path site", FIELDS, expand)
