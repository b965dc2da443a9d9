"""archlab.studies.sweep and `archlab sweep` end to end on a tiny network with budgets of seconds: rows
complete and sane, counts equal `archlab profile`, resume / fresh (archlab.studies.sweep_resume), runtimes
checked against eager (archlab.nn.runtimes), CLI errors, the figure (archlab.render.sweep_plots). Never
absolute times."""

import csv
import json

import pytest

import archlab
from archlab.errors import ArchlabError
from archlab.storage import sweep_store
from archlab.studies import sweep as sw
from tests.helpers import tables

# the budget is a hard bound (preparation included): generous, and max_samples keeps the runs short
FAST = dict(budget=60.0, max_samples=8, warmup=0.02, threads=(1,), seed=0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tables.write(tmp_path_factory.mktemp("tables"), "embedding")


@pytest.fixture(scope="module")
def first(tiny, tmp_path_factory):
    """One sweep: 2 widths x 3 stems, written to a CSV."""
    out = tmp_path_factory.mktemp("sweep") / "s.csv"
    res = sw.run_sweep(sw.SweepOptions(str(tiny), widths=(0.5, 1.0), **FAST), out=out)
    return res, out


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_rows_are_complete_and_sane(first):
    res, out = first
    rows = read_csv(out)
    assert res.status == "complete" and len(rows) == 6
    assert list(rows[0]) == list(sweep_store.COLUMNS)
    for r in rows:
        assert all(r[c] != "" for c in sweep_store.COLUMNS), r
        med, lo, hi = float(r["median_ms"]), float(r["ci_low_ms"]), float(r["ci_high_ms"])
        assert 0 < lo <= med <= hi
        assert float(r["p10_ms"]) <= med <= float(r["p90_ms"])
        assert int(r["n"]) >= 6
        assert float(r["ratio_ci_low"]) <= float(r["ratio_to_baseline"]) <= float(r["ratio_ci_high"])
        assert r["run_id"] == res.run_id and r["runtime"] == "eager" and float(r["max_abs_diff"]) == 0
    assert {(r["width"], r["stem"]) for r in rows} == {(w, s) for w in ("0.5", "1.0") for s in ("2", "1", "1+pool")}
    base = [r for r in rows if (r["width"], r["stem"]) == ("1.0", "2")][0]
    assert float(base["ratio_to_baseline"]) == 1.0


def test_counts_equal_archlab_profile_for_the_same_options(first, tiny):
    _, out = first
    for r in read_csv(out):
        kw = {"width": float(r["width"]), "input": r["input"], "head": r["head"]}
        kw.update({"stem_pool": True} if r["stem"] == "1+pool" else {"stem_stride": int(r["stem"])})
        tot = archlab.profile(str(tiny), **kw).totals
        assert (int(r["params"]), int(r["madds"])) == (tot["params"], tot["madds"])
    rows = {(r["width"], r["stem"]): int(r["madds"]) for r in read_csv(out)}
    # stride 1 first layer: 4x the positions after it; +pool brings them back to stride 2's
    assert rows[("1.0", "1")] > 3 * rows[("1.0", "2")]
    assert rows[("1.0", "2")] < rows[("1.0", "1+pool")] < rows[("1.0", "1")]


def test_sidecar_has_the_run_and_its_environment(first):
    res, out = first
    meta = json.loads(out.with_suffix(".json").read_text())
    (run,) = meta["runs"]
    assert run["run_id"] == res.run_id and run["status"] == "complete" and run["measured"] == 6
    env = run["environment"]
    assert env["torch"].startswith("2.") and env["cpu_model"] and "onednn" in env and "mkl" in env
    assert run["baseline"]["width"] == "1.0" and run["baseline_stats"]["n"] >= 6


@pytest.mark.slow
def test_resume_measures_only_what_is_missing_and_keeps_rows_verbatim(first, tiny, tmp_path):
    res, out = first
    out2 = tmp_path / "s.csv"
    out2.write_text(out.read_text())
    before = read_csv(out2)
    res2 = sw.run_sweep(sw.SweepOptions(str(tiny), widths=(0.5, 1.0, 2.0), stems=("2", "1+pool"), **FAST), out=out2)
    after = read_csv(out2)
    assert len(res2.measured) == 2 and {k[1] for k in res2.measured} == {"2.0"}
    assert res2.kept == 6 and res2.run_id != res.run_id
    # the old rows are kept exactly (the stem-1 rows too, though this grid has no stem 1)
    assert all(r in after for r in before)
    assert len(after) == 8 and len({tuple(r[c] for c in sweep_store.CONFIG_COLUMNS) for r in after}) == 8
    assert {r["run_id"] for r in after if r["width"] == "2.0"} == {res2.run_id}
    assert res2.baseline["n"] >= 6  # the baseline was measured again in this run
    meta = json.loads(out2.with_suffix(".json").read_text())
    assert [r["run_id"] for r in meta["runs"]] == [res2.run_id]  # the copied CSV had no sidecar

    res3 = sw.run_sweep(sw.SweepOptions(str(tiny), widths=(1, 2), stems=("2",), **FAST), out=out2)
    assert res3.status == "nothing_to_do" and res3.measured == [] and read_csv(out2) == after

    res4 = sw.run_sweep(sw.SweepOptions(str(tiny), widths=(1.0,), stems=("2",), **FAST), out=out2, fresh=True)
    fresh_rows = read_csv(out2)
    assert len(fresh_rows) == 1 and fresh_rows[0]["run_id"] == res4.run_id


def test_a_changed_table_is_not_resumed_silently(first, tiny_table, tmp_path):
    _, out = first
    out2 = tmp_path / "s.csv"
    out2.write_text(out.read_text())
    changed = tiny_table("embedding", replace={"c: 12, s: 2": "c: 24, s: 2"})  # same name and file name
    with pytest.raises(ArchlabError, match="table changed"):
        sw.run_sweep(sw.SweepOptions(str(changed), widths=(0.5, 1.0), **FAST), out=out2)


def test_foreign_or_ragged_csv_is_refused(tiny, tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("a,b\n1,2\n")
    with pytest.raises(ArchlabError, match="not a sweep CSV"):
        sw.run_sweep(sw.SweepOptions(str(tiny), widths=(1.0,), stems=("2",), **FAST), out=out)
    out.write_text(",".join(sweep_store.COLUMNS) + "\n" + "tiny,1.0,2\n")
    with pytest.raises(ArchlabError, match="3 values"):
        sw.run_sweep(sw.SweepOptions(str(tiny), widths=(1.0,), stems=("2",), **FAST), out=out)


@pytest.mark.slow
def test_runtimes_are_checked_against_eager(tiny):
    res = sw.run_sweep(
        sw.SweepOptions(
            str(tiny), widths=(1.0,), stems=("2",), runtimes=("eager", "torchscript", "onnxruntime"), **FAST
        )
    )
    rows = {r["runtime"]: r for r in res.typed_rows()}
    assert set(rows) == {"eager", "torchscript", "onnxruntime"}
    assert rows["eager"]["max_abs_diff"] == 0
    for rt in ("torchscript", "onnxruntime"):
        assert 0 <= rows[rt]["max_abs_diff"] < 1e-4
        assert rows[rt]["ci_low_ms"] <= rows[rt]["median_ms"] <= rows[rt]["ci_high_ms"]
        assert rows[rt]["params"] == rows["eager"]["params"]
    assert not [n for n in res.notes if "differs from eager" in n]
    assert res.environment["onnxruntime"]


def test_cli_json_csv_and_plot(cli, tiny, tmp_path):
    png = tmp_path / "s.png"
    out = tmp_path / "s.csv"
    r = cli(
        "sweep",
        tiny,
        "--widths",
        "0.5,1",
        "--stems",
        "2",
        "--batch",
        "1,2",
        "--threads",
        "1",
        "--budget",
        "1",
        "--warmup",
        "0.02",
        "--out",
        out,
        "--plot",
        png,
        "-f",
        "json",
        "-q",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["schema_version"] == 1 and len(data["rows"]) == 4 and data["measured"] == 4
    assert {row["batch"] for row in data["rows"]} == {1, 2}
    assert data["baseline"]["config"]["batch"] == "1"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    r2 = cli(
        "sweep",
        tiny,
        "--widths",
        "0.5,1",
        "--stems",
        "2",
        "--batch",
        "1,2",
        "--threads",
        "1",
        "--out",
        out,
        "-f",
        "csv",
        "-q",
    )
    assert r2.exit_code == 0 and r2.stdout == out.read_text()
    r3 = cli("sweep", tiny, "--widths", "0.5,1", "--stems", "2", "--batch", "1,2", "--threads", "1", "--out", out, "-q")
    assert r3.exit_code == 0 and "nothing measured" in r3.stdout and "latency sweep" in r3.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--stems", "2,3"], "--stems"),
        (["--widths", "0,1"], "--widths"),
        (["--widths", "a"], "--widths: 'a' is not a number"),
        (["--runtimes", "tensorrt"], "unknown runtime 'tensorrt'"),
        (["--threads", "0"], "--threads"),
        (["--budget", "0"], "--budget"),
        (["--baseline", "depth=3"], "--baseline"),
        (["--plot", "x.txt"], "--plot"),
    ],
)
def test_cli_user_errors_are_one_line(cli, tiny, args, message):
    r = cli("sweep", tiny, "--budget", "1", *args)
    assert r.exit_code == 2, r.output
    err = r.stderr.strip()
    assert err.startswith("archlab: error:") and message in err and "\n" not in err


def test_table_errors_name_the_configuration(cli, tmp_path):
    t = tmp_path / "nohead.yaml"
    t.write_text(
        "name: nohead\ninput: [16, 16]\nrows:\n  - {type: conv, c: 8, k: 3, s: 2}\n"
        "  - {type: conv, c: 8, k: 3, padding: valid}\n"
    )
    r = cli("sweep", t, "--heads", "gap", "--budget", "1")
    assert r.exit_code == 2 and "has no head" in r.stderr
    # 4x4 -> 2x2 after the first layer: the 3x3 valid conv no longer fits, at stem 2 only
    r = cli("sweep", t, "--inputs", "16x16,4x4", "--stems", "1,2", "--budget", "1")
    assert r.exit_code == 2, r.output
    assert "configuration width 0.5, stem 2, input 4x4" in r.stderr and "field 'k'" in r.stderr


def test_pareto_front():
    from archlab.render.sweep_plots import pareto_front

    pts = [(100, 1.0), (200, 1.5), (150, 2.0), (400, 3.0), (400, 2.5), (50, 1.0)]
    # (150, 2.0) is beaten by (200, 1.5); (400, 3.0) by (400, 2.5); (50, 1.0) by (100, 1.0)
    assert pareto_front(pts) == [0, 1, 4]


@pytest.mark.slow
def test_multi_output_network_is_swept_and_checked(tiny_table):
    """A detector-like table with two outputs: every runtime is compared with eager on every output."""
    t = tiny_table("two_outputs")
    res = sw.run_sweep(sw.SweepOptions(str(t), widths=(1.0,), stems=("2",), runtimes=("eager", "onnxruntime"), **FAST))
    rows = {r["runtime"]: r for r in res.typed_rows()}
    assert set(rows) == {"eager", "onnxruntime"} and 0 <= rows["onnxruntime"]["max_abs_diff"] < 1e-4
