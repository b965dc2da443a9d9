"""`archlab show`: the resolved layer table, each row with its fields and in/out shapes."""

from __future__ import annotations

from archlab.cli.common import FormatOpt, NetArg, OutputOpt, user_errors, with_overrides

HELP = "Show the resolved layer table (after extends, edits and overrides): each row with its fields and shapes."
EPILOG = "Example: archlab show mobilefacenet-s --stem-pool"


@user_errors
@with_overrides
def show(
    net: NetArg,
    overrides: dict = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    format: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    from archlab.api import load_table
    from archlab.expand import Overrides, expand
    from archlab.render.output import emit
    from archlab.render.tables import Table, shape_str

    spec = load_table(net)
    plan = expand(spec, Overrides.from_kwargs(**overrides))
    t = Table(f"{spec.name}: {spec.description}", ["row", "type", "fields", "in", "out", "layers", "defined at"],
              numeric={"layers"})
    rows = []
    for r in plan.rows:
        where = f"{r.file}:{r.line}" if r.line else r.file
        t.rows.append([r.index, r.type, r.label, shape_str(r.in_shape), shape_str(r.out_shape), len(r.layers), where])
        rows.append({"index": r.index, "type": r.type, "fields": r.label, "in": list(r.in_shape),
                     "out": list(r.out_shape), "layers": list(r.layers), "file": r.file, "line": r.line})
    src = spec.source
    t.notes = [f"defaults: {', '.join(f'{k}={v}' for k, v in spec.defaults.items())}"]
    if src:
        t.notes.append("source: " + "; ".join(f"{k}: {v}" for k, v in src.items()))
    if spec.extends:
        t.notes.append("extends: " + " -> ".join(spec.extends))
    data = {"schema_version": 1, "model": spec.name, "description": spec.description, "input": list(plan.input),
            "options": plan.options, "defaults": spec.defaults, "source": src, "extends": list(spec.extends),
            "rows": rows}
    fmt = format.value if hasattr(format, "value") else format
    emit([t], data, fmt, str(output) if output else None)
