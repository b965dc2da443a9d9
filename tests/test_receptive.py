"""Theoretical receptive fields (archlab.static.receptive): exact numbers, branches, profile output, and the
property that an output unit's input-gradient support is exactly its theoretical RF clipped to the image."""

import json
import tempfile
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archlab
from archlab.errors import ShapeError, TableError
from archlab.ir.builder import PlanBuilder
from archlab.ir.structure import fmap_end
from archlab.static.receptive import receptive_fields

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


def rf_of(net, layer=None, **ov):
    plan = archlab.plan(net, **ov)
    rfs = receptive_fields(plan.layers)
    return rfs[layer or fmap_end(plan)], plan, rfs


# -- exact numbers ---------------------------------------------------------------------------------------------
def test_mobilefacenet_fmap_end_227_jump_16_and_gdconv_323():
    rf, plan, rfs = rf_of("mobilefacenet")
    assert plan.layer(fmap_end(plan)).out_shape == (512, 7, 7)
    # 3 + 2*2 (dw) + 2*2 (s2) + 4*2*4 + 2*4 (s2) + 6*2*8 + 2*8 (s2) + 2*2*16 = 227; strides 2*2*2*2 = 16
    assert rf.to_dict() == {"size": [227, 227], "jump": [16, 16], "start": [0, 0]}
    assert rfs["head.gdconv.dw"].to_dict()["size"] == [323, 323]  # + (7 - 1) * 16
    assert rfs["head.embedding.bn"].size == (323, 323)


def test_every_head_reaches_the_whole_fmap_end():
    for head in ("gap", "fc", "gdconv"):
        _, plan, rfs = rf_of("mobilefacenet", head=head)
        assert rfs[plan.output].size == (323, 323), head
        assert rfs[plan.output].start == (48, 48), head  # the centre of the 7x7 grid: 3 * 16


def test_mobilenetv1_last_7x7_layer_315_jump_32():
    rf, plan, _ = rf_of("mobilenetv1")
    assert plan.layer(fmap_end(plan)).out_shape == (1024, 7, 7)
    assert rf.label() == "315" and rf.label("jump") == "32" and rf.start == (0, 0)


def test_mobilenetv2_fmap_end_491_jump_32():
    # 3 +4 (t1) +4+8 +8+16*2 +16+32*3 +32*3 +32+64*2 +64 = 491 with PyTorch's symmetric padding
    rf, _, _ = rf_of("mobilenetv2")
    assert rf.size == (491, 491) and rf.jump == (32, 32)


def test_non_square_input_and_stem_stride():
    rf, plan, _ = rf_of("mobilefacenet", input="112x96")
    assert plan.layer(fmap_end(plan)).out_shape[1:] == (7, 6) and rf.size == (227, 227)
    rf1, _, _ = rf_of("mobilefacenet", stem_stride=1)
    # a stride-1 stem halves every later jump: 3 + 2*1 + 2*1 + 4*2*2 + 2*2 + 6*2*4 + 2*4 + 2*2*8 = 115
    assert rf1.jump == (8, 8) and rf1.size == (115, 115)


def test_inside_fraction_is_the_same_for_every_mobilefacenet_unit():
    rf, _, _ = rf_of("mobilefacenet")
    fracs = {round(rf.inside_fraction(i, j, (112, 112)), 12) for i in range(7) for j in range(7)}
    assert fracs == {round((112 / 227) ** 2, 12)}  # every 227-px RF holds the whole 112x112 image
    assert rf.box(0, 0) == ((-113, 113), (-113, 113))
    assert rf.centre(6, 3) == (96, 48)


# -- the recurrences on hand-made plans ----------------------------------------------------------------------
def test_padding_stride_dilation_and_asymmetric_pad():
    b = PlanBuilder((1, 32, 32))
    x = b.conv("a", "input", 4, 3, 2, padding=0)  # valid: start moves to 1
    x = b.conv("b", x, 4, 3, 1, dilation=2)  # k_eff 5, padding 2: size += 4 * 2
    x = b.pad("p", x, (1, 0, 2, 0))  # top 1, left 2: start -= (1, 2) * jump 2
    x = b.pool("q", x, "avg", 2, 2, 0)  # even kernel: centre moves by half a jump
    rfs = receptive_fields(b.layers)
    assert rfs["a"].to_dict() == {"size": [3, 3], "jump": [2, 2], "start": [1, 1]}
    assert rfs["b"].to_dict() == {"size": [11, 11], "jump": [2, 2], "start": [1, 1]}
    assert rfs["p"].to_dict() == {"size": [11, 11], "jump": [2, 2], "start": [-1, -3]}
    assert rfs["q"].to_dict() == {"size": [13, 13], "jump": [4, 4], "start": [0, -2]}


def test_branches_align_or_are_flagged():
    b = PlanBuilder((1, 16, 16))
    x = b.conv("a", "input", 2, 3, 1)
    y = b.conv("b", x, 2, 3, 1)
    z = b.add("sum", y, x)  # residual: same jump and centre, keep the larger
    rfs = receptive_fields(b.layers)
    assert rfs["sum"].size == (5, 5) and rfs["sum"].aligned
    w = b.conv("even", z, 2, 2, 1, padding=0)  # 2x2 valid: 15x15, centre moves by +0.5
    w = b.pad("pad", w, (1, 0, 1, 0))  # back to 16x16, centre -0.5: box [-3, 2]
    w2 = b.conv("odd", z, 2, 1, 1)  # box [-2, 2]
    b.concat("cat", [w, w2])
    rfs = receptive_fields(b.layers)
    assert not rfs["cat"].aligned and rfs["cat"].label() == "6*"
    assert rfs["cat"].size == (6, 6) and rfs["cat"].start == (-0.5, -0.5)  # the union [-3, 2]
    assert rfs["cat"].to_dict()["aligned"] is False


