"""Trained weights: read a state_dict, rename its keys (``--key-map``), load it strictly into a built network.

A key map lets checkpoints from other code load into archlab's module paths (``4.2.dw``, ``head.gdconv.bn``).
It is a YAML (or JSON) file in one of two forms:

* a list of ``[pattern, replacement]`` pairs: Python regular expressions applied in order with ``re.sub``
  to every key; a ``null`` replacement drops the keys the pattern matches;
* a mapping ``{old_name: new_name}`` of exact names (``null`` drops the key); other keys keep their names.

``examples/keymaps/insightface_mobilefacenet.yaml`` maps InsightFace_Pytorch's MobileFaceNet to archlab's.
Every problem is an :class:`ArchlabError` naming the file (and the entry) so the CLI prints one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from archlab.errors import ArchlabError

IGNORED_MISSING = ("num_batches_tracked",)  # BN counters: unused in eval mode, absent from some checkpoints
LIST_LIMIT = 6


@dataclass(frozen=True)
class KeyMap:
    """Key renaming rules: regex pairs (in order) or exact names. ``None`` as a target drops the key."""

    source: str
    pairs: tuple[tuple[re.Pattern, str | None], ...] = ()
    exact: dict | None = None

    def rename(self, key: str) -> str | None:
        if self.exact is not None:
            return self.exact.get(key, key)
        for pattern, repl in self.pairs:
            if pattern.search(key):
                if repl is None:
                    return None
                key = pattern.sub(repl, key)
        return key

    def apply(self, state: dict) -> dict:
        out: dict = {}
        origin: dict = {}
        for key, value in state.items():
            new = self.rename(key)
            if new is None:
                continue
            if new in out:
                raise ArchlabError(f"key map {self.source}: both {origin[new]!r} and {key!r} become {new!r}")
            out[new] = value
            origin[new] = key
        return out


def read_key_map(path: str | Path) -> KeyMap:
    """Read a key-map file (see the module docstring)."""
    import yaml

    path = Path(path)
    where = f"key map {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArchlabError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ArchlabError(f"{where}: is a folder, not a file") from None
    except OSError as e:
        raise ArchlabError(f"{where}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ArchlabError(f"{where}: not a UTF-8 text file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise ArchlabError(f"{where}: YAML syntax error{line}: {getattr(e, 'problem', None) or e}") from None
    if isinstance(data, dict):
        for old, new in data.items():
            if not isinstance(old, str) or not (new is None or isinstance(new, str)):
                raise ArchlabError(f"{where}: entry {old!r}: expected `old_name: new_name` (strings; null drops)")
        return KeyMap(str(path), exact=dict(data))
    if isinstance(data, list):
        pairs = []
        for i, item in enumerate(data):
            if (
                not isinstance(item, (list, tuple))
                or len(item) != 2
                or not isinstance(item[0], str)
                or not (item[1] is None or isinstance(item[1], str))
            ):
                raise ArchlabError(
                    f"{where}: entry {i}: expected a pair [pattern, replacement] of strings "
                    f"(replacement null drops the key), got {item!r}"
                )
            try:
                pattern = re.compile(item[0])
            except re.error as e:
                raise ArchlabError(f"{where}: entry {i}: bad regular expression {item[0]!r}: {e}") from None
            if item[1] is not None:
                try:
                    pattern.sub(item[1], "")  # bad group references show up here, not at load time
                except (re.error, IndexError) as e:
                    raise ArchlabError(f"{where}: entry {i}: bad replacement {item[1]!r}: {e}") from None
            pairs.append((pattern, item[1]))
        return KeyMap(str(path), pairs=tuple(pairs))
    raise ArchlabError(
        f"{where}: expected a list of [pattern, replacement] pairs or a mapping old_name: new_name, "
        f"got {type(data).__name__}"
    )


def _load_failure(e: Exception) -> str:
    """Why torch.load refused a file, as one whole sentence (torch's own message is many lines long)."""
    text = str(e).strip()
    found = re.search(r"(?:unsupported GLOBAL|Unsupported global: GLOBAL) ([\w.]+)", text)
    if found:
        return (
            f"refused: it holds a pickled object ({found.group(1)}) beyond tensors, and archlab never runs "
            "pickled code (torch.load weights_only=True); save a plain state_dict: "
            "torch.save(model.state_dict(), FILE)"
        )
    if "Weights only load failed" in text:  # torch's explanation, then the unpickler's reason further down
        reasons = [line.strip() for line in text.splitlines() if line.strip() and "weights_only" not in line]
        text = reasons[0] if reasons else "not a pickle torch can read"
    first = text.splitlines()[0] if text else type(e).__name__
    if len(first) > 160:
        first = first[:157].rsplit(" ", 1)[0] + "..."
    return f"not a PyTorch checkpoint (torch.load: {first})"


def read_state_dict(path: str | Path) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)``: a state_dict, or a dict holding one under
    ``state_dict`` or ``model``. Never runs pickled code."""
    import torch

    path = Path(path)
    where = f"weights {path}"
    if not path.exists():
        raise ArchlabError(f"{where}: no such file")
    if not path.is_file():
        raise ArchlabError(f"{where}: not a file")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a file that is not a checkpoint
        raise ArchlabError(f"{where}: {_load_failure(e)}") from None
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and _is_state(inner):
                return dict(inner)
        if obj and _is_state(obj):
            return dict(obj)
    kind = type(obj).__name__
    raise ArchlabError(
        f"{where}: not a state_dict (expected a mapping of parameter names to tensors, got {kind}"
        + (f" with keys {_short(list(obj))}" if isinstance(obj, dict) else "")
        + ")"
    )


def _is_state(d: dict) -> bool:
    import torch

    return all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in d.items())


def _short(names, limit: int = LIST_LIMIT) -> str:
    names = list(names)
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(str(n) for n in names[:limit]) + more


def fit_report(module, state: dict, *, prefix_filter: str | None = None) -> tuple[list, list, list]:
    """(missing, unexpected, shape mismatches) of ``state`` against ``module``'s state_dict."""
    own = module.state_dict()
    if prefix_filter is not None:
        own = {k: v for k, v in own.items() if not k.startswith(prefix_filter)}
        state = {k: v for k, v in state.items() if not k.startswith(prefix_filter)}
    missing = [k for k in own if k not in state and not k.endswith(IGNORED_MISSING)]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k}: checkpoint {list(state[k].shape)} vs network {list(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    return missing, unexpected, shapes


def load_strict(module, state: dict, *, source: str, what: str, skip_prefix: str | None = None) -> None:
    """Load ``state`` into ``module``; any missing or unexpected key or shape difference is an ArchlabError
    listing them. ``skip_prefix`` (e.g. ``head.``) leaves those keys out on both sides."""
    missing, unexpected, shapes = fit_report(module, state, prefix_filter=skip_prefix)
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_short(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_short(unexpected)}")
        if shapes:
            parts.append(f"{len(shapes)} shape difference(s): {_short(shapes, 3)}")
        raise ArchlabError(
            f"weights {source} do not fit {what}: " + "; ".join(parts) + " (rename keys with --key-map FILE)"
        )
    own = module.state_dict()
    use = {k: v for k, v in state.items() if k in own and (skip_prefix is None or not k.startswith(skip_prefix))}
    module.load_state_dict(use, strict=False)
