"""The bound by memory level (archlab.static.roofline): hand-derived memory times, fused groups' external bytes,
op classes, and the network bound as a sum. No torch, no timing."""

import math

import pytest

import archlab
from archlab.static.roofline import (
    Ceilings,
    Level,
    PlanGraph,
    group_work,
    grouped_bound_ms,
    op_class,
    plan_work,
    roofline_ideal_ms,
)

NET = """
name: w
input: [16, 16]
defaults: {norm: bn, act: relu}
rows:
  - {type: conv, c: 8, k: 3, s: 2}
  - {type: bottleneck, t: 2, c: 8, n: 1, s: 1}
head: {pool: gap, classifier: {classes: 10}}
"""
KIB, MIB = 2**10, 2**20
LEVELS = (Level("L1", 32 * KIB, 400.0), Level("L2", 1 * MIB, 100.0), Level("DRAM", math.inf, 10.0))


def ceil(peak=100.0, levels=LEVELS) -> Ceilings:
    return Ceilings(peak, levels[-1].gbs, 1, "cpu", "t", 256, 128, 5, "2026-01-01T00:00:00+00:00", 0.0, levels=levels)


def test_memory_time_fills_the_fastest_levels_first():
    c = ceil()
    # 16 KiB fit L1: 16384 B / 400 GB/s
    assert c.memory_s(16 * KIB) == pytest.approx(16 * KIB / 400e9)
    # 512 KiB: 32 KiB at L1's rate, the other 480 KiB at L2's
    assert c.memory_s(512 * KIB) == pytest.approx(32 * KIB / 400e9 + 480 * KIB / 100e9)
    # 3 MiB: L1 full, L2's remaining 992 KiB, then 2 MiB from DRAM
    assert c.memory_s(3 * MIB) == pytest.approx(32 * KIB / 400e9 + (MIB - 32 * KIB) / 100e9 + 2 * MIB / 10e9)
    assert c.level_of(16 * KIB) == "L1" and c.level_of(512 * KIB) == "L2" and c.level_of(3 * MIB) == "DRAM"


def test_bound_is_the_larger_of_compute_and_memory_time():
    c = ceil(peak=100.0)
    assert c.bound_s(1e9, 1 * KIB) == pytest.approx(0.01)  # 1 GFLOP at 100 GFLOP/s
    assert c.bound_s(1.0, 3 * MIB) == pytest.approx(c.memory_s(3 * MIB))
    assert c.ideal_s(1e9, 1 * KIB) == c.bound_s(1e9, 1 * KIB)


def test_without_levels_the_bound_is_the_classic_dram_roofline():
    c = Ceilings(100.0, 10.0, 1, "cpu", "t", 1, 1, 1, "now", 0.0)
    assert [lv.name for lv in c.memory_levels] == ["DRAM"]
    assert c.bound_s(1e6, 1e9) == pytest.approx(0.1) and c.ridge == 10.0


def test_levels_round_trip_through_json():
    for lv in LEVELS:
        assert Level.from_dict(lv.to_dict()) == lv
    assert LEVELS[-1].to_dict()["capacity"] is None


def test_provenance_says_when_and_under_what_load():
    c = Ceilings(100.0, 10.0, 1, "cpu", "t", 1, 1, 1, "2026-01-01T00:00:00+00:00", 0.0, cached=True)
    c = c.__class__(**{**c.__dict__, "loadavg": (2.5, 2.0, 1.5), "age_s": 7200.0})
    text = c.provenance()
    assert "cached, measured 2026-01-01T00:00:00+00:00 (2.0 h ago)" in text and "load average 2.50" in text


def test_group_work_counts_external_tensors_only(write_table):
    plan = archlab.plan(write_table(NET))
    work = plan_work(plan)
    # expand conv (1x1, 8->16 on 8x8) + its BN + ReLU as one kernel: reads the block input, writes the ReLU's
    # output; the conv's and the BN's outputs never reach memory; the BN folds (its FLOPs are gone)
    names = ("1.0.expand", "1.0.expand_bn", "1.0.expand_act")
    w = group_work(plan, names)
    conv = plan.layer("1.0.expand")
    assert w.bytes == 4 * (8 * 8 * 8 + 16 * 8 * 8 + conv.params_deployed)
    assert w.flops == work["1.0.expand"].flops + work["1.0.expand_act"].flops
    assert w.bytes < sum(work[n].bytes for n in names)
    # one layer alone is its own work
    assert group_work(plan, ("1.0.expand",)) == work["1.0.expand"]
    # the flatten (a view) moves nothing
    assert group_work(plan, ("head.gap.flatten",)).bytes == 0


def test_network_bound_is_the_sum_over_what_runs(write_table):
    plan = archlab.plan(write_table(NET))
    c = ceil()
    expected = sum(c.bound_s(w.flops, w.bytes) for w in plan_work(plan).values()) * 1e3
    assert roofline_ideal_ms(plan, c) == pytest.approx(expected)
    singles = {layer.name: () for layer in plan.layers}
    assert grouped_bound_ms(plan, c, {k: (k, *v) for k, v in singles.items()}) == pytest.approx(expected)
    graph = PlanGraph.of_plan(plan)
    assert graph.folds_into["1.0.expand_bn"] == "1.0.expand"
    assert graph.readers_of("1.0.expand") == ("1.0.expand_bn",)


def test_op_classes(write_table):
    plan = archlab.plan(write_table(NET))
    assert op_class([plan.layer("1.0.dw"), plan.layer("1.0.dw_bn")]) == "depthwise"
    assert op_class([plan.layer("1.0.expand")]) == "pointwise"
    assert op_class([plan.layer("0.0.conv")]) == "other"  # 3x3 full conv
    assert op_class([plan.layer("1.0.expand_act")]) == "other"


def test_a_layer_that_may_overwrite_its_input_moves_its_bytes_from_a_smaller_footprint(write_table):
    plan = archlab.plan(write_table(NET))
    work = plan_work(plan)
    act = work["1.0.expand_act"]  # ReLU 16x8x8 -> 16x8x8: may run in place
    assert act.footprint == act.bytes - 4 * 16 * 8 * 8
    assert work["1.0.expand"].footprint is None  # a conv writes a new tensor
    assert work["1.0.add"].footprint == work["1.0.add"].bytes - 4 * 8 * 8 * 8  # add: over one of its inputs
    fast = (Level("L1", 32 * KIB, 400.0, 0, 600.0), Level("L2", 1 * MIB, 100.0, 0, 180.0), LEVELS[-1])
    c = ceil(levels=fast)
    # footprint 96 KiB: 32 KiB in L1, 64 KiB in L2; twice the bytes per footprint byte, at the in-place rates
    assert c.memory_s(192 * KIB, 96 * KIB) == pytest.approx(2 * (32 * KIB / 600e9 + 64 * KIB / 180e9))
    assert c.memory_s(192 * KIB) == pytest.approx(32 * KIB / 400e9 + 160 * KIB / 100e9)  # out of place: copy rates
    assert c.bound_s(0, 192 * KIB, 96 * KIB) < c.bound_s(0, 192 * KIB)


def test_a_fused_group_whose_output_can_take_a_residual_input_has_a_smaller_footprint(write_table):
    plan = archlab.plan(write_table(NET))
    # ORT's NCHWc conv with a Sum input: project conv + BN + add writes over the block input
    w = group_work(plan, ("1.0.project", "1.0.project_bn", "1.0.add"))
    assert w.footprint == w.bytes - 4 * 8 * 8 * 8
    # the conv's own input can not be overwritten while the conv reads it
    assert group_work(plan, ("1.0.expand", "1.0.expand_bn")).footprint is None
