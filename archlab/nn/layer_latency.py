"""Where the time goes: measured time per layer and per table row, against the machine's ceilings.

Method (README, "Latency anatomy"):

* The built network's ``forward`` is straight-line module calls (:mod:`archlab.build`), so a second,
  **instrumented** pass can call the same leaf modules in the same order, reading a clock
  (``time.perf_counter_ns``) right before and right after each module call. Tensors are freed after their
  last reader, as in the generated ``forward``. Each layer's time is thus the module call alone (PyTorch's
  module dispatch included); what ``forward`` does between module calls is not in any layer.
* The **plain** forward (the end-to-end time) and the instrumented pass are timed in interleaved rounds
  (:func:`archlab.timing.rounds.interleaved`, the plain forward being the baseline): in each round both
  run, in random order, one untimed call and then ``number`` timed calls each (``number`` from the warm-up:
  enough calls for 10 ms). Rounds go on until the 95% CIs of both medians are within ±``target`` or the
  time budget is spent (at least ``min_samples`` rounds).
* Reported per layer: the median over rounds of its per-call time; per row: the median of the per-round sums
  of its layers; the **end-to-end** latency: the median of the plain forward. ``framework`` = end-to-end
  minus the median sum of all layers: the Python of ``forward`` between module calls, argument passing,
  freeing tensors. The **measurement overhead** is stated twice: the clock's own cost per layer (``timer_ns``,
  the median of an empty timed span, included once in every layer's time), and the instrumented pass's wall
  time over the plain forward's (the median of the per-round ratios, with its CI).
* Achieved GFLOP/s and GB/s per layer divide :func:`archlab.static.roofline.layer_work` by the time; the
  roofline time ``max(flops/peak, bytes/bandwidth)`` over the measured time is the fraction of the roof.

Clocks: at 1 thread (the default: on a shared machine more threads time the other jobs too) the per-layer
and end-to-end times are per-thread CPU time (``time.thread_time_ns``: the inference runs on the calling
thread; time preempted by other jobs is left out), with the end-to-end wall time beside it; at >= 2 threads,
wall time. The stop rule uses the steadier of the two (:mod:`archlab.timing.rounds`).

Runtimes here (the instrumented pass): ``eager`` (the module as built, activations in place where safe),
``folded`` (BN folded into the conv/linear before it, :func:`archlab.nn.fold.fold_bn`: folded BN layers do not
run, their time and work are 0), ``channels-last`` (folded, channels-last memory format).
:func:`archlab.nn.latency.latency` dispatches every runtime: TorchScript and ONNX Runtime through their
profilers (:mod:`archlab.nn.profiled_layers`), ``compile`` end to end only (Inductor fuses across layers).
"""

from __future__ import annotations

import gc
import random
import time

from archlab.errors import OptionError
from archlab.ir.plan import Plan
from archlab.static.roofline import Ceilings
from archlab.timing import rounds as lat
from archlab.timing.anatomy import LatencyReport
from archlab.timing.anatomy_build import anatomy
from archlab.timing.machine import keep_heap, loadavg, usable_cpus
from archlab.timing.progress import Progress, rounds_progress

RUNTIMES = ("eager", "folded", "channels-last")  # the instrumented pass
ALL_RUNTIMES = ("eager", "folded", "channels-last", "torchscript", "onnxruntime", "compile")
DEFAULT_BUDGET_S = 10.0
DEFAULT_TARGET = 0.02
DEFAULT_MIN_SAMPLES = 10
DEFAULT_THREADS = 1
THREADS_NOTE = (
    "1 thread by default: on a machine shared with other jobs more threads time their load too (and wait for "
    "each other), and at 1 thread the per-thread CPU clock measures the inference without preemption"
)


# -- the instrumented pass -----------------------------------------------------------------------------------


