"""The sweep store: a CSV of measured configurations (rewritten atomically as rows finish) and, beside it, a
JSON file of the runs (options, environment, baseline, status). Plain files; any tier may use them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.storage.files import write_atomic

SCHEMA_VERSION = 1
CONFIG_COLUMNS = ("model", "width", "stem", "input", "head", "threads", "batch", "runtime", "channels_last")
RESULT_COLUMNS = (
    "params",
    "madds",
    "median_ms",
    "ci_low_ms",
    "ci_high_ms",
    "p10_ms",
    "p90_ms",
    "n",
    "ratio_to_baseline",
    "ratio_ci_low",
    "ratio_ci_high",
    "converged",
    "max_abs_diff",
    "run_id",
)
COLUMNS = CONFIG_COLUMNS + RESULT_COLUMNS


def sidecar_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_suffix(".json") if out.suffix.lower() != ".json" else out.with_suffix(".runs.json")


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a sweep CSV (strings, exactly as written). Raises ArchlabError for a foreign file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ArchlabError(f"cannot read {path}: {e.strerror or e}") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise ArchlabError(f"{path}: not a sweep CSV ({e}); use --fresh or another --out") from None
    if header is None:
        return []
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        why = f"missing columns {', '.join(missing)}" if missing else "its columns differ from a sweep's"
        raise ArchlabError(
            f"{path}: not a sweep CSV of this archlab ({why}); use --fresh to overwrite it or choose another --out"
        )
    rows = []
    try:
        for i, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != len(COLUMNS):
                raise ArchlabError(f"{path}:{i}: {len(values)} values, expected {len(COLUMNS)}; use --fresh")
            rows.append(dict(zip(COLUMNS, values)))
    except csv.Error as e:
        raise ArchlabError(f"{path}: unreadable CSV ({e}); use --fresh") from None
    return rows


def rows_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r.get(c, "") for c in COLUMNS])
    return buf.getvalue()


def write_rows(path: str | Path, rows: list[dict]) -> None:
    write_atomic(path, rows_csv(rows))


def write_sidecar(path: str | Path, meta: dict) -> None:
    write_atomic(path, json.dumps(meta, indent=2) + "\n")


def read_sidecar(path: Path) -> dict:
    if not path.is_file():
        return {"schema_version": SCHEMA_VERSION, "runs": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("runs"), list):
            raise ValueError("no 'runs' list")
        return data
    except (OSError, ValueError, AttributeError) as e:
        raise ArchlabError(f"{path}: unreadable sweep metadata ({e}); use --fresh") from None


INT_COLUMNS = ("threads", "batch", "params", "madds", "n")
FLOAT_COLUMNS = (
    "width",
    "median_ms",
    "ci_low_ms",
    "ci_high_ms",
    "p10_ms",
    "p90_ms",
    "ratio_to_baseline",
    "ratio_ci_low",
    "ratio_ci_high",
    "max_abs_diff",
)


def typed_row(row: dict) -> dict:
    out: dict = {}
    for c in COLUMNS:
        v = row.get(c, "")
        if v == "":
            out[c] = None
        elif c in INT_COLUMNS:
            out[c] = int(v)
        elif c in FLOAT_COLUMNS:
            out[c] = float(v)
        elif c in ("channels_last", "converged"):
            out[c] = v.lower() == "true"
        else:
            out[c] = v
    return out


def cleanup_temp(out_path: Path) -> None:
    """Remove temporary files a killed run left beside ``out`` (``write_atomic``'s ``.NAME.*.tmp``)."""
    parent = out_path.parent if str(out_path.parent) else Path(".")
    for name in (out_path.name, sidecar_path(out_path).name):
        for tmp in parent.glob(f".{name}.*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                pass


def load_result(out: str | Path) -> list[dict]:
    """The typed rows of a sweep CSV (for plots and notebooks)."""
    return [typed_row(r) for r in read_rows(out)]
