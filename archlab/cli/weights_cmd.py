"""`archlab weights`: checkpoint tools. `weights map` finds the key map from a checkpoint (or a module) to a
network's build by module order and shapes."""

from __future__ import annotations

import click

from archlab.cli.common import echo, net_argument, output_option, output_path, override_options

MAP_HELP = """The key map `--key-map auto` finds: every tensor of SRC renamed to the network's build of
NAME, matched by module order and shapes (checkpoint key -> network key).

\b
SRC is a checkpoint or state_dict file (.pth/.pt, read with torch.load
weights_only=True) or a torch module, FILE.py:CALLABLE (--arg KEY=VALUE for
its arguments; its layers are matched to NAME's by tracing it at NAME's input).
NAME is a shipped network or a table, e.g. one written by `archlab extract`;
the overrides (--width, --head, ...) select its build. An ambiguous or
incomplete match is refused (exit 2) naming the first mismatch. Without -o
the map is printed (YAML); with -o FILE it is written atomically, for
`--key-map FILE` (export, rf), and one line counts it.
"""
MAP_EPILOG = (
    "Example: archlab weights map examples/models/resnet.py:resnet18 resnet18.yaml -o r18.map.yaml\n\n"
    "  archlab weights map runs/heads/seed0/gdconv.pt mobilefacenet --width 0.125 --head gdconv"
)


@click.group("weights", help="Checkpoint tools: `archlab weights map SRC NAME` finds a key map by shapes.")
def weights() -> None:
    """The group does nothing itself."""


@weights.command(
    "map",
    help=MAP_HELP,
    short_help="The key map from a checkpoint (or module) to a network's build, by module order and shapes.",
    epilog=MAP_EPILOG,
    context_settings={"max_content_width": 110},
)
@click.argument("source", metavar="SRC")
@net_argument()
@override_options
@click.option(
    "--arg",
    "module_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="for a FILE.py:CALLABLE SRC: call it with KEY=VALUE (repeatable; values read as YAML)",
)
@output_option
def map_keys(source: str, net: str, overrides: dict, module_args: tuple[str, ...], output: str | None) -> None:
    from archlab import api
    from archlab.render.output import dumps_yaml

    src = api.load_module(source, list(module_args)) if module_args else source
    out = output_path(output)
    found = api.weights_map(src, net, out=out, **overrides)
    if out is None:
        click.echo(dumps_yaml(found) if found else "{}\n", nl=False)
        return
    kept = sum(1 for v in found.values() if v is not None)
    dropped = len(found) - kept
    echo(
        f"wrote {out}: {kept} tensors of {source} mapped to {net}'s build"
        + (f", {dropped} dropped (null)" if dropped else "")
        + " (use it as --key-map FILE)"
    )
