"""The house has floors: every import (module level or inside a function) points down the tier order, the CLI
talks only to the API and the renderers, renderers take result types (never call analyses), torch stays in the
torch tiers, no module of the torch-free tiers imports torch, matplotlib or pandas, and there is no import cycle.

Each check is also run on a copy of the package with a planted bad import, and must fail there.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archlab"

# tier of each top-level part of the package; a module may import archlab modules of its own tier or below
BASE = 0  # errors, version, storage, data: usable by every tier, importing only each other
TIERS = {
    "errors": BASE,
    "version": BASE,
    "storage": BASE,
    "data": BASE,
    "spec": 1,
    "ir": 2,
    "static": 3,
    "timing": 4,
    "nn": 5,
    "studies": 6,
    "render": 7,
    "api": 8,
    "__init__": 8,
    "cli": 9,
    "__main__": 9,
}
TORCH_FREE = ("errors", "version", "storage", "data", "spec", "ir", "static", "timing")
TORCH_TIERS = ("nn", "studies")  # the only parts that may import torch (torch.*), anywhere in their functions
CLI_MAY_IMPORT = ("archlab", "archlab.api", "archlab.errors", "archlab.version", "archlab.render", "archlab.cli")
ANALYSIS_TIERS = ("spec", "ir", "static", "timing", "nn", "studies")  # render takes their types, never calls them


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def part_of(module: str) -> str:
    """``archlab.spec.rows.conv`` -> ``spec``; ``archlab`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every import in the file, including those inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.append((base, [a.name for a in node.names], node.lineno))
    return out


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import against the house rules, as 'file:line: why'."""
    found = []
    for mod, path in modules(root).items():
        here = part_of(mod)
        assert here in TIERS, f"{mod}: a part of the package with no tier; add it to TIERS (and the README)"
        for target, names, line in imports_of(path, mod):
            where = f"{path.relative_to(root.parent)}:{line}"
            found += _check(mod, here, target, names, where)
    return found


def _check(mod: str, here: str, target: str, names: list[str], where: str) -> list[str]:
    out = []
    top = target.split(".")[0]
    if top == "torch" and here not in TORCH_TIERS:
        out.append(f"{where}: {mod} imports torch; only {', '.join(TORCH_TIERS)} may")
    if top != "archlab":
        return out
    # `from archlab import api` imports a part; `from archlab import build` a name of the API façade
    targets = [f"archlab.{n}" if n in TIERS else "archlab" for n in names] if target == "archlab" else [target]
    for tgt in targets or [target]:
        there = part_of(tgt)
        if TIERS[there] > TIERS[here] or (TIERS[here] == BASE and TIERS[there] != BASE):
            out.append(f"{where}: {mod} ({here}, tier {TIERS[here]}) imports {tgt} ({there}, tier {TIERS[there]})")
        if (
            here == "cli"
            and not any(tgt == ok or tgt.startswith(ok + ".") for ok in CLI_MAY_IMPORT[1:])
            and tgt != "archlab"
        ):
            out.append(f"{where}: the CLI imports {tgt}; it may use only archlab.api, archlab.render, errors")
    if here == "render" and part_of(target) in ANALYSIS_TIERS:
        calls = [n for n in names if not n[:1].isupper()]
        if not names or calls:
            out.append(
                f"{where}: render imports {', '.join(calls) or target} from {target}; it takes result types "
                f"and constants (CapWords/UPPER names), never analysis functions"
            )
    return out


def cycles(root: Path = PACKAGE) -> list[list[str]]:
    """Import cycles among the package's modules (every import, including those inside functions)."""
    mods = modules(root)
    graph = {m: set() for m in mods}
    for mod, path in mods.items():
        for target, names, _ in imports_of(path, mod):
            for cand in [target] + [f"{target}.{n}" for n in names]:
                if cand in mods and cand != mod and not mod.startswith(cand + "."):
                    graph[mod].add(cand)
    return _strongly_connected(graph)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            visit(v)
    return out


def heavy_imports(root: Path = PACKAGE) -> subprocess.CompletedProcess:
    """Import every module of the torch-free tiers in a fresh interpreter; fail if torch/matplotlib/pandas load."""
    names = [m for m in modules(root) if part_of(m) in TORCH_FREE]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    heavy = [m for m in ('torch', 'matplotlib', 'pandas') if m in sys.modules]\n"
        "    assert not heavy, f'importing {name} imports {heavy}'\n"
    )
    env = {"PYTHONPATH": str(root.parent), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root.parent, env=env)


# -- the checks on the package ----------------------------------------------------------------------------------


def test_every_import_points_down_the_tiers():
    assert violations() == []


def test_no_import_cycle():
    assert cycles() == []


def test_torch_free_tiers_import_no_torch_matplotlib_or_pandas():
    r = heavy_imports()
    assert r.returncode == 0, r.stderr


def test_import_archlab_stays_torch_free():
    """The API's promise: ``import archlab`` and a plan load no torch (only the functions that need it do)."""
    code = "import sys, archlab; archlab.plan('mobilefacenet'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_part_of_the_package_has_a_tier():
    parts = {part_of(m) for m in modules(PACKAGE)}
    assert parts <= set(TIERS), parts - set(TIERS)


# -- tests of the tests: a planted bad import is caught (each copies the package: slow lane, but the cycle) -----


@pytest.fixture
def copy(tmp_path):
    dst = tmp_path / "archlab"
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _plant(copy: Path, rel: str, text: str) -> None:
    path = copy / rel
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + text + "\n", encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    "rel, text, needle",
    [
        ("spec/fields.py", "def _late():\n    from archlab.cli.app import app\n    return app", "archlab.cli.app"),
        ("ir/plan.py", "def _late():\n    import archlab.nn.build\n", "archlab.nn.build"),
        ("static/counts.py", "from archlab.studies import sweep\n", "archlab.studies"),
        ("storage/files.py", "from archlab.spec import registry\n", "archlab.spec"),
        ("cli/list_cmd.py", "def _x():\n    from archlab.static.counts import Profile\n", "the CLI imports"),
        ("render/profile.py", "from archlab.static.receptive import receptive_fields\n", "never analysis functions"),
        ("static/memory.py", "def _t():\n    import torch\n", "imports torch"),
    ],
)
def test_a_planted_bad_import_is_a_violation(copy, rel, text, needle):
    assert violations(copy) == []
    _plant(copy, rel, text)
    found = violations(copy)
    assert found and any(needle in v for v in found), found


def test_a_planted_cycle_is_found(copy):
    _plant(copy, "ir/layer.py", "def _late():\n    from archlab.ir import plan\n")
    assert any("archlab.ir.layer" in c and "archlab.ir.plan" in c for c in cycles(copy))


@pytest.mark.slow
def test_a_planted_heavy_import_fails_the_subprocess_check(copy):
    _plant(copy, "static/units.py", "import torch  # planted")
    r = heavy_imports(copy)
    assert r.returncode != 0 and "archlab.static.units" in r.stderr and "torch" in r.stderr
