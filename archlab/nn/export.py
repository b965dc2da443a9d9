"""The deploy path: build, optionally fold BN and go channels-last, check, and export (ONNX, TorchScript).

``export(plan, onnx=..., fold_bn=True)`` returns an :class:`ExportReport`:

* the **fold check**: the deployed module's outputs against the unfolded module's on one random input (eval
  mode): max absolute difference; and the deployed module's parameter count against the plan's
  ``params_deployed`` (they must be equal when BN is folded). A freshly built network's BN layers are the
  identity (mean 0, variance 1, gamma 1, beta 0), which would hide a wrong fold, so without ``weights`` the fold
  is checked a second time on a copy whose BN statistics are randomised (``fold.randomize_bn``);
* the **ONNX check** (when onnxruntime is installed): the exported file run by ONNX Runtime against the
  unfolded PyTorch module; and the float weights stored in the file.

A check passes when ``max |a - b| <= tolerance x max(1, max |reference|)`` (``tolerance`` 1e-4).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from archlab.errors import ArchlabError, OptionError
from archlab.ir.plan import Plan
from archlab.nn.outputs import max_difference
from archlab.nn.quiet import importable, quiet, require_packages
from archlab.storage.files import write_atomic
from archlab.timing.progress import Progress

EXPORTERS = ("dynamo", "torchscript")
DEFAULT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Comparison:
    what: str
    max_abs_diff: float
    ref_max_abs: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance * max(1.0, self.ref_max_abs)

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
            f"tolerance {self.tolerance:g} x max(1, |ref|)) {'ok' if self.ok else 'FAILED'}"
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
        out = [
            f"{self.model}: {mode} ({self.bn_folded} of {self.bn_total} BN layers folded)"
            f"{', channels-last' if self.channels_last else ''}, batch {self.batch}, "
            f"{'weights ' + self.weights if self.weights else 'random weights (seeded)'}",
            f"parameters: module {self.params_module:,} | plan params {self.params:,}, params_deployed "
            f"{self.params_deployed:,}"
            + (" (equal)" if self.fold_bn and self.params_ok else " (NOT equal)" if self.fold_bn else ""),
        ]
        out += [c.line() for c in self.comparisons]
        if self.onnx:
            w = f", {self.onnx_weights:,} float weights" if self.onnx_weights is not None else ""
            out.append(f"wrote {self.onnx} ({self.onnx_bytes:,} bytes{w}; exporter {self.onnx_exporter})")
        if self.onnx_note:
            out.append(self.onnx_note)
        if self.torchscript:
            out.append(f"wrote {self.torchscript} ({self.torchscript_bytes:,} bytes; torch.jit.trace)")
        return out

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "options": self.options,
            "fold_bn": self.fold_bn,
            "channels_last": self.channels_last,
            "batch": self.batch,
            "weights": self.weights,
            "params": self.params,
            "params_deployed": self.params_deployed,
            "params_module": self.params_module,
            "params_ok": self.params_ok,
            "bn_folded": self.bn_folded,
            "bn_total": self.bn_total,
            "checks": [c.to_dict() for c in self.comparisons],
            "onnx": self.onnx,
            "onnx_exporter": self.onnx_exporter,
            "onnx_bytes": self.onnx_bytes,
            "onnx_weights": self.onnx_weights,
            "onnx_note": self.onnx_note or None,
            "torchscript": self.torchscript,
            "torchscript_bytes": self.torchscript_bytes,
            "ok": self.ok,
        }


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


def onnx_bytes(module, x, exporter: str = "dynamo") -> tuple[bytes, str]:
    """Export ``module`` on input ``x``: the dynamo exporter (falls back to TorchScript's, see
    :func:`archlab.nn.runtimes.export_onnx`), or the TorchScript-based exporter directly."""
    if exporter not in EXPORTERS:
        raise OptionError(f"--exporter: one of {', '.join(EXPORTERS)}, not {exporter!r}")
    require_packages(("onnx", "onnxscript") if exporter == "dynamo" else ("onnx",), f"ONNX export ({exporter})")
    from archlab.nn.runtimes import export_onnx

    if exporter == "dynamo":
        return export_onnx(module, x)
    import torch

    buf = io.BytesIO()
    with quiet():
        try:
            torch.onnx.export(module, (x,), buf, dynamo=False, input_names=["x"])  # type: ignore[arg-type]
        except Exception as e:
            raise ArchlabError(f"ONNX export (torchscript exporter) failed: {type(e).__name__}: {e}") from None
    return buf.getvalue(), "torchscript"


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


def run_onnx(data: bytes, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: x.contiguous().numpy()})


def export(
    plan: Plan,
    *,
    onnx: str | Path | None = None,
    torchscript: str | Path | None = None,
    fold_bn: bool = False,
    channels_last: bool = False,
    batch: int = 1,
    weights: str | Path | None = None,
    key_map: str | Path | None = None,
    exporter: str = "dynamo",
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: Progress | None = None,
) -> ExportReport:
    """Build the network of ``plan``, deploy it (fold BN, channels-last), check it, and write the files.
    ``progress(done, total, what)``: the stage ``export``, one step per build, check and file."""
    import torch

    from archlab.nn import fold as fold_mod
    from archlab.nn.build import build_plan

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
    total = 2 + (2 if onnx_path is not None else 0) + (1 if ts_path is not None else 0)  # build, check, files
    done = [0]

    def step(what: str) -> None:  # a step starts; the steps before it are done
        if progress is not None:
            progress(min(done[0], total), total, f"export: {what}")
        done[0] += 1

    step(f"build {plan.model}" + (" and load the weights" if weights is not None else ""))
    torch.manual_seed(seed)
    module = build_plan(plan).eval()
    if weights is not None:  # a checkpoint, a state_dict or an nn.Module; key_map: None, "auto" or a file
        from archlab.nn.key_map import load_weights

        load_weights(module, weights, key_map, what=f"network {plan.model}", plan=plan)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((batch, *plan.input), generator=g)
    with torch.inference_mode():
        ref = module(x)
    deployed = fold_mod.fold_bn(module, plan) if fold_bn else module
    xd = x
    if channels_last:
        deployed = deployed.to(memory_format=torch.channels_last)
        xd = x.contiguous(memory_format=torch.channels_last)
    totals = plan.totals()
    bns = sum(1 for layer in plan.layers if layer.op == "bn")
    report = ExportReport(
        plan.model,
        dict(plan.options),
        fold_bn,
        channels_last,
        batch,
        str(weights) if weights is not None else None,
        totals["params"],
        totals["params_deployed"],
        fold_mod.param_count(deployed),
        len(getattr(deployed, "folded", ())),
        bns,
    )
    step("check the deployed network")
    what = ("folded" if fold_bn else "deployed") + (" channels-last" if channels_last else "") + " vs unfolded"
    with torch.inference_mode():
        report.comparisons.append(compare(what, deployed(xd), ref, tolerance))
    if fold_bn and weights is None and bns:
        import copy

        probe = copy.deepcopy(module)
        fold_mod.randomize_bn(probe, seed + 2)
        probe_folded = fold_mod.fold_bn(probe, plan)
        with torch.inference_mode():
            report.comparisons.append(
                compare(
                    "folded vs unfolded, BN statistics randomised (the untrained network's BN is the identity)",
                    probe_folded(x),
                    probe(x),
                    tolerance,
                )
            )
    if onnx_path is not None:
        step(f"ONNX export ({exporter})")
        data, used = onnx_bytes(deployed, xd, exporter)
        report.onnx_exporter = used
        report.onnx_bytes = len(data)
        try:
            report.onnx_weights = onnx_float_weights(data)
        except Exception as e:  # a file the onnx package cannot parse is reported by the check below
            report.onnx_note = f"could not count the ONNX weights: {type(e).__name__}: {e}"
        if importable("onnxruntime"):
            step("ONNX Runtime check")
            try:
                got = run_onnx(data, x)
            except Exception as e:
                raise ArchlabError(
                    f"ONNX Runtime cannot run the exported model: {type(e).__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''}"
                ) from None
            report.comparisons.append(compare("ONNX Runtime vs unfolded PyTorch", got, ref, tolerance))
        else:
            report.onnx_note = "onnxruntime is not installed: the ONNX file was not run (pip install onnxruntime)"
        write_atomic(onnx_path, data)
        report.onnx = str(onnx_path)
    if ts_path is not None:
        step("TorchScript trace")
        buf = io.BytesIO()
        with quiet(), torch.no_grad():
            traced = torch.jit.trace(deployed, xd, check_trace=False)
            torch.jit.save(traced, buf)
        write_atomic(ts_path, buf.getvalue())
        report.torchscript = str(ts_path)
        report.torchscript_bytes = len(buf.getvalue())
    if progress is not None:
        progress(total, total, "export: done")
    return report
