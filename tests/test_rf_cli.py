"""`archlab rf` end to end (archlab.cli.rf_cmd over archlab.studies.rf, archlab.nn.weights): figures, table
and JSON, trained weights with a key map, and bad input (exit 2)."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import archlab
from archlab.nn.weights import load_strict, read_key_map, read_state_dict
from archlab.render.erf_figures import UNITS_SIZE, figure_pixels, heads_size
from tests.helpers.cli import one_line_error

REPO = Path(__file__).resolve().parents[1]
INSIGHTFACE_MAP = REPO / "examples" / "keymaps" / "insightface_mobilefacenet.yaml"
SMALL = ("--input", "32x32", "--samples", "1")  # FMap-end 2x2: fast, same code paths


pytestmark = pytest.mark.usefixtures("single_threaded_torch")


def png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


@pytest.mark.slow
def test_rf_writes_figures_and_prints_the_tables(cli, tmp_path):
    out = tmp_path / "figs"
    res = cli("rf", "mobilefacenet", "--head", "all", *SMALL, "--out", out, "--svg")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["rf_heads.png", "rf_heads.svg", "rf_units.png", "rf_units.svg"]
    assert png_size(out / "rf_units.png") == figure_pixels(UNITS_SIZE) == (2250, 780)
    assert png_size(out / "rf_heads.png") == figure_pixels(heads_size(3))
    assert all((out / n).stat().st_size > 20_000 for n in ("rf_units.png", "rf_heads.png"))
    text = res.stdout
    assert "theoretical RF 227 px, jump 16" in text
    for head, params in (("gdconv", "68,864"), ("gap", "65,792"), ("fc", "262,400")):  # 2x2 FMap-end at 32x32
        assert any(line.startswith(head) and params in line for line in text.splitlines()), head
    assert "random weights" in text and f"wrote {out / 'rf_units.png'}" in text


def test_rf_json_contract(cli, tmp_path):
    res = cli("rf", "mobilefacenet", "--head", "gdconv", *SMALL, "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data["heads"]) == {"gdconv"}
    gd = data["heads"]["gdconv"]
    assert (gd["params"], gd["madds"]) == (512 * 4 + 1024 + 65_536 + 256, 512 * 4 + 65_536)
    assert len(gd["position_weight"]) == 2 and abs(sum(map(sum, gd["position_weight"])) - 1) < 1e-4
    units = data["units"]
    assert len(units["rf_inside_fraction"]) == 2 and len(units["erf_mass_inside"][0]) == 2
    assert units["rf_inside_fraction"][0][0] == round((32 / 227) ** 2, 5)
    assert all(0 < v <= 1 for row in units["erf_mass_inside"] for v in row)
    assert data["fmap_end"] == {
        "layer": "7.0.act",
        "shape": [512, 2, 2],
        "rf": {"size": [227, 227], "jump": [16, 16], "start": [0, 0]},
    }
    assert data["files"] == [] and data["weights"] is None and data["samples"] == 1


def test_rf_head_none_and_key_units(cli):
    res = cli(
        "rf",
        "mobilefacenet",
        "--head",
        "none",
        "--fmap-units",
        "key",
        "--input",
        "64x64",
        "--samples",
        "1",
        "-f",
        "json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["heads"] == {}
    grid = data["units"]["erf_mass_inside"]  # 4x4 grid, key units: corners, edge midpoints, centre
    measured = {(i, j) for i in range(4) for j in range(4) if grid[i][j] is not None}
    assert measured == {(i, j) for i in (0, 2, 3) for j in (0, 2, 3)}


# -- trained weights from other code ---------------------------------------------------------------------------
class ConvBlock(nn.Module):  # conv -> bn [-> prelu]: InsightFace_Pytorch's Conv_block / Linear_block layout
    def __init__(self, cin, cout, k=1, s=1, p=0, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        if act:
            self.prelu = nn.PReLU(cout)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.prelu(x) if hasattr(self, "prelu") else x


class DepthWise(nn.Module):
    def __init__(self, cin, cout, hidden, s, residual=False):
        super().__init__()
        self.conv = ConvBlock(cin, hidden)
        self.conv_dw = ConvBlock(hidden, hidden, 3, s, 1, groups=hidden)
        self.project = ConvBlock(hidden, cout, act=False)
        self.residual = residual

    def forward(self, x):
        y = self.project(self.conv_dw(self.conv(x)))
        return x + y if self.residual else y


class Residual(nn.Module):
    def __init__(self, c, n, hidden):
        super().__init__()
        self.model = nn.Sequential(*[DepthWise(c, c, hidden, 1, residual=True) for _ in range(n)])

    def forward(self, x):
        return self.model(x)


class InsightFaceMobileFaceNet(nn.Module):
    """The module names and order of InsightFace_Pytorch's MobileFaceNet (TreB1eN), written for this test."""

    def __init__(self, emb=128):
        super().__init__()
        self.conv1 = ConvBlock(3, 64, 3, 2, 1)
        self.conv2_dw = ConvBlock(64, 64, 3, 1, 1, groups=64)
        self.conv_23 = DepthWise(64, 64, 128, 2)
        self.conv_3 = Residual(64, 4, 128)
        self.conv_34 = DepthWise(64, 128, 256, 2)
        self.conv_4 = Residual(128, 6, 256)
        self.conv_45 = DepthWise(128, 128, 512, 2)
        self.conv_5 = Residual(128, 2, 256)
        self.conv_6_sep = ConvBlock(128, 512)
        self.conv_6_dw = ConvBlock(512, 512, 7, 1, 0, groups=512, act=False)
        self.linear = nn.Linear(512, emb, bias=False)
        self.bn = nn.BatchNorm1d(emb)

    def forward(self, x):
        for name in (
            "conv1",
            "conv2_dw",
            "conv_23",
            "conv_3",
            "conv_34",
            "conv_4",
            "conv_45",
            "conv_5",
            "conv_6_sep",
            "conv_6_dw",
        ):
            x = getattr(self, name)(x)
        return self.bn(self.linear(x.flatten(1)))


