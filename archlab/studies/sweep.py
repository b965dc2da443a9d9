"""Latency sweeps: a grid of configurations, timed in interleaved rounds, written to a resumable CSV.

``run_sweep(SweepOptions(...), out="sweep.csv")`` expands the grid (widths x stems x inputs x heads x threads
x batches x runtimes), counts params/MAdds of every configuration from its plan (the numbers of
``archlab profile`` with the same options), prepares each runtime (checked against eager), and times them
with :func:`archlab.timing.rounds.interleaved`.

The CSV (``out``) is rewritten atomically (temporary file + rename) each time a configuration is final, so it
is never ragged nor half-written. Rerunning with the same ``out`` keeps the rows there and measures only the
configurations missing (the resume key is every configuration column, :data:`CONFIG_COLUMNS`), together with
the baseline again so that ratios are computed within one run; every row carries the ``run_id`` of the run
that measured it. The runs' environments and baselines go beside the CSV in a JSON file of the same stem.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from archlab.static.display import Display
from archlab.storage.sweep_store import (
    COLUMNS,
    SCHEMA_VERSION,
    typed_row,
)
from archlab.studies.sweep_grid import (  # noqa: F401  (re-exported: the sweep's vocabulary)
    DEFAULT_BUDGET,
    DEFAULT_WIDTHS,
    STEMS,
    THREADS_WHY,
    Config,
    Grid,
    SweepOptions,
    canonical_key,
    fmt_num,
    make_grid,
    parse_baseline,
)
from archlab.studies.sweep_resume import RunStore
from archlab.timing import rounds as lat
from archlab.timing.machine import loadavg, now

# -- running -----------------------------------------------------------------------------------------------


class Progress:
    """Callbacks of a sweep (the CLI draws a rich progress bar with them). All no-ops here."""

    def start(self, todo: int, kept: int, budget: float) -> None: ...

    def preparing(self, done: int, total: int, label: str) -> None: ...

    def measuring(self, total: int) -> None: ...

    def round(self, info: lat.RoundInfo) -> None: ...

    def row(self, row: dict, label: str) -> None: ...

    def done(self) -> None: ...


@dataclass
class SweepResult:
    run_id: str | None
    model: str
    rows: list[dict]  # every row of the grid (kept and new), grid order, CSV strings
    measured: list[tuple[str, ...]]  # keys measured in this run
    kept: int
    baseline: dict | None  # the baseline's configuration and stats in this run
    environment: dict | None
    notes: list[str]
    status: str  # complete | nothing_to_do | interrupted
    out: str | None = None
    sidecar: str | None = None
    options: dict = field(default_factory=dict)
    clocks: dict = field(default_factory=dict)  # label -> both clocks' medians and CIs (ms)

    def typed_rows(self) -> list[dict]:
        return [typed_row(r) for r in self.rows]

    def __repr__(self) -> str:
        rows = [r for r in self.typed_rows() if r.get("median_ms") is not None]
        fastest = min(rows, key=lambda r: r["median_ms"], default=None)
        best = (
            f"; fastest {fastest['median_ms']:.3g} ms (width {fastest['width']:g}, stem {fastest['stem']})"
            if fastest
            else ""
        )
        return (
            f"<SweepResult {self.model}: {len(self.rows)} configurations ({len(self.measured)} measured, "
            f"{self.kept} kept), {self.status}{best}>"
        )

    def _repr_html_(self) -> str | None:
        return Display.html_of(self)

    def to_frame(self):
        """A pandas DataFrame, one record per configuration: every column of the ``--out`` CSV, typed."""
        from archlab.static.frames import frame

        return frame(self.typed_rows(), list(COLUMNS))

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "model": self.model,
            "status": self.status,
            "kept": self.kept,
            "measured": len(self.measured),
            "baseline": self.baseline,
            "environment": self.environment,
            "method": method_dict(self.options),
            "notes": self.notes,
            "clocks": self.clocks,
            "out": self.out,
            "rows": self.typed_rows(),
        }


def method_dict(options: dict) -> dict:
    return {
        "timing": "eval mode, torch.inference_mode; warm-up; interleaved rounds in a fresh random order, the "
        f"baseline in every round; a visit = 1 untimed call + `number` timed calls (1 sample: >= "
        f"{lat.MIN_NUMBER} calls and >= {lat.DEFAULT_MIN_SAMPLE_S * 1e3:.0f} ms)",
        "clock": "1-thread configurations: per-thread CPU time (time.thread_time_ns; the inference runs on the "
        "calling thread, preemption left out) in the CSV, wall time beside it (clocks in the JSON); >= 2 threads: "
        "wall time",
        "ci": f"distribution-free order-statistic CI of the median "
        f"({options.get('confidence', lat.DEFAULT_CONFIDENCE):.0%})",
        "stop": f"CI within ±{options.get('target', lat.DEFAULT_TARGET):.1%} of the median on the steadier clock, or "
        f"the budget ({options.get('budget')} s, preparation and warm-up included) ended: a hard bound, the sweep "
        "ends within the budget + one round",
        "ratio": "median over rounds of (configuration sample / baseline sample in the same round)",
    }


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def make_row(cfg: Config, counts: dict, res: lat.Result, max_abs_diff: float | None, run_id: str) -> dict:
    s = res.latency
    r = res.ratio
    vals = {
        **cfg.as_dict(),
        "params": counts["params"],
        "madds": counts["madds"],
        "median_ms": s.median,
        "ci_low_ms": s.ci_low,
        "ci_high_ms": s.ci_high,
        "p10_ms": s.p10,
        "p90_ms": s.p90,
        "n": s.n,
        "ratio_to_baseline": r.median if r else None,
        "ratio_ci_low": r.ci_low if r else None,
        "ratio_ci_high": r.ci_high if r else None,
        "converged": res.converged,
        "max_abs_diff": max_abs_diff,
        "run_id": run_id,
    }
    return {c: (vals[c] if isinstance(vals[c], str) else fmt_num(vals[c])) for c in COLUMNS}


def _prepare(grid: Grid, todo: list[Config], opts: SweepOptions, seed: int, progress: Progress, notes: list[str],
             deadline: float, clock) -> tuple[dict, dict]:  # fmt: skip
    """Every runtime of the run built, checked against eager and warmed up, the baseline first, until the
    deadline: (candidates, max |diff|) by key. Configurations not prepared in time are left for a later run."""
    import torch

    from archlab.nn.runtimes import Workshop

    ws = Workshop(seed=seed & 0xFFFF)
    candidates: dict[tuple, lat.Candidate] = {}
    diffs: dict[tuple, float] = {}
    base_key = grid.baseline.key()
    prepare_list = [grid.baseline] + [c for c in todo if c.key() != base_key]
    for i, cfg in enumerate(prepare_list):
        if i and clock() >= deadline:
            notes.append(
                f"the budget ended while preparing: {len(prepare_list) - i} configuration(s) not measured; run again "
                "with the same --out to measure them"
            )
            break
        progress.preparing(i, len(prepare_list), cfg.label())
        prep = ws.prepare(
            cfg.runtime,
            cfg.plan_key(),
            grid.plans[cfg.plan_key()],
            batch=cfg.batch,
            threads=cfg.threads,
            channels_last=cfg.channels_last,
        )
        diffs[cfg.key()] = prep.max_abs_diff
        if not prep.check_ok:
            notes.append(
                f"{cfg.label()}: output differs from eager by {prep.max_abs_diff:.3g} "
                f"(eager's largest |output| {prep.ref_max_abs:.3g})"
            )
        if prep.exporter and prep.exporter != "dynamo":
            notes.append(f"{cfg.label()}: ONNX exporter {prep.exporter}")
        cand = lat.Candidate(cfg.key(), prep.fn, prep.enter, clock=lat.clock_for(cfg.threads, opts.clock))
        with torch.inference_mode():
            lat.warm_up(cand, seconds=opts.warmup, clock=None if clock is time.monotonic else clock)
        candidates[cfg.key()] = cand
    progress.preparing(len(prepare_list), len(prepare_list), "")
    return candidates, diffs


def run_sweep(
    opts: SweepOptions,
    *,
    out: str | Path | None = None,
    fresh: bool = False,
    progress: Progress | None = None,
    on_row: Callable[[dict], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SweepResult:
    """Run (or resume) a sweep. See the module docstring; raises ArchlabError for bad options or files."""
    t_start = clock()
    progress = progress or Progress()
    grid = make_grid(opts)
    store = RunStore(grid, out, fresh)
    todo = [c for c in grid.configs if c.key() not in store.kept]
    options = _options_dict(opts, grid)
    where = (str(store.out) if store.out else None, str(store.side) if store.side else None)
    if not todo:
        return _nothing_to_do(grid, store, options, where)
    run_id = new_run_id()
    seed = opts.seed if opts.seed is not None else secrets.randbits(32)
    env, run_meta = _run_meta(opts, grid, options, run_id, seed, len(store.kept), len(todo))
    store.start(run_meta)
    progress.start(len(todo), len(store.kept), opts.budget)
    notes: list[str] = [] if opts.threads else [THREADS_WHY]
    clocks: dict = {}
    new_rows: dict[tuple, dict] = {}
    baseline_summary, status = None, "interrupted"
    try:
        baseline_summary = _measure(
            grid, todo, opts, seed, t_start + opts.budget, run_id, store, new_rows, notes, progress, on_row, clock
        )
        run_meta["clocks"] = clocks = baseline_summary.pop("clocks", {})
        status = "complete"
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        status = f"failed: {type(e).__name__}: {e}"
        raise
    finally:
        run_meta.update(
            {
                "status": status,
                "finished": now(),
                "measured": len(new_rows),
                "baseline_stats": baseline_summary,
                "notes": notes,
                "elapsed_s": round(clock() - t_start, 3),
            }
        )
        if loadavg() is not None:
            env["loadavg_end"] = loadavg()
        store.write_meta()
        progress.done()
    return SweepResult(
        run_id,
        grid.model,
        store.grid_rows(new_rows),
        list(new_rows),
        len(store.kept),
        baseline_summary,
        env,
        notes,
        status,
        *where,
        options,
        clocks,
    )


def _nothing_to_do(grid, store, options: dict, where: tuple[str | None, str | None]) -> SweepResult:
    note = f"all {len(grid.configs)} configurations are in {store.out} already; nothing measured (--fresh starts over)"
    rows = store.grid_rows({})
    return SweepResult(
        None, grid.model, rows, [], len(grid.configs), None, None, [note], "nothing_to_do", *where, options
    )


def _run_meta(opts, grid, options: dict, run_id: str, seed: int, kept: int, todo: int) -> tuple[dict, dict]:
    """The run's environment and its record in the JSON file (status "running" until it ends)."""
    from archlab.nn.runtimes import environment

    env = environment(tuple(set(opts.runtimes) | {grid.baseline.runtime}))
    meta = {
        "run_id": run_id,
        "started": now(),
        "status": "running",
        "options": options,
        "seed": seed,
        "environment": env,
        "baseline": grid.baseline.as_dict(),
        "kept": kept,
        "todo": todo,
        "method": method_dict(options),
    }
    return env, meta


