"""`archlab export`: the deployable network (BN folded, channels-last) as ONNX and/or TorchScript, checked."""

from __future__ import annotations

import click

from archlab.cli.common import (
    Count,
    command,
    fail,
    format_option,
    net_argument,
    output_option,
    output_path,
    override_options,
)
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


@command("export", HELP, EPILOG)
@net_argument()
@click.option("--onnx", metavar="FILE", help="write the ONNX model")
@click.option("--torchscript", metavar="FILE", help="write a traced TorchScript module")
@click.option("--fold-bn", is_flag=True, help="fold BN into the conv/linear before it")
@click.option("--channels-last", is_flag=True, help="channels-last memory format for the PyTorch module")
@click.option("--weights", metavar="FILE", help="a trained state_dict (torch.load, weights_only)")
@click.option("--key-map", metavar="FILE", help="rename checkpoint keys (see archlab/nn/weights.py)")
@click.option("--batch", type=Count(), default=1, show_default=True, help="batch size of the exported graph")
@click.option(
    "--exporter",
    type=click.Choice(("dynamo", "torchscript")),
    default="dynamo",
    show_default=True,
    help="torch.onnx exporter (dynamo falls back to torchscript when it fails)",
)
@override_options
@format_option(("table", "json"))
@output_option
def export(
    net: str,
    onnx: str | None,
    torchscript: str | None,
    fold_bn: bool,
    channels_last: bool,
    weights: str | None,
    key_map: str | None,
    batch: int,
    exporter: str,
    overrides: dict,
    fmt: str,
    output: str | None,
) -> None:
    from archlab import api
    from archlab.render.output import dumps_json, write_text

    if onnx is None and torchscript is None:
        raise OptionError("nothing to write: give --onnx FILE and/or --torchscript FILE")
    report = api.export(
        api.plan(net, **overrides),
        onnx=onnx,
        torchscript=torchscript,
        fold_bn=fold_bn,
        channels_last=channels_last,
        batch=batch,
        weights=weights,
        key_map=key_map,
        exporter=exporter,
    )
    text = dumps_json(report.to_dict()) if fmt == "json" else "".join(line + "\n" for line in report.lines())
    write_text(text, output_path(output))
    if not report.ok:
        fails = report.failures
        more = f" (and {len(fails) - 1} more)" if len(fails) > 1 else ""
        fail(f"export check failed: {fails[0]}{more}", 1)
