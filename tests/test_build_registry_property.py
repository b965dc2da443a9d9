"""Property: for any valid table drawn from the registries, the plan equals the built module, layer by layer.

The tables come from :mod:`tests.helpers.row_strategies`: every row type of ``ROW_TYPES`` with values for its
declared fields, so a new row type or field is tested the day it is declared. For each row type there is a run in
which that type is sure to appear. Per layer, the built module's real forward gives the output shape, the
parameters (numel) and the MAdds (conv: output elements x in_channels/groups x kh x kw; linear: in x out), which
must equal the plan's. And every op (and kind) of the op table must be reachable from some drawn table.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import archlab
from archlab.errors import ArchlabError
from archlab.ir.ops import OPS
from tests.helpers.measured import measured
from tests.helpers.row_strategies import ROW_NAMES, enumerated_tables, single_field_variants, tables

pytestmark = pytest.mark.usefixtures("single_threaded_torch")
RELAXED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture]


def check_plan_against_module(tmp_path, table: dict, width) -> None:
    import torch

    path = tmp_path / "random.yaml"
    path.write_text(yaml.safe_dump(table, default_flow_style=None))
    kw = {"width": width} if width else {}
    try:
        plan = archlab.plan(str(path), **kw)
    except ArchlabError:  # a kernel larger than its map, groups that do not divide: clean user errors
        assume(False)
    net = archlab.build(str(path), **kw).eval()
    records, out_shapes = measured(net, torch.randn(2, *plan.input))
    assert out_shapes == [plan.layer(o).out_shape for o in plan.outputs]
    for layer in plan.layers:
        assert records[layer.name] == (layer.madds, layer.params, layer.out_shape), layer.name


@pytest.mark.parametrize("featured", ROW_NAMES)
@settings(max_examples=8, deadline=None, database=None, suppress_health_check=RELAXED)
@given(data=st.data())
def test_plan_matches_built_module(tmp_path, featured, data):
    table = data.draw(tables(featured=featured), label="table")
    width = data.draw(st.sampled_from([None, 0.5, 1.5]), label="width")
    check_plan_against_module(tmp_path, table, width)


def test_every_op_and_kind_is_drawn(tmp_path):
    """The registries' field values reach every entry of the op table, through the row types, the defaults and the
    head: the values the strategies draw, enumerated one field at a time (deterministic, plans only)."""
    # `opaque` is the one op with no counting rule: only tracing a module makes it (tests of archlab.nn.trace)
    expected = {(name, kind) for name, op in OPS.items() for kind in op.kinds if name != "opaque"}
    seen: set[tuple[str, str]] = set()
    for i, table in enumerate(enumerated_tables()):
        path = tmp_path / f"t{i}.yaml"
        path.write_text(yaml.safe_dump(table, default_flow_style=None))
        try:
            plan = archlab.plan(str(path))
        except ArchlabError:
            continue
        seen.update((layer.op, layer.kind) for layer in plan.layers)
    assert expected - seen == set()


def test_every_row_type_has_valid_variants():
    assert all(single_field_variants(name) for name in ROW_NAMES)


@pytest.mark.slow
def test_every_enumerated_variant_matches_its_built_module(tmp_path):
    """The deterministic counterpart of the property: every single-field variant of every row type, head and
    default that makes a valid network, built and measured."""
    checked = 0
    for i, table in enumerate(enumerated_tables()):
        path = tmp_path / f"t{i}.yaml"
        path.write_text(yaml.safe_dump(table, default_flow_style=None))
        try:
            archlab.plan(str(path))
        except ArchlabError:
            continue
        check_plan_against_module(tmp_path, table, None)
        checked += 1
    assert checked > 800
