"""archlab.spec.schema and `archlab validate`: every error of a table at once, and the JSON Schema accepts
every shipped config and rejects a bad row."""

import json


def test_validate_reports_every_error(cli, write_table):
    p = write_table("""
        name: bad
        input: [112, 112]
        defaults: {act: mish}
        rows:
          - {type: conv, c: 0, k: 3, s: 2}
          - {type: botleneck, t: 2, c: 64}
          - {type: bottleneck, c: 64, n: 2}
          - {type: dwsep, c: 64, q: 1}
        head: {pool: gap, embedding: {size: -1}}
    """)
    r = cli("validate", p)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 7 and lines[-1] == f"6 errors in {p}"
    assert "field 'defaults.act'" in lines[0] and "row 0 (conv): field 'c'" in lines[1]
    assert "row 1: field 'type'" in lines[2] and "row 3 (dwsep): field 'q'" in lines[4]
    assert "head.embedding.size" in lines[5]
    d = json.loads(cli("validate", p, "-f", "json").stdout)
    assert d["valid"] is False and [e["row"] for e in d["errors"]] == [None, 0, 1, 2, 3, None]
    assert cli("validate", "mobilefacenet").exit_code == 0


def test_validate_reports_a_duplicate_id_beside_the_rows_own_errors(cli, write_table):
    p = write_table("""
        name: twice
        input: [32, 32]
        rows:
          - {type: conv, id: a, c: 16, k: 3, s: 2}
          - {type: conv, id: a, c: 16, k: 3}
          - {type: upsample, scale: 2, mode: bicubic}
    """)
    r = cli("validate", p)
    assert r.exit_code == 2 and r.stderr.strip().splitlines()[-1] == f"2 errors in {p}"
    assert "field 'mode'" in r.stderr and "row 1 (conv): field 'id': duplicate id 'a'" in r.stderr


def test_schema_accepts_shipped_configs_and_rejects_bad_rows(cli):
    import jsonschema
    import yaml

    from archlab.spec import registry

    schema = json.loads(cli("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in registry.names():
        data = yaml.safe_load((registry.configs_dir() / f"{name}.yaml").read_text())
        errors = list(validator.iter_errors(data))
        assert not errors, (name, errors[0].message)
    bad = {"name": "x", "input": [8, 8], "rows": [{"type": "bottleneck", "t": 2, "c": 8, "q": 1}]}
    assert list(validator.iter_errors(bad))
