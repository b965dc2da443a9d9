"""The receptive-field recurrences of issue 13's ops (archlab.static.receptive): the view/identity ops (slice,
shuffle, drop path) keep their input's field."""

from __future__ import annotations

import pytest

import archlab
from archlab.static.receptive import receptive_fields

pytestmark = pytest.mark.usefixtures("single_threaded_torch")


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
