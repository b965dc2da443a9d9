"""Sweep results -> a table and summary lines (the CSV itself is written by archlab.studies.sweep)."""

from __future__ import annotations

from archlab.render.tables import Table
from archlab.render.text import ms_value, pct, ratio_value, width_text
from archlab.storage.sweep_store import CONFIG_COLUMNS
from archlab.studies.sweep import SweepResult

# what a narrow terminal hides first; the configuration, MAdds, the median, its CI and the ratio stay
SWEEP_DROP = ["run", "p10 ms", "p90 ms", "n", "params", "ratio CI", "converged"]


def _pct(lo, hi, med) -> str:
    if lo is None or hi is None or not med:
        return ""
    return "±" + pct(max(med - lo, hi - med) / med)


def sweep_table(result: SweepResult) -> Table:
    """One line per configuration; configuration columns with a single value move to the title."""
    rows = result.typed_rows()
    varying = [c for c in CONFIG_COLUMNS if c != "model" and len({r[c] for r in rows}) > 1]
    fixed = [c for c in CONFIG_COLUMNS if c not in varying and c != "model"]
    desc = ", ".join(_setting(c, rows[0][c]) for c in fixed) if rows else ""
    title = f"{result.model}: latency sweep" + (f" ({desc})" if desc else "")
    cols = [
        *varying,
        "params",
        "MAdds",
        "median ms",
        "95% CI",
        "p10 ms",
        "p90 ms",
        "n",
        "× baseline",
        "ratio CI",
        "converged",
        "run",
    ]
    t = Table(
        title,
        cols,
        numeric={"params", "MAdds", "median ms", "p10 ms", "p90 ms", "n", "× baseline"},
        formats={
            "width": width_text,
            "median ms": ms_value,
            "p10 ms": ms_value,
            "p90 ms": ms_value,
            "× baseline": ratio_value,
        },
        drop=list(SWEEP_DROP),
        key=len(varying),
    )
    for r in rows:
        ratio_ci = (
            f"{ratio_value(r['ratio_ci_low'])}–{ratio_value(r['ratio_ci_high'])}"
            if r["ratio_ci_low"] is not None and r["ratio_ci_high"] is not None
            else ""
        )
        t.rows.append(
            [
                *(r[c] for c in varying),
                r["params"],
                r["madds"],
                r["median_ms"],
                _pct(r["ci_low_ms"], r["ci_high_ms"], r["median_ms"]),
                r["p10_ms"],
                r["p90_ms"],
                r["n"],
                r["ratio_to_baseline"],
                ratio_ci,
                "yes" if r["converged"] else "no",
                (r["run_id"] or "")[-6:],
            ]
        )
    t.notes = summary_lines(result)
    return t


def summary_lines(result: SweepResult) -> list[str]:
    lines = []
    if result.run_id:
        lines.append(
            f"run {result.run_id}: measured {len(result.measured)}, kept {result.kept} from earlier runs"
            + (f" ({result.status})" if result.status != "complete" else "")
        )
    b = result.baseline
    if b:
        cfg = b["config"]
        lines.append(
            f"baseline width {cfg['width']}, stem {cfg['stem']}, input {cfg['input']}, head {cfg['head']}, "
            f"{cfg['threads']} thread{'' if cfg['threads'] == '1' else 's'}, batch {cfg['batch']}, "
            f"{cfg['runtime']}: median "
            f"{ms_value(b['median_ms'])} ms, 95% CI {_num(b['ci_low_ms'])}–{_num(b['ci_high_ms'])} ms "
            f"(n {b['n']}, measured in every round)"
        )
    env = result.environment
    if env:
        lines.append(
            f"torch {env.get('torch')} | {env.get('cpu_model')} ({env.get('cpus_usable')} CPUs) | "
            f"{env.get('onednn') or 'no oneDNN'}"
        )
    lines.append(
        "median ms: per call (a whole batch); CI: distribution-free 95% CI of the median; "
        "× baseline: median of per-round ratios (drift cancels)"
    )
    lines += result.notes
    if result.out:
        lines.append(f"rows: {result.out} (resumable; --fresh starts over) | runs: {result.sidecar}")
    return lines


def _setting(col: str, v) -> str:
    if col == "channels_last":
        return "channels_last" if v else "NCHW"
    if col == "width":
        return f"width {v:g}"
    return f"{col} {v}"


def _num(v) -> str:
    return "?" if v is None else ms_value(v)


def sweep_csv(result: SweepResult) -> str:
    """Every column of every row, exactly as in the ``--out`` file."""
    from archlab.storage.sweep_store import rows_csv

    return rows_csv(result.rows)
