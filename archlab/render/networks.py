"""The shipped networks (``archlab list``) and one resolved table (``archlab show``) as tables."""

from __future__ import annotations

from archlab.render.tables import Table, shape_str


def networks_table(records: list[dict]) -> Table:
    t = Table(
        "networks",
        ["name", "input", "params", "params_deployed", "madds", "published", "description"],
        numeric={"params", "params_deployed", "madds"},
    )
    for r in records:
        pub = ", ".join(f"{k} {v:,}" for k, v in r["published"].items())
        t.rows.append(
            [r["name"], shape_str(r["input"]), r["params"], r["params_deployed"], r["madds"], pub, r["description"]]
        )
    return t


def show_table(spec, plan) -> tuple[Table, dict]:
    """The resolved table (after extends, edits and overrides): each row with its fields and shapes, and its JSON.
    ``spec`` None: a traced torch module's plan, its rows as traced."""
    title = f"{spec.name}: {spec.description}" if spec is not None else f"{plan.model}: a traced torch module"
    t = Table(title, ["row", "type", "fields", "in", "out", "layers", "defined at"], numeric={"layers"})
    rows = []
    for r in plan.rows:
        where = f"{r.file}:{r.line}" if r.line else r.file
        t.rows.append([r.index, r.type, r.label, shape_str(r.in_shape), shape_str(r.out_shape), len(r.layers), where])
        rows.append(
            {
                "index": r.index,
                "type": r.type,
                "fields": r.label,
                "in": list(r.in_shape),
                "out": list(r.out_shape),
                "layers": list(r.layers),
                "file": r.file,
                "line": r.line,
            }
        )
    if spec is None:
        t.notes = [f"{'; '.join(plan.notes)}: one row per module call (archlab extract SRC --input HxW: a table)"]
        missing = plan.uncounted()
        if missing:
            listed = ", ".join(f"{op} x{n}" for op, n in sorted(missing.items()))
            t.notes.append(f"not counted (archlab has no rule for these ops): {listed}")
        data = {"schema_version": 1, "model": plan.model, "input": list(plan.input), "traced": list(plan.notes)}
        return t, {**data, "uncounted": missing, "rows": rows}
    t.notes = [f"defaults: {', '.join(f'{k}={v}' for k, v in spec.defaults.items())}"]
    if spec.source:
        t.notes.append("source: " + "; ".join(f"{k}: {v}" for k, v in spec.source.items()))
    if spec.extends:
        t.notes.append("extends: " + " -> ".join(spec.extends))
    data = {
        "schema_version": 1,
        "model": spec.name,
        "description": spec.description,
        "input": list(plan.input),
        "options": plan.options,
        "defaults": spec.defaults,
        "source": spec.source,
        "extends": list(spec.extends),
        "rows": rows,
    }
    return t, data