def _measure(grid, todo, opts, seed, deadline, run_id, store, new_rows, notes, progress, on_row, clock) -> dict:
    """Prepare, then time every configuration to do in interleaved rounds; rows are written as they finish.
    Returns the baseline's statistics."""
    import torch

    candidates, diffs = _prepare(grid, todo, opts, seed, progress, notes, deadline, clock)
    todo = [c for c in todo if c.key() in candidates]
    progress.measuring(len(todo))

    def on_final(res: lat.Result) -> None:
        cfg = store.by_key[res.key]
        row = make_row(cfg, grid.counts(cfg), res, diffs.get(res.key), run_id)
        new_rows[res.key] = row
        store.write_rows(new_rows)
        progress.row(row, cfg.label())
        if on_row is not None:
            on_row(row)

    with torch.inference_mode():
        results, base = lat.interleaved(
            [candidates[c.key()] for c in todo],
            candidates[grid.baseline.key()],
            deadline=deadline,
            target=opts.target,
            confidence=opts.confidence,
            min_samples=opts.min_samples,
            max_samples=opts.max_samples,
            rng=random.Random(seed),
            on_final=on_final,
            on_round=progress.round,
            clock=clock,
        )
    unconverged = [k for k, r in results.items() if not r.converged]
    if unconverged:
        notes.append(
            f"{len(unconverged)} of {len(results)} configurations did not reach ±{opts.target:.1%} "
            f"before the budget ended (their CI is reported; a larger --budget narrows it)"
        )
    clocks = {store.by_key[k].label(): _clocks_dict(r) for k, r in results.items() if r.samples}
    if not base.samples:  # the budget ended before the first round (preparation counts against it)
        spent = clock() - (deadline - opts.budget)
        notes.append(
            f"the budget ended before the first timing round ({spent:.1f} s of the {opts.budget:g} s went to "
            f"preparing the networks): nothing was timed; give a larger --budget"
        )
        return {"clocks": clocks}
    return {"config": grid.baseline.as_dict(), **_summary_dict(base.latency), "clock": base.clock, "clocks": clocks}


