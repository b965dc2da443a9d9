"""Memory's liveness rule with a channel split (archlab.static.memory): the parts are views of their input, so
the input's storage stays alive until the readers of every part have run, and PyTorch agrees."""

from __future__ import annotations

import pytest

import archlab
from archlab.static.memory import PEAK_RULE, memory

pytestmark = pytest.mark.usefixtures("single_threaded_torch")

# input 3x4x4 = 192 B; 0.0.conv 4x4x4 = 256 B; the parts 2x4x4 are views of it; 2.0.conv 2x4x4 = 128 B;
# 3.0.concat 4x4x4 = 256 B (fp32)
SPLIT = """
    name: split-liveness
    input: [4, 4]
    defaults: {norm: none, act: none}
    rows:
      - {type: conv, c: 4, k: 1}
      - {type: split, parts: 2}
      - {type: conv, c: 2, k: 1}
      - {type: concat, from: [1.0.part0, -1]}
"""


def test_split_parts_alias_their_input_until_both_are_read(write_table):
    plan = archlab.plan(write_table(SPLIT))
    m = memory(plan)
    live = {r.name: r.live_bytes for r in m.layers}
    out = {r.name: r.out_bytes for r in m.layers}
    assert out["1.0.part0"] == out["1.0.part1"] == 0  # views: no bytes of their own
    #   0.0.conv   input 192 + conv 256                   = 448 (the input is freed after)
    #   1.0.part0  conv 256 (the parts share it)          = 256
    #   2.0.conv   conv 256 (part0 still to be read) + 128 = 384
    #   3.0.concat conv 256 + 128 + concat 256            = 640: the peak; then 0.0.conv is freed
    assert [live[n] for n in ("0.0.conv", "1.0.part0", "1.0.part1", "2.0.conv", "3.0.concat")] == [
        448,
        256,
        256,
        384,
        640,
    ]
    assert (m.peak_bytes, m.peak_layer, m.peak_tensors) == (640, "3.0.concat", ("0.0.conv", "2.0.conv", "3.0.concat"))
    assert "slice" in PEAK_RULE and "until every part is read" in PEAK_RULE


def test_without_a_reader_of_the_first_part_the_input_is_freed_earlier(write_table):
    plan = archlab.plan(write_table(SPLIT.replace("from: [1.0.part0, -1]", "from: [-1, -1]")))
    live = {r.name: r.live_bytes for r in memory(plan).layers}
    assert live["3.0.concat"] == 128 + 256  # 0.0.conv died after 2.0.conv read part1


@pytest.mark.parametrize(
    "net, options", [("split", {}), ("shufflenetv2-x0.5", {"input": "64x64"}), ("efficientnet-b0", {"input": "64x64"})]
)
def test_pytorch_keeps_alive_what_the_rule_says(write_table, net, options):
    from archlab.nn.memory_probe import measure_peak

    source = write_table(SPLIT) if net == "split" else net
    plan = archlab.plan(source, **options)
    module = archlab.build(source, **options).eval()
    assert memory(plan, keep_input=True).peak_bytes == measure_peak(module, plan)
