"""Resuming a sweep: the rows an earlier run kept in the CSV (checked against the table as it is now), the runs'
metadata, and writing both as the run goes (:mod:`archlab.storage.sweep_store` holds the file formats).

The store is locked for the run (:func:`archlab.storage.sweep_store.lock_store`) before anything is read: a
second sweep on the same ``--out`` is refused (exit 2, "in use by pid N"), so no run's rows can overwrite
another's, a run marked ``running`` in the JSON file really is dead, and the temporary files beside the store
(a run killed while writing) are its own: they are removed before the run reads the store.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.storage.sweep_store import (
    SCHEMA_VERSION,
    cleanup_temp,
    lock_store,
    read_rows,
    read_sidecar,
    sidecar_path,
    write_rows,
    write_sidecar,
)
from archlab.studies.sweep_grid import Grid, canonical_key


class RunStore:
    """The run's view of the sweep store: rows kept from earlier runs, the runs' metadata, and writing both."""

    def __init__(self, grid: Grid, out: str | Path | None, fresh: bool) -> None:
        self.grid, self.fresh = grid, fresh
        self.out = Path(out) if out is not None else None
        self.side = sidecar_path(self.out) if self.out is not None else None
        self.by_key = {c.key(): c for c in grid.configs}
        self.kept: dict[tuple, dict] = {}
        self.meta: dict = {"schema_version": SCHEMA_VERSION, "runs": []}
        self.run_meta: dict | None = None
        self._release = None
        if self.out is None:
            return
        if self.out.exists() and self.out.is_dir():
            raise ArchlabError(f"--out {self.out} is a folder; give a .csv file")
        if not (self.out.parent if str(self.out.parent) else Path(".")).is_dir():
            raise ArchlabError(f"cannot write {self.out}: folder {self.out.parent} does not exist")
        lock = lock_store(self.out)
        self._release = weakref.finalize(self, lock.release)  # also when the run ends by an exception
        try:
            cleanup_temp(self.out)  # a killed run's temporary files: ours now that the store is locked
            if self.out.exists() and not fresh:
                self._keep(read_rows(self.out))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Unlock the store (idempotent). Done when the run's final status is written, or on garbage collection."""
        if self._release is not None:
            self._release()

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
        self.run_meta = run_meta
        if self.fresh or not self.out.exists():
            self.write_rows({})
        self.write_meta()

    def write_meta(self) -> None:
        """Write the runs' metadata; once this run's status is final (not ``running``), unlock the store."""
        if self.side is not None:
            write_sidecar(self.side, self.meta)
        if self.run_meta is not None and self.run_meta.get("status") != "running":
            self.close()
