"""`archlab export`: the deployable network (BN folded, dynamic batch) as ONNX and/or TorchScript, checked."""

from __future__ import annotations

from pathlib import Path

import click

from archlab.cli.common import (
    Count,
    command,
    fail,
    format_option,
    max_memory_option,
    net_argument,
    output_option,
    output_path,
    override_options,
    progress_display,
    quiet_option,
    source_options,
)
from archlab.errors import OptionError

HELP = """Export a network for deployment: ONNX (--onnx) and/or TorchScript (--torchscript), checked.

\b
Defaults deploy: BN folded into the conv/linear before it (W' = W*g/sqrt(v+eps),
b' = (b-m)*g/sqrt(v+eps) + beta; the folded module's parameter count must equal the
plan's params_deployed), a dynamic batch axis, ONNX exported with optimisation
(dynamo, optimize=True) and PReLU written as max(x, a*x) when its slopes lie in
[0, 1], else relu(x) + a*min(x, 0), the same function (--prelu keep: ONNX PRelu
nodes, which ONNX Runtime runs 2x slower on MobileFaceNet). The report gives the ONNX graph's
op histogram ("49 Conv, ..., 0 BatchNormalization") before and after ONNX Runtime's
optimiser (ORT_ENABLE_ALL), and the session options.
\b
Checks (exit 1 when one fails): max |diff| <= 1e-4 x max |reference output|, a
relative tolerance: the deployed module against the unfolded one on a seeded
random input, and, with onnxruntime installed, the ONNX file run by ONNX Runtime
(at the export's batch and, with a dynamic axis, at another). Without --weights
the network is untrained: its BN statistics are first calibrated on a seeded batch
(O(1) outputs of mixed signs, so the check can fail) and the fold is also checked
with randomised BN statistics. --weights takes any checkpoint or state_dict
(torch.load, weights_only), its keys renamed by --key-map (auto: matched by module
order and shapes; or a key-map file from `archlab weights map`).
\b
A torch module exports too: FILE.py:CALLABLE (--arg KEY=VALUE for its arguments,
--input HxW), its own weights unless --weights. ONNX graphs are NCHW whatever
--channels-last says; --channels-last applies to the PyTorch module (the check and
the TorchScript file).
"""
EPILOG = (
    "Examples: archlab export mobilefacenet --onnx mfn.onnx\n\n"
    "  archlab export examples/models/mobilenetv2.py:mobilenet_v2 --arg num_classes=10 --input 224x224 --onnx m.onnx"
)


@command("export", HELP, EPILOG)
@net_argument()
@click.option("--onnx", metavar="FILE", help="write the ONNX model")
@click.option("--torchscript", metavar="FILE", help="write a traced TorchScript module")
@click.option("--fold-bn/--no-fold-bn", default=True, show_default=True, help="fold BN into the conv/linear before it")
@click.option(
    "--dynamic-batch/--no-dynamic-batch",
    default=True,
    show_default=True,
    help="a dynamic batch axis in the ONNX graph (else fixed at --batch)",
)
@click.option(
    "--prelu",
    type=click.Choice(("decomposed", "keep")),
    default="decomposed",
    show_default=True,
    help="PReLU in ONNX: max(x, a*x) (slopes in [0, 1]) or relu(x) + a*min(x, 0); or ONNX PRelu nodes",
)
@click.option("--channels-last", is_flag=True, help="channels-last memory format for the PyTorch module")
@click.option("--weights", metavar="FILE", help="a checkpoint or state_dict, loaded strictly (weights_only)")
@click.option(
    "--key-map",
    metavar="auto|FILE",
    help="rename the checkpoint's keys: auto (by module order and shapes) or a key-map file (needs --weights)",
)
@click.option("--batch", type=Count(), default=1, show_default=True, help="batch size of the export and its check")
@click.option(
    "--exporter",
    type=click.Choice(("dynamo", "torchscript")),
    default="dynamo",
    show_default=True,
    help="torch.onnx exporter (dynamo falls back to torchscript when it fails, noted)",
)
@override_options
@source_options
@max_memory_option
@quiet_option
@format_option(("table", "json"))
@output_option
def export(
    net,
    onnx: str | None,
    torchscript: str | None,
    fold_bn: bool,
    dynamic_batch: bool,
    prelu: str,
    channels_last: bool,
    weights: str | None,
    key_map: str | None,
    batch: int,
    exporter: str,
    overrides: dict,
    strict: bool,
    max_memory: str | None,
    quiet: bool,
    fmt: str,
    output: str | None,
) -> None:
    from archlab import api
    from archlab.render.output import dumps_json, write_text

    if onnx is None and torchscript is None:
        raise OptionError("nothing to write: give --onnx FILE and/or --torchscript FILE")
    for flag, given in (("--weights", weights), ("--key-map", None if key_map == "auto" else key_map)):
        if given is not None and weights is not None and not Path(given).is_file():
            raise OptionError(f"{flag} {given}: no such file")  # before the progress display starts
    with progress_display("export", quiet) as progress:
        report = api.export(
            net,
            onnx=onnx,
            torchscript=torchscript,
            fold_bn=fold_bn,
            channels_last=channels_last,
            batch=batch,
            dynamic_batch=dynamic_batch,
            weights=weights,
            key_map=key_map,
            exporter=exporter,
            prelu=prelu,
            progress=progress,
            strict=strict,
            max_memory=max_memory,
            **overrides,
        )
    text = dumps_json(report.to_dict()) if fmt == "json" else "".join(line + "\n" for line in report.lines())
    write_text(text, output_path(output))
    if not report.ok:
        fails = report.failures
        more = f" (and {len(fails) - 1} more)" if len(fails) > 1 else ""
        fail(f"export check failed: {fails[0]}{more}", 1)
