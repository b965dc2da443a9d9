"""The one ONNX export (the ``onnxruntime`` runtime and ``archlab export`` both use it), the graph's op
histogram, and ONNX Runtime sessions with their options stated.

:func:`export_onnx`: ``torch.onnx.export(..., dynamo=True, optimize=True)`` (onnxscript's optimiser folds
constants and BN into the convolutions; with ``optimize=False`` every bias-less conv builds its zero bias at
run time through Shape/Expand/CastLike, which stops ONNX Runtime from fusing anything), a dynamic batch axis
(``batch``) by default, and PReLU decomposed (:class:`archlab.nn.modules.DecomposedPReLU`: ``max(x, a*x)`` when
the slopes lie in [0, 1], else ``relu(x) + a*min(x, 0)``; ONNX Runtime's PRelu kernel is 8x slower on mixed-sign
data). When the dynamo exporter fails, the TorchScript-based exporter
(``dynamo=False``) is used and the reason noted; ``exporter='torchscript'`` asks for it directly.

Sessions (:data:`ORT_OPTIONS`): ``ORT_ENABLE_ALL`` (the NCHWc layout transformer is what makes ORT fast on
CPU: 1.45-2.3x), ``intra_op_num_threads`` = the run's threads, ``inter_op_num_threads`` 1, sequential
execution, spinning off (idle ORT threads would steal the CPU from what is timed next).
"""

from __future__ import annotations

import collections
import copy
import io
import os
import tempfile
from dataclasses import dataclass, field

from archlab.errors import ArchlabError, OptionError
from archlab.nn.quiet import quiet, require_packages

EXPORTERS = ("dynamo", "torchscript")
ORT_OPTIONS = {
    "graph_optimization_level": "ORT_ENABLE_ALL",
    "intra_op_num_threads": "the run's threads",
    "inter_op_num_threads": 1,
    "execution_mode": "ORT_SEQUENTIAL",
    "session.intra_op.allow_spinning": "0",
    "providers": "CPUExecutionProvider",
}
ALWAYS_COUNTED = ("Conv", "PRelu", "BatchNormalization")  # named in a histogram even when absent


@dataclass(frozen=True)
class OnnxExport:
    """An exported model: its bytes, the exporter that made it and how (``prelu``: decomposed / kept / none)."""

    data: bytes
    exporter: str
    prelu: str
    dynamic_batch: bool
    histogram: dict[str, int] = field(default_factory=dict)

    @property
    def note(self) -> str:
        return (
            f"exporter {self.exporter}, {'dynamic' if self.dynamic_batch else 'static'} batch axis, PReLU {self.prelu}"
        )


def ort_options_text(threads: int) -> str:
    return (
        f"ONNX Runtime session: graph optimisation ORT_ENABLE_ALL, intra-op threads {threads}, inter-op threads 1, "
        "sequential, spinning off, CPUExecutionProvider"
    )


def decompose_prelu(module) -> tuple[object, int]:
    """A copy of ``module`` with every ``nn.PReLU`` replaced by :class:`DecomposedPReLU` (same module path)."""
    import torch.nn as nn

    from archlab.nn.modules import DecomposedPReLU

    out = copy.deepcopy(module)
    n = 0
    for name, mod in list(out.named_modules()):
        if isinstance(mod, nn.PReLU):
            parent, _, leaf = name.rpartition(".")
            setattr(out.get_submodule(parent) if parent else out, leaf, DecomposedPReLU(mod))
            n += 1
    if n and hasattr(out, "recompile"):
        out.recompile()
    return out, n


def _form_counts(model) -> dict[str, int]:
    from archlab.nn.modules import DecomposedPReLU

    counts: dict[str, int] = {}
    for mod in model.modules():
        if isinstance(mod, DecomposedPReLU):
            counts[mod.form] = counts.get(mod.form, 0) + 1
    return counts


def _forms_text(forms: dict[str, int]) -> str:
    """``33 as max(x, a*x)`` / ``2 as relu(x) + a*min(x, 0) (a slope outside [0, 1])``."""
    texts = {"max": "max(x, a*x)", "relu-min": "relu(x) + a*min(x, 0) (a slope outside [0, 1])"}
    return ", ".join(f"{n} as {texts[form]}" for form, n in sorted(forms.items()))


