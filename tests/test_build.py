"""archlab.nn.build, property: for any valid table, the plan's per-layer MAdds, params and output shapes equal
the built module's.

MAdds are counted from the real forward (conv: output elements x in_channels/groups x kh x kw; linear:
in x out features), params with numel, shapes from the tensors. Random tables are written as YAML and loaded,
so parsing is exercised too.
"""

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archlab
from archlab.errors import ShapeError, TableError
from tests.helpers.measured import measured

ch = st.integers(1, 12)


def conv_row():
    return st.fixed_dictionaries(
        {"type": st.just("conv"), "c": ch, "k": st.sampled_from([1, 2, 3, 5]), "s": st.sampled_from([1, 2])},
        optional={
            "act": st.sampled_from(["relu", "relu6", "prelu", "none"]),
            "norm": st.sampled_from(["bn", "none"]),
            "bias": st.booleans(),
            "dilation": st.sampled_from([1, 2]),
            "padding": st.sampled_from(["auto", "valid", 0, 1]),
            "pool": st.booleans(),
        },
    ).filter(lambda r: r["k"] >= r["s"])


def dw_row():
    return st.fixed_dictionaries(
        {
            "type": st.just("conv"),
            "depthwise": st.just(True),
            "k": st.sampled_from([3, 5]),
            "s": st.sampled_from([1, 2]),
        }
    )


def bottleneck_row():
    return st.fixed_dictionaries(
        {
            "type": st.just("bottleneck"),
            "t": st.sampled_from([1, 2, 2.5, 6]),
            "c": ch,
            "n": st.integers(1, 3),
            "s": st.sampled_from([1, 2]),
            "k": st.sampled_from([3, 5]),
        },
        optional={"se": st.booleans(), "residual": st.booleans(), "act": st.sampled_from(["hardswish", "relu"])},
    )


def tap_row():
    """A row that reads an earlier row (``from``) or concatenates two earlier rows."""
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("conv"), "c": ch, "k": st.sampled_from([1, 3]), "from": st.integers(0, 2)}
        ),
        st.fixed_dictionaries(
            {"type": st.just("concat"), "from": st.lists(st.integers(-3, -1), min_size=2, max_size=3)}
        ),
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


def xception_row():
    return st.fixed_dictionaries(
        {
            "type": st.just("xception"),
            "c": ch,
            "reps": st.integers(1, 3),
            "n": st.integers(1, 2),
            "s": st.sampled_from([1, 2]),
            "start_with_relu": st.booleans(),
            "grow_first": st.booleans(),
        }
    )


def pool_row():
    return st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("pool"),
                "kind": st.sampled_from(["max", "avg"]),
                "k": st.sampled_from([2, 3]),
                "s": st.sampled_from([1, 2]),
                "padding": st.sampled_from([0, 1]),
            }
        ),
    )


def head():
    return st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                "pool": st.sampled_from(["gdconv", "gap", "fc"]),
                "embedding": st.fixed_dictionaries(
                    {"size": st.integers(1, 16), "layer": st.sampled_from(["linear", "conv"])}
                ),
            }
        ).filter(lambda h: not (h["pool"] == "fc" and h["embedding"]["layer"] == "conv")),
        st.fixed_dictionaries(
            {
                "pool": st.sampled_from(["gdconv", "gap", "fc"]),
                "classifier": st.fixed_dictionaries(
                    {"classes": st.integers(1, 10), "dropout": st.sampled_from([0.0, 0.2])}
                ),
            }
        ),
    )


tables = st.fixed_dictionaries(
    {
        "name": st.just("random"),
        "input": st.tuples(st.integers(6, 33), st.integers(6, 33)).map(list),
        "in_channels": st.integers(1, 4),
        "defaults": st.fixed_dictionaries(
            {
                "act": st.sampled_from(["relu", "relu6", "prelu", "hardswish"]),
                "round": st.sampled_from(["int", "divisible4", "divisible8"]),
                "padding": st.sampled_from(["auto", "same"]),
            }
        ),
        "rows": st.lists(
            st.one_of(conv_row(), dw_row(), bottleneck_row(), dwsep_row(), xception_row(), pool_row(), tap_row()),
            min_size=1,
            max_size=6,
        ),
        "head": head(),
    }
)


def check_plan_matches_module(path, **kw):
    import torch

    plan = archlab.plan(str(path), **kw)
    net = archlab.build(str(path), **kw).eval()
    c, h, w = plan.input
    records, out_shapes = measured(net, torch.randn(2, c, h, w))
    assert out_shapes == [plan.output_shape]
    for layer in plan.layers:
        madds, params, shape = records[layer.name]
        assert (madds, params, shape) == (layer.madds, layer.params, layer.out_shape), layer.name


# every row type once (the fast lane's case; the property below draws hundreds of tables)
EVERY_ROW = """
name: every-row
input: [32, 30]
in_channels: 3
defaults: {act: prelu, round: divisible4}
rows:
  - {type: conv, c: 8, k: 3, s: 1, bias: true, pool: true}
  - {type: conv, depthwise: true, k: 5, s: 2, act: relu6}
  - {type: bottleneck, t: 2.5, c: 12, n: 2, s: 1, k: 5, se: true, act: hardswish}
  - {type: dwsep, c: 10, n: 1, s: 2, dw_norm: false}
  - {type: xception, c: 12, reps: 2, n: 1, s: 1, start_with_relu: false, grow_first: false}
  - {type: pool, kind: avg, k: 2, s: 1, padding: 0}
  - {type: conv, c: 6, k: 3, from: 5}
  - {type: concat, from: [-1, -2]}
head: {pool: gdconv, embedding: {size: 8, layer: linear}}
"""


@pytest.mark.parametrize("width", [None, 0.5, 1.5])
def test_plan_matches_built_module_on_every_row_type(write_table, width):
    check_plan_matches_module(write_table(EVERY_ROW), **({"width": width} if width else {}))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(table=tables, width=st.sampled_from([None, 0.5, 1.0, 1.5]))
def test_plan_matches_built_module(tmp_path_factory, table, width):
    if table["head"] is None:
        del table["head"]
    path = tmp_path_factory.mktemp("t") / "random.yaml"
    path.write_text(yaml.safe_dump(table, default_flow_style=None))
    kw = {"width": width} if width else {}
    try:
        archlab.plan(str(path), **kw)
    except (ShapeError, TableError):  # e.g. input too small for the strides, `from` a later row: clean user errors
        assume(False)  # e.g. the input is too small for the strides: a clean user error, not a property case
    check_plan_matches_module(path, **kw)