@pytest.fixture(scope="module")
def insightface_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    theirs = InsightFaceMobileFaceNet().eval()
    with torch.no_grad():
        for m in theirs.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("ckpt") / "model_mobilefacenet.pth"
    torch.save(theirs.state_dict(), path)
    return theirs, path


def test_insightface_checkpoint_loads_with_the_shipped_key_map(insightface_checkpoint):
    theirs, path = insightface_checkpoint
    ours = archlab.build("mobilefacenet").eval()
    state = read_key_map(INSIGHTFACE_MAP).apply(read_state_dict(path))
    load_strict(ours, state, source=str(path), what="mobilefacenet")
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_rf_with_insightface_weights(cli, insightface_checkpoint):
    _, path = insightface_checkpoint
    res = cli(
        "rf",
        "mobilefacenet",
        "--weights",
        path,
        "--key-map",
        INSIGHTFACE_MAP,
        "--head",
        "gdconv",
        "--fmap-units",
        "key",
        "--samples",
        "1",
        "-f",
        "json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["weights"] == str(path) and data["heads"]["gdconv"]["weights"] == "trained"
    assert not any("random weights" in n for n in data["notes"])


# -- bad input: one line on stderr, exit code 2 ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "text.pt").write_text("not a checkpoint\n")
    torch.save([1, 2, 3], d / "list.pt")
    torch.save({"epoch": 3}, d / "dict.pt")
    sd = archlab.build("mobilefacenet").state_dict()
    renamed = {k.replace("0.0.conv.weight", "stem.weight"): v for k, v in sd.items()}
    torch.save(renamed, d / "keys.pt")
    torch.save(archlab.build("mobilefacenet", embedding=64).state_dict(), d / "shapes.pt")
    torch.save({"state_dict": sd}, d / "nested.pt")
    (d / "map_syntax.yaml").write_text("- [unclosed\n")
    (d / "map_regex.yaml").write_text("- ['(', 'x']\n")
    (d / "map_kind.yaml").write_text("just a string\n")
    (d / "map_pair.yaml").write_text("- ['^a', 'b', 'c']\n")
    (d / "face.png").write_text("this is not a PNG")
    return d


@pytest.mark.parametrize(
    "args, needles",
    [
        (("--weights", "missing.pt"), ("weights missing.pt", "no such file")),
        (("--weights", "{d}/text.pt"), ("text.pt", "not a PyTorch checkpoint")),
        (("--weights", "{d}/list.pt"), ("list.pt", "not a state_dict")),
        (("--weights", "{d}/dict.pt"), ("dict.pt", "not a state_dict", "epoch")),
        (
            ("--weights", "{d}/keys.pt"),
            ("keys.pt", "1 missing key(s): 0.0.conv.weight", "1 unexpected key(s): stem.weight", "--key-map"),
        ),
        (
            ("--weights", "{d}/shapes.pt"),
            (
                "shapes.pt",
                "shape difference(s)",
                "head.embedding.linear.weight: checkpoint [64, 512] vs network [128, 512]",
            ),
        ),
        (("--weights", "{d}/nested.pt", "--key-map", "{d}/nope.yaml"), ("key map", "nope.yaml", "no such file")),
        (("--weights", "{d}/nested.pt", "--key-map", "{d}/map_syntax.yaml"), ("map_syntax.yaml", "YAML syntax error")),
        (
            ("--weights", "{d}/nested.pt", "--key-map", "{d}/map_regex.yaml"),
            ("map_regex.yaml", "entry 0", "bad regular expression"),
        ),
        (("--weights", "{d}/nested.pt", "--key-map", "{d}/map_kind.yaml"), ("map_kind.yaml", "expected a list")),
        (("--weights", "{d}/nested.pt", "--key-map", "{d}/map_pair.yaml"), ("map_pair.yaml", "entry 0", "pair")),
        (("--key-map", "{d}/map_kind.yaml"), ("--key-map", "--weights")),
        (("--image", "{d}/missing.png"), ("image", "missing.png", "no such file")),
        (("--image", "{d}/face.png"), ("face.png", "not an image file")),
        (("--image", "{d}"), ("image", "not a file")),
        (("--svg",), ("--svg", "--out")),
        (("--out", "{d}/text.pt"), ("--out", "not a folder")),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, bad_files, args, needles):
    args = [a.format(d=bad_files) for a in args]
    one_line_error(cli("rf", "mobilefacenet", *args), *needles)


def test_a_state_dict_nested_under_state_dict_is_read(bad_files):
    state = read_state_dict(bad_files / "nested.pt")
    assert "0.0.conv.weight" in state and "head.embedding.bn.running_var" in state


def test_user_image_of_another_size_is_resized_with_a_note(cli, tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 50), (200, 150, 120)).save(tmp_path / "me.jpg")
    res = cli("rf", "mobilefacenet", "--image", tmp_path / "me.jpg", "--head", "gap", *SMALL, "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["image"].endswith("me.jpg")
    assert any("50x40 resized to 32x32" in n for n in data["notes"])
