"""`archlab validate`, `archlab schema` and `archlab lint`: tools for users' own tables."""

from __future__ import annotations

import typer

from archlab.cli.common import Format, FormatOpt, NetArg, OutputOpt, user_errors, with_overrides

VALIDATE_HELP = (
    "Check a table and report every error at once, each naming file, line, row and field "
    "(exit code 2 when there are errors)."
)
VALIDATE_EPILOG = "Example: archlab validate my_net.yaml"
SCHEMA_HELP = "Print a JSON Schema of the table format (for editors: yaml-language-server, VS Code)."
SCHEMA_EPILOG = "Example: archlab schema -o archlab-table.schema.json"
LINT_HELP = (
    "Find architecture smells (a 'global' depthwise conv that misses positions, FMap-end below 7x7 for "
    "a face embedding, a final receptive field smaller than the input, strides that do not divide the "
    "map). Exit code 1 when something is found, 0 when clean."
)
LINT_EPILOG = "Example: archlab lint mobilefacenet-tf"


@user_errors
def validate(net: NetArg, format: FormatOpt = Format.table) -> None:
    from archlab import api
    from archlab.render.output import dumps_json
    from archlab.render.validation import validation_data, validation_lines

    file, errors, plan = api.table_errors(net)
    fmt = format.value if hasattr(format, "value") else format
    out, err = validation_lines(file, errors, plan)
    if fmt == "json":
        typer.echo(dumps_json(validation_data(file, errors, plan)), nl=False)
        err = err[:-1] if errors else err  # the JSON says how many
    else:
        for line in out:
            typer.echo(line)
    for line in err:
        typer.echo(line, err=True)
    if errors:
        raise typer.Exit(2)


@user_errors
def schema(output: OutputOpt = None) -> None:
    from archlab import api
    from archlab.render.output import dumps_json, write_atomic

    text = dumps_json(api.schema())
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text)


@user_errors
@with_overrides
def lint(
    net: NetArg,
    overrides: dict | None = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    from archlab import api
    from archlab.render.lint import lint_table
    from archlab.render.output import emit

    plan = api.plan(net, **(overrides or {}))
    findings = api.lint(plan)
    t, data = lint_table(plan, findings)
    fmt = format.value if hasattr(format, "value") else format
    emit([t], data, fmt, str(output) if output else None)
    if findings:
        raise typer.Exit(1)
