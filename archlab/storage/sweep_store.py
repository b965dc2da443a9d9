"""The sweep store: a CSV of measured configurations (rewritten atomically as rows finish) and, beside it, a
JSON file of the runs (options, environment, baseline, status). Plain files; any tier may use them.

One run at a time: :func:`lock_store` takes an exclusive ``fcntl.flock`` on ``.NAME.lock`` beside the CSV and
beside its JSON file (two CSVs can share one JSON file: ``s.csv`` and ``s.txt``). A second sweep on the same
store is refused at once (exit 2, "in use by pid N") rather than waiting: waiting would run it after the first
with options the user may no longer mean, and refusing can never lose rows. The kernel drops the lock when the
process ends, even by SIGKILL, so a crashed run never leaves the store locked.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
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


# -- one run at a time ----------------------------------------------------------------------------------------


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


class StoreLock:
    """Exclusive locks on a sweep store's lock files; :meth:`release` (idempotent) unlocks and removes them."""

    def __init__(self, held: list[tuple[Path, int]]) -> None:
        self.held = held

    def release(self) -> None:
        held, self.held = self.held, []
        for path, fd in held:
            try:
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    path.unlink()  # while still locked: a process waiting on this file retries on a new one
            except OSError:
                pass
            os.close(fd)


def lock_store(out: str | Path) -> StoreLock:
    """Lock the store of ``out`` (its CSV and its JSON file) for this process, or raise ArchlabError naming the
    pid that holds it."""
    out = Path(out)
    held: list[tuple[Path, int]] = []
    try:
        for path in sorted({lock_path(out), lock_path(sidecar_path(out))}):
            held.append((path, _lock_one(path, out)))
    except BaseException:
        StoreLock(held).release()
        raise
    return StoreLock(held)


def _lock_one(path: Path, out: Path) -> int:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        return os.open(os.devnull, os.O_RDONLY)
    for _ in range(100):  # the file may be removed by its holder between our open and our lock: retry
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ArchlabError(f"cannot lock {out}: {path}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder_pid(fd)
            os.close(fd)
            who = f"pid {pid}" if pid else "another process"
            raise ArchlabError(
                f"{out}: in use by {who} (another archlab sweep on this --out); wait for it to finish, or choose "
                "another --out"
            ) from None
        except OSError as e:
            os.close(fd)
            raise ArchlabError(f"cannot lock {out}: {e.strerror or e}") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its holder removed it after we opened it: lock the new one
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd
    raise ArchlabError(f"cannot lock {out}: {path} keeps changing")


def _holder_pid(fd: int, wait: float = 1.0) -> int | None:
    """The pid the lock's holder wrote; a holder that has just taken the lock writes it at once, so an empty
    file is read again for up to ``wait`` seconds."""
    give_up = time.monotonic() + wait
    pid = _read_pid(fd)
    while pid is None and time.monotonic() < give_up:
        time.sleep(0.01)
        pid = _read_pid(fd)
    return pid


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
