"""The end-to-end table of runtimes: each runtime's latency (both clocks), its ratio to eager measured within
rounds, its output check, and which is fastest. Pure records (:mod:`archlab.nn.runtime_table` measures)."""

from __future__ import annotations

from dataclasses import dataclass, field

from archlab.timing.machine import load_text
from archlab.timing.stats import Summary


@dataclass(frozen=True)
class RuntimeRow:
    runtime: str
    latency: Summary  # ms per call on ``clock``
    wall: Summary
    cpu: Summary | None
    ratio: Summary | None  # to the baseline (eager), per round
    max_abs_diff: float
    ref_max_abs: float
    check_ok: bool
    converged: bool
    stop: str
    number: int  # calls per sample
    prepare_s: float  # building, exporting or compiling it (before the rounds)
    note: str = ""
    clock: str = "wall"

    def to_dict(self) -> dict:
        return {
            "runtime": self.runtime,
            "clock": self.clock,
            "latency": self.latency.to_dict(),
            "wall": self.wall.to_dict(),
            "cpu": self.cpu.to_dict() if self.cpu else None,
            "ratio_to_eager": self.ratio.to_dict() if self.ratio else None,
            "max_abs_diff": self.max_abs_diff,
            "ref_max_abs": self.ref_max_abs,
            "check_ok": self.check_ok,
            "converged": self.converged,
            "stop": self.stop,
            "number": self.number,
            "prepare_s": self.prepare_s,
            "note": self.note,
        }


@dataclass
class RuntimeTable:
    model: str
    options: dict
    threads: int
    batch: int
    clock: str
    rows: list[RuntimeRow]
    budget_s: float
    elapsed_s: float
    rounds: int
    loadavg_start: list[float] | None = None
    loadavg_end: list[float] | None = None
    cpus: int = 0
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # runtime -> why it could not run here
    baseline: str = "eager"

    def row(self, runtime: str) -> RuntimeRow:
        for r in self.rows:
            if r.runtime == runtime:
                return r
        raise KeyError(runtime)

    @property
    def best(self) -> RuntimeRow:
        """The fastest runtime (lowest median) among those whose outputs match eager's."""
        ok = [r for r in self.rows if r.check_ok] or self.rows
        return min(ok, key=lambda r: r.latency.median)

    def lines(self) -> list[str]:
        load = load_text(self.loadavg_end, self.cpus)
        head = (
            f"{self.model}: runtimes end to end, {self.threads} thread{'s' if self.threads != 1 else ''}, batch "
            f"{self.batch}, {self.rounds} interleaved rounds in {self.elapsed_s:.0f} s ({load})"
        )
        cols = ("runtime", 14), ("median ms", 10), ("95% CI", 18), ("wall ms", 9), ("/ eager", 8), ("ratio CI", 16)
        out = [head, " ".join(f"{c:{'<' if i == 0 else '>'}{w}s}" for i, (c, w) in enumerate(cols)) + " max|diff|"]
        for r in sorted(self.rows, key=lambda r: r.latency.median):
            s, q = r.latency, r.ratio
            ci = f"[{s.ci_low:.3f}, {s.ci_high:.3f}]" if s.ci_low is not None else "-"
            rci = f"[{q.ci_low:.3f}, {q.ci_high:.3f}]" if q and q.ci_low is not None else "-"
            flag = "" if r.check_ok else " CHECK FAILED"
            out.append(
                f"{r.runtime:14s} {s.median:10.3f} {ci:>18s} {r.wall.median:9.3f} {q.median if q else 1.0:8.3f} "
                f"{rci:>16s} {r.max_abs_diff:9.2g}{flag}"
            )
        b = self.best
        out.append(f"fastest: {b.runtime} ({b.ratio.median if b.ratio else 1.0:.3f}x eager)")
        out.append(
            f"clock: {'per-thread CPU time, wall beside it' if self.clock == 'cpu' else 'wall time'}; ratio = median "
            "over rounds of runtime / eager in the same round; a visit = 1 untimed call + the timed calls"
        )
        out += [f"{rt}: not timed ({why})" for rt, why in self.skipped.items()]
        out += [f"{r.runtime}: {r.note}" for r in self.rows if r.note]
        return out + self.notes

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "options": self.options,
            "threads": self.threads,
            "batch": self.batch,
            "clock": self.clock,
            "baseline": self.baseline,
            "best": self.best.runtime,
            "rows": [r.to_dict() for r in self.rows],
            "skipped": dict(self.skipped),
            "budget_s": self.budget_s,
            "elapsed_s": self.elapsed_s,
            "rounds": self.rounds,
            "loadavg_start": self.loadavg_start,
            "loadavg_end": self.loadavg_end,
            "cpus": self.cpus,
            "notes": list(self.notes),
        }
