"""Runtimes a sweep can time: eager PyTorch, ONNX Runtime, TorchScript and torch.compile.

Each runtime turns a built network and an input into a zero-argument callable (one inference), checked
against eager PyTorch first (max absolute difference of the outputs). Everything imports torch / onnxruntime
inside the functions.

* ``eager``: the ``torch.fx`` module from :func:`archlab.build.build_plan`, eval mode, under
  ``torch.inference_mode``; ``torch.set_num_threads`` before every visit.
* ``onnxruntime``: exported with ``torch.onnx.export(..., dynamo=True, optimize=False)`` (the default
  exporter, which needs ``onnxscript``; ONNX Runtime's own graph optimizer does the fusions at
  ``ORT_ENABLE_ALL``); if that exporter fails, the TorchScript-based exporter (``dynamo=False``). One
  session per thread count (``intra_op_num_threads``, ``inter_op_num_threads=1``, spinning off so that
  idle ONNX Runtime threads do not steal the CPU from the configuration timed next).
* ``torchscript``: ``torch.jit.trace`` then ``torch.jit.freeze`` (folds BN into the convolutions).
* ``compile``: ``torch.compile(model, dynamic=False)`` (Inductor; needs a C++ compiler; compiling takes
  tens of seconds per configuration on 2 cores, done before the rounds, outside the timing).
"""

from __future__ import annotations

import io
import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from archlab.errors import ArchlabError, OptionError
from archlab.nn.outputs import as_list, max_difference
from archlab.nn.quiet import quiet, require_packages
from archlab.timing.machine import cpu_model, loadavg, usable_cpus

RUNTIMES = ("eager", "onnxruntime", "torchscript", "compile")
CHECK_RTOL = 1e-3  # max |out - eager| <= CHECK_RTOL * max |eager| + CHECK_ATOL, or the check fails
CHECK_ATOL = 1e-6


@dataclass
class Prepared:
    """A runtime ready to time: ``fn()`` runs one inference; ``enter()`` sets threads before a visit."""

    runtime: str
    fn: Callable[[], object]
    enter: Callable[[], object] | None
    max_abs_diff: float
    ref_max_abs: float
    note: str = ""
    exporter: str | None = None

    @property
    def check_ok(self) -> bool:
        return self.max_abs_diff <= CHECK_RTOL * self.ref_max_abs + CHECK_ATOL


