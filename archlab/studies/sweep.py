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

import itertools
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from archlab.errors import ArchlabError, OptionError
from archlab.storage.sweep_store import (
    COLUMNS,
    CONFIG_COLUMNS,
    SCHEMA_VERSION,
    cleanup_temp,
    read_rows,
    read_sidecar,
    sidecar_path,
    typed_row,
    write_rows,
    write_sidecar,
)
from archlab.timing import rounds as lat
from archlab.timing.machine import loadavg, now, usable_cpus

STEMS = ("2", "1", "1+pool")
DEFAULT_WIDTHS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
DEFAULT_BUDGET = 240.0


# -- configurations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One point of the grid. ``head`` is the pool of the head (``none`` when the table has no head)."""

    model: str
    width: float
    stem: str
    input: tuple[int, int]
    head: str
    threads: int
    batch: int
    runtime: str
    channels_last: bool

    def key(self) -> tuple[str, ...]:
        """The resume key: every configuration column, as written in the CSV."""
        return (
            self.model,
            fmt_width(self.width),
            self.stem,
            fmt_hw(self.input),
            self.head,
            str(self.threads),
            str(self.batch),
            self.runtime,
            fmt_bool(self.channels_last),
        )

    def plan_key(self) -> tuple:
        return (self.width, self.stem, self.input, self.head)

    def overrides(self, has_head: bool) -> dict:
        """The keyword arguments of ``archlab.plan`` / ``archlab.profile`` for this configuration."""
        kw: dict = {"width": self.width, "input": fmt_hw(self.input)}
        if self.stem == "1+pool":
            kw["stem_pool"] = True
        else:
            kw["stem_stride"] = int(self.stem)
        if has_head:
            kw["head"] = self.head
        return kw

    def label(self) -> str:
        return (
            f"width {fmt_width(self.width)}, stem {self.stem}, input {fmt_hw(self.input)}, head {self.head}, "
            f"{self.threads} thread{'s' if self.threads != 1 else ''}, batch {self.batch}, {self.runtime}"
            + (", channels_last" if self.channels_last else "")
        )

    def as_dict(self) -> dict:
        return dict(zip(CONFIG_COLUMNS, self.key()))


def fmt_width(w: float) -> str:
    return repr(float(w))


def fmt_hw(hw) -> str:
    return f"{hw[0]}x{hw[1]}"


def fmt_bool(v: bool) -> str:
    return "true" if v else "false"


