"""Row types of the layer table, one module each: its fields and its expansion into plan layers."""

from archlab.spec.rows import bottleneck, concat, conv, dwsep, layer, pool, ssdlite, xception
from archlab.spec.rows.base import RowType

ROW_TYPES: dict[str, RowType] = {
    m.ROW.name: m.ROW for m in (conv, bottleneck, dwsep, xception, pool, concat, ssdlite, layer)
}

__all__ = ["ROW_TYPES", "RowType"]
