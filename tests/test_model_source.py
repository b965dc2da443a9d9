"""archlab.nn.model_source: FILE.py:CALLABLE and package.module:CALLABLE -> the nn.Module, every failure one
ArchlabError line naming the file and the callable; a module is never taken for a path (issue 12)."""

from __future__ import annotations

import textwrap

import pytest
from torch import nn

import archlab
from archlab.errors import ArchlabError
from archlab.nn.model_source import is_module, load_module, looks_like_source, parse_args

MODELS = textwrap.dedent(
    """
    import torch.nn as nn

    def tiny(width=8, act="relu"):
        return nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU() if act == "relu" else nn.Hardswish())

    def needs(width, depth):
        return nn.Conv2d(3, width, 3)

    def boom():
        raise ValueError("no weights here")

    def not_a_module():
        return 42

    class Net(nn.Module):
        def __init__(self, classes: int = 10):
            super().__init__()
            self.fc = nn.Linear(4, classes)

    number = 3
    """
)


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


def test_a_file_callable_is_called_with_no_arguments_or_key_values(models):
    assert isinstance(load_module(f"{models}:tiny")[1], nn.ReLU)
    m = load_module(f"{models}:tiny", ["width=4", "act=hardswish"])
    assert m[0].out_channels == 4 and isinstance(m[1], nn.Hardswish)
    assert load_module(f"{models}:Net", {"classes": 3}).fc.out_features == 3


def test_a_package_module_callable(tmp_path, monkeypatch):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text("import torch.nn as nn\ndef net():\n    return nn.Identity()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert isinstance(load_module("mypkg.nets:net"), nn.Identity)
    assert isinstance(load_module(f"{pkg / 'nets.py'}:net"), nn.Identity)  # a file inside a package


def test_the_shipped_example_profiles():
    prof = archlab.profile("examples/models/resnet.py:resnet18", input="224x224")
    assert (prof.model, prof.totals["params"], prof.totals["madds"]) == ("resnet18", 11_689_512, 1_814_073_344)
    module = archlab.load_module("tests/reference_models/mobilenet.py:mobilenet_v2", ["width_mult=0.5"])
    assert archlab.plan(module, input=(224, 224)).totals()["params"] == 1_968_680


@pytest.mark.parametrize(
    ("callable_", "args", "message"),
    [
        ("boom", None, "{file}:boom: calling it raised ValueError: no weights here"),
        ("not_a_module", None, "{file}:not_a_module: returned int, not a torch.nn.Module"),
        (
            "needs",
            None,
            "{file}:needs: needs the argument(s) width, depth: give them with --arg width=... --arg depth=...",
        ),
        ("tiny", ["depth=3"], "{file}:tiny: takes no argument 'depth' (it takes: width, act)"),
        ("missing", None, "{file}:missing: {file} has no 'missing' (callables there: Net, boom, needs, "),
        ("number", None, "{file}:number: number is a int, not a function or class"),
    ],
)
def test_bad_callables_are_one_line_naming_file_and_callable(models, callable_, args, message):
    with pytest.raises(ArchlabError) as info:
        load_module(f"{models}:{callable_}", args)
    text = str(info.value)
    assert "\n" not in text and text.startswith(message.format(file=models))


def test_a_file_that_does_not_import(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import torch\nraise ImportError('needs timm')\n")
    with pytest.raises(ArchlabError, match=rf"^{bad}:net: importing {bad} failed: ImportError: needs timm$"):
        load_module(f"{bad}:net")
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def net(:\n")
    with pytest.raises(ArchlabError, match=rf"^{syntax}:net: importing {syntax} failed: SyntaxError"):
        load_module(f"{syntax}:net")
    with pytest.raises(ArchlabError, match=r"^nowhere\.py:net: no such file nowhere\.py$"):
        load_module("nowhere.py:net")
    with pytest.raises(ArchlabError, match=r"^no_such_package_xyz:net: importing no_such_package_xyz failed: "):
        load_module("no_such_package_xyz:net")


def test_arguments_and_sources_are_parsed_strictly():
    assert parse_args(["a=1", "b=0.5", "c=true", "d=[1, 2]", "e=text", "f-g=x"]) == {
        "a": 1, "b": 0.5, "c": True, "d": [1, 2], "e": "text", "f_g": "x"
    }  # fmt: skip
    with pytest.raises(ArchlabError, match="--arg 'width': expected key=value"):
        parse_args(["width"])
    with pytest.raises(ArchlabError, match="not valid YAML"):
        parse_args(["width=[1"])  # was passed on as the text '[1'
    assert looks_like_source("models/net.py:build") and looks_like_source("pkg.mod:make_net")
    assert not looks_like_source("mobilefacenet:head=gap") and not looks_like_source("mobilefacenet")


def test_a_module_is_never_taken_for_a_path():
    net = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(40)])  # a very long text
    assert is_module(net) and not is_module("mobilefacenet")
    with pytest.raises(ArchlabError, match=r"a module needs its input size"):
        archlab.profile(net)
    assert archlab.profile(net, input=(8, 8)).totals["params"] == 40 * (8 * 8 * 9 + 8)
    with pytest.raises(ArchlabError, match="is not a table: archlab.extract"):
        archlab.load_table(net)
    with pytest.raises(ArchlabError, match="expected a network name, a table path, a NetSpec or a torch.nn.Module"):
        archlab.plan(42)
