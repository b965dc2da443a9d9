"""archlab.studies.report_study and `archlab report`: the MobileFaceNets study (exact counts from the paper's
table), its documents (archlab.render.report_page, archlab.render.document) and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archlab.render.document import Figure, render_html, render_markdown
from archlab.render.report_page import report_document
from archlab.studies.report_study import operator, run_study


@pytest.fixture(scope="module")
def mfn():
    """The quick MobileFaceNet study (ERFs at 1 sample): seconds, so the tests that use it are in the slow lane."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_study("mobilefacenet", quick=True, rf_samples=1, learned=False)  # learned: test_report_learned
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow
def test_architecture_is_the_papers_table_1(mfn):
    rows = [(r.index, r.operator, r.t, r.c, r.n, r.s) for r in mfn.arch]
    assert rows == [
        (0, "conv3x3", None, 64, None, 2),
        (1, "depthwise conv3x3", None, 64, None, 1),
        (2, "bottleneck", 2, 64, 5, 2),
        (3, "bottleneck", 4, 128, 1, 2),
        (4, "bottleneck", 2, 128, 6, 1),
        (5, "bottleneck", 4, 128, 1, 2),
        (6, "bottleneck", 2, 128, 2, 1),
        (7, "conv1x1", None, 512, None, 1),
        ("head", "head: gdconv -> embedding 128 (linear)", None, 128, None, None),
    ]
    assert [r.input[1] for r in mfn.arch] == [112, 56, 56, 28, 14, 14, 7, 7, 7]
    assert sum(r.madds for r in mfn.arch) == 220_965_376 and sum(r.params for r in mfn.arch) == 1_003_136
    assert [r.rf for r in mfn.arch][:3] == ["3", "7", "43"]


def test_operator_names():
    assert operator("conv", {"k": 3, "depthwise": True}) == "depthwise conv3x3"
    assert operator("conv", {"k": 3, "pool": True}) == "conv3x3 + max-pool"
    assert operator("bottleneck", {"k": 5, "se": True}) == "bottleneck (SE) 5x5"


@pytest.mark.slow
def test_counts_against_the_published_figures(mfn):
    by = {r.label: r for r in mfn.counts}
    assert list(by) == ["mobilefacenet", "mobilefacenet-m", "mobilefacenet-s", "mobilefacenet:input=112x96"]
    assert by["mobilefacenet"].deviation["madds"]["published"] == 221_000_000
    assert by["mobilefacenet"].totals["params_deployed"] == 993_344  # paper: 0.99M
    assert by["mobilefacenet-m"].totals["params_deployed"] == 927_680  # paper: 0.92M
    assert by["mobilefacenet-s"].totals["params_deployed"] == 841_920  # paper: 0.84M
    assert by["mobilefacenet:input=112x96"].totals["madds"] == 189_408_256
    assert by["mobilefacenet:input=112x96"].fmap_end == (512, 7, 6)
    for label in ("mobilefacenet", "mobilefacenet-m", "mobilefacenet-s"):
        for d in by[label].deviation.values():
            assert abs(d["deviation"]) < 0.01


@pytest.mark.slow
def test_head_costs_by_hand(mfn):
    h = {x.head: x for x in mfn.heads}
    emb = 512 * 128 + 2 * 128  # linear 512 -> 128, no bias, + BN1d
    assert h["gdconv"].params == 512 * 49 + 2 * 512 + emb and h["gdconv"].madds == 512 * 49 + 512 * 128
    assert h["gap"].params == emb and h["gap"].madds == 512 * 128
    assert h["fc"].params == 512 * 49 * 128 + 2 * 128 and h["fc"].madds == 512 * 49 * 128
    assert h["gdconv"].total_madds == 220_965_376
    assert mfn.rf is not None and set(mfn.rf.heads) == {"gdconv", "gap", "fc"}
    assert mfn.rf.samples == 1 and mfn.rf_settings["units"] == "key"


