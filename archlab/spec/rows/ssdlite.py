"""``ssdlite``: an SSDLite prediction head on one feature map (MobileNetV2 paper, Sec. 6.2).

``sep: true``: depthwise 3x3 with bias -> norm -> act, then 1x1 with bias; ``sep: false``: a plain 1x1 conv
with bias. Output channels: anchors x classes (``predict: classes``, the table's ``classes``, changed by
``--classes``) or anchors x 4 (``predict: boxes``). A network output unless ``output: false``.
"""

from __future__ import annotations

from archlab.errors import ShapeError
from archlab.spec.fields import Field
from archlab.spec.rows.base import Context, RowType

FIELDS = (
    Field("anchors", "int", "anchors per position", min=1),
    Field("predict", "choice", "classes (anchors x classes) or boxes (anchors x 4)", choices=("classes", "boxes")),
    Field("sep", "bool", "depthwise 3x3 + norm + act before the 1x1 (SSDLite); false: a plain 1x1 conv", True),
)


def expand(v: dict, ctx: Context) -> None:
    if v["predict"] == "classes":
        if ctx.classes is None:
            raise ShapeError("predict: classes needs the table's top-level `classes`", field="predict")
        out = v["anchors"] * ctx.classes
    else:
        out = v["anchors"] * 4
    x = ctx.x
    if v["sep"]:
        cin = ctx.shape[0]
        x = ctx.unit(0, "dw", x, cin, 3, 1, groups=cin, bias=True)
    ctx.x = ctx.conv(ctx.name(0, "pw"), x, out, 1, bias=True, padding=0)


ROW = RowType("ssdlite", "SSDLite class or box predictor on a feature map", FIELDS, expand)
