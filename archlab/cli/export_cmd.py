"""`archlab export`: the deployable network (BN folded, channels-last) as ONNX and/or TorchScript, checked."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from archlab.cli.common import NetArg, user_errors, with_overrides
from archlab.errors import OptionError

HELP = """Export a network for deployment: ONNX (--onnx) and/or TorchScript (--torchscript), BN optionally folded.

\b
--fold-bn folds every BN that follows a conv/linear into its weights (W' = W*g/sqrt(v+eps),
b' = (b-m)*g/sqrt(v+eps) + beta) and removes it; the folded module's parameter count must equal the plan's
params_deployed. The deployed module is checked against the unfolded one on a random input (max abs
difference); without --weights the network is untrained (BN = identity), so the fold is also checked with
randomised BN statistics. With onnxruntime installed the ONNX file is run and compared too. A check fails
(exit 1) when max |diff| > 1e-4 x max(1, max |output|). ONNX graphs are NCHW whatever --channels-last says;
--channels-last applies to the PyTorch module (the check and the TorchScript file).
"""
EPILOG = "Example: archlab export mobilefacenet --onnx mfn.onnx --fold-bn"


class Exporter(str, Enum):
    dynamo = "dynamo"
    torchscript = "torchscript"


class Fmt(str, Enum):
    table = "table"
    json = "json"


@user_errors
@with_overrides
def export(
    net: NetArg,
    onnx: Annotated[Path | None, typer.Option("--onnx", metavar="FILE", help="write the ONNX model")] = None,
    torchscript: Annotated[
        Path | None, typer.Option("--torchscript", metavar="FILE", help="write a traced TorchScript module")
    ] = None,
    fold_bn: Annotated[bool, typer.Option("--fold-bn", help="fold BN into the conv/linear before it")] = False,
    channels_last: Annotated[
        bool, typer.Option("--channels-last", help="channels-last memory format for the PyTorch module")
    ] = False,
    weights: Annotated[
        Path | None, typer.Option("--weights", metavar="FILE", help="a trained state_dict (torch.load, weights_only)")
    ] = None,
    key_map: Annotated[
        Path | None, typer.Option("--key-map", metavar="FILE", help="rename checkpoint keys (see archlab/weights.py)")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="batch size of the exported graph")] = 1,
    exporter: Annotated[
        Exporter,
        typer.Option("--exporter", help="torch.onnx exporter (dynamo falls back to torchscript when it fails)"),
    ] = Exporter.dynamo,
    overrides: dict | None = None,  # --input, --width, --stem-stride, --stem-pool, --head, --embedding, --classes
    format: Annotated[Fmt, typer.Option("--format", "-f", help="report format")] = Fmt.table,
) -> None:
    from archlab import api
    from archlab.render.output import dumps_json

    if onnx is None and torchscript is None:
        raise OptionError("nothing to write: give --onnx FILE and/or --torchscript FILE")
    report = api.export(
        api.plan(net, **(overrides or {})),
        onnx=onnx,
        torchscript=torchscript,
        fold_bn=fold_bn,
        channels_last=channels_last,
        batch=batch,
        weights=weights,
        key_map=key_map,
        exporter=exporter.value,
    )
    if format == Fmt.json:
        typer.echo(dumps_json(report.to_dict()), nl=False)
    else:
        for line in report.lines():
            typer.echo(line)
    if not report.ok:
        fails = report.failures
        more = f" (and {len(fails) - 1} more)" if len(fails) > 1 else ""
        typer.echo(f"archlab: export check failed: {fails[0]}{more}", err=True)
        raise typer.Exit(1)