def fmt_num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return fmt_bool(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


def canonical_key(row: dict) -> tuple[str, ...]:
    """The resume key of a CSV row, normalised (``1`` and ``1.0`` are the same width)."""
    from archlab.ir.overrides import parse_hw

    try:
        width = fmt_width(float(row["width"]))
        hw = fmt_hw(parse_hw(row["input"]))
        threads, batch = str(int(row["threads"])), str(int(row["batch"]))
        cl = fmt_bool(str(row["channels_last"]).strip().lower() in ("true", "1", "yes"))
    except (ValueError, ArchlabError) as e:
        raise ValueError(f"bad configuration value: {e}") from None
    return (row["model"], width, str(row["stem"]), hw, row["head"], threads, batch, row["runtime"], cl)


# -- options -----------------------------------------------------------------------------------------------


@dataclass
class SweepOptions:
    """What to sweep and how long. ``None`` for inputs/heads/threads means: the table's input, the table's
    head, all usable CPUs."""

    net: str
    widths: tuple[float, ...] = DEFAULT_WIDTHS
    stems: tuple[str, ...] = STEMS
    inputs: tuple[str, ...] | None = None
    heads: tuple[str, ...] | None = None
    threads: tuple[int, ...] | None = None
    batches: tuple[int, ...] = (1,)
    runtimes: tuple[str, ...] = ("eager",)
    channels_last: bool = False
    baseline: dict = field(default_factory=dict)  # width, stem, input, head, threads, batch, runtime
    budget: float = DEFAULT_BUDGET  # seconds for the whole sweep (preparation included)
    target: float = lat.DEFAULT_TARGET
    confidence: float = lat.DEFAULT_CONFIDENCE
    warmup: float = 0.3  # seconds of warm-up per configuration
    min_samples: int = lat.MIN_SAMPLES
    max_samples: int | None = None
    seed: int | None = None

    def check(self) -> None:
        if not self.widths:
            raise OptionError("--widths: give at least one width")
        for w in self.widths:
            if not (isinstance(w, (int, float)) and w > 0 and math.isfinite(w)):
                raise OptionError(f"--widths: every width must be > 0, got {w}")
        for s in self.stems:
            if s not in STEMS:
                raise OptionError(f"--stems: unknown stem {s!r}; use 2, 1 or 1+pool")
        for t in self.threads or ():
            if t < 1:
                raise OptionError(f"--threads: every thread count must be >= 1, got {t}")
        for b in self.batches:
            if b < 1:
                raise OptionError(f"--batch: every batch size must be >= 1, got {b}")
        if not self.stems or not self.batches or not self.runtimes:
            raise OptionError("--stems, --batch and --runtimes need at least one value")
        if not self.budget > 0:
            raise OptionError(f"--budget must be > 0 seconds, got {self.budget}")
        if not 0 < self.target < 1:
            raise OptionError(f"--target must be between 0 and 1 (0.02 = ±2%), got {self.target}")
        if not 0.5 <= self.confidence < 1:
            raise OptionError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if self.warmup < 0:
            raise OptionError(f"--warmup must be >= 0 seconds, got {self.warmup}")
        if self.max_samples is not None and self.max_samples < self.min_samples:
            raise OptionError(f"--max-samples must be >= {self.min_samples}, got {self.max_samples}")
        unknown = set(self.baseline) - {"width", "stem", "input", "head", "threads", "batch", "runtime"}
        if unknown:
            raise OptionError(
                f"--baseline: unknown key {sorted(unknown)[0]!r}; use width, stem, input, head, threads, batch, runtime"
            )


def parse_baseline(text: str | None) -> dict:
    """``width=1.0,stem=2`` -> {'width': 1.0, 'stem': '2'}."""
    out: dict = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise OptionError(f"--baseline: expected key=value pairs like width=1.0,stem=2, got {part!r}")
        k, v = (s.strip() for s in part.split("=", 1))
        try:
            if k == "width":
                out[k] = float(v)
            elif k in ("threads", "batch"):
                out[k] = int(v)
            else:
                out[k] = v
        except ValueError:
            raise OptionError(f"--baseline: {k} must be a number, got {v!r}") from None
    return out


# -- the grid ----------------------------------------------------------------------------------------------


@dataclass
class Grid:
    model: str
    spec: object
    configs: list[Config]
    baseline: Config
    plans: dict  # plan_key -> Plan

    def counts(self, cfg: Config) -> dict:
        tot = self.plans[cfg.plan_key()].totals()
        return {"params": tot["params"], "madds": tot["madds"]}


def make_grid(opts: SweepOptions) -> Grid:
    from archlab.ir.expand import expand
    from archlab.ir.overrides import Overrides, parse_hw
    from archlab.spec.rows.head import POOLS
    from archlab.spec.table import load_table

    opts.check()
    spec = load_table(opts.net)
    has_head = spec.head is not None
    inputs = [parse_hw(i) for i in (opts.inputs or [fmt_hw(spec.input)])]
    if opts.heads:
        if not has_head:
            raise OptionError(f"--heads: {spec.name} has no head to change")
        for h in opts.heads:
            if h not in POOLS:
                raise OptionError(f"--heads: unknown head {h!r}; use {', '.join(POOLS)}")
        heads = list(opts.heads)
    else:
        heads = [spec.head.pool if spec.head is not None else "none"]
    threads = list(opts.threads or [usable_cpus()])
    from archlab.nn.runtimes import require

    for rt in opts.runtimes:
        require(rt)

    def dedupe(xs):
        return list(dict.fromkeys(xs))

    dims = [
        dedupe(float(w) for w in opts.widths),
        dedupe(opts.stems),
        dedupe(inputs),
        dedupe(heads),
        dedupe(threads),
        dedupe(opts.batches),
        dedupe(opts.runtimes),
    ]
    configs = [
        Config(spec.name, w, s, hw, h, t, b, rt, opts.channels_last)
        for w, s, hw, h, t, b, rt in itertools.product(*dims)
    ]
    bl = opts.baseline
    try:
        baseline = Config(
            spec.name,
            float(bl.get("width", 1.0)),
            str(bl.get("stem", "2")),
            parse_hw(bl["input"]) if "input" in bl else dims[2][0],
            bl.get("head", dims[3][0]),
            int(bl.get("threads", dims[4][0])),
            int(bl.get("batch", dims[5][0])),
            bl.get("runtime", dims[6][0]),
            opts.channels_last,
        )
    except ArchlabError as e:
        raise OptionError(f"--baseline: {e}") from None
    if baseline.stem not in STEMS:
        raise OptionError(f"--baseline: unknown stem {baseline.stem!r}; use 2, 1 or 1+pool")
    if baseline.head != "none" and not has_head or has_head and baseline.head not in POOLS:
        raise OptionError(f"--baseline: unknown head {baseline.head!r}")
    require(baseline.runtime)
    plans = {}
    for cfg in [*configs, baseline]:
        if cfg.plan_key() in plans:
            continue
        try:
            plans[cfg.plan_key()] = expand(spec, Overrides.from_kwargs(**cfg.overrides(has_head)))
        except ArchlabError as e:
            what = "the baseline" if cfg is baseline else "configuration"
            raise type(e)(f"{what} {cfg.label()}: {e}") from None
    return Grid(spec.name, spec, configs, baseline, plans)


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

    def typed_rows(self) -> list[dict]:
        return [typed_row(r) for r in self.rows]

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
            "out": self.out,
            "rows": self.typed_rows(),
        }