@pytest.mark.slow
def test_first_layer_and_widths(mfn):
    st = {c.stem: c.record for c in mfn.stems}
    assert [st[s].fmap_end for s in ("2", "1", "1+pool")] == [(512, 7, 7), (512, 14, 14), (512, 7, 7)]
    # stride 1 + pool: the first conv runs at 112x112 (4x its MAdds), everything after it is unchanged
    assert st["1+pool"].totals["madds"] - st["2"].totals["madds"] == 3 * (3 * 3 * 3 * 64 * 56 * 56)
    assert st["1"].totals["madds"] == 4 * (220_965_376 - 90_624) + 512 * 196 + 512 * 128
    assert [c.width for c in mfn.widths] == [0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
    madds = [c.record.totals["madds"] for c in mfn.widths]
    assert madds == sorted(madds) and madds[2] == 220_965_376
    assert mfn.widths[2] is mfn.stems[0]  # one configuration, measured once
    assert mfn.latency is None and all(c.record.latency is None for c in mfn.widths)
    assert "latency not measured (--quick)" in mfn.notes["latency"]


@pytest.mark.slow
def test_documents(mfn):
    doc = report_document(mfn, command="archlab report mobilefacenet --quick", dpi=40)
    md = render_markdown(doc, "m_files")
    for heading in (
        "## Architecture",
        "## Counts against the published figures",
        "## The head",
        "## The first layer",
        "## Width sweep",
        "## Conventions",
        "## Environment",
    ):
        assert heading in md
    assert [f.name for f in doc.figures] == ["rf_units", "rf_heads", "widths"]
    assert all(isinstance(f, Figure) and f.png[:8] == b"\x89PNG\r\n\x1a\n" for f in doc.figures)
    assert "| 2 | 56²×64 | bottleneck | 2 | 64 | 5 | 2 | 92,160 | 88,008,704 | 43 |" in md
    assert (
        "| mobilefacenet-s | 3x112x112 | 850,688 | 841,920 | 217,669,760 | 840k params_deployed | "
        "params_deployed +0.2% |" in md
    )
    html = render_html(doc)
    assert html.count("data:image/png;base64,") == 3 and html.count('<div class="scroll"') == md.count("\n### ")
    assert mfn.generated in md and md.count(mfn.generated) == 1  # the one timestamp
    json.dumps(doc.data)  # serialisable
    assert doc.data["quick"] is True and doc.data["first_layer"][1]["fmap_end"]["shape"] == [512, 14, 14]


def _strip(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "generated" not in line)


@pytest.mark.slow
def test_cli_quick_report_is_deterministic_and_atomic(cli, tiny_table, tmp_path):
    tiny = tiny_table("embedding")
    outs = []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        r = cli(
            "report", tiny, "--quick", "--dpi", "40", "--out", d / "r.md", "--out", d / "r.html", "--out", d / "r.json"
        )
        assert r.exit_code == 0, r.output
        assert not list(d.rglob(".*.tmp"))
        outs.append(d)
    a, b = outs
    for name in ("r.md", "r.html"):
        assert _strip((a / name).read_text()) == _strip((b / name).read_text())
    pngs = sorted(p.name for p in (a / "r_files").iterdir())
    assert pngs == ["rf_heads.png", "rf_units.png", "widths.png"]
    for p in pngs:
        assert (a / "r_files" / p).read_bytes() == (b / "r_files" / p).read_bytes()
    ja, jb = (json.loads((d / "r.json").read_text()) for d in (a, b))
    assert ja.pop("generated") != "" and jb.pop("generated") != ""
    assert ja == jb
    assert [c["label"] for c in ja["counts"]] == ["tiny"]  # no siblings, not a 112x112 face crop


@pytest.mark.slow
def test_cli_full_report_measures_latency_in_one_run(cli, tiny_table, tmp_path, monkeypatch):
    import functools

    import archlab.studies.report_study as study_mod

    monkeypatch.setattr(study_mod, "time_plans", functools.partial(study_mod.time_plans, warmup=0.05))
    tiny = tiny_table("embedding", head=False)  # no head: no ERF study, the latency is what is tested
    r = cli(
        "report",
        tiny,
        "--budget",
        "5",  # a hard bound: enough for 6 rounds of every configuration
        "--samples",
        "1",
        "--dpi",
        "40",
        "--out",
        tmp_path / "r.json",
        "--out",
        tmp_path / "r.md",
    )
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "r.json").read_text())
    rows = data["first_layer"] + data["widths"]
    assert all(x["latency"]["median_ms"] > 0 for x in rows)
    base = next(x for x in data["widths"] if x["width"] == 1.0)
    assert base["latency"]["ratio_to_first"] == 1.0  # the table at width 1, stride 2 is the baseline
    assert all(x["latency"]["n"] >= 6 for x in rows)
    assert base["latency"]["n"] == data["latency"]["rounds"]  # the baseline is in every round
    assert data["latency"]["baseline"] == "width 1, stride 2"
    assert data["latency"]["environment"]["loadavg_end"]
    md = (tmp_path / "r.md").read_text()
    assert "](r_files/widths.png)" in md and "not measured" not in md


def test_report_for_a_network_without_head(cli, tmp_path):
    r = cli("report", "ssdlite-mobilenetv2", "--quick", "--out", tmp_path / "s.md")
    assert r.exit_code == 0, r.output
    md = (tmp_path / "s.md").read_text()
    assert "has no head" in md and "## The first layer" in md
    assert sorted(p.name for p in (tmp_path / "s_files").iterdir()) == ["widths.png"]


def test_quick_skips_the_erf_of_large_networks():
    st = run_study("xception", quick=True)
    assert st.rf is None and "above 1G MAdds" in st.notes["heads"][0]
    assert [h.head for h in st.heads] == ["gdconv", "gap", "fc"]  # the cost table needs no measurement
    assert st.arch[0].operator == "conv3x3" and st.base.totals["params"] == 22_855_952


@pytest.mark.parametrize(
    "args, words",
    [
        (("nope",), ["unknown network 'nope'"]),
        (("mobilefacenet", "--out", "r.txt"), ["unknown file type '.txt'"]),
        (("mobilefacenet", "--quick", "--budget", "5"), ["--quick"]),
    ],
)
def test_cli_errors(cli, args, words):
    r = cli("report", *args)
    assert r.exit_code == 2, r.output
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1
    for w in words:
        assert w in err


@pytest.mark.slow
def test_default_out_is_name_html(cli, mfn, tmp_path, monkeypatch):
    import archlab.studies.report_study as study_mod

    seen = {}

    def fake(net, **kw):  # the study is the module's (already measured); the CLI's options reach it
        seen.update(kw, net=net)
        return mfn

    monkeypatch.setattr(study_mod, "run_study", fake)
    monkeypatch.chdir(tmp_path)
    r = cli("report", "mobilefacenet", "--quick", "--dpi", "30", "--samples", "1")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "wrote mobilefacenet.html"
    assert seen == {
        "net": "mobilefacenet",
        "quick": True,
        "threads": 1,
        "budget": None,
        "rf_samples": 1,
        "progress": seen["progress"],
    }
    html = Path("mobilefacenet.html").read_text()
    assert "archlab report mobilefacenet --quick --samples=1" in html
