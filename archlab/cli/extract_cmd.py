"""`archlab extract`: a torch module (FILE.py:CALLABLE) as a layer table, checked against its trace."""

from __future__ import annotations

import sys

import click

from archlab.cli.common import command, echo, output_option, output_path, source_options

HELP = """Rewrite a torch module as a layer table (YAML): the module is traced at --input, its layers read
front to back into the table's row types (conv, bottleneck, dwsep, xception, pool, concat, head) where they
fit exactly, primitive `layer` rows elsewhere.

\b
The table is checked before it is written: its plan has the traced layers
(same ops, shapes, fields), params, MAdds and output shapes, or nothing is
written (exit 2). Without -o the table goes to stdout; with -o FILE it is
written atomically and one line sums it up. The table then works with every
command (show, profile, diff, --width, --head ...), and
`archlab export TABLE --weights CKPT --key-map auto` loads the module's
weights into its build (`archlab weights map` writes that key map).
SRC is FILE.py:CALLABLE or package.module:CALLABLE; --arg KEY=VALUE calls the
callable with arguments; --strict refuses ops archlab has no counting rule for.
"""
EPILOG = (
    "Example: archlab extract examples/models/mobilenetv2.py:mobilenet_v2 --input 224x224 -o mobilenetv2.yaml\n\n"
    "  archlab extract examples/models/resnet.py:resnet18 --arg num_classes=10 --input 64x64"
)


@command("extract", HELP, EPILOG)
@click.argument("net", metavar="SRC")
@click.option("--input", metavar="HxW", required=True, help="the input size to trace at, e.g. 224x224")
@click.option("--name", metavar="NAME", help="the table's name (default: the callable's name)")
@source_options
@output_option
def extract(
    net: str, input: str, name: str | None, module_args: tuple[str, ...], strict: bool, output: str | None
) -> None:
    from archlab import api
    from archlab.render.text import count

    label = name or net.rsplit(":", 1)[-1]  # the callable's name, also when --arg builds the module here
    module = api.load_module(net, list(module_args))  # a table name or path is refused here, with the form
    out = output_path(output)
    spec = api.extract(module, input, out=out if out is not None else sys.stdout, name=label, strict=strict)
    if out is None:
        return
    totals = api.plan(spec).totals()
    primitive = sum(1 for r in spec.rows if r.type == "layer")
    echo(
        f"wrote {out}: {spec.name}, {len(spec.rows)} rows ({primitive} primitive layer rows)"
        f"{' + head' if spec.head is not None else ''} at {'x'.join(map(str, spec.input))}, "
        f"{count(totals['params'])} params, {count(totals['madds'])} MAdds; "
        "same layers, params, MAdds and output shapes as the module (checked)"
    )
