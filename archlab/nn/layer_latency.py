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

Runtimes: ``eager`` (the module as built), ``folded`` (BN folded into the conv/linear before it,
:func:`archlab.nn.fold.fold_bn`: folded BN layers do not run, their time and work are 0).
"""

from __future__ import annotations

import random
import time

from archlab.errors import OptionError
from archlab.ir.plan import Plan
from archlab.static.roofline import Ceilings
from archlab.timing import rounds as lat
from archlab.timing.anatomy import LatencyReport, anatomy
from archlab.timing.machine import loadavg, usable_cpus
from archlab.timing.progress import Progress, rounds_progress

RUNTIMES = ("eager", "folded")
DEFAULT_BUDGET_S = 10.0
DEFAULT_TARGET = 0.02
DEFAULT_MIN_SAMPLES = 10


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
    min_sample_s: float = 0.01,
    progress: Progress | None = None,
) -> LatencyReport:
    """Measure the network of ``plan``: end-to-end, per layer, per row (see the module docstring).

    ``module``: a network built from ``plan`` (built here when None; with ``runtime='folded'`` it is folded).
    ``ceilings``: when given, every layer gets its roofline time and bound. ``progress(done, total, what)``:
    the stages ``build`` (1 step), ``warm-up`` (2) and ``rounds`` (seconds of the budget).
    """
    import torch

    say = progress or (lambda done, total, what: None)
    say(0, 1, f"build: {plan.model} ({runtime})")

    if runtime not in RUNTIMES:
        raise OptionError(f"--runtime: per-layer timing supports {', '.join(RUNTIMES)}, not {runtime!r}")
    if batch < 1:
        raise OptionError(f"--batch must be >= 1, got {batch}")
    if threads is not None and threads < 1:
        raise OptionError(f"--threads must be >= 1, got {threads}")
    if budget_s <= 0:
        raise OptionError(f"--budget must be > 0 seconds, got {budget_s}")
    threads = threads or torch.get_num_threads()
    if module is None:
        from archlab.nn.build import build_plan

        torch.manual_seed(seed)
        module = build_plan(plan)
    module = module.eval()
    if runtime == "folded":
        from archlab.nn.fold import fold_bn

        module = fold_bn(module, plan)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(seed + 1)
    x = (
        torch.randn((batch, *plan.input), generator=g).contiguous(memory_format=fmt)
        if len(plan.input) == 3
        else torch.randn((batch, *plan.input), generator=g)
    )
    inst = Instrumented(module)

    before = torch.get_num_threads()

    def enter():
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    layer_samples: list[list[float]] = []
    walls: list[float] = []

    def plain_fn():
        return module(x)

    def inst_fn():
        return inst(x)

    plain = lat.Candidate("forward", plain_fn, enter)
    instr = lat.Candidate("instrumented", inst_fn, enter)

    def sample(c: lat.Candidate) -> float:
        if c.key != "instrumented":
            return lat.visit(c)
        enter()
        c.fn()
        inst.reset()
        number = max(1, c.number)
        t0 = time.perf_counter_ns()
        for _ in range(number):
            c.fn()
        t1 = time.perf_counter_ns()
        layer_samples.append([v / number / 1e6 for v in inst.acc])
        wall = (t1 - t0) / number / 1e6
        walls.append(wall)
        return wall

    import gc

    gc.collect()
    gc.freeze()  # the rounds' gc.collect() then skips the (large) object graph of torch: ms instead of 0.2 s
    try:
        with torch.inference_mode():
            enter()
            timer_ns = timer_cost_ns()
            say(0, 2, "warm-up: plain forward")
            lat.warm_up(plain, seconds=warmup_s, min_sample_s=min_sample_s)
            say(1, 2, "warm-up: instrumented forward")
            lat.warm_up(instr, seconds=warmup_s / 2, min_sample_s=min_sample_s)
            instr.number = plain.number  # the same calls per sample, so both see the same cache state
            deadline = time.monotonic() + budget_s
            results, base = lat.interleaved(
                [plain, instr],
                plain,
                deadline=deadline,
                target=target,
                min_samples=min_samples,
                max_samples=max_samples,
                rng=random.Random(seed),
                sample=sample,
                on_round=rounds_progress(progress, "rounds", budget_s),
            )
    finally:
        gc.unfreeze()
        torch.set_num_threads(before)
    report = anatomy(
        plan,
        runtime,
        threads,
        batch,
        channels_last,
        base,
        results,
        inst.names,
        layer_samples,
        walls,
        timer_ns,
        plain.number,
        ceilings,
    )
    report.loadavg, report.cpus = loadavg(), usable_cpus()
    return report


def measure_against_ceilings(
    plan: Plan, *, threads: int | None = None, remeasure: bool = False, progress: Progress | None = None, **options
):
    """:func:`measure` with the machine's ceilings at the same thread count (cached; ``remeasure`` to refresh).
    ``progress``: the stage ``ceilings`` (1 step), then :func:`measure`'s."""
    import torch

    from archlab.nn.ceilings import ceilings

    runtime = options.get("runtime", "eager")
    if runtime not in RUNTIMES:  # before the ceilings, which may take seconds to measure
        raise OptionError(f"--runtime: per-layer timing supports {', '.join(RUNTIMES)}, not {runtime!r}")
    threads = threads or torch.get_num_threads()
    if progress is not None:
        progress(0, 1, f"ceilings: peak GFLOP/s and bandwidth at {threads} thread(s) (cached per machine)")
    ceil = ceilings(threads, remeasure=remeasure)
    if progress is not None:
        progress(1, 1, "ceilings: done")
    return measure(plan, threads=threads, ceilings=ceil, progress=progress, **options)
