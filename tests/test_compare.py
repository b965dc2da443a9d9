"""archlab.studies.compare and `archlab compare`: entry syntax (archlab.ir.overrides), the records (exact
counts), stages (archlab.static.counts), latency plumbing, files (archlab.render.compare_page) and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import archlab
from archlab.errors import OptionError
from archlab.ir.overrides import Entry, parse_entry, unique_labels
from archlab.static.counts import stages
from archlab.studies.compare import compare, record

# -- entry syntax -------------------------------------------------------------------------------------------


def test_entries_parse_names_and_typed_overrides():
    assert parse_entry("mobilefacenet") == Entry("mobilefacenet", (), "mobilefacenet")
    e = parse_entry("mobilenetv2:width=0.5,input=160x160,stem-stride=1,head=gap")
    assert e.net == "mobilenetv2"
    assert e.overrides == {"width": 0.5, "input": "160x160", "stem_stride": 1, "head": "gap"}
    assert e.label == "mobilenetv2:width=0.5,input=160x160,stem_stride=1,head=gap"
    assert parse_entry("mobilefacenet:stem_pool=true").overrides == {"stem_pool": True}
    assert parse_entry("mobilefacenet:embedding=256").overrides == {"embedding": 256}


@pytest.mark.parametrize(
    "text, words",
    [
        ("mobilefacenet:head", ["expected key=value", "'head'"]),
        ("mobilefacenet:depth=3", ["unknown key 'depth'", "stem-stride"]),
        ("mobilefacenet:width=wide", ["width must be a number", "'wide'"]),
        ("mobilefacenet:stem-stride=1.5", ["stem_stride must be an integer"]),
        ("mobilefacenet:stem-pool=maybe", ["true or false"]),
        ("mobilefacenet:width=-1", ["--width must be > 0"]),
        ("mobilefacenet:head=max", ["--head must be one of"]),
        ("mobilefacenet:width=1,width=2", ["width given twice"]),
        (":head=gap", ["no network before ':'"]),
        ("mobilefacenet:", ["no key=value"]),
    ],
)
def test_bad_entries_name_the_problem(text, words):
    with pytest.raises(OptionError) as e:
        parse_entry(text, "--variant")
    msg = str(e.value)
    assert msg.startswith("--variant") and text in msg
    for w in words:
        assert w in msg


def test_entries_given_twice_get_distinct_labels():
    es = unique_labels([parse_entry("mobilefacenet")] * 3)
    assert [e.label for e in es] == ["mobilefacenet", "mobilefacenet#2", "mobilefacenet#3"]


# -- records: exact numbers ---------------------------------------------------------------------------------


def test_mobilefacenet_records_exact():
    comp = compare(["mobilefacenet", "mobilefacenet:head=gap", "mobilefacenet:stem_stride=1"])
    base, gap, s1 = comp.records
    assert base.totals["madds"] == 220_965_376 and base.totals["params"] == 1_003_136
    assert base.totals["params_deployed"] == 993_344
    assert gap.totals["madds"] == 220_940_288 and gap.totals["params"] == 977_024
    # stride 1: every map before the head 4x larger; the head's linear layer unchanged, its GDConv 14x14
    assert s1.totals["madds"] == 4 * (220_965_376 - 90_624) + (512 * 14 * 14 + 512 * 128)
    assert base.peak_bytes == 2 * 128 * 56 * 56 * 4 == 3_211_264  # the first expansion and its BN output
    assert s1.peak_bytes == 4 * base.peak_bytes
    assert base.fmap_end == (512, 7, 7) and s1.fmap_end == (512, 14, 14)
    # receptive field at FMap-end, by hand: 3 (conv s2) +2*2 (dw) +2*2 +4*8 (row 2) +8 (row 3) +6*16 (row 4)
    # +16 (row 5) +2*32 (row 6) = 227, jump 16; with stride 1 every jump halves: 115, jump 8
    assert base.rf.size == (227, 227) and base.rf.jump == (16, 16)
    assert s1.rf.size == (115, 115) and s1.rf.jump == (8, 8)
    assert base.head == "gdconv -> embedding 128 (linear)" and gap.head == "gap -> embedding 128 (linear)"
    assert base.published["madds"] == 221_000_000 and not gap.published  # options: not the paper's network


def test_record_dict_uses_the_profile_json_names():
    rec = record(parse_entry("mobilenetv2:width=0.5"))
    d = rec.to_dict()
    prof = archlab.profile("mobilenetv2", width=0.5).to_dict()
    assert d["totals"] == prof["totals"]
    assert d["input"] == prof["input"] and d["output"] == prof["output"] and d["options"] == prof["options"]
    assert d["memory"]["peak_bytes"] == archlab.memory("mobilenetv2", width=0.5).to_dict()["peak_bytes"]
    fmap = d["fmap_end"]["layer"]
    assert d["fmap_end"]["rf"] == next(l["rf"] for l in prof["layers"] if l["name"] == fmap)
    assert "latency" not in d and "latency_ms" not in d["totals"]


def test_stages_of_mobilefacenet_by_hand():
    st = {s.label: s for s in stages(archlab.plan("mobilefacenet"))}
    assert list(st) == ["/2", "/4", "/8", "/16", "head"]
    assert st["/2"].madds == 3 * 3 * 3 * 64 * 56 * 56 + 3 * 3 * 64 * 56 * 56  # conv3x3 s2, depthwise conv3x3
    assert st["/2"].rows == (0, 1) and st["/16"].rows == (5, 6, 7)
    assert st["head"].params == 512 * 49 + 2 * 512 + 512 * 128 + 2 * 128  # GDConv + BN, linear + BN1d


@pytest.mark.parametrize(
    "net", ["mobilefacenet", "mobilenetv3-small", "xception", "ssdlite-mobilenetv2", "mobilefacenet-tf"]
)
def test_stages_add_up_to_the_totals(net):
    plan = archlab.plan(net)
    st = stages(plan)
    for key in ("madds", "params"):
        assert sum(getattr(s, key) for s in st) == plan.totals()[key]
    assert sorted(r for s in st for r in s.rows if r != "head") == [r.index for r in plan.rows if r.index != "head"]


def test_counting_imports_no_torch():
    code = (
        "import sys; from archlab.studies.compare import compare; from archlab.render.compare_page import "
        "compare_table; compare_table(compare(['mobilefacenet', 'mobilenetv2:width=0.5'])); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# -- latency ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_latency_is_paired_to_the_first_entry(tiny_table):
    tiny = tiny_table("embedding")
    # a target no median reaches: every entry runs until the budget, so every entry has every round
    comp = compare([str(tiny), f"{tiny}:width=2", str(tiny)], latency=True, budget=3.0, target=1e-9)
    first, wide, again = comp.records
    assert again.label.endswith("#2")
    for r in comp.records:
        assert r.latency.n >= 6 and r.latency.median > 0 and r.latency.ci_low <= r.latency.median <= r.latency.ci_high
        assert r.to_dict()["totals"]["latency_ms"] == r.latency.median
    assert first.ratio.median == 1.0 and first.ratio.ci_low == first.ratio.ci_high == 1.0
    assert wide.ratio.n == first.ratio.n == again.latency.n == comp.latency.rounds  # one ratio per round
    assert comp.latency.environment["torch"]


def test_the_baseline_row_holds_every_round_even_once_it_is_final(tiny_table, monkeypatch):
    import functools
    import random

    import archlab.studies.compare as compare_mod

    noise = random.Random(0)

    def sample(c):  # the baseline is noise-free (final after the minimum); the other needs many rounds
        return 1.0 if c.key == 0 else 2.0 * noise.uniform(0.8, 1.2)

    real = compare_mod.lat.interleaved
    monkeypatch.setattr(compare_mod.lat, "interleaved", functools.partial(real, sample=sample))
    tiny = tiny_table("embedding")
    plans = [archlab.plan(tiny), archlab.plan(tiny, width=2)]
    run = compare_mod.time_plans(plans, budget=5.0, target=0.02, warmup=0.01)
    first, wide = run.results
    assert run.rounds > 6 and first.latency.n == wide.latency.n == run.rounds
    assert first.ratio.median == 1.0 and len(first.ratios) == run.rounds


# -- CLI ----------------------------------------------------------------------------------------------------


def test_cli_prints_the_side_by_side_table(cli):
    r = cli("compare", "mobilefacenet", "--variant", "mobilefacenet:head=gap")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert "mobilefacenet:head=gap" in lines[1]
    assert any(l.startswith("madds") and "220,965,376" in l and "220,940,288" in l for l in lines)
    assert any(l.startswith("fmap_end.rf") and "227 px, jump 16" in l for l in lines)


def test_cli_json_to_stdout(cli):
    r = cli("compare", "mobilefacenet-m", "mobilefacenet-s", "-f", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [d["totals"]["params_deployed"] for d in data["records"]] == [927_680, 841_920]
    assert data["latency"] is None


@pytest.mark.parametrize(
    "args, words",
    [
        (("mobilefacenet", "--variant", "mobilefacenet:head"), ["--variant", "expected key=value"]),
        (("mobilefacenet", "--variant", "nope:head=gap"), ["unknown network 'nope'"]),
        (("mobilefacenet:colour=red",), ["entry", "unknown key 'colour'"]),
        ((), ["at least one network"]),
        (("mobilefacenet", "--out", "cmp.pdf"), ["--out", "unknown file type '.pdf'"]),
        (("mobilefacenet", "--out", "no/such/dir/cmp.md"), ["folder no/such/dir does not exist"]),
        (("mobilefacenet", "--threads", "2"), ["only apply with --latency"]),
        (("mobilefacenet", "--out", "c.md", "-f", "json"), ["--format is for stdout"]),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(cli, args, words):
    r = cli("compare", *args)
    assert r.exit_code == 2, r.output
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("archlab: error:")
    for w in words:
        assert w in err


def _without_timestamp(text: str) -> str:
    return "\n".join(l for l in text.splitlines() if "generated" not in l)


def test_cli_writes_markdown_html_and_json_atomically_and_deterministically(cli, tmp_path):
    args = ("compare", "mobilefacenet", "mobilefacenet-s", "--variant", "mobilefacenet:head=fc")
    runs = []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        (d / "cmp_files").mkdir()
        (d / "cmp_files" / "stale.png").write_bytes(b"old")
        r = cli(*args, "--out", d / "cmp.md", "--out", d / "cmp.html", "--out", d / "cmp.json")
        assert r.exit_code == 0, r.output
        assert {Path(l.split(" ", 1)[1]).name for l in r.stdout.splitlines()} == {
            "stages.png",
            "scatter.png",
            "cmp.md",
            "cmp.html",
            "cmp.json",
        }
        assert sorted(p.name for p in (d / "cmp_files").iterdir()) == ["scatter.png", "stages.png"]  # stale gone
        assert not list(d.rglob(".*.tmp"))
        runs.append(d)
    a, b = runs
    md = (a / "cmp.md").read_text()
    assert "![" in md and "](cmp_files/stages.png)" in md and "](cmp_files/scatter.png)" in md
    assert "| madds | 220,965,376 | 217,669,760 | 224,086,016 |" in md
    for name in ("cmp.md", "cmp.html"):
        assert _without_timestamp((a / name).read_text()) == _without_timestamp((b / name).read_text())
    for png in ("stages.png", "scatter.png"):
        assert (a / "cmp_files" / png).read_bytes() == (b / "cmp_files" / png).read_bytes()
    ja, jb = (json.loads((d / "cmp.json").read_text()) for d in (a, b))
    assert ja.pop("generated") and jb.pop("generated")
    assert ja == jb
    assert [r["label"] for r in ja["records"]] == ["mobilefacenet", "mobilefacenet-s", "mobilefacenet:head=fc"]
    html = (a / "cmp.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2 and "<style>" in html


def test_cli_latency_json(cli, tiny_table):
    tiny = tiny_table("embedding")
    r = cli("compare", tiny, "--variant", f"{tiny}:stem-pool=true", "--latency", "--budget", "3", "-f", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    first, pooled = data["records"]
    assert first["latency"]["ratio_to_first"] == 1.0
    assert pooled["latency"]["n"] >= 6 and first["latency"]["n"] >= 6  # (each stops when its CI is within ±2%)
    assert pooled["totals"]["latency_ms"] == pooled["latency"]["median_ms"] > 0
    assert "interleaved" in data["latency"]["method"]


def test_a_module_and_a_table_of_one_name_get_distinct_labels():
    from pathlib import Path

    src = f"{Path(__file__).resolve().parent.parent}/examples/models/resnet.py:resnet18"
    comp = archlab.compare(src, "resnet18", "resnet18", input="224x224")  # the module, the table twice
    assert [r.label for r in comp.records] == ["resnet18", "resnet18#2", "resnet18#3"]
    assert len({r.totals["params"] for r in comp.records}) == 1
