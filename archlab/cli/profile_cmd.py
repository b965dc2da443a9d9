"""`archlab profile`: per-row or per-layer parameters, MAdds, other ops and activations."""

from __future__ import annotations

from archlab.cli.common import (ClassesOpt, Depth, EmbeddingOpt, FormatOpt, HeadOpt, InputOpt, NetArg, OutputOpt,
                                StemPoolOpt, StemStrideOpt, WidthOpt, overrides, user_errors)

HELP = """Per-row (or per-layer) parameters, MAdds, other ops and activations of a network, from its table.

\b
Conventions (details and a comparison with fvcore, thop, ptflops and torchinfo: README, "Conventions"):
  madds       multiply-adds of conv and linear layers, bias not counted (MobileNet papers)
  other_ops   BN 2/element, activation 1/element, residual add 1/element, avg pool 1/input element,
              max-pool k*k-1/output element
  activations output elements of conv and linear layers (fvcore's rule)
  params      trainable; params_deployed: BN folded into the conv/linear before it
"""
EPILOG = "Example: archlab profile mobilefacenet --width 0.5 --input 112x96 --depth layer --format json"


@user_errors
def profile(
    net: NetArg,
    input: InputOpt = None,
    width: WidthOpt = None,
    stem_stride: StemStrideOpt = None,
    stem_pool: StemPoolOpt = False,
    head: HeadOpt = None,
    embedding: EmbeddingOpt = None,
    classes: ClassesOpt = None,
    depth: Depth = Depth.row,
    format: FormatOpt = "table",
    output: OutputOpt = None,
) -> None:
    import archlab
    from archlab.render.output import emit
    from archlab.render.profile import profile_header, profile_table

    prof = archlab.profile(net, **overrides(input, width, stem_stride, stem_pool, head, embedding, classes))
    fmt = format.value if hasattr(format, "value") else format
    emit([profile_table(prof, depth.value)], prof.to_dict(), fmt, str(output) if output else None,
         header=profile_header(prof))
