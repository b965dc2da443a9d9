"""``key_map="auto"``: rename a foreign state_dict's keys to an archlab build's, found from the tensors alone.

Both state_dicts are cut into *groups*, one per module (the keys before the last dot: ``features.1.conv.0.1``
holds ``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``); a group's signature is
the shapes of its tensors in order (``num_batches_tracked`` left out: checkpoints differ in keeping it). The
network's groups are taken in their order, the checkpoint's in theirs (registration order for a file; the
order the layers run in when the source is a module, which is then traced), and matched:

* the next unmatched checkpoint group, when its signature is the same;
* otherwise the *only* unmatched checkpoint group with that signature further on or earlier (a block whose
  shortcut is registered after its body but runs first, as torchvision's ResNet downsample); matching then
  goes on after it;
* otherwise the match is refused, naming the first mismatch (both names, both shapes) and, when several
  groups fit, that it is ambiguous; a checkpoint with groups left over is refused too (incomplete).

Inside a matched group the tensors pair up in order. The result is an exact ``old: new`` map
(:class:`archlab.nn.weights.KeyMap`), which :func:`write_key_map` writes as YAML a user can commit and pass
as ``--key-map FILE`` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.ir.layer import STRUCTURE_FIELDS
from archlab.nn.weights import KeyMap

COUNTER = "num_batches_tracked"


@dataclass(frozen=True)
class Group:
    prefix: str
    keys: tuple[str, ...]  # full keys, in order (the BN counter excluded)
    shapes: tuple[tuple[int, ...], ...]
    counter: str | None  # the group's num_batches_tracked key, if it has one

    @property
    def signature(self) -> tuple:
        return self.shapes

    def describe(self) -> str:
        """``conv1.bn (weight [64], bias [64], running_mean [64], running_var [64])``."""
        tensors = ", ".join(f"{k.rpartition('.')[2]} {list(s)}" for k, s in zip(self.keys, self.shapes))
        return f"{self.prefix or '(top)'} ({tensors})"


def groups(state: dict, order: list[str] | None = None) -> list[Group]:
    """The state_dict's tensors grouped by module, in key order (or in ``order``: module prefixes first)."""
    by: dict[str, list[str]] = {}
    for key in state:
        by.setdefault(key.rpartition(".")[0], []).append(key)
    prefixes = list(by)
    if order is not None:
        rank = {p: i for i, p in enumerate(order)}
        seen = {p: i for i, p in enumerate(prefixes)}
        prefixes.sort(key=lambda p: (rank.get(p, len(rank)), seen[p]))
    out = []
    for p in prefixes:
        keys = [k for k in by[p] if not k.endswith("." + COUNTER) and k != COUNTER]
        counter = next((k for k in by[p] if k.endswith(COUNTER)), None)
        if keys:
            out.append(Group(p, tuple(keys), tuple(tuple(int(v) for v in state[k].shape) for k in keys), counter))
    return out


def match(source: list[Group], target: list[Group], *, source_label: str, target_label: str) -> dict[str, str]:
    """Checkpoint key -> network key for every tensor (module docstring); ArchlabError naming the first
    mismatch when the match is incomplete or ambiguous."""
    used = [False] * len(source)
    pairs: dict[str, str] = {}
    at = 0
    for g in target:
        while at < len(source) and used[at]:
            at += 1
        if at < len(source) and source[at].signature == g.signature:
            pick = at
        else:
            fits = [i for i, s in enumerate(source) if not used[i] and s.signature == g.signature]
            if len(fits) != 1:
                raise _mismatch(source, at, g, fits, source_label, target_label)
            pick = fits[0]
        used[pick] = True
        at = pick + 1
        src = source[pick]
        pairs.update(zip(src.keys, g.keys))
        if src.counter and g.counter:
            pairs[src.counter] = g.counter
    left = [s for s, u in zip(source, used) if not u]
    if left:
        raise ArchlabError(
            f"key map auto: {source_label} has {len(left)} module(s) of tensors that {target_label} does not: "
            f"first {left[0].describe()} (incomplete match; is it another network or another width?)"
        )
    return pairs


def _mismatch(source, at, g: Group, fits, source_label, target_label) -> ArchlabError:
    here = source[at].describe() if at < len(source) else "nothing (the checkpoint ended)"
    first = f"first mismatch: {target_label} {g.describe()} vs {source_label} {here}"
    if not fits:
        return ArchlabError(f"key map auto: no module of {source_label} fits {target_label}'s {g.prefix}; {first}")
    names = ", ".join(source[i].prefix for i in fits[:4]) + (", ..." if len(fits) > 4 else "")
    return ArchlabError(
        f"key map auto: ambiguous: {len(fits)} modules of {source_label} fit {target_label}'s {g.prefix} "
        f"({names}), none in order; {first} (write the map by hand: archlab weights map ... -o map.yaml, then edit)"
    )


def auto_key_map(
    state: dict,
    module,
    *,
    source_label: str = "the checkpoint",
    order: list[str] | None = None,
    target_label: str = "the network",
) -> KeyMap:
    """The exact key map that renames ``state`` (a foreign state_dict) to ``module``'s keys (module docstring).
    ``order``: the checkpoint's module prefixes in the order its layers run (from a trace), if known."""
    target = module.state_dict()
    pairs = match(groups(state, order), groups(target), source_label=source_label, target_label=target_label)
    for old, new in pairs.items():
        if tuple(state[old].shape) != tuple(target[new].shape):  # cannot happen: signatures matched
            raise ArchlabError(f"key map auto: {old} {list(state[old].shape)} vs {new} {list(target[new].shape)}")
    exact: dict[str, str | None] = {k: pairs.get(k) for k in state}
    return KeyMap(f"auto ({source_label} -> {target_label})", exact=exact)


