"""The runtimes a network can be timed (and deployed) in, each ready as a zero-argument callable.

Each runtime turns a built network and an input into ``fn()`` (one inference), checked against eager PyTorch
(max absolute difference of the outputs; eager itself is the reference and is not compared with itself).
The networks are built with fresh (seeded) weights and in-place activations (:func:`archlab.nn.build.build_plan`).
Everything imports torch / onnxruntime inside the functions.

* ``eager``: the ``torch.fx`` module as built, eval mode, under ``torch.inference_mode``;
* ``folded``: BN folded into the conv/linear before it (:func:`archlab.nn.fold.fold_bn`);
* ``channels-last``: BN folded, module and input in channels-last memory format;
* ``torchscript``: ``torch.jit.trace`` then ``torch.jit.freeze`` (which folds BN itself);
* ``onnxruntime``: the BN-folded module exported by :func:`archlab.nn.onnx_export.export_onnx` (dynamo,
  ``optimize=True``, dynamic batch axis, PReLU decomposed), one session per thread count with the options
  stated in :data:`archlab.nn.onnx_export.ORT_OPTIONS`;
* ``compile``: ``torch.compile(folded, dynamic=False)`` (Inductor; needs a C++ compiler; compiling takes tens
  of seconds per configuration on 2 cores, done before the rounds, outside the timing).

``torch.set_num_threads`` is set before every visit (``enter``).
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from archlab.errors import ArchlabError, OptionError
from archlab.nn.outputs import as_list, max_difference
from archlab.nn.quiet import quiet, require_packages
from archlab.timing.machine import cpu_model, keep_heap, loadavg, usable_cpus

RUNTIMES = ("eager", "folded", "channels-last", "torchscript", "onnxruntime", "compile")
FOLDED_RUNTIMES = ("folded", "channels-last", "onnxruntime", "compile")  # built from the BN-folded module
CHECK_RTOL = 1e-3  # max |out - eager| <= CHECK_RTOL * max |eager| + CHECK_ATOL, or the check fails
CHECK_ATOL = 1e-6


@dataclass
class Prepared:
    """A runtime ready to time: ``fn()`` runs one inference; ``enter()`` sets threads before a visit;
    ``artefact``: what a deployment writes (the module, the frozen TorchScript, the :class:`OnnxExport`)."""

    runtime: str
    fn: Callable[[], object]
    enter: Callable[[], object] | None
    max_abs_diff: float
    ref_max_abs: float
    note: str = ""
    exporter: str | None = None
    artefact: object = None

    @property
    def check_ok(self) -> bool:
        return self.max_abs_diff <= CHECK_RTOL * self.ref_max_abs + CHECK_ATOL


def require(runtime: str) -> None:
    """Raise an ArchlabError naming what to install when ``runtime`` cannot run here."""
    if runtime not in RUNTIMES:
        raise OptionError(f"--runtimes: unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    if runtime == "onnxruntime":
        require_packages(("onnxruntime", "onnx", "onnxscript"), "runtime onnxruntime")
    if runtime == "compile" and not has_compiler():
        raise ArchlabError("runtime compile (torch.compile, Inductor) needs a C++ compiler (g++ or clang++)")


def has_compiler() -> bool:
    return bool(shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++"))


def available() -> tuple[str, ...]:
    """The runtimes that can run on this machine."""
    out = []
    for rt in RUNTIMES:
        try:
            require(rt)
        except ArchlabError:
            continue
        out.append(rt)
    return tuple(out)


class Workshop:
    """Builds and caches what several configurations share: modules per plan, inputs, ONNX exports."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.modules: dict = {}
        self.folded: dict = {}
        self.inputs: dict = {}
        self.onnx: dict = {}
        self.refs: dict = {}
        self.heap_kept = keep_heap()  # no page faults per forward (glibc), before anything is timed

    # -- shared pieces ---------------------------------------------------------------------------------
    def module(self, plan_key, plan, channels_last: bool):
        key = (plan_key, channels_last)
        if key not in self.modules:
            import torch

            from archlab.nn.build import build_plan

            torch.manual_seed(self.seed)  # the same weights for every runtime of one network
            m = build_plan(plan, inplace=True).eval()
            if channels_last:
                m = m.to(memory_format=torch.channels_last)
            self.modules[key] = m
        return self.modules[key]

    def folded_module(self, plan_key, plan, channels_last: bool):
        key = (plan_key, channels_last)
        if key not in self.folded:
            from archlab.nn.fold import fold_bn

            self.folded[key] = fold_bn(self.module(plan_key, plan, channels_last), plan)
        return self.folded[key]

    def input(self, shape: tuple[int, ...], batch: int, channels_last: bool):
        key = (tuple(shape), batch, channels_last)
        if key not in self.inputs:
            import torch

            g = torch.Generator().manual_seed(self.seed + 1)
            x = torch.randn((batch, *shape), generator=g)
            if channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            self.inputs[key] = x
        return self.inputs[key]

    def reference(self, plan_key, plan, batch: int, channels_last: bool, threads: int):
        key = (plan_key, batch, channels_last)
        if key not in self.refs:
            import torch

            m = self.module(plan_key, plan, channels_last)
            x = self.input(plan.input, batch, channels_last)
            set_threads(threads)
            with torch.inference_mode():
                self.refs[key] = tuple(t.detach().clone() for t in as_list(m(x)))
        return self.refs[key]

    def onnx_export(self, plan_key, plan):
        """The ONNX export of the BN-folded network (dynamic batch: one export serves every batch size)."""
        if plan_key not in self.onnx:
            from archlab.nn.onnx_export import export_onnx

            m = self.folded_module(plan_key, plan, False)
            self.onnx[plan_key] = export_onnx(m, self.input(plan.input, 1, False))
        return self.onnx[plan_key]

    # -- one configuration -----------------------------------------------------------------------------
    def prepare(self, runtime: str, plan_key, plan, *, batch: int, threads: int, channels_last: bool) -> Prepared:
        import torch

        require(runtime)
        cl = channels_last or runtime == "channels-last"
        x = self.input(plan.input, batch, cl)

        def enter(t=threads):
            set_threads(t)

        if runtime == "eager":  # the reference itself: nothing to compare
            m = self.module(plan_key, plan, channels_last)
            return Prepared(runtime, _call(m, x), enter, 0.0, 0.0, "the reference", artefact=m)
        ref = self.reference(plan_key, plan, batch, channels_last, threads)
        fn, note, exporter, artefact = self._make(runtime, plan_key, plan, x, threads, cl)
        enter()
        with torch.inference_mode():
            fn()
            out = fn()  # a compiled runtime may specialise on the first call
        try:  # every output of a multi-output network (a detector's heads)
            diff, scale = max_difference(out, list(ref))
        except ValueError as e:
            raise ArchlabError(f"{runtime} against eager: {e}") from None
        return Prepared(runtime, fn, enter, diff, scale, note, exporter, artefact)

    def _make(self, runtime: str, plan_key, plan, x, threads: int, cl: bool):
        import torch

        if runtime in ("folded", "channels-last", "compile"):
            m = self.folded_module(plan_key, plan, cl)
            if runtime != "compile":
                return _call(m, x), "BN folded" + (", channels-last" if cl else ""), None, m
            compiled = torch.compile(m, dynamic=False)
            return _call(compiled, x), "torch.compile (Inductor) of the BN-folded module", None, m
        if runtime == "torchscript":
            with quiet(), torch.no_grad():
                frozen = torch.jit.freeze(torch.jit.trace(self.module(plan_key, plan, cl), x, check_trace=False).eval())
            return _call(frozen, x), "torch.jit.trace + torch.jit.freeze", None, frozen
        if runtime == "onnxruntime":
            from archlab.nn.onnx_export import ort_options_text, ort_session

            exp = self.onnx_export(plan_key, plan)
            sess = ort_session(exp.data, threads)
            fn = _ort_callable(sess, x)
            return fn, f"{exp.note}; {ort_options_text(threads)}", exp.exporter, exp
        raise OptionError(f"unknown runtime {runtime!r}")  # pragma: no cover - require() rejects it


def _call(module, x):
    def fn():
        return module(x)

    return fn


def set_threads(t: int) -> None:
    import torch

    if torch.get_num_threads() != t:
        torch.set_num_threads(t)


def _ort_callable(sess, x):
    feed = {sess.get_inputs()[0].name: x.contiguous().numpy()}
    run = sess.run

    def fn():
        return run(None, feed)

    fn.session = sess  # type: ignore[attr-defined]  # kept for profiling
    return fn


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
        "malloc_heap_kept": keep_heap(),
    }
    if loadavg() is not None:
        env["loadavg_start"] = loadavg()
    if "onnxruntime" in runtimes:
        import onnx
        import onnxruntime
        import onnxscript

        from archlab.nn.onnx_export import ORT_OPTIONS

        env["onnxruntime"] = onnxruntime.__version__
        env["onnx"] = onnx.__version__
        env["onnxscript"] = onnxscript.__version__
        env["onnxruntime_session"] = dict(ORT_OPTIONS)
    return env
