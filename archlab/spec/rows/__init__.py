"""Row types of the layer table, one module each: its fields and its expansion into plan layers.

``ROW_TYPES`` is the registry: the loader, the schema, the docs and the property tests read it (a new row type is
a module here and one entry in the tuple below).
"""

from archlab.spec.rows import (
    add,
    basic,
    bottleneck,
    bottleneck3,
    concat,
    conv,
    dropout,
    dwsep,
    fire,
    layer,
    mbconv,
    mul,
    pool,
    regnetx,
    shuffle,
    shufflev2,
    split,
    ssdlite,
    upsample,
    xception,
)
from archlab.spec.rows.base import RowType

ROW_TYPES: dict[str, RowType] = {
    m.ROW.name: m.ROW
    for m in (
        conv,
        bottleneck,
        dwsep,
        xception,
        pool,
        concat,
        ssdlite,
        add,
        mul,
        split,
        shuffle,
        upsample,
        dropout,
        basic,
        bottleneck3,
        mbconv,
        regnetx,
        shufflev2,
        fire,
        layer,
    )
}

__all__ = ["ROW_TYPES", "RowType"]
