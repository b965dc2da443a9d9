"""Limits before work: the memory a command will allocate, estimated from the plan before torch is imported or
anything is built, and the threads it may use.

The plan knows every tensor's size, so a command that would need 6 GB at ``--input 8000x8000`` is refused in
milliseconds with the estimate in one line, instead of being killed by the kernel minutes later. Each estimate
is a sum of named parts (:class:`Estimate`); the activations come from the liveness rule of
:mod:`archlab.static.memory` (fp32, the input held for the whole pass, as PyTorch does):

* ``profile --latency`` (:func:`latency_need`): peak activations at the batch, once more for the kernels'
  scratch space (the largest layer), the weights (twice with ``--runtime folded``);
* ``rf`` (:func:`rf_need`): the measuring canvas (the image plus margins that hold every FMap-end unit's
  receptive field) keeps every activation for the backward pass; one gradient buffer per worker; one float64
  ERF map of the canvas per measured unit; each head network at the image size; the weights of every network;
* ``export`` (:func:`export_need`): the weights five times (module, folded copy, exported program, ONNX bytes,
  the ONNX Runtime session), the activations three times (the check in PyTorch and in ONNX Runtime, tracing);
* ``profile --check`` (:func:`crosscheck_need`): the activations three times (fvcore, thop, the memory probe);
* ``sweep`` (:func:`sweep_need`): every configuration's network and input stay alive for the interleaved
  rounds; the largest configuration's activations.

Every estimate adds :data:`TORCH_RUNTIME_BYTES` for torch itself. It is compared with the memory this process
may still take (:func:`available_memory`: the least of ``MemAvailable``, the cgroup's limit and ``RLIMIT_AS``),
or with an explicit ``max_memory`` ("4G", "512M" or bytes) that replaces it. Threads above the usable CPUs
(:func:`usable_threads`) are capped with a :class:`ResourceNote` warning: a million threads made torch segfault.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archlab.errors import OptionError
from archlab.ir.layer import numel
from archlab.timing.machine import usable_cpus

if TYPE_CHECKING:  # the estimates import the plan's analyses when they run (``import archlab`` stays quick)
    from archlab.ir.plan import Plan

TORCH_RUNTIME_BYTES = 300 * 2**20  # torch's own libraries and allocator, measured: about 220 MB resident
FP32 = 4
ERF_MAP_BYTES = 8  # float64 numpy maps, one per measured unit (archlab.nn.erf.unit_erfs)
RUNTIME_COPIES = {"eager": 1, "folded": 2, "torchscript": 2, "compile": 2, "onnxruntime": 3}
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class ResourceNote(UserWarning):
    """A limit archlab applied itself and the run goes on (threads capped at the usable CPUs)."""


class MemoryLimitError(OptionError):
    """The command would allocate more memory than this process may take (exit code 2, before any work)."""


@dataclass(frozen=True)
class Estimate:
    """The peak memory of one command, as named parts in bytes."""

    command: str
    parts: tuple[tuple[str, int], ...]
    hint: str = "a smaller --input or --batch"

    @property
    def total(self) -> int:
        return sum(b for _, b in self.parts)

    def describe(self) -> str:
        shown = sorted((p for p in self.parts if p[1] > 0), key=lambda p: -p[1])
        return ", ".join(f"{what} {size_text(b)}" for what, b in shown)


def size_text(n: float) -> str:
    """``6.4 GB``, ``512 MB``, ``3.2 TB`` (powers of 1024, one decimal)."""
    for unit, scale in (("PB", 2**50), ("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 1000 or unit == "PB" else f"{value:.3g} {unit}"
    return f"{int(n)} B"


def parse_size(value) -> int:
    """``"4G"``, ``"512M"``, ``"1.5GB"``, ``"2T"`` or a number of bytes -> bytes; OptionError otherwise."""
    if isinstance(value, bool):
        raise OptionError(f"--max-memory: expected a size like 4G or 512M, got {value!r}")
    if isinstance(value, (int, float)):
        number, scale = float(value), 1
    else:
        text = str(value).strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in UNITS and text[-1:] else ""
        try:
            number, scale = float(text[: len(text) - len(unit)]), UNITS[unit]
        except ValueError:
            raise OptionError(f"--max-memory: expected a size like 4G or 512M, got {str(value)[:40]!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise OptionError(f"--max-memory: expected a positive size like 4G, got {str(value)[:40]!r}")
    return int(number * scale)


# -- what the machine has -------------------------------------------------------------------------------------


def available_memory() -> tuple[int | None, str]:
    """(bytes this process may still allocate, where the figure comes from), the least of: ``MemAvailable``
    (/proc/meminfo), the cgroup's limit minus its usage, ``RLIMIT_AS`` minus this process's address space.
    (None, ...) where the OS says nothing."""
    found = []
    meminfo = _meminfo()
    if "MemAvailable" in meminfo:
        found.append((meminfo["MemAvailable"], "MemAvailable"))
    cgroup = _cgroup_room()
    if cgroup is not None:
        found.append((cgroup, "the cgroup's memory limit"))
    address = _address_room()
    if address is not None:
        found.append((address, "RLIMIT_AS (ulimit -v)"))
    if not found:
        return None, "unknown"
    return min(found)


def _meminfo() -> dict[str, int]:
    out = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    out[key] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    except OSError:
        pass
    return out


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_room() -> int | None:
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit = _read_int(limit_file)
        if limit is not None and limit < 2**60:  # "max" or a huge v1 value: no limit
            return max(0, limit - (_read_int(usage_file) or 0))
    return None


def _address_room() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    vm = 0
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    vm = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return max(0, soft - vm)


# -- the checks -----------------------------------------------------------------------------------------------


def require(estimate: Estimate, max_memory=None) -> Estimate:
    """Raise :class:`MemoryLimitError` (one line, the estimate and the limit) when ``estimate`` does not fit."""
    if max_memory is not None:
        limit, source = parse_size(max_memory), "--max-memory"
    else:
        found, source = available_memory()
        if found is None:
            return estimate
        limit = found
    if estimate.total > limit:
        raise MemoryLimitError(
            f"{estimate.command} would need about {size_text(estimate.total)} ({estimate.describe()}) but "
            f"{size_text(limit)} is available ({source}); use {estimate.hint}, or --max-memory SIZE if you know better"
        )
    return estimate


def usable_threads(threads: int | None, option: str = "--threads", *, stacklevel: int = 2) -> int | None:
    """``threads`` capped at the CPUs this process may use, with a :class:`ResourceNote` when capped."""
    if threads is None:
        return None
    cpus = usable_cpus()
    if isinstance(threads, int) and not isinstance(threads, bool) and threads > cpus:
        warnings.warn(
            f"{option} {threads}: capped at the {cpus} usable CPU{'s' if cpus != 1 else ''}",
            ResourceNote,
            stacklevel=stacklevel,
        )
        return cpus
    return threads


def guard(estimate: Estimate, max_memory=None, threads: int | None = None) -> int | None:
    """The checks before a command's work, in one call: :func:`require` the estimate, then return ``threads``
    capped by :func:`usable_threads` (None stays None: the command's default)."""
    require(estimate, max_memory)
    return usable_threads(threads, stacklevel=3)


def guard_sweep(grid, max_memory=None) -> None:
    """:func:`guard` for a sweep's grid (:class:`archlab.studies.sweep_grid.Grid`): its configurations' threads
    were capped by :func:`sweep_threads` before the grid was made."""
    require(sweep_need(grid.plans, [*grid.configs, grid.baseline]), max_memory)


def sweep_threads(threads: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A sweep's ``--threads`` values, each capped at the usable CPUs (one note for all; duplicates merged)."""
    if not threads:
        return threads
    cpus = usable_cpus()
    over = [t for t in threads if isinstance(t, int) and not isinstance(t, bool) and t > cpus]
    if not over:
        return threads
    warnings.warn(
        f"--threads {','.join(map(str, over))}: capped at the {cpus} usable CPU{'s' if cpus != 1 else ''}",
        ResourceNote,
        stacklevel=3,
    )
    return tuple(dict.fromkeys(min(t, cpus) if isinstance(t, int) else t for t in threads))


# -- the estimates --------------------------------------------------------------------------------------------


def _weights(plan: Plan) -> int:
    return plan.totals()["params"] * FP32


def _peak(plan: Plan, batch: int) -> int:
    from archlab.static.memory import memory

    return memory(plan, batch, keep_input=True).peak_bytes


def _largest(plan: Plan, batch: int) -> int:
    return max((numel(layer.out_shape) for layer in plan.layers), default=0) * batch * FP32


def _all_outputs(plan: Plan, batch: int = 1) -> int:
    """Every layer's output at once: what autograd keeps for a backward pass."""
    return (numel(plan.input) + sum(numel(layer.out_shape) for layer in plan.layers)) * batch * FP32


def latency_need(plan: Plan, batch: int = 1, runtime: str = "eager") -> Estimate:
    return Estimate(
        "profile --latency",
        (
            (f"activations at batch {batch}", _peak(plan, batch)),
            ("kernel scratch", _largest(plan, batch)),
            ("weights", _weights(plan) * RUNTIME_COPIES.get(runtime, 2)),
            ("torch", TORCH_RUNTIME_BYTES),
        ),
    )


def runtimes_need(plan: Plan, batch: int = 1, runtimes=None) -> Estimate:
    """The runtime table and ``deploy``: every runtime's copy of the network stays alive during the rounds."""
    names = tuple(runtimes) if runtimes else tuple(RUNTIME_COPIES)
    copies = sum(RUNTIME_COPIES.get(rt, 2) for rt in dict.fromkeys(("eager", *names)))
    return Estimate(
        "runtimes",
        (
            (f"activations at batch {batch}", _peak(plan, batch)),
            ("kernel scratch", _largest(plan, batch)),
            (f"weights ({copies} copies over {len(names)} runtimes)", _weights(plan) * copies),
            ("torch", TORCH_RUNTIME_BYTES),
        ),
        "fewer --runtimes or a smaller --batch",
    )


def crosscheck_need(plan: Plan, batch: int = 1) -> Estimate:
    return Estimate(
        "profile --check",
        (
            (f"activations at batch {batch} (fvcore, thop, memory probe)", 3 * _peak(plan, batch)),
            ("weights", 2 * _weights(plan)),
            ("torch", TORCH_RUNTIME_BYTES),
        ),
    )


def export_need(plan: Plan, batch: int = 1) -> Estimate:
    return Estimate(
        "export",
        (
            (f"activations at batch {batch} (PyTorch, ONNX Runtime, tracing)", 3 * _peak(plan, batch)),
            ("weights (module, folded, exported, ONNX, session)", 5 * _weights(plan)),
            ("torch", TORCH_RUNTIME_BYTES),
        ),
    )


def rf_need(plan: Plan, *, units="all", heads: int = 3, samples: int = 8, workers: int | None = None) -> Estimate:
    """``units``: "all", "key", or a list of units (as :func:`archlab.studies.rf.rf_study`)."""
    from archlab.ir.structure import fmap_end
    from archlab.static.receptive import canvas_margins, receptive_fields

    workers = max(1, workers or usable_cpus())
    fmap = fmap_end(plan)
    shape = plan.shape_of(fmap)
    _, fh, fw = shape if len(shape) == 3 else (0, 1, 1)
    ih, iw = plan.input[1], plan.input[2]
    top, bottom, left, right = canvas_margins(receptive_fields(plan.layers)[fmap], (fh, fw), (ih, iw))
    ch, cw = ih + top + bottom, iw + left + right
    scale = ch * cw / (ih * iw)
    body = plan.layers[: _index(plan, fmap) + 1]
    body_saved = (numel(plan.input) + sum(numel(layer.out_shape) for layer in body)) * FP32 * scale
    body_largest = max((numel(layer.out_shape) for layer in body), default=0) * FP32 * scale
    n_units = fh * fw if units in (None, "all") else (min(9, fh * fw) if units == "key" else len(units))
    parts = [
        ("canvas activations kept for backward", int(body_saved) if n_units else 0),
        (f"gradients ({workers} workers)", int(2 * workers * body_largest) if n_units else 0),
        (f"ERF maps ({n_units} units on a {ch}x{cw} canvas)", n_units * ch * cw * ERF_MAP_BYTES),
        (
            f"head networks ({heads})",
            min(workers, heads) * (_all_outputs(plan) + 2 * _largest(plan, 1)) if heads else 0,
        ),
        ("weights", _weights(plan) * (2 + heads)),
        (f"inputs ({samples} samples)", samples * numel(plan.input) * FP32),
        ("torch", TORCH_RUNTIME_BYTES),
    ]
    return Estimate("rf", tuple(parts), "--units key (9 units), a smaller --input or fewer --samples")


def sweep_need(plans: dict, configs) -> Estimate:
    """``plans``: plan key -> Plan; ``configs``: objects with ``plan_key()``, ``batch`` and ``runtime``
    (:class:`archlab.studies.sweep_grid.Config`): every configuration's network and input stay alive."""
    weights: dict = {}
    inputs: dict = {}
    peak = 0
    for cfg in configs:
        plan = plans[cfg.plan_key()]
        key = cfg.plan_key()
        weights[key] = max(weights.get(key, 0), _weights(plan) * RUNTIME_COPIES.get(cfg.runtime, 2))
        inputs[(tuple(plan.input), cfg.batch)] = numel(plan.input) * cfg.batch * FP32
        peak = max(peak, _peak(plan, cfg.batch) + _largest(plan, cfg.batch))
    return Estimate(
        "sweep",
        (
            ("activations of the largest configuration", peak),
            (f"networks ({len(weights)})", sum(weights.values())),
            (f"inputs ({len(inputs)})", sum(inputs.values())),
            ("torch", TORCH_RUNTIME_BYTES),
        ),
        "fewer or smaller --inputs, --batch or --widths",
    )


def _index(plan: Plan, name: str) -> int:
    """The position of layer ``name`` in the plan (-1 for the input)."""
    for i, layer in enumerate(plan.layers):
        if layer.name == name:
            return i
    return -1