def method_dict(options: dict) -> dict:
    return {
        "timing": "eval mode, torch.inference_mode; warm-up; interleaved rounds in a fresh random order, the "
        "baseline in every round; a visit = 1 untimed call + `number` timed calls (1 sample)",
        "ci": f"distribution-free order-statistic CI of the median "
        f"({options.get('confidence', lat.DEFAULT_CONFIDENCE):.0%})",
        "stop": f"CI within ±{options.get('target', lat.DEFAULT_TARGET):.1%} of the median, or the budget "
        f"({options.get('budget')} s) ended",
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


class _Store:
    """The run's view of the sweep store: rows kept from earlier runs, the runs' metadata, and writing both."""

    def __init__(self, grid: Grid, out: str | Path | None, fresh: bool) -> None:
        self.grid, self.fresh = grid, fresh
        self.out = Path(out) if out is not None else None
        self.side = sidecar_path(self.out) if self.out is not None else None
        self.by_key = {c.key(): c for c in grid.configs}
        self.kept: dict[tuple, dict] = {}
        self.meta: dict = {"schema_version": SCHEMA_VERSION, "runs": []}
        if self.out is None:
            return
        if self.out.exists() and self.out.is_dir():
            raise ArchlabError(f"--out {self.out} is a folder; give a .csv file")
        if not (self.out.parent if str(self.out.parent) else Path(".")).is_dir():
            raise ArchlabError(f"cannot write {self.out}: folder {self.out.parent} does not exist")
        if self.out.exists() and not fresh:
            self._keep(read_rows(self.out))

    def _keep(self, existing: list[dict]) -> None:
        for row in existing:
            try:
                key = canonical_key(row)
            except (ValueError, KeyError) as e:
                raise ArchlabError(f"{self.out}: row {row.get('model')}/{row.get('width')}: {e}; use --fresh") from None
            if key in self.kept:
                raise ArchlabError(f"{self.out}: configuration {', '.join(key)} appears twice; use --fresh")
            self.kept[key] = row
        for key, row in self.kept.items():
            cfg = self.by_key.get(key)
            if cfg is None:
                continue
            counts = self.grid.counts(cfg)
            for col in ("params", "madds"):
                if row[col] != str(counts[col]):
                    raise ArchlabError(
                        f"{self.out}: the row for {cfg.label()} has {col} {row[col]} but the table now gives "
                        f"{counts[col]}: the table changed since that run; use --fresh or another --out"
                    )

    def grid_rows(self, new: dict) -> list[dict]:
        """The grid's rows in grid order: measured in this run, else kept."""
        return [
            new.get(c.key()) or self.kept[c.key()] for c in self.grid.configs if c.key() in new or c.key() in self.kept
        ]

    def write_rows(self, new: dict) -> None:
        """Every row: the grid's, then kept rows of other configurations (never dropped)."""
        if self.out is not None:
            others = [r for k, r in self.kept.items() if k not in self.by_key]
            write_rows(self.out, self.grid_rows(new) + others)

    def start(self, run_meta: dict) -> None:
        if self.out is None:
            return
        if not self.fresh and self.side is not None:
            self.meta = read_sidecar(self.side)
        for run in self.meta["runs"]:
            if run.get("status") == "running":  # that process died without a word (SIGKILL, power loss)
                run["status"] = "did not finish (killed?)"
        self.meta["runs"].append(run_meta)
        cleanup_temp(self.out)
        if self.fresh or not self.out.exists():
            self.write_rows({})
        self.write_meta()

    def write_meta(self) -> None:
        if self.side is not None:
            write_sidecar(self.side, self.meta)


def _prepare(
    grid: Grid, todo: list[Config], opts: SweepOptions, seed: int, progress: Progress, notes: list[str]
) -> tuple[dict, dict]:
    """Every runtime of the run built, checked against eager and warmed up: (candidates, max |diff|) by key."""
    import torch

    from archlab.nn.runtimes import Workshop

    ws = Workshop(seed=seed & 0xFFFF)
    candidates: dict[tuple, lat.Candidate] = {}
    diffs: dict[tuple, float] = {}
    base_key = grid.baseline.key()
    prepare_list = list(todo) + ([grid.baseline] if base_key not in {c.key() for c in todo} else [])
    for i, cfg in enumerate(prepare_list):
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
        cand = lat.Candidate(cfg.key(), prep.fn, prep.enter)
        with torch.inference_mode():
            lat.warm_up(cand, seconds=opts.warmup)
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
    store = _Store(grid, out, fresh)
    todo = [c for c in grid.configs if c.key() not in store.kept]
    options = _options_dict(opts, grid)
    where = (str(store.out) if store.out else None, str(store.side) if store.side else None)
    if not todo:
        return SweepResult(
            None,
            grid.model,
            store.grid_rows({}),
            [],
            len(grid.configs),
            None,
            None,
            [
                f"all {len(grid.configs)} configurations are in {store.out} already; "
                f"nothing measured (--fresh starts over)"
            ],
            "nothing_to_do",
            *where,
            options,
        )
    from archlab.nn.runtimes import environment

    run_id = new_run_id()
    seed = opts.seed if opts.seed is not None else secrets.randbits(32)
    env = environment(tuple(set(opts.runtimes) | {grid.baseline.runtime}))
    run_meta = {
        "run_id": run_id,
        "started": now(),
        "status": "running",
        "options": options,
        "seed": seed,
        "environment": env,
        "baseline": grid.baseline.as_dict(),
        "kept": len(store.kept),
        "todo": len(todo),
        "method": method_dict(options),
    }
    store.start(run_meta)
    progress.start(len(todo), len(store.kept), opts.budget)
    notes: list[str] = []
    new_rows: dict[tuple, dict] = {}
    baseline_summary, status = None, "interrupted"
    try:
        baseline_summary = _measure(
            grid, todo, opts, seed, t_start + opts.budget, run_id, store, new_rows, notes, progress, on_row, clock
        )
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
    )


def _measure(grid, todo, opts, seed, deadline, run_id, store, new_rows, notes, progress, on_row, clock) -> dict:
    """Prepare, then time every configuration to do in interleaved rounds; rows are written as they finish.
    Returns the baseline's statistics."""
    import torch

    candidates, diffs = _prepare(grid, todo, opts, seed, progress, notes)
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
    return {"config": grid.baseline.as_dict(), **_summary_dict(base.latency)}


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
    }