def require(runtime: str) -> None:
    """Raise an ArchlabError naming what to install when ``runtime`` cannot run here."""
    if runtime not in RUNTIMES:
        raise OptionError(f"--runtimes: unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    if runtime == "onnxruntime":
        require_packages(("onnxruntime", "onnx", "onnxscript"), "runtime onnxruntime")
    if runtime == "compile" and not (
        shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++")
    ):
        raise ArchlabError("runtime compile (torch.compile, Inductor) needs a C++ compiler (g++ or clang++)")


class Workshop:
    """Builds and caches what several configurations share: modules per plan, inputs, ONNX exports."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.modules: dict = {}
        self.inputs: dict = {}
        self.onnx: dict = {}
        self.refs: dict = {}

    # -- shared pieces ---------------------------------------------------------------------------------
    def module(self, plan_key, plan, channels_last: bool):
        key = (plan_key, channels_last)
        if key not in self.modules:
            import torch

            from archlab.nn.build import build_plan

            torch.manual_seed(self.seed)  # the same weights for every runtime of one network
            m = build_plan(plan).eval()
            if channels_last:
                m = m.to(memory_format=torch.channels_last)
            self.modules[key] = m
        return self.modules[key]

    def input(self, shape: tuple[int, ...], batch: int, channels_last: bool):
        key = (tuple(shape), batch, channels_last)
        if key not in self.inputs:
            import torch

            g = torch.Generator().manual_seed(self.seed + 1)
            x = torch.randn((batch, *shape), generator=g)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            self.inputs[key] = x
        return self.inputs[key]

    def reference(self, plan_key, plan, batch: int, channels_last: bool, threads: int):
        key = (plan_key, batch, channels_last)
        if key not in self.refs:
            import torch

            m = self.module(plan_key, plan, channels_last)
            x = self.input(plan.input, batch, channels_last)
            _set_threads(threads)
            with torch.inference_mode():
                self.refs[key] = tuple(t.detach().clone() for t in as_list(m(x)))
        return self.refs[key]

    def onnx_bytes(self, plan_key, plan, batch: int) -> tuple[bytes, str]:
        key = (plan_key, batch)
        if key not in self.onnx:
            m = self.module(plan_key, plan, False)
            x = self.input(plan.input, batch, False)
            self.onnx[key] = export_onnx(m, x)
        return self.onnx[key]

    # -- one configuration -----------------------------------------------------------------------------
    def prepare(self, runtime: str, plan_key, plan, *, batch: int, threads: int, channels_last: bool) -> Prepared:
        import torch

        require(runtime)
        ref = self.reference(plan_key, plan, batch, channels_last, threads)
        x = self.input(plan.input, batch, channels_last)
        m = self.module(plan_key, plan, channels_last)

        def enter(t=threads):
            _set_threads(t)

        exporter = None
        note = ""
        if runtime == "eager":
            fn = _call(m, x)
        elif runtime == "torchscript":
            with quiet(), torch.no_grad():
                traced = torch.jit.trace(m, x, check_trace=False)
                scripted = torch.jit.freeze(traced.eval())
            fn = _call(scripted, x)
        elif runtime == "compile":
            compiled = torch.compile(m, dynamic=False)
            fn = _call(compiled, x)
        elif runtime == "onnxruntime":
            data, exporter = self.onnx_bytes(plan_key, plan, batch)
            fn = _ort_callable(data, self.input(plan.input, batch, False), threads)
            note = f"exporter {exporter}"
        else:  # pragma: no cover - require() rejects it
            raise OptionError(f"unknown runtime {runtime!r}")
        enter()
        with torch.inference_mode():
            out = fn()
            out = fn()  # a compiled runtime may specialise on the first call
        try:  # every output of a multi-output network (a detector's heads)
            diff, scale = max_difference(out, list(ref))
        except ValueError as e:
            raise ArchlabError(f"{runtime} against eager: {e}") from None
        return Prepared(runtime, fn, enter, diff, scale, note, exporter)


def _call(module, x):
    def fn():
        return module(x)

    return fn


def _set_threads(t: int) -> None:
    import torch

    if torch.get_num_threads() != t:
        torch.set_num_threads(t)


def _ort_callable(data: bytes, x, threads: int):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    feed = {name: x.numpy()}
    run = sess.run

    def fn():
        return run(None, feed)

    fn.session = sess  # type: ignore[attr-defined]  # kept for profiling
    return fn


def export_onnx(model, x) -> tuple[bytes, str]:
    """The ONNX model as bytes, and which exporter made it (``dynamo``, or ``torchscript`` as fallback)."""
    import torch

    with quiet():
        try:
            prog = torch.onnx.export(model, (x,), dynamo=True, verbose=False, optimize=False)
            assert prog is not None
            return prog.model_proto.SerializeToString(), "dynamo"
        except Exception as e:  # the fallback is documented; the reason goes into the run's notes
            first = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        buf = io.BytesIO()
        try:
            torch.onnx.export(model, (x,), buf, dynamo=False, input_names=["x"], output_names=["y"])  # type: ignore[arg-type]
        except Exception as e:
            raise ArchlabError(
                f"ONNX export failed: {first}; the TorchScript-based exporter too: {type(e).__name__}: {e}"
            ) from None
        return buf.getvalue(), f"torchscript (dynamo exporter failed: {first})"


# -- the environment beside the results -------------------------------------------------------------------


def environment(runtimes: tuple[str, ...] = ("eager",)) -> dict:
    """torch version, threads, CPU model, oneDNN/MKL/OpenMP, and the runtime packages' versions."""
    import torch

    show = torch.__config__.show()

    def line_with(word):
        for ln in show.splitlines():
            if word.lower() in ln.lower():
                return ln.strip(" -\t")
        return None

    env = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable_cpus(),
        "torch_threads_default": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "onednn": line_with("oneDNN") or line_with("MKL-DNN"),
        "mkldnn_enabled": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "mkl": line_with("Math Kernel Library"),
        "openmp": line_with("OpenMP"),
        "cpu_capability": line_with("CPU capability"),
        "env_threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    }
    if loadavg() is not None:
        env["loadavg_start"] = loadavg()
    if "onnxruntime" in runtimes:
        import onnx
        import onnxruntime
        import onnxscript

        env["onnxruntime"] = onnxruntime.__version__
        env["onnx"] = onnx.__version__
        env["onnxscript"] = onnxscript.__version__
    return env
