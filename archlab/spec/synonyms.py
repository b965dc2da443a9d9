"""Names people write for a table field, mapped to archlab's: what "did you mean" suggests first.

``kernel`` is ``k``, ``strides`` is ``s``: edit distance alone finds nothing close to a one-letter name, so
:func:`archlab.spec.fields.suggest` looks here before it compares spellings.
"""

from __future__ import annotations

SYNONYMS = {
    "kernel": "k",
    "kernel_size": "k",
    "ksize": "k",
    "stride": "s",
    "strides": "s",
    "expansion": "t",
    "expand": "t",
    "expand_ratio": "t",
    "expansion_factor": "t",
    "activation": "act",
    "nonlinearity": "act",
    "channels": "c",
    "out_channels": "c",
    "filters": "c",
    "repeat": "n",
    "repeats": "n",
    "blocks": "n",
    "norm_layer": "norm",
    "normalization": "norm",
    "pad": "padding",
}