STRUCTURE = (*STRUCTURE_FIELDS, "params")  # BN eps/momentum may differ between a checkpoint and a build


def matched_order(module, plan=None, input_shape=None) -> list[str] | None:
    """The module paths of a source module's weighted layers in the order of ``plan``'s layers they match, the
    graph matched layer by layer (same op, shapes, fields and parameters, reading matched layers): a block whose
    shortcut and body have the same shapes is told apart by what each reads. Without a plan, or when the
    graphs differ: the order the module's layers run in (a trace at ``input_shape``), or None."""
    from archlab.ir.layer import INPUT
    from archlab.nn.trace import trace

    if plan is None and input_shape is None:
        return None
    source = trace(module, plan.input if plan is not None else input_shape)
    paths = {name: src[1] for name, src in getattr(source.modules, "sources", {}).items() if src[0] == "module"}
    running = list(dict.fromkeys(paths[layer.name] for layer in source.layers if layer.name in paths))
    if plan is None:
        return running
    pool: dict[tuple, list] = {}
    for layer in source.layers:
        pool.setdefault(tuple(getattr(layer, f) for f in STRUCTURE), []).append(layer)
    found, used = {INPUT: INPUT}, set()
    for t in plan.layers:
        want = [found.get(i) for i in t.inputs]
        if None in want:
            return running
        same = sorted if t.op == "add" else list
        hit = next(
            (
                s
                for s in pool.get(tuple(getattr(t, f) for f in STRUCTURE), [])
                if s.name not in used and same(s.inputs) == same(want)  # type: ignore[type-var]
            ),
            None,
        )
        if hit is None or None in want:
            return running
        found[t.name] = hit.name
        used.add(hit.name)
    return list(dict.fromkeys(paths[found[t.name]] for t in plan.layers if found[t.name] in paths))


def write_key_map(key_map: KeyMap, path: str | Path, header: str = "") -> Path:
    """Write an exact key map as YAML (``old: new``; ``null`` drops a key), readable by ``--key-map FILE``."""
    import yaml

    from archlab.storage.files import write_atomic

    path = Path(path)
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    body = yaml.safe_dump(dict(key_map.exact or {}), sort_keys=False, default_flow_style=False, width=200)
    write_atomic(path, "\n".join([*lines, body]))
    return path


def read_weights(weights, plan=None, input_shape=None) -> tuple[dict, str, list[str] | None]:
    """(state_dict, label, order of its modules) from a checkpoint path, a state_dict or an ``nn.Module`` (whose
    layers are matched to ``plan``'s, or traced at ``input_shape``, for their order: :func:`matched_order`)."""
    import torch

    from archlab.nn.weights import read_state_dict

    if isinstance(weights, torch.nn.Module):
        return dict(weights.state_dict()), type(weights).__name__, matched_order(weights, plan, input_shape)
    if isinstance(weights, (str, Path)):
        return read_state_dict(weights), str(weights), None
    if isinstance(weights, dict):
        return dict(weights), "the state_dict", None
    raise ArchlabError(
        f"weights: expected a checkpoint path, a state_dict or an nn.Module, got {type(weights).__name__}"
    )


def load_weights(module, weights, key_map=None, *, what: str, plan=None, input_shape=None, skip_prefix=None) -> dict:
    """Load ``weights`` into ``module`` strictly, renamed by ``key_map`` (None, ``"auto"``, a KeyMap or a file);
    returns the renamed state_dict. ``plan`` (``module``'s) or ``input_shape``: to match a source module's
    layers to it (:func:`matched_order`)."""
    from archlab.nn.weights import load_strict, read_key_map

    if isinstance(key_map, (str, Path)) and str(key_map) == "auto" and not Path(key_map).is_file():
        key_map = "auto"  # the CLI may hand it in as a path
    state, label, order = read_weights(weights, plan, input_shape) if key_map == "auto" else read_weights(weights)
    if key_map == "auto":
        key_map = auto_key_map(state, module, source_label=label, order=order, target_label=what)
    elif key_map is not None and not isinstance(key_map, KeyMap):
        key_map = read_key_map(key_map)
    if key_map is not None:
        state = key_map.apply(state)
    load_strict(module, state, source=label, what=what, skip_prefix=skip_prefix)
    return state


def weights_map(source, plan, *, out=None) -> dict:
    """The map ``key_map="auto"`` finds from ``source`` (a checkpoint path, a state_dict or an nn.Module) to the
    build of ``plan``: checkpoint key -> network key (None: dropped); written as YAML to ``out`` when given."""
    from archlab.nn.build import build_plan
    from archlab.storage.files import check_writable

    if out is not None:
        check_writable(out)  # before any work
    state, label, order = read_weights(source, plan)
    key_map = auto_key_map(state, build_plan(plan), source_label=label, order=order, target_label=plan.model)
    if out is not None:
        header = f"archlab weights map: {label} -> {plan.model} (found by key_map auto; use it as --key-map FILE)"
        write_key_map(key_map, out, header)
    return dict(key_map.exact or {})
