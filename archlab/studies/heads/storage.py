"""The output folder of a head study: resume by (seed, head), every file written atomically.

Layout of ``DIR``::

    study.json                  the settings (HeadsConfig) the folder belongs to
    seed<S>/<head>.pt           the trained state_dict (loads strictly into build_net(net, width, head))
    seed<S>/<head>.json         the RunRecord; written after the .pt, so its presence marks a finished run
    result.json                 the assembled HeadsStudy of the last call
    faces_train.png, faces_test.png   a grid of the drawn training and held-out faces (``save_face_grids``)

A folder holding a study with other settings is refused (``archlab.ArchlabError``) instead of mixing runs.
Writes go to a temporary file in the same folder, then ``os.replace`` (atomic on POSIX and Windows).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.studies.heads.config import HeadsConfig
from archlab.studies.heads.records import RunRecord


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, allow_nan=False) + "\n").encode("utf-8"))


class StudyFolder:
    """Resume-by-run storage in one folder (see the module docstring)."""

    def __init__(self, root: str | Path, config: HeadsConfig):
        self.root = Path(root)
        self.config = config
        self._claim()

    def _claim(self) -> None:
        marker = self.root / "study.json"
        if marker.exists():
            stored = HeadsConfig.from_dict(json.loads(marker.read_text(encoding="utf-8"))["config"])
            if stored != self.config:
                changed = "; ".join(stored.differences(self.config))
                raise ArchlabError(
                    f"{self.root} holds a head study with other settings ({changed}); "
                    f"use another --out folder or delete it"
                )
            return
        atomic_write_json(marker, {"kind": "archlab heads study", "config": self.config.to_dict()})

    def record_path(self, seed: int, head: str) -> Path:
        return self.root / f"seed{seed}" / f"{head}.json"

    def weights_path(self, seed: int, head: str) -> Path:
        return self.root / f"seed{seed}" / f"{head}.pt"

    def load(self, seed: int, head: str) -> RunRecord | None:
        """The finished run, or None when it is missing (or its weights are)."""
        rec, pt = self.record_path(seed, head), self.weights_path(seed, head)
        if not (rec.exists() and pt.exists()):
            return None
        record = RunRecord.from_dict(json.loads(rec.read_text(encoding="utf-8")))
        if HeadsConfig.from_dict(record.config) != self.config:
            return None
        return record

    def save(self, record: RunRecord, state_dict: dict) -> RunRecord:
        """Store the weights, then the record (naming its weights file relative to the folder)."""
        import torch

        pt = self.weights_path(record.seed, record.head)
        buf = io.BytesIO()
        torch.save(state_dict, buf)
        atomic_write_bytes(pt, buf.getvalue())
        record.state_dict_file = str(pt.relative_to(self.root))
        atomic_write_json(self.record_path(record.seed, record.head), record.to_dict())
        return record

    def save_result(self, result_dict: dict) -> None:
        atomic_write_json(self.root / "result.json", result_dict)


def load_state_dict(path: str | Path) -> dict:
    """Read a stored state_dict (tensors only, ``weights_only=True``)."""
    import torch

    return torch.load(Path(path), map_location="cpu", weights_only=True)


def save_face_grids(root: str | Path, config: HeadsConfig) -> list[str]:
    """Write a grid of drawn training faces and one of held-out faces into ``root``: the paths written."""
    from archlab.data.faces import face_grid_png

    out = []
    for split in ("train", "test"):
        path = Path(root) / f"faces_{split}.png"
        atomic_write_bytes(path, face_grid_png(split, 4, 5, config.data_seed, config.clutter))
        out.append(str(path))
    return out
