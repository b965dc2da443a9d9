"""archlab.nn.fold: BN folding. Folded == unfolded to 1e-4, and the folded module's parameters ==
params_deployed (by hand, by formula, on branches that cannot fold, on MobileFaceNet, and as a property)."""

import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archlab
from archlab.ir.builder import PlanBuilder
from archlab.ir.plan import Plan
from archlab.nn.build import build_plan
from archlab.nn.fold import check_fold, fold_bn, param_count, randomize_bn

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


def _folded_pair(path, seed=0):
    m = archlab.build(path).eval()
    randomize_bn(m, seed)
    return m, fold_bn(m)


def test_tiny_fold_by_hand(tiny_table):
    path = tiny_table("embedding")
    m, f = _folded_pair(path)
    # stem conv 3->8 3x3: 216 weights + 16 BN params + 8 PReLU; folded: 216 + 8 bias + 8 PReLU
    assert m.plan.layer("0.0.conv").params_deployed == 216 + 8
    assert param_count(f) == m.plan.totals()["params_deployed"]
    assert param_count(m) == m.plan.totals()["params"]
    assert param_count(m) - param_count(f) == sum(layer.out_shape[0] for layer in m.plan.layers if layer.op == "bn")
    assert len(f.folded) == sum(1 for layer in m.plan.layers if layer.op == "bn")
    assert not any(isinstance(x, torch.nn.modules.batchnorm._BatchNorm) for x in f.modules())
    x = torch.randn(3, *m.plan.input)
    c = check_fold(m, f, x)
    assert c.max_abs_diff <= 1e-4 * max(1.0, c.ref_max_abs)
    assert c.ref_max_abs > 0.1  # randomised BN: the check compares real numbers, not near-zeros
    assert c.params_match


def test_fold_is_exact_formula_on_one_conv(write_table):
    path = write_table("""
        name: one
        input: [5, 5]
        defaults: {norm: bn, act: none}
        rows:
          - {type: conv, c: 4, k: 3, bias: true}
        """)
    m = archlab.build(path).eval()
    randomize_bn(m, 3)
    f = fold_bn(m)
    conv, bn = m.get_submodule("0.0.conv"), m.get_submodule("0.0.bn")
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = f.get_submodule("0.0.conv").weight
    b = f.get_submodule("0.0.conv").bias
    torch.testing.assert_close(w, conv.weight * s.reshape(-1, 1, 1, 1))
    torch.testing.assert_close(b, (conv.bias - bn.running_mean) * s + bn.bias)
    assert param_count(f) == 4 * 3 * 9 + 4 == m.plan.totals()["params_deployed"]


def test_original_module_untouched(tiny_table):
    m, f = _folded_pair(tiny_table("embedding"))
    assert any(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules())
    assert param_count(m) == m.plan.totals()["params"]
    assert "_0_0_bn" not in f.code and "_0_0_bn" in m.code


def test_unfoldable_bn_is_kept():
    """A conv read by two layers cannot absorb its BN: the plan keeps the BN in params_deployed, so does fold."""
    b = PlanBuilder((3, 8, 8))
    conv = b.conv("a.conv", "input", 4, 3)
    bn = b.bn("a.bn", conv)
    other = b.conv("b.conv", conv, 4, 1)  # a second reader of the conv
    out = b.add("c.add", bn, other)
    plan = Plan("branch", (3, 8, 8), tuple(b.layers), out, (), {})
    assert plan.fold_pairs() == ()
    m = build_plan(plan).eval()
    randomize_bn(m, 1)
    f = fold_bn(m)
    assert f.folded == ()
    assert param_count(f) == plan.totals()["params_deployed"] == plan.totals()["params"]
    c = check_fold(m, f, torch.randn(2, 3, 8, 8))
    assert c.max_abs_diff == 0.0


def test_mobilefacenet_acceptance():
    """The issue's acceptance: folded and unfolded agree to 1e-4; params of the folded module == params_deployed."""
    m = archlab.build("mobilefacenet").eval()
    randomize_bn(m, 0)
    f = fold_bn(m)
    c = check_fold(m, f, torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(0)))
    assert param_count(f) == 993_344 == m.plan.totals()["params_deployed"]
    assert c.folded == c.bns == 50
    assert c.max_abs_diff <= 1e-4 * max(1.0, c.ref_max_abs), c


def test_api_build_fold_bn_and_channels_last(tiny_table):
    path = tiny_table("embedding")
    f = archlab.build(path, fold_bn=True)
    assert not f.training
    assert param_count(f) == archlab.plan(path).totals()["params_deployed"]
    m = archlab.build(path).eval()
    randomize_bn(m, 5)
    cl = fold_bn(m.to(memory_format=torch.channels_last))
    x = torch.randn(2, 3, 16, 16).contiguous(memory_format=torch.channels_last)
    c = check_fold(m, cl, x)
    assert c.max_abs_diff <= 1e-5 * max(1.0, c.ref_max_abs)


ROW = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("conv"), "c": st.integers(1, 6), "k": st.sampled_from([1, 3]), "s": st.sampled_from([1, 2])},
        optional={
            "bias": st.booleans(),
            "norm": st.sampled_from(["bn", "none"]),
            "act": st.sampled_from(["relu", "prelu", "none"]),
        },
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("bottleneck"),
            "t": st.sampled_from([1, 2]),
            "c": st.integers(1, 6),
            "n": st.integers(1, 2),
            "s": st.sampled_from([1, 2]),
        },
        optional={"se": st.booleans()},
    ),
    st.fixed_dictionaries({"type": st.just("dwsep"), "c": st.integers(1, 6), "dw_norm": st.booleans()}),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(ROW, min_size=1, max_size=4),
    seed=st.integers(0, 100),
    head=st.sampled_from(
        [
            None,
            {"pool": "gap", "classifier": {"classes": 3}},
            {"pool": "gdconv", "embedding": {"size": 4, "layer": "linear"}},
        ]
    ),
)
def test_property_fold(tmp_path_factory, rows, seed, head):
    table = {"name": "prop", "input": [12, 12], "defaults": {"norm": "bn", "act": "relu"}, "rows": rows}
    if head:
        table["head"] = head
    path = tmp_path_factory.mktemp("t") / "t.yaml"
    path.write_text(yaml.safe_dump(table))
    try:
        plan = archlab.plan(path)
    except archlab.ArchlabError:
        return  # shapes that do not fit (e.g. 12 -> too small for the strides): not this test's subject
    torch.manual_seed(seed)
    m = build_plan(plan).eval()
    randomize_bn(m, seed)
    f = fold_bn(m)
    c = check_fold(m, f, torch.randn(2, *plan.input))
    assert c.params_folded == plan.totals()["params_deployed"]
    assert c.max_abs_diff <= 1e-4 * max(1.0, c.ref_max_abs)


@pytest.mark.parametrize("depthwise", [True, False])
def test_fold_grouped_conv(write_table, depthwise):
    row = "{type: conv, k: 3, depthwise: true}" if depthwise else "{type: conv, c: 8, k: 3, groups: 2}"
    path = write_table(f"""
        name: g
        input: [6, 6]
        defaults: {{norm: bn, act: none}}
        rows:
          - {{type: conv, c: 8, k: 1}}
          - {row}
        """)
    m, f = _folded_pair(path, 7)
    c = check_fold(m, f, torch.randn(2, 3, 6, 6))
    assert c.params_match and c.max_abs_diff <= 1e-5 * max(1.0, c.ref_max_abs)