def test_profile_json_and_table_carry_rf(cli):
    res = cli("profile", "mobilefacenet", "--depth", "layer", "--format", "json")
    assert res.exit_code == 0, res.output
    layers = {l["name"]: l for l in json.loads(res.stdout)["layers"]}
    assert layers["7.0.act"]["rf"] == {"size": [227, 227], "jump": [16, 16], "start": [0, 0]}
    assert layers["head.gdconv.dw"]["rf"]["size"] == [323, 323]
    assert layers["0.0.conv"]["rf"] == {"size": [3, 3], "jump": [2, 2], "start": [0, 0]}
    res = cli("profile", "mobilefacenet")
    header = next(line for line in res.stdout.splitlines() if line.startswith("row "))
    assert header.split()[6:8] == ["rf", "jump"]
    row7 = next(line for line in res.stdout.splitlines() if line.startswith("7 "))
    assert " 227 " in row7 and " 16 " in row7


def test_profile_without_flags_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from archlab.cli.app import app; "
        "r = CliRunner().invoke(app, ['profile', 'mobilefacenet']); assert r.exit_code == 0, r.output; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- property: gradient support == theoretical RF clipped to the image --------------------------------------
ch = st.integers(1, 4)
act = st.sampled_from(["prelu", "none"])  # no flat regions: every path carries gradient


def conv_row():
    return (
        st.fixed_dictionaries(
            {"type": st.just("conv"), "c": ch, "k": st.sampled_from([1, 2, 3, 4, 5]), "s": st.sampled_from([1, 2, 3])},
            optional={"padding": st.sampled_from(["auto", "valid", 0, 1, 2]), "act": act, "depthwise": st.booleans()},
        )
        .map(lambda r: {**r, "c": None} if r.get("depthwise") else r)
        .map(lambda r: {k: v for k, v in r.items() if v is not None})
        .filter(lambda r: r["k"] >= r["s"])
    )


def pool_row():
    return st.fixed_dictionaries(
        {
            "type": st.just("pool"),
            "kind": st.just("avg"),
            "k": st.sampled_from([2, 3]),
            "s": st.sampled_from([1, 2]),
            "padding": st.sampled_from([0, 1]),
        }
    ).filter(lambda r: r["k"] >= r["s"] and 2 * r["padding"] <= r["k"])


def bottleneck_row():
    return st.fixed_dictionaries(
        {
            "type": st.just("bottleneck"),
            "t": st.sampled_from([1, 2]),
            "c": ch,
            "n": st.integers(1, 2),
            "s": st.sampled_from([1, 2]),
            "k": st.sampled_from([3, 5]),
        },
        optional={"act": act},
    )


def dwsep_row():
    return st.fixed_dictionaries(
        {
            "type": st.just("dwsep"),
            "c": ch,
            "n": st.integers(1, 2),
            "s": st.sampled_from([1, 2]),
            "dw_norm": st.booleans(),
        }
    )


tables = st.fixed_dictionaries(
    {
        "name": st.just("rand"),
        "input": st.tuples(st.integers(6, 40), st.integers(6, 40)).map(list),
        "in_channels": st.integers(1, 2),
        "defaults": st.fixed_dictionaries({"act": act, "norm": st.sampled_from(["bn", "none"])}),
        "rows": st.lists(st.one_of(conv_row(), pool_row(), bottleneck_row(), dwsep_row()), min_size=1, max_size=5),
    }
)


def reads_every_pixel_and_no_window_is_all_padding(plan) -> bool:
    """The property's precondition: per conv/pool layer and axis, the first and last windows hold a real
    position (padding <= k_eff - 1) and the last window reaches the last real position (floor division drops
    nothing but padding). Otherwise a unit may read padding whose *virtual* RF reaches into the image, and the
    theoretical RF is only an upper bound of the gradient support."""
    for layer in plan.layers:
        if layer.op not in ("conv", "pool") or layer.kind == "global":
            continue
        for ax in range(2):
            n, n_out = layer.in_shape[1 + ax], layer.out_shape[1 + ax]
            k_eff = (layer.dilation or (1, 1))[ax] * (layer.kernel[ax] - 1) + 1
            p, s = layer.padding[ax], layer.stride[ax]
            if p > k_eff - 1 or (n_out - 1) * s - p + k_eff - 1 < n - 1:
                return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(table=tables, where=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_gradient_support_is_the_theoretical_rf_clipped(table, where):

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rand.yaml"
        path.write_text(yaml.safe_dump(table), encoding="utf-8")
        try:
            plan = archlab.plan(path)
        except (ShapeError, TableError):
            assume(False)
    assume(reads_every_pixel_and_no_window_is_all_padding(plan))
    rf = receptive_fields(plan.layers)[plan.output]
    assert rf.aligned
    _, oh, ow = plan.output_shape
    i, j = min(int(where[0] * oh), oh - 1), min(int(where[1] * ow), ow - 1)
    from archlab.nn.build import build_plan

    torch.manual_seed(0)
    net = build_plan(plan).double().eval()
    x = torch.randn(1, *plan.input, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, i, j].sum().backward()
    support = x.grad[0].abs().sum(0) > 0
    (y0, y1), (x0, x1) = rf.box(i, j)
    h, w = plan.input[1:]
    clip = (max(y0, 0), min(y1, h - 1), max(x0, 0), min(x1, w - 1))
    if clip[0] > clip[1] or clip[2] > clip[3]:
        assert not support.any()  # the unit's whole RF lies in padding
        return
    rows = torch.nonzero(support.any(1)).flatten()
    cols = torch.nonzero(support.any(0)).flatten()
    assert (rows.min().item(), rows.max().item(), cols.min().item(), cols.max().item()) == clip
