"""The receptive-field recurrences of issue 13's ops (archlab.static.receptive): upsample (nearest, bilinear) and
the view/identity ops (slice, shuffle, drop path). The upsample field is an upper bound: every output unit's
gradient support lies inside its box, checked with autograd on all-positive weights."""

from __future__ import annotations

import math

import pytest

import archlab
from archlab.static.receptive import receptive_fields

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


def net(write_table, mode: str, scale: int, side: int = 12):
    return write_table(f"""
        name: up
        input: [{side}, {side}]
        in_channels: 1
        defaults: {{norm: none, act: none}}
        rows:
          - {{type: conv, c: 1, k: 3, s: 2}}
          - {{type: upsample, scale: {scale}, mode: {mode}}}
    """)


@pytest.mark.parametrize("mode, grow", [("nearest", lambda s: 1 - 1 / s), ("bilinear", lambda s: 2 - 1 / s)])
@pytest.mark.parametrize("scale", [2, 3])
def test_upsample_recurrence_by_hand(write_table, mode, grow, scale):
    plan = archlab.plan(net(write_table, mode, scale))
    rf = receptive_fields(plan.layers)["1.0.upsample"]
    # after the conv: size 3, jump 2, start 0; upsampling by s: jump 2 / s, centre (1 / (2 s) - 1/2) x 2
    assert rf.jump == (2 / scale, 2 / scale)
    assert rf.start == ((1 / (2 * scale) - 0.5) * 2,) * 2
    assert rf.size == (3 + grow(scale) * 2,) * 2


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("scale", [2, 3])
def test_every_unit_reads_only_inside_its_field(write_table, mode, scale):
    import torch

    path = net(write_table, mode, scale)
    plan = archlab.plan(path)
    rf = receptive_fields(plan.layers)["1.0.upsample"]
    module = archlab.build(path).eval()
    with torch.no_grad():
        module.get_submodule("0.0.conv").weight.fill_(1.0)
    x = torch.ones(1, 1, 12, 12, requires_grad=True)
    y = module(x)
    _, _, h, w = y.shape
    for i in range(h):
        for j in range(w):
            (g,) = torch.autograd.grad(y[0, 0, i, j], x, retain_graph=True)
            rows, cols = torch.nonzero(g[0, 0], as_tuple=True)
            (y0, y1), (x0, x1) = rf.box(i, j)
            assert math.floor(y0) <= rows.min() and rows.max() <= math.ceil(y1), (i, j)
            assert math.floor(x0) <= cols.min() and cols.max() <= math.ceil(x1), (i, j)


def test_views_and_identities_keep_the_field(write_table):
    path = write_table("""
        name: ids
        input: [16, 16]
        rows:
          - {type: conv, c: 8, k: 3, s: 2}
          - {type: split, parts: 2}
          - {type: shuffle, groups: 2, from: 0}
          - {type: mbconv, t: 2, c: 8}
    """)
    plan = archlab.plan(path)
    fields = receptive_fields(plan.layers)
    for name in ("1.0.part0", "1.0.part1", "2.0.shuffle"):
        assert fields[name] == fields["0.0.act"]
    assert fields["3.0.drop_path"] == fields["3.0.project_bn"]
