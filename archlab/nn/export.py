"""The deploy path: build, fold BN and optionally go channels-last, check, and export (ONNX, TorchScript).

``export(plan, onnx=...)`` returns an :class:`ExportReport`. By default the network is deployed as it should
run: BN folded (``fold_bn=True``), ONNX with a dynamic batch axis (``dynamic_batch=True``), exported by
:func:`archlab.nn.onnx_export.export_onnx` (the exporter the ``onnxruntime`` runtime uses: dynamo,
``optimize=True``, PReLU decomposed). The report states the exported graph's op histogram (``49 Conv, ...,
0 BatchNormalization``), the graph ONNX Runtime makes of it, and the session options.

Checks (each: ``max |a - b| <= tolerance x max |reference|``, a relative tolerance, 1e-4):

* the **fold check**: the deployed module's outputs against the unfolded module's on one random input (eval
  mode); and the deployed module's parameter count against the plan's ``params_deployed``;
* without ``weights`` the network is untrained: its BN layers would be the identity (hiding a wrong fold) and
  its outputs tiny (1e-5: any tolerance passes). So its BN statistics are first **calibrated** on a seeded
  random batch (each BN's output zero-mean, unit-variance per channel: O(1) outputs of mixed signs, like a
  trained network's), and the fold is checked once more on a copy with randomised BN statistics;
* the **ONNX check** (when onnxruntime is installed): the exported file run by ONNX Runtime against the
  unfolded PyTorch module, at the export's batch and, with a dynamic batch axis, at another batch size.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass, field
from pathlib import Path

from archlab.errors import ArchlabError, OptionError
from archlab.ir.plan import Plan
from archlab.nn.onnx_export import EXPORTERS, histogram_text, ort_histogram, ort_options_text, ort_session
from archlab.nn.outputs import max_difference
from archlab.nn.quiet import importable, quiet
from archlab.nn.trace import HOOK_WALK
from archlab.storage.files import write_atomic
from archlab.timing.progress import Progress

DEFAULT_TOLERANCE = 1e-4
CALIBRATION_BATCH = 8
OTHER_BATCH = 8  # the dynamic batch axis is checked at this batch too (or at batch + 1)


@dataclass(frozen=True)
class Comparison:
    what: str
    max_abs_diff: float
    ref_max_abs: float
    tolerance: float

    @property
    def ok(self) -> bool:
        """Relative: within ``tolerance`` of the largest reference output (exactly equal when it is 0)."""
        return self.max_abs_diff <= self.tolerance * self.ref_max_abs

    def to_dict(self) -> dict:
        return {
            "what": self.what,
            "max_abs_diff": self.max_abs_diff,
            "ref_max_abs": self.ref_max_abs,
            "tolerance": self.tolerance,
            "ok": self.ok,
        }

    def line(self) -> str:
        return (
            f"{self.what}: max |diff| {self.max_abs_diff:.3g} (outputs up to {self.ref_max_abs:.3g}; "
            f"tolerance {self.tolerance:g} x max |ref|) {'ok' if self.ok else 'FAILED'}"
        )


@dataclass
class ExportReport:
    model: str
    options: dict
    fold_bn: bool
    channels_last: bool
    batch: int
    weights: str | None
    params: int  # the plan's trainable parameters
    params_deployed: int  # the plan's figure
    params_module: int  # parameters of the module that was exported
    bn_folded: int
    bn_total: int
    comparisons: list[Comparison] = field(default_factory=list)
    onnx: str | None = None
    onnx_exporter: str | None = None
    onnx_bytes: int | None = None
    onnx_weights: int | None = None  # float elements of the ONNX initializers
    onnx_note: str = ""
    torchscript: str | None = None
    torchscript_bytes: int | None = None
    dynamic_batch: bool = False
    calibrated: bool = False  # BN statistics calibrated (no weights given)
    onnx_prelu: str | None = None
    onnx_histogram: dict = field(default_factory=dict)  # op type -> nodes of the exported graph
    ort_histogram: dict = field(default_factory=dict)  # ... of the graph ONNX Runtime runs
    ort_session: str = ""
    traced: str = ""  # a module torch.fx could not trace: what that means for the artefacts

    @property
    def params_ok(self) -> bool:
        return not self.fold_bn or self.params_module == self.params_deployed

    @property
    def ok(self) -> bool:
        return self.params_ok and all(c.ok for c in self.comparisons)

    @property
    def failures(self) -> list[str]:
        out = [c.line() for c in self.comparisons if not c.ok]
        if not self.params_ok:
            out.append(
                f"the folded module has {self.params_module:,} parameters, the plan's params_deployed is "
                f"{self.params_deployed:,}"
            )
        return out

    def lines(self) -> list[str]:
        mode = "BN folded" if self.fold_bn else "BN kept"
        if self.weights:
            weights = "weights " + self.weights
        elif self.calibrated:
            weights = "random weights (seeded), BN calibrated"
        else:
            weights = "the module's own weights"
        out = [
            f"{self.model}: {mode} ({self.bn_folded} of {self.bn_total} BN layers folded)"
            f"{', channels-last' if self.channels_last else ''}, batch {self.batch}, {weights}",
            f"parameters: module {self.params_module:,} | plan params {self.params:,}, params_deployed "
            f"{self.params_deployed:,}"
            + (" (equal)" if self.fold_bn and self.params_ok else " (NOT equal)" if self.fold_bn else ""),
        ]
        out += [c.line() for c in self.comparisons]
        if self.onnx:
            w = f", {self.onnx_weights:,} float weights" if self.onnx_weights is not None else ""
            axis = "dynamic batch axis" if self.dynamic_batch else f"static batch {self.batch}"
            out.append(
                f"wrote {self.onnx} ({self.onnx_bytes:,} bytes{w}; exporter {self.onnx_exporter}; {axis}; PReLU "
                f"{self.onnx_prelu})"
            )
            out.append(f"ONNX graph: {histogram_text(self.onnx_histogram)}")
            if self.ort_histogram:
                out.append(f"ONNX Runtime runs (after ORT_ENABLE_ALL): {histogram_text(self.ort_histogram, ())}")
            if self.ort_session:
                out.append(self.ort_session)
        if self.onnx_note:
            out.append(self.onnx_note)
        if self.traced:
            out.append(self.traced)
        if self.torchscript:
            out.append(f"wrote {self.torchscript} ({self.torchscript_bytes:,} bytes; torch.jit.trace)")
        return out

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "comparisons"}
        d.update(params_ok=self.params_ok, checks=[c.to_dict() for c in self.comparisons], ok=self.ok)
        d["onnx_note"] = self.onnx_note or None
        return d


def compare(what: str, out, ref, tolerance: float = DEFAULT_TOLERANCE) -> Comparison:
    try:
        diff, scale = max_difference(out, ref)
    except ValueError as e:
        raise ArchlabError(f"{what}: {e}") from None
    return Comparison(what, diff, scale, tolerance)


def check_output_dir(path: Path, flag: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ArchlabError(f"{flag} {path}: folder {parent} does not exist")


def onnx_float_weights(data: bytes) -> int:
    """Float elements stored in the ONNX file's initializers (the weights; int shape constants excluded)."""
    import onnx

    model = onnx.load_from_string(data)
    total = 0
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            n = 1
            for d in init.dims:
                n *= d
            total += n
    return total