def export_onnx(
    model, x, *, exporter: str = "dynamo", dynamic_batch: bool = True, prelu: str = "decomposed"
) -> OnnxExport:
    """Export ``model`` (eval mode) on input ``x`` (see the module docstring). ``prelu``: ``decomposed`` or
    ``keep`` (ONNX PRelu nodes)."""
    if exporter not in EXPORTERS:
        raise OptionError(f"--exporter: one of {', '.join(EXPORTERS)}, not {exporter!r}")
    if prelu not in ("decomposed", "keep"):
        raise OptionError(f"prelu: 'decomposed' or 'keep', not {prelu!r}")
    require_packages(("onnx", "onnxscript") if exporter == "dynamo" else ("onnx",), f"ONNX export ({exporter})")
    n_prelu, forms = 0, {}
    if prelu == "decomposed":
        model, n_prelu = decompose_prelu(model)
        forms = _form_counts(model)
    how = f"decomposed ({_forms_text(forms)})" if n_prelu else "none in the network"
    if prelu == "keep":
        how = "kept (ONNX PRelu)"
    first = None
    if exporter == "dynamo":
        try:
            data = _dynamo(model, x, dynamic_batch)
            return OnnxExport(data, "dynamo", how, dynamic_batch, op_histogram(data))
        except Exception as e:  # the fallback is documented; the reason goes into the notes
            first = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    data = _torchscript(model, x, dynamic_batch, first)
    used = "torchscript" + (f" (dynamo exporter failed: {first})" if first else "")
    return OnnxExport(data, used, how, dynamic_batch, op_histogram(data))


def _dynamo(model, x, dynamic_batch: bool) -> bytes:
    import torch

    shapes = ({0: "batch"},) if dynamic_batch else None
    with quiet():
        prog = torch.onnx.export(
            model, (x,), dynamo=True, optimize=True, verbose=False, input_names=["x"], dynamic_shapes=shapes
        )
    assert prog is not None
    return prog.model_proto.SerializeToString()


def _torchscript(model, x, dynamic_batch: bool, first: str | None) -> bytes:
    import torch

    with quiet(), torch.no_grad():
        outs = model(x)
    names = ["y"] if not isinstance(outs, (tuple, list)) else [f"y{i}" for i in range(len(outs))]
    axes = {n: {0: "batch"} for n in ["x", *names]} if dynamic_batch else None
    buf = io.BytesIO()
    try:
        with quiet():
            torch.onnx.export(model, (x,), buf, dynamo=False, input_names=["x"], output_names=names, dynamic_axes=axes)  # type: ignore[arg-type]
    except Exception as e:
        why = f"{first}; the TorchScript-based exporter too: " if first else ""
        raise ArchlabError(f"ONNX export failed: {why}{type(e).__name__}: {e}") from None
    return buf.getvalue()


def op_histogram(data: bytes) -> dict[str, int]:
    """op type -> nodes in the graph (most frequent first); ops of another domain than ONNX's are prefixed
    with its last part (ONNX Runtime's ``nchwc.Conv``)."""
    import onnx

    def name(n) -> str:
        return n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain.rsplit('.', 1)[-1]}.{n.op_type}"

    counts = collections.Counter(name(n) for n in onnx.load_from_string(data).graph.node)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def histogram_text(hist: dict[str, int], always: tuple[str, ...] = ALWAYS_COUNTED) -> str:
    """``49 Conv, 33 PRelu, 12 Add, 0 BatchNormalization``: every op type, and ``always`` even at 0."""
    items = list(hist.items()) + [(op, 0) for op in always if op not in hist]
    return ", ".join(f"{n} {op}" for op, n in items)


def ort_session(data: bytes, threads: int = 1, *, profile_prefix: str | None = None, optimized_path: str | None = None):
    """An ONNX Runtime CPU session with :data:`ORT_OPTIONS` (and, if asked, its profiler or optimised dump)."""
    require_packages(("onnxruntime",), "runtime onnxruntime")
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    if optimized_path is not None:
        so.optimized_model_filepath = optimized_path
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def ort_histogram(data: bytes, threads: int = 1) -> dict[str, int]:
    """The op histogram of the graph ONNX Runtime runs (after its ORT_ENABLE_ALL optimiser)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "optimised.onnx")
        ort_session(data, threads, optimized_path=path)
        with open(path, "rb") as f:
            return op_histogram(f.read())