def _clocks_dict(r: lat.Result) -> dict:
    cpu = r.cpu_latency
    return {
        "clock": r.clock,
        "steadier": r.steadier,
        "wall": _summary_dict(r.wall_latency) if r.wall else None,
        "cpu": _summary_dict(cpu) if cpu is not None else None,
    }


def _summary_dict(s: lat.Summary) -> dict:
    return {
        "median_ms": s.median,
        "ci_low_ms": s.ci_low,
        "ci_high_ms": s.ci_high,
        "p10_ms": s.p10,
        "p90_ms": s.p90,
        "n": s.n,
    }


def _options_dict(opts: SweepOptions, grid: Grid) -> dict:
    return {
        "net": opts.net,
        "model": grid.model,
        "widths": list(opts.widths),
        "stems": list(opts.stems),
        "inputs": list(opts.inputs) if opts.inputs else None,
        "heads": list(opts.heads) if opts.heads else None,
        "threads": list(opts.threads) if opts.threads else None,
        "batches": list(opts.batches),
        "runtimes": list(opts.runtimes),
        "channels_last": opts.channels_last,
        "baseline": grid.baseline.as_dict(),
        "budget": opts.budget,
        "target": opts.target,
        "confidence": opts.confidence,
        "warmup": opts.warmup,
        "min_samples": opts.min_samples,
        "max_samples": opts.max_samples,
        "clock": opts.clock,
    }