def run_onnx(data: bytes, x, threads: int = 1):
    """Run the ONNX model in ONNX Runtime on ``x`` (NCHW); raises ArchlabError when it cannot run."""
    try:
        sess = ort_session(data, threads)
        return sess.run(None, {sess.get_inputs()[0].name: x.contiguous().numpy()})
    except ArchlabError:
        raise
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else ""
        raise ArchlabError(f"ONNX Runtime cannot run the exported model: {type(e).__name__}: {first}") from None


def check_onnx(data: bytes, module, x, tolerance: float = DEFAULT_TOLERANCE, what: str = "") -> Comparison:
    """ONNX Runtime on ``x`` against ``module`` (PyTorch, eval mode) on ``x``: the ONNX check."""
    import torch

    with torch.inference_mode():
        ref = module(x)
    return compare(what or "ONNX Runtime vs unfolded PyTorch", run_onnx(data, x), ref, tolerance)


def calibrate_bn(module, x) -> None:
    """Set every BN's running statistics to those of ``module``'s activations on the batch ``x`` (in place):
    each BN then outputs zero mean, unit variance per channel, so an untrained network's outputs are O(1)."""
    import torch
    import torch.nn as nn

    bns = [m for m in module.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    saved = [(m.momentum, m.training) for m in bns]
    try:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: after one batch, that batch's statistics
            m.train()
        with torch.no_grad():
            module(x)
    finally:
        for m, (momentum, training) in zip(bns, saved):
            m.momentum = momentum
            m.train(training)


def export(
    plan: Plan,
    *,
    onnx: str | Path | None = None,
    torchscript: str | Path | None = None,
    fold_bn: bool = True,
    channels_last: bool = False,
    batch: int = 1,
    dynamic_batch: bool = True,
    weights=None,  # a checkpoint path, a state_dict or an nn.Module
    key_map=None,  # None, "auto" or a key-map file
    exporter: str = "dynamo",
    prelu: str = "decomposed",
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: Progress | None = None,
) -> ExportReport:
    """Build the network of ``plan``, deploy it (fold BN, channels-last), check it, and write the files.
    ``progress(done, total, what)``: the stage ``export``, one step per build, check and file."""
    import torch

    from archlab.nn import fold as fold_mod

    if batch < 1:
        raise OptionError(f"--batch must be >= 1, got {batch}")
    if exporter not in EXPORTERS:
        raise OptionError(f"--exporter: one of {', '.join(EXPORTERS)}, not {exporter!r}")
    onnx_path = Path(onnx) if onnx is not None else None
    ts_path = Path(torchscript) if torchscript is not None else None
    for path, flag in ((onnx_path, "--onnx"), (ts_path, "--torchscript")):
        if path is not None:
            check_output_dir(path, flag)
    if key_map is not None and weights is None:
        raise OptionError("--key-map needs --weights")
    step = _steps(progress, 2 + (1 if onnx_path is not None else 0) + (1 if ts_path is not None else 0))
    step(f"build {plan.model}" + (" and load the weights" if weights is not None else ""))
    module = _built(plan, weights, key_map, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((batch, *plan.input), generator=g)
    deployed = fold_mod.fold_bn(module, plan) if fold_bn else module
    xd = x
    if channels_last:
        deployed = deployed.to(memory_format=torch.channels_last)
        xd = x.contiguous(memory_format=torch.channels_last)
    report = _report(plan, module, deployed, fold_bn, channels_last, batch, weights)
    report.dynamic_batch = dynamic_batch
    step("check the deployed network")
    _fold_checks(report, plan, module, deployed, x, xd, seed, tolerance)
    if onnx_path is not None:
        step(f"ONNX export ({exporter}) and its ONNX Runtime check")
        _write_onnx(report, onnx_path, deployed, module, x, xd, exporter, prelu, tolerance)
    if ts_path is not None:
        step("TorchScript trace")
        buf = io.BytesIO()
        with quiet(), torch.no_grad():
            torch.jit.save(torch.jit.trace(deployed, xd, check_trace=False), buf)
        write_atomic(ts_path, buf.getvalue())
        report.torchscript, report.torchscript_bytes = str(ts_path), len(buf.getvalue())
    step(None)
    return report


def _steps(progress: Progress | None, total: int):
    """``step(what)``: a step starts (the ones before it are done); ``step(None)``: all done."""
    done = [0]

    def step(what: str | None) -> None:
        if progress is not None:
            progress(total if what is None else min(done[0], total), total, f"export: {what or 'done'}")
        done[0] += 1

    return step


def _built(plan: Plan, weights, key_map, seed: int):
    """The network with the given weights (a traced module's own, ``weights`` loaded into it), or seeded random
    weights and calibrated BN statistics."""
    import torch

    from archlab.nn.build import build_plan

    torch.manual_seed(seed)
    module = build_plan(plan).eval()
    if weights is not None:  # a checkpoint, a state_dict or an nn.Module; key_map: None, "auto" or a file
        from archlab.nn.key_map import load_weights

        load_weights(module, weights, key_map, what=f"network {plan.model}", plan=plan)
        return module
    if plan.modules is not None:  # a traced module: its own weights and BN statistics
        return module
    g = torch.Generator().manual_seed(seed + 3)
    calibrate_bn(module, torch.randn((CALIBRATION_BATCH, *plan.input), generator=g))
    module.archlab_calibrated = True
    return module


def _report(plan: Plan, module, deployed, fold_bn: bool, channels_last: bool, batch: int, weights) -> ExportReport:
    from archlab.nn.fold import param_count

    totals = plan.totals()
    return ExportReport(
        plan.model,
        dict(plan.options),
        fold_bn,
        channels_last,
        batch,
        str(weights) if weights is not None else None,
        totals["params"],
        totals["params_deployed"],
        param_count(deployed),
        len(getattr(deployed, "folded", ())),
        sum(1 for layer in plan.layers if layer.op == "bn"),
        calibrated=bool(getattr(module, "archlab_calibrated", False)),
        traced=next((f"note: {n}" for n in plan.notes if n.startswith(HOOK_WALK)), ""),
    )


def _fold_checks(report: ExportReport, plan: Plan, module, deployed, x, xd, seed: int, tolerance: float) -> None:
    import torch

    from archlab.nn import fold as fold_mod

    what = ("folded" if report.fold_bn else "deployed") + (" channels-last" if report.channels_last else "")
    with torch.inference_mode():
        report.comparisons.append(compare(f"{what} vs unfolded", deployed(xd), module(x), tolerance))
    if report.fold_bn and report.weights is None and report.bn_total:
        probe = copy.deepcopy(module)
        fold_mod.randomize_bn(probe, seed + 2)
        probe_folded = fold_mod.fold_bn(probe, plan)
        with torch.inference_mode():
            report.comparisons.append(
                compare("folded vs unfolded, BN statistics randomised", probe_folded(x), probe(x), tolerance)
            )


def _write_onnx(report: ExportReport, path: Path, deployed, module, x, xd, exporter, prelu, tolerance) -> None:
    import torch

    from archlab.nn.onnx_export import export_onnx

    exp = export_onnx(deployed, xd, exporter=exporter, dynamic_batch=report.dynamic_batch, prelu=prelu)
    report.onnx_exporter, report.onnx_bytes, report.onnx_prelu = exp.exporter, len(exp.data), exp.prelu
    report.onnx_histogram = exp.histogram
    try:
        report.onnx_weights = onnx_float_weights(exp.data)
    except Exception as e:  # a file the onnx package cannot parse is reported by the check below
        report.onnx_note = f"could not count the ONNX weights: {type(e).__name__}: {e}"
    if importable("onnxruntime"):
        report.comparisons.append(check_onnx(exp.data, module, x, tolerance))
        if report.dynamic_batch:
            other = OTHER_BATCH if report.batch != OTHER_BATCH else report.batch + 1
            g = torch.Generator().manual_seed(7)
            xb = torch.randn((other, *x.shape[1:]), generator=g)
            report.comparisons.append(
                check_onnx(exp.data, module, xb, tolerance, f"ONNX Runtime vs unfolded PyTorch, batch {other}")
            )
        report.ort_histogram = ort_histogram(exp.data)
        report.ort_session = ort_options_text(1)
    else:
        report.onnx_note = "onnxruntime is not installed: the ONNX file was not run (pip install onnxruntime)"
    write_atomic(path, exp.data)
    report.onnx = str(path)
