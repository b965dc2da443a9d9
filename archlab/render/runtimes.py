"""The end-to-end table of runtimes (``archlab runtimes``, ``archlab deploy``) as a table: one line per runtime,
fastest first, with the same notes as :meth:`RuntimeTable.lines` (the fastest, the clock, runtimes that could
not run here and why); csv: every figure at full precision, one column each."""

from __future__ import annotations

from archlab.render.tables import Table
from archlab.render.text import interval, ms_value, ratio_value
from archlab.studies.deploy import DeployResult
from archlab.timing.runtime_table import RuntimeTable

COLUMNS = ["runtime", "median ms", "95% CI", "wall ms", "× eager", "ratio CI", "max |diff|", "check", "converged"]
DROP = ["ratio CI", "converged", "wall ms", "max |diff|"]
CSV_COLUMNS = [
    "runtime",
    "clock",
    "median_ms",
    "ci_low_ms",
    "ci_high_ms",
    "wall_ms",
    "cpu_ms",
    "ratio_to_eager",
    "ratio_ci_low",
    "ratio_ci_high",
    "n",
    "number",
    "max_abs_diff",
    "ref_max_abs",
    "check_ok",
    "converged",
    "stop",
    "prepare_s",
    "note",
]


def _diff(v: float) -> str:
    return f"{v:.2g}"  # an output difference: its order of magnitude is what matters


def _ordered(table: RuntimeTable) -> list:
    return sorted(table.rows, key=lambda r: r.latency.median)


def runtimes_view(table: RuntimeTable) -> Table:
    """The runtimes, fastest first; the title and the notes are :meth:`RuntimeTable.lines`' own."""
    lines = table.lines()
    t = Table(
        lines[0],
        list(COLUMNS),
        numeric={"median ms", "wall ms", "× eager", "max |diff|"},
        formats={"median ms": ms_value, "wall ms": ms_value, "× eager": ratio_value, "max |diff|": _diff},
        drop=list(DROP),
    )
    for r in _ordered(table):
        s, q = r.latency, r.ratio
        t.rows.append(
            [
                r.runtime,
                s.median,
                interval(s.ci_low, s.ci_high, ms_value),
                r.wall.median,
                q.median if q is not None else 1.0,
                interval(q.ci_low, q.ci_high, ratio_value) if q is not None and r.runtime != table.baseline else "",
                r.max_abs_diff if r.runtime != table.baseline else None,
                "baseline" if r.runtime == table.baseline else "ok" if r.check_ok else "FAILED",
                "yes" if r.converged else "no",
            ]
        )
    t.notes = lines[2 + len(table.rows) :]  # after the title, the header and one line per runtime
    return t


def runtimes_csv(table: RuntimeTable) -> Table:
    """Every figure of every runtime at full precision (``-f csv``)."""
    t = Table(table.lines()[0], list(CSV_COLUMNS))
    for r in _ordered(table):
        s, q = r.latency, r.ratio
        t.rows.append(
            [
                r.runtime,
                r.clock,
                s.median,
                s.ci_low,
                s.ci_high,
                r.wall.median,
                r.cpu.median if r.cpu is not None else None,
                q.median if q is not None else 1.0,
                q.ci_low if q is not None else None,
                q.ci_high if q is not None else None,
                s.n,
                r.number,
                r.max_abs_diff,
                r.ref_max_abs,
                r.check_ok,
                r.converged,
                r.stop,
                r.prepare_s,
                r.note,
            ]
        )
    return t


def deploy_view(result: DeployResult) -> Table:
    """The evidence table with what was written and how to run it as its last notes."""
    t = runtimes_view(result.table)
    t.notes += result.lines()[len(result.table.lines()) :]
    return t
