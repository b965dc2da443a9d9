"""`archlab validate`, `archlab schema` and `archlab lint`: tools for users' own tables."""

from __future__ import annotations

import typer

from archlab.cli.common import FormatOpt, NetArg, OutputOpt, user_errors, with_overrides

VALIDATE_HELP = ("Check a table and report every error at once, each naming file, line, row and field "
                 "(exit code 2 when there are errors).")
VALIDATE_EPILOG = "Example: archlab validate my_net.yaml"
SCHEMA_HELP = "Print a JSON Schema of the table format (for editors: yaml-language-server, VS Code)."
SCHEMA_EPILOG = "Example: archlab schema -o archlab-table.schema.json"
LINT_HELP = ("Find architecture smells (a 'global' depthwise conv that misses positions, FMap-end below 7x7 for "
             "a face embedding, a final receptive field smaller than the input, strides that do not divide the "
             "map). Exit code 1 when something is found, 0 when clean.")
LINT_EPILOG = "Example: archlab lint mobilefacenet-tf"


@user_errors
def validate(net: NetArg, format: FormatOpt = "table") -> None:
    from archlab import registry
    from archlab.errors import ArchlabError
    from archlab.expand import expand
    from archlab.render.output import dumps_json
    from archlab.table import load_table, table_errors

    path = registry.resolve(net)
    errors = table_errors(path)
    plan = None
    if not errors:
        try:
            plan = expand(load_table(path))  # shape errors: the first one (later shapes depend on it)
        except ArchlabError as e:
            errors = [e]
    fmt = format.value if hasattr(format, "value") else format
    if fmt == "json":
        data = {"file": str(path), "valid": not errors,
                "errors": [{"message": e.message, "file": e.file, "line": e.line, "row": e.row, "field": e.field,
                            "text": str(e)} for e in errors]}
        if plan is not None:
            data["layers"] = len(plan.layers)
            data.update({k: v for k, v in plan.totals().items() if k in ("params", "madds")})
        typer.echo(dumps_json(data), nl=False)
    elif not errors:
        t = plan.totals()
        typer.echo(f"ok: {path}: {len(plan.rows)} rows, {len(plan.layers)} layers, params {t['params']:,}, "
                   f"MAdds {t['madds']:,}")
    for e in errors:
        typer.echo(f"archlab: error: {e}", err=True)
    if errors:
        if fmt != "json":
            typer.echo(f"{len(errors)} error{'s' if len(errors) > 1 else ''} in {path}", err=True)
        raise typer.Exit(2)


@user_errors
def schema(output: OutputOpt = None) -> None:
    from archlab.render.output import dumps_json, write_atomic
    from archlab.schema import table_schema

    text = dumps_json(table_schema())
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text)


@user_errors
@with_overrides
def lint(
    net: NetArg,
    overrides: dict = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    format: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    import archlab
    from archlab.analysis.lint import lint_plan
    from archlab.render.output import emit
    from archlab.render.tables import Table

    plan = archlab.plan(net, **overrides)
    findings = lint_plan(plan)
    t = Table(f"{plan.model}: lint", ["row", "layer", "rule", "message", "defined at"])
    for f in findings:
        t.rows.append([f.row, f.layer, f.rule, f.message, f"{f.file}:{f.line}" if f.file else ""])
    t.notes = [f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" if findings else "clean: no findings"]
    fmt = format.value if hasattr(format, "value") else format
    emit([t], {"schema_version": 1, "model": plan.model, "options": plan.options,
               "findings": [f.to_dict() for f in findings]}, fmt, str(output) if output else None)
    if findings:
        raise typer.Exit(1)
