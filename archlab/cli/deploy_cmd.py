"""`archlab deploy`: time every runtime of a network here, write the fastest into a folder, with the evidence."""

from __future__ import annotations

from pathlib import Path

import click

from archlab.cli.common import (
    command,
    emit,
    format_option,
    net_argument,
    output_option,
    override_options,
    progress_display,
    source_options,
)
from archlab.cli.runtimes_cmd import METHOD, timing_options
from archlab.errors import OptionError

HELP = (
    """Pick the fastest runtime of a network for this machine and write it into --out (a folder, made when
missing), with the table of every runtime as its evidence (NAME.deploy.json beside it).

\b
What is written, by the runtime chosen (the fastest whose outputs match eager's):
  onnxruntime    NAME.onnx (dynamic batch axis; the session options are stated)
  torchscript    NAME.torchscript.pt (traced and frozen; torch.jit.load)
  eager, folded, channels-last, compile
                 NAME.<runtime>.pt: the state dict and the recipe that rebuilds it
"""
    + METHOD
)
EPILOG = "Example: archlab deploy mobilefacenet --out deploy/ --runtimes eager,torchscript,onnxruntime --budget 30"


def out_folder(out: str) -> tuple[Path, bool]:
    """``--out``: a folder (made when missing, with its parents; True then); anything else there is refused."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"--out {out}: exists and is not a folder (deploy writes several files into a folder)")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OptionError(f"--out {out}: cannot make the folder: {e.strerror or e}") from None
    return folder, made


@command("deploy", HELP, EPILOG)
@net_argument()
@click.option("--out", metavar="DIR", default=".", show_default=True, help="the folder to write into")
@override_options
@timing_options
@source_options
@format_option()
@output_option
def deploy(
    net: str, out: str, overrides: dict, timing: dict, quiet: bool, strict: bool, fmt: str, output: str | None
) -> None:
    from archlab import api
    from archlab.render.runtimes import deploy_view, runtimes_csv

    folder, made = out_folder(out)
    try:
        with progress_display("deploy", quiet) as progress:
            result = api.deploy(net, out=folder, progress=progress, strict=strict, **timing, **overrides)
    except BaseException:
        if made and not any(folder.iterdir()):
            folder.rmdir()  # nothing written: leave no empty folder behind
        raise
    view = runtimes_csv(result.table) if fmt == "csv" else deploy_view(result)
    emit([view], result.to_dict(), fmt, output)
