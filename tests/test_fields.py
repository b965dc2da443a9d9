"""archlab.spec.fields: Field.check type-checks every kind, refuses NaN and infinity for every numeric field,
applies archlab's limits, shows values by a bounded repr; suggest() knows synonyms (issue 15)."""

import math

import pytest

from archlab.errors import TableError
from archlab.spec.fields import Field, suggest
from archlab.spec.limits import FIELD_MAX
from archlab.spec.reprs import bounded_repr
from archlab.spec.rows import ROW_TYPES
from archlab.spec.rows.head import CLASSIFIER_FIELDS, EMBEDDING_FIELDS
from archlab.spec.table import DEFAULT_FIELDS

ALL_FIELDS = [f for rt in ROW_TYPES.values() for f in rt.all_fields] + [
    *EMBEDDING_FIELDS,
    *CLASSIFIER_FIELDS,
    *DEFAULT_FIELDS,
]
NUMERIC = sorted({(f.name, f.kind): f for f in ALL_FIELDS if f.kind in ("int", "float", "padding")}.values(), key=str)


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f"{f.name}:{f.kind}")
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_for_every_numeric_field(field, value):
    with pytest.raises(TableError) as e:
        field.check(value)
    assert e.value.field == field.name


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f"{f.name}:{f.kind}")
@pytest.mark.parametrize("value", [True, "3", [3], {"a": 3}])
def test_every_numeric_field_is_type_checked(field, value):
    with pytest.raises(TableError, match="expected"):
        field.check(value)


@pytest.mark.parametrize("name", sorted(FIELD_MAX))
def test_every_limit_is_enforced_with_its_value(name):
    fields = [f for f in ALL_FIELDS if f.name == name and f.kind in ("int", "float", "padding")]
    assert fields, f"{name} is limited but no field has that name"
    for f in fields:
        ceiling = FIELD_MAX[name]
        assert f.check(int(ceiling) if f.kind != "float" else ceiling) is not None
        with pytest.raises(TableError, match=f"must be <= {int(ceiling):,}") as e:
            f.check(int(ceiling) + 1)
        assert e.value.field == name


def test_choices_and_strings_refuse_unhashable_values():
    act = Field("act", "choice", "activation", choices=("relu", "none"))
    for bad in (["relu"], {"relu": 1}, 3):
        with pytest.raises(TableError, match="expected one of relu, none"):
            act.check(bad)
    name = Field("id", "str", "row id", None)
    for bad in (["x"], 3, ""):
        with pytest.raises(TableError, match="non-empty string"):
            name.check(bad)


def test_messages_show_values_bounded():
    c = Field("c", "int", "channels", min=1)
    for bad in (list(range(20000)), "x" * 10**6, {"k": list(range(10**5))}, [[[[[[1]]]]]] * 1000):
        with pytest.raises(TableError) as e:
            c.check(bad)
        assert len(str(e.value)) < 160
    with pytest.raises(TableError, match="about 1001 digits"):
        c.check(10**1000)


def test_bounded_repr():
    assert bounded_repr([1] * 20000) == "[1, 1, 1, 1, ... (20000 items)]"
    assert bounded_repr("short") == "'short'" and bounded_repr(None) == "None" and bounded_repr(1.5) == "1.5"
    assert len(bounded_repr("x" * 10**6)) <= 80
    assert bounded_repr({"a": [[[1]]]}) == "{'a': [[...]]}"


@pytest.mark.parametrize(
    "given, fields, expected",
    [
        ("kernel", ("type", "c", "k", "s", "t", "n"), "k"),
        ("strides", ("type", "c", "k", "s", "t", "n"), "s"),
        ("stride", ("type", "c", "k", "s"), "s"),
        ("expansion", ("type", "c", "k", "s", "t", "n"), "t"),
        ("activation", ("type", "act", "norm"), "act"),
        ("channels", ("type", "c", "k"), "c"),
        ("kernal", ("type", "kernel_size"), "kernel_size"),  # edit distance still works
    ],
)
def test_suggestions_know_synonyms(given, fields, expected):
    assert suggest(given, fields).startswith(f" (did you mean {expected}")


def test_no_synonym_for_a_field_the_row_does_not_have():
    assert "t" not in suggest("expansion", ("type", "c", "k"))


def test_suggest_is_bounded_for_long_lists_and_names():
    names = [f"{i}.0.conv" for i in range(200_000)]
    assert "1234.0.conv" in suggest("1234.0.cnv", names)
    assert suggest("z" * 10**6, names) == ""