class Instrumented:
    """Calls the leaf modules of a built (fx) network in ``forward`` order, timing each call.

    ``names``: the module path of each step; after a call, ``acc[i]`` holds the nanoseconds of step ``i``
    summed over the calls since the last :meth:`reset`.
    """

    def __init__(self, module, clock_ns=time.perf_counter_ns) -> None:
        nodes = list(module.graph.nodes)
        slot = {}
        steps = []
        placeholders = [n for n in nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise ValueError("the instrumented pass needs a network with one input")
        slot[placeholders[0]] = 0
        out_node = None
        for n in nodes:
            if n.op == "placeholder":
                continue
            if n.op == "output":
                out_node = n
                continue
            if n.op != "call_module" or n.kwargs:
                raise ValueError(f"the instrumented pass handles module calls only, not {n.op} {n.target}")
            slot[n] = len(slot)
            steps.append((module.get_submodule(n.target), tuple(slot[a] for a in n.args), slot[n], str(n.target)))
        if out_node is None:
            raise ValueError("the network has no output")
        outs = out_node.args[0]
        self.multi = isinstance(outs, (tuple, list))
        self.out_slots = tuple(slot[o] for o in outs) if self.multi else (slot[outs],)
        last = {}
        for i, (_, args, _, _) in enumerate(steps):
            for a in args:
                last[a] = i
        keep = set(self.out_slots)
        self.free_after = [
            tuple(a for a in set(args) if last[a] == i and a not in keep and a != 0)
            for i, (_, args, _, _) in enumerate(steps)
        ]
        self.steps = [(m, args, out) for m, args, out, _ in steps]
        self.names = [name for _, _, _, name in steps]
        self.size = len(slot)
        self.acc = [0] * len(steps)
        self.clock = clock_ns

    def reset(self) -> None:
        self.acc = [0] * len(self.steps)

    def __call__(self, x):
        env = [None] * self.size
        env[0] = x
        acc = self.acc
        clock = self.clock
        free = self.free_after
        for i, (mod, args, out) in enumerate(self.steps):
            a = [env[j] for j in args]
            t0 = clock()
            env[out] = mod(*a)
            t1 = clock()
            acc[i] += t1 - t0
            del a
            for j in free[i]:
                env[j] = None
        outs = tuple(env[j] for j in self.out_slots)
        return outs if self.multi else outs[0]


def timer_cost_ns(clock_ns=time.perf_counter_ns, n: int = 20001) -> float:
    """Median nanoseconds of an empty timed span ``t0 = clock(); t1 = clock()``."""
    spans = []
    for _ in range(n):
        t0 = clock_ns()
        t1 = clock_ns()
        spans.append(t1 - t0)
    spans.sort()
    return float(spans[len(spans) // 2])


# -- the measurement -----------------------------------------------------------------------------------------


def check_options(runtime: str, batch: int, threads: int | None, budget_s: float, known=RUNTIMES) -> None:
    if runtime not in known:
        raise OptionError(f"--runtime: per-layer timing supports {', '.join(known)}, not {runtime!r}")
    if batch < 1:
        raise OptionError(f"--batch must be >= 1, got {batch}")
    if threads is not None and threads < 1:
        raise OptionError(f"--threads must be >= 1, got {threads}")
    if budget_s <= 0:
        raise OptionError(f"--budget must be > 0 seconds, got {budget_s}")


def prepared_module(plan: Plan, runtime: str, channels_last: bool, seed: int, module=None):
    """The network of ``plan`` as ``runtime`` runs it (eager / folded / channels-last), eval mode."""
    import torch

    if module is None:
        from archlab.nn.build import build_plan

        torch.manual_seed(seed)
        module = build_plan(plan, inplace=True)
    module = module.eval()
    if runtime in ("folded", "channels-last"):
        from archlab.nn.fold import fold_bn

        module = fold_bn(module, plan)
    if channels_last or runtime == "channels-last":
        module = module.to(memory_format=torch.channels_last)
    return module


def make_input(plan: Plan, batch: int, channels_last: bool, seed: int):
    import torch

    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn((batch, *plan.input), generator=g)
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.dim() == 4 else x


def measure(
    plan: Plan,
    *,
    runtime: str = "eager",
    threads: int | None = None,
    batch: int = 1,
    channels_last: bool = False,
    budget_s: float = DEFAULT_BUDGET_S,
    target: float = DEFAULT_TARGET,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    max_samples: int | None = None,
    ceilings: Ceilings | None = None,
    seed: int = 0,
    module=None,
    warmup_s: float = 0.3,
    min_sample_s: float = lat.DEFAULT_MIN_SAMPLE_S,
    clock: str = "auto",
    progress: Progress | None = None,
) -> LatencyReport:
    """Measure the network of ``plan`` with the instrumented pass: end-to-end, per layer, per row.

    ``module``: a network built from ``plan`` (built here when None; folded for ``folded``/``channels-last``).
    ``ceilings``: when given, every layer gets its bound. ``threads``: None = 1 (see ``THREADS_NOTE``).
    ``progress(done, total, what)``: the stages ``build`` (1 step), ``warm-up`` (2) and ``rounds`` (seconds of
    the budget).
    """
    import torch

    check_options(runtime, batch, threads, budget_s)
    if progress is not None:
        progress(0, 1, f"build: {plan.model} ({runtime})")
    defaulted, threads = threads is None, threads or DEFAULT_THREADS
    keep_heap()
    cl = channels_last or runtime == "channels-last"
    module = prepared_module(plan, runtime, channels_last, seed, module)
    x = make_input(plan, batch, cl, seed)
    clock = lat.clock_for(threads, clock)
    clock_ns = time.thread_time_ns if clock == "cpu" else time.perf_counter_ns
    inst = Instrumented(module, clock_ns=clock_ns)
    before = torch.get_num_threads()

    def enter():
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    layer_samples: list[list[float]] = []
    walls: list[float] = []
    plain = lat.Candidate("forward", lambda: module(x), enter, clock=clock)
    instr = lat.Candidate("instrumented", lambda: inst(x), enter, clock=clock)

    def sample(c: lat.Candidate) -> lat.Timing:
        if c.key != "instrumented":
            return lat.visit_clocks(c)
        t = _instrumented_visit(c, inst)
        number = max(1, c.number)
        layer_samples.append([v / number / 1e6 for v in inst.acc])
        walls.append(t.cpu if t.cpu is not None else t.wall)
        return t

    rounds = {"target": target, "min_samples": min_samples, "max_samples": max_samples, "seed": seed}
    with torch.inference_mode():
        enter()
        timer_ns = timer_cost_ns(clock_ns)
        results, base = _rounds(plain, instr, sample, warmup_s, min_sample_s, budget_s, before, progress, **rounds)
    args = (plan, runtime, threads, batch, cl, base, results, inst.names, layer_samples, walls, timer_ns)
    report = anatomy(*args, plain.number, ceilings)
    report.loadavg, report.cpus = loadavg(), usable_cpus()
    if defaulted:
        report.notes.append(THREADS_NOTE)
    return report


def _rounds(plain, instr, sample, warmup_s, min_sample_s, budget_s, threads_before, progress, *, seed, **rounds):
    """Warm both up (the same calls per sample, so both see the same cache state), then the interleaved rounds."""
    import torch

    say = progress or (lambda done, total, what: None)
    gc.collect()
    gc.freeze()  # the rounds' gc.collect() then skips the (large) object graph of torch: ms instead of 0.2 s
    try:
        say(0, 2, "warm-up: plain forward")
        lat.warm_up(plain, seconds=warmup_s, min_sample_s=min_sample_s)
        say(1, 2, "warm-up: instrumented forward")
        lat.warm_up(instr, seconds=warmup_s / 2, min_sample_s=min_sample_s)
        instr.number = plain.number
        deadline = time.monotonic() + budget_s
        on_round = rounds_progress(progress, "rounds", budget_s)
        return lat.interleaved(
            [plain, instr],
            plain,
            deadline=deadline,
            rng=random.Random(seed),
            sample=sample,
            on_round=on_round,
            **rounds,
        )
    finally:
        gc.unfreeze()
        torch.set_num_threads(threads_before)


def _instrumented_visit(c: lat.Candidate, inst: Instrumented) -> lat.Timing:
    """One sample of the instrumented pass: an untimed call, then ``number`` calls with the layers' clocks
    reset (so ``inst.acc`` holds exactly the timed calls)."""
    if c.enter is not None:
        c.enter()
    c.fn()
    inst.reset()
    number = max(1, c.number)
    use_cpu = c.clock == "cpu"
    c0 = time.thread_time_ns() if use_cpu else 0
    w0 = time.perf_counter_ns()
    for _ in range(number):
        c.fn()
    w1 = time.perf_counter_ns()
    c1 = time.thread_time_ns() if use_cpu else 0
    return lat.Timing((w1 - w0) / number / 1e6, (c1 - c0) / number / 1e6 if use_cpu else None)
