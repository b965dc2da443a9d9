"""The largest numbers a table may hold, checked while it is read, before anything is expanded.

Every count in a table has a ceiling far above any published network and low enough that expanding the table
stays fast and small: ``n: 1000000000`` is refused in milliseconds instead of growing a plan past memory.

========================================  ===========  ==================================================
what                                      at most      why
========================================  ===========  ==================================================
blocks per row (``n``), convs per block   1,000        the deepest networks have a few hundred blocks in all
(``reps``)
blocks in a table (the sum of ``n``)      100,000      about 1 million plan layers: seconds to expand, a
                                                       few hundred MB (a 20,000-row table is 20,000)
channels (``c``, ``e``, ``hidden``,       2**20        1,048,576: a thousand times the widest layers of
``size``, ``in_channels``, ``groups``),                the papers (1,280 to 2,048)
anchors
classes                                   2**24        16,777,216: face-identity classifiers have millions
kernel, stride, dilation, padding         2**16        65,536: as large as any input side below
input height and width                    2**16        65,536 pixels a side (archlab counts far beyond what
                                                       fits in memory; torch commands check memory first)
expansion factor ``t``                    1,024        the papers use 1 to 6
width multiplier (``--width``)            1,024        the papers use 0.25 to 2
========================================  ===========  ==================================================

Floats must be finite (NaN and infinity are refused everywhere). The limits are by field name: a name means
the same thing in every row type.
"""

from __future__ import annotations

MAX_BLOCKS_PER_ROW = 1000
MAX_BLOCKS = 100_000
MAX_CHANNELS = 2**20
MAX_CLASSES = 2**24
MAX_SPATIAL = 2**16
MAX_INPUT_SIDE = 2**16
MAX_EXPANSION = 1024.0
MAX_WIDTH = 1024.0

FIELD_MAX: dict[str, float] = {
    "n": MAX_BLOCKS_PER_ROW,
    "reps": MAX_BLOCKS_PER_ROW,
    "c": MAX_CHANNELS,
    "e": MAX_CHANNELS,
    "hidden": MAX_CHANNELS,
    "size": MAX_CHANNELS,
    "groups": MAX_CHANNELS,
    "anchors": MAX_CHANNELS,
    "classes": MAX_CLASSES,
    "k": MAX_SPATIAL,
    "s": MAX_SPATIAL,
    "dilation": MAX_SPATIAL,
    "padding": MAX_SPATIAL,
    "t": MAX_EXPANSION,
}


def field_max(name: str) -> float | None:
    """The largest value field ``name`` may take (None: no ceiling besides finiteness)."""
    return FIELD_MAX.get(name)
