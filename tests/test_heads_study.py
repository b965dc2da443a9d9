"""The learned head study on a tiny configuration: paired initialisation, training, evaluation, learned maps,
resume by (seed, head), strict reloading of the stored state_dicts (archlab.studies.heads)."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import archlab  # noqa: E402
from archlab.studies.heads import HeadsConfig, format_study, load_run_state_dict, run_heads_study  # noqa: E402
from archlab.studies.heads.probe import learned_position_map  # noqa: E402
from archlab.studies.heads.train import batch_order, build_head_model, learning_rate  # noqa: E402

TINY = dict(
    width=0.125, steps=3, batch=8, train_identities=4, train_images=3, test_identities=3, test_images=3, record_every=2
)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, single_threaded_torch):
    """Three heads, three steps each: seconds, so the tests that use it are in the slow lane."""
    out = tmp_path_factory.mktemp("heads")
    calls = []
    study = run_heads_study(seeds=1, out=out, progress=lambda *a: calls.append(a), **TINY)
    return study, out, calls


def test_heads_of_a_seed_share_the_backbone_initialisation(single_threaded_torch):
    cfg = HeadsConfig(**TINY)
    models = {h: build_head_model(cfg, h, seed=5) for h in ("gap", "gdconv", "fc")}
    states = {h: m.state_dict() for h, m in models.items()}
    backbone = [k for k in states["gap"] if not k.startswith("head.")]
    assert len(backbone) > 50
    for h in ("gdconv", "fc"):
        assert all(torch.equal(states["gap"][k], states[h][k]) for k in backbone)
    other = build_head_model(cfg, "gap", seed=6).state_dict()
    assert not all(torch.equal(states["gap"][k], other[k]) for k in backbone)


def test_schedule_and_batch_order():
    cfg = HeadsConfig(steps=100, lr=0.1, warmup=10, batch=8)
    lrs = [learning_rate(s, cfg) for s in range(100)]
    assert lrs[0] == pytest.approx(0.01) and lrs[9] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] < 0.001
    order = batch_order(30, cfg, seed=1)
    assert order.shape == (100, 8)
    assert sorted(order.ravel()[:30]) == list(range(30))  # the first epoch is a permutation
    assert np.array_equal(order, batch_order(30, cfg, seed=1))
    assert not np.array_equal(order, batch_order(30, cfg, seed=2))


def test_learned_position_maps_of_gdconv_and_fc(single_threaded_torch):
    gd = archlab.build("mobilefacenet", width=0.125, head="gdconv")
    with torch.no_grad():
        k = gd.get_submodule("head.gdconv.dw").weight  # (C, 1, 7, 7)
        k.zero_()
        k[:, 0, 3, 3] = -2.0
        k[0, 0, 0, 0] = 64.0
    m = learned_position_map(gd, "gdconv", (k.shape[0], 7, 7))
    assert m[3, 3] == pytest.approx(2.0) and m[0, 0] == pytest.approx(1.0) and m[1, 1] == 0.0
    fc = archlab.build("mobilefacenet", width=0.125, head="fc")
    with torch.no_grad():
        w = fc.get_submodule("head.embedding.linear").weight  # (128, C * 49), flattened channel-major
        c = w.shape[1] // 49
        pos = torch.arange(49, dtype=w.dtype).repeat(c)  # input feature f sits at position f % 49
        w.copy_(-pos.expand_as(w))
    m = learned_position_map(fc, "fc", (c, 7, 7))
    assert np.allclose(m.ravel(), np.arange(49))
    assert np.array_equal(learned_position_map(fc, "gap", (c, 7, 7)), np.ones((7, 7)))


def test_a_one_step_study_of_one_head(tmp_path, single_threaded_torch):
    """The study driver end to end in the fast lane: one head, one step, stored and summarised."""
    study = run_heads_study(seeds=1, heads=("gap",), out=tmp_path, **{**TINY, "steps": 1, "record_every": 1})
    (run,) = study.runs
    assert study.trained == [(0, "gap")] and run.head == "gap" and run.curve["steps"] == [1]
    assert run.verification.genuine_pairs == 9 and run.verification.impostor_pairs == 27
    assert (tmp_path / "seed0" / "gap.pt").exists() and (tmp_path / "seed0" / "gap.json").exists()
    assert json.loads((tmp_path / "result.json").read_text())["heads"] == ["gap"]
    json.dumps(study.to_dict(), allow_nan=False)


@pytest.mark.slow
def test_tiny_study_records_every_head(tiny_study):
    study, out, calls = tiny_study
    assert [r.head for r in study.runs] == ["gap", "gdconv", "fc"]
    for r in study.runs:
        v = r.verification
        assert 0 <= v.auc <= 1 and 0 <= v.accuracy <= 1 and set(v.tar) == {"tar_1e-2", "tar_1e-3"}
        assert v.genuine_pairs == 9 and v.impostor_pairs == 27 and v.balanced_pairs == 18
        assert np.mean(r.learned_map.map) == pytest.approx(1.0) and np.mean(r.energy_map.map) == pytest.approx(1.0)
        assert r.curve["steps"] == [2, 3] and len(r.curve["loss"]) == 2
    assert study.summary("gap").learned_centre_corner["mean"] == pytest.approx(1.0)
    # width 0.125: FMap-end 64 x 7 x 7; FC: 3136 x 128 linear + BN(128); GDConv: 64 x 49 + BN(64) + 64 x 128 + BN(128)
    assert study.summary("fc").head_params == 3136 * 128 + 2 * 128
    assert study.summary("gdconv").head_params == 64 * 49 + 2 * 64 + 64 * 128 + 2 * 128
    assert study.difference("gdconv", "gap").n == 1
    json.dumps(study.to_dict(), allow_nan=False)
    assert "Paired differences" in format_study(study)


@pytest.mark.slow
def test_progress_reports_every_step(tiny_study):
    _, _, calls = tiny_study
    steps = [c for c in calls if "step" in c[2]]
    assert [c[0] for c in steps] == list(range(1, 10)) and all(c[1] == 9 for c in calls)
    assert steps[-1][2].startswith("seed 0 fc: step 3/3")


@pytest.mark.slow
def test_stored_state_dicts_load_strictly_into_fresh_builds(tiny_study, single_threaded_torch):
    study, out, _ = tiny_study
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (2, 3, 112, 112)).astype(np.float32))
    for head in ("gap", "gdconv", "fc"):
        assert (out / "seed0" / f"{head}.pt").exists() and (out / "seed0" / f"{head}.json").exists()
        model = archlab.build("mobilefacenet", width=0.125, head=head)
        model.load_state_dict(load_run_state_dict(study, 0, head), strict=True)
        from archlab.studies.heads.storage import load_state_dict

        stored = archlab.build("mobilefacenet", width=0.125, head=head)
        stored.load_state_dict(load_state_dict(out / "seed0" / f"{head}.pt"), strict=True)
        with torch.no_grad():
            assert torch.allclose(model.eval()(x), stored.eval()(x))
    assert not list(out.rglob("*.tmp"))
    assert json.loads((out / "result.json").read_text())["heads"] == ["gap", "gdconv", "fc"]


@pytest.mark.slow
def test_rerun_resumes_finished_runs(tiny_study, single_threaded_torch):
    study, out, _ = tiny_study
    calls = []
    again = run_heads_study(seeds=1, out=out, progress=lambda *a: calls.append(a), **TINY)
    assert again.trained == [] and len(again.resumed) == 3
    assert [c[:2] for c in calls] == [(9, 9)]
    assert again.runs[1].verification == study.runs[1].verification
    # a second seed trains only that seed
    more = run_heads_study(seeds=[0, 1], heads=("gap",), out=out, **TINY)
    assert more.trained == [(1, "gap")] and more.resumed == [(0, "gap")]


@pytest.mark.slow
def test_a_folder_of_other_settings_is_refused(tiny_study):
    _, out, _ = tiny_study
    with pytest.raises(archlab.ArchlabError, match="steps: 3 -> 4"):
        run_heads_study(seeds=1, out=out, **{**TINY, "steps": 4})


def test_unknown_heads_are_refused():
    with pytest.raises(archlab.ArchlabError, match="heads must be among"):
        run_heads_study(heads=("max",), **TINY)


@pytest.mark.slow
def test_worker_processes_reproduce_the_in_process_runs(tiny_study):
    study, _, _ = tiny_study
    calls = []
    parallel = run_heads_study(seeds=1, heads=("gdconv", "fc"), workers=2, progress=lambda *a: calls.append(a), **TINY)
    assert parallel.trained == [(0, "gdconv"), (0, "fc")] and parallel.out is None
    for head in ("gdconv", "fc"):
        a, b = study.runs[["gap", "gdconv", "fc"].index(head)], parallel.runs[["gdconv", "fc"].index(head)]
        assert (a.seed, a.head) == (b.seed, b.head)
        assert a.verification == b.verification and a.curve == b.curve
        assert all(
            torch.equal(v, parallel.state_dicts[(0, head)][k]) for k, v in load_run_state_dict(study, 0, head).items()
        )
    assert max(c[0] for c in calls) == 6
