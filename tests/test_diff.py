"""archlab.static.diff and `archlab diff A B`: two networks, or one under two option sets, in every format."""

import json

import pytest

import archlab

MADDS = 220_965_376


def test_stem_stride_1_moves_fmap_end_from_7x7_to_14x14(cli):
    r = cli("diff", "mobilefacenet", "mobilefacenet", "--stem-stride", "1")
    assert r.exit_code == 0, r.output
    assert "FMap-end (the head's input): 512x7x7 -> 512x14x14" in r.stdout
    row7 = next(l for l in r.stdout.splitlines() if l.startswith("7 "))
    assert "512x7x7 -> 512x14x14" in row7


def test_stem_stride_1_totals_by_hand(cli):
    data = json.loads(cli("diff", "mobilefacenet", "mobilefacenet", "--stem-stride", "1", "-f", "json").stdout)
    assert data["fmap_end"] == {"a": [512, 7, 7], "b": [512, 14, 14]}
    # every map doubles per side: conv MAdds x4, GDConv included (its kernel follows the map); the 512->128
    # linear (65,536 MAdds) does not change. The GDConv gains 512 x (196 - 49) weights.
    b = 4 * (MADDS - 65_536) + 65_536
    assert data["totals"]["madds"] == {"a": MADDS, "b": b, "delta": b - MADDS, "ratio": b / MADDS}
    assert data["totals"]["params"]["delta"] == 512 * 147
    assert [r["status"] for r in data["rows"]] == ["changed"] * 9
    assert sum(r["delta"]["madds"] for r in data["rows"]) == b - MADDS


def test_variant_with_a_removed_row_aligns(cli):
    data = json.loads(cli("diff", "mobilefacenet-m", "mobilefacenet-s", "-f", "json").stdout)
    status = [r["status"] for r in data["rows"]]
    assert status == ["same"] * 7 + ["removed", "changed"]
    removed = data["rows"][7]
    assert removed["a"]["label"] == "c=512 k=1 s=1" and removed["b"] is None
    assert removed["delta"]["params"] == -(128 * 512 + 2 * 512 + 512)  # 1x1 conv + BN + PReLU


def test_a_options_and_api():
    d = archlab.diff("mobilefacenet", "mobilefacenet", {"input": "112x96"}, {"input": "112x112"})
    assert d.a.input == (3, 112, 96) and d.b.input == (3, 112, 112)
    assert d.totals["madds"]["a"] == 189_408_256 and d.totals["madds"]["b"] == MADDS


def test_a_option_cli(cli):
    data = json.loads(
        cli("diff", "mobilefacenet", "mobilefacenet", "-A", "input=112x96", "-A", "stem-stride=2", "-f", "json").stdout
    )
    assert data["a"]["options"] == {"input": [112, 96], "stem_stride": 2} and data["b"]["options"] == {}
    assert data["totals"]["madds"]["a"] == 189_408_256


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_every_format(cli, fmt, tmp_path):
    out = tmp_path / f"d.{fmt}"
    r = cli("diff", "mobilenetv2", "mobilenetv1", "--units", "flops", "-f", fmt, "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "flops" in text.lower()
    if fmt == "json":
        data = json.loads(text)
        assert data["totals"]["flops"]["a"] == 2 * 300_774_272 and data["units"]["compute"] == "flops"
    if fmt == "csv":
        assert text.splitlines()[0].endswith("flops_a,flops_b,flops_delta,status")


@pytest.mark.parametrize(
    "args, msg",
    [
        (["-A", "nope=1"], "--a-option: unknown key 'nope'"),
        (["-A", "width"], "--a-option: expected KEY=VALUE"),
        (["-A", "width=wide"], "expected float"),
        (["-A", "stem-stride=3"], "--stem-stride must be 1 or 2"),
    ],
)
def test_bad_a_options_are_one_line_exit_2(cli, args, msg):
    r = cli("diff", "mobilefacenet", "mobilefacenet", *args)
    assert r.exit_code == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1
