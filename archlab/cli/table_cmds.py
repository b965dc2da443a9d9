"""`archlab validate`, `archlab schema` and `archlab lint`: tools for users' own tables."""

from __future__ import annotations

from archlab.cli.common import (
    command,
    echo,
    emit,
    format_option,
    net_argument,
    output_option,
    output_path,
    override_options,
)

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


@command("validate", VALIDATE_HELP, VALIDATE_EPILOG)
@net_argument()
@format_option(("table", "json"))
@output_option
def validate(net: str, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.output import dumps_json, write_text
    from archlab.render.validation import validation_data, validation_lines

    file, errors, plan = api.table_errors(net)
    out, err = validation_lines(file, errors, plan)
    if fmt == "json":
        write_text(dumps_json(validation_data(file, errors, plan)), output_path(output))
        err = err[:-1] if errors else err  # the JSON says how many
    else:
        write_text("".join(line + "\n" for line in out), output_path(output))
    for line in err:
        echo(line, err=True)
    if errors:
        raise SystemExit(2)


@command("schema", SCHEMA_HELP, SCHEMA_EPILOG)
@format_option(("json", "yaml"), default="json")
@output_option
def schema(fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.output import dumps_json, dumps_yaml, write_text

    data = api.schema()
    write_text(dumps_json(data) if fmt == "json" else dumps_yaml(data), output_path(output))


@command("lint", LINT_HELP, LINT_EPILOG)
@net_argument()
@override_options
@format_option()
@output_option
def lint(net: str, overrides: dict, fmt: str, output: str | None) -> None:
    from archlab import api
    from archlab.render.lint import lint_table

    plan = api.plan(net, **overrides)
    findings = api.lint(plan)
    table, data = lint_table(plan, findings)
    emit([table], data, fmt, output)
    if findings:
        raise SystemExit(1)  # findings: the table says what they are
