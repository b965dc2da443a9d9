"""The paired-seed learned head study: train GAP, GDConv and FC heads from one backbone initialisation per
seed on the synthetic faces, evaluate them on held-out identities, compare them seed by seed.

    >>> from archlab.studies.heads import run_heads_study
    >>> study = run_heads_study(steps=600, seeds=3, out="runs/heads", workers=2)   # doctest: +SKIP
    >>> study.summary("gdconv").metrics["auc"]["mean"]                              # doctest: +SKIP

One job = one (seed, head) run; jobs run in this process (``workers=1``) or in ``workers`` spawned processes
with one torch thread each. Every process draws the faces itself (deterministic, ~4 ms an image).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from archlab.errors import ArchlabError
from archlab.ir.expand import plan_of
from archlab.studies.heads.config import HEADS, HeadsConfig
from archlab.studies.heads.records import HeadsStudy, PositionMap, RunRecord, assemble
from archlab.studies.heads.storage import StudyFolder

Progress = Callable[[int, int, str], None]
_DATA: dict = {}  # per process: the faces and pairs of the last data settings
_QUEUE = None  # in a worker process: where step reports go


def study_data(cfg: HeadsConfig) -> dict:
    """The training faces, the held-out faces and their pairs (drawn once per process and kept)."""
    from archlab.data.faces import make_faces
    from archlab.studies.heads import metrics as M

    key = (
        cfg.train_identities,
        cfg.train_images,
        cfg.test_identities,
        cfg.test_images,
        cfg.data_seed,
        cfg.clutter,
        cfg.impostor_seed,
    )
    if key not in _DATA:
        _DATA.clear()
        train = make_faces("train", cfg.train_identities, cfg.train_images, cfg.data_seed, cfg.clutter)
        test = make_faces("test", cfg.test_identities, cfg.test_images, cfg.data_seed, cfg.clutter)
        pairs = {"all": M.all_pairs(test.labels), "balanced": M.balanced_pairs(test.labels, cfg.impostor_seed)}
        _DATA[key] = {"train": train, "test": test, "pairs": pairs}
    return _DATA[key]


def run_one(cfg: HeadsConfig, seed: int, head: str, on_step: Callable[[int, float], None] | None = None):
    """Train and evaluate one head: (RunRecord, contiguous state_dict). Uses the current torch threads."""
    from archlab.studies.heads.probe import evaluate_head, initial_energy
    from archlab.studies.heads.train import contiguous_state_dict, train_head

    data = study_data(cfg)
    init_energy = initial_energy(cfg, seed, data["test"].images)
    model, curve, train_seconds = train_head(cfg, head, seed, data["train"].images, data["train"].labels, on_step)
    start = time.perf_counter()
    verification, energy, learned = evaluate_head(model, head, cfg, data["test"].images, data["pairs"])
    record = RunRecord(
        seed=seed,
        head=head,
        verification=verification,
        learned_map=PositionMap.of(learned),
        energy_map=PositionMap.of(energy),
        curve=curve,
        train_seconds=train_seconds,
        eval_seconds=time.perf_counter() - start,
        config=cfg.to_dict(),
        init_energy_map=PositionMap.of(init_energy),
    )
    return record, contiguous_state_dict(model)


def _worker_init(q) -> None:
    import torch

    global _QUEUE
    _QUEUE = q
    torch.set_num_threads(1)


def _worker_job(cfg_dict: dict, seed: int, head: str, out: str | None):
    """A job in a worker process: train, evaluate, store; step reports go to the shared queue."""
    cfg = HeadsConfig.from_dict(cfg_dict)

    def on_step(step, loss):
        assert _QUEUE is not None
        _QUEUE.put((seed, head, step, loss))

    record, state = run_one(cfg, seed, head, on_step)
    if out is not None:
        StudyFolder(out, cfg).save(record, state)
    return record.to_dict(), state


class _Tracker:
    """Turns step reports of several jobs into progress(done, total, description) calls."""

    def __init__(self, progress: Progress | None, total: int, done: int, steps: int):
        self.progress, self.total, self.steps = progress, total, steps
        self.base = done
        self.current: dict[tuple[int, str], int] = {}

    def note(self, text: str) -> None:
        if self.progress:
            self.progress(self.done, self.total, text)

    @property
    def done(self) -> int:
        return self.base + sum(self.current.values())

    def step(self, seed: int, head: str, step: int, loss: float) -> None:
        self.current[(seed, head)] = step
        self.note(f"seed {seed} {head}: step {step}/{self.steps}, loss {loss:.3f}")


def _step_reporter(tracker: _Tracker, seed: int, head: str):
    def on_step(step: int, loss: float) -> None:
        tracker.step(seed, head, step, loss)

    return on_step


def _run_serial(cfg, jobs, folder, tracker) -> tuple[dict, dict]:
    import torch

    records, states = {}, {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for seed, head in jobs:
            record, state = run_one(cfg, seed, head, _step_reporter(tracker, seed, head))
            if folder is not None:
                folder.save(record, state)
            records[(seed, head)], states[(seed, head)] = record, state
    finally:
        torch.set_num_threads(threads)
    return records, states


def _run_parallel(cfg, jobs, out, tracker, workers) -> tuple[dict, dict]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    records, states = {}, {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(q,))
    try:
        pending = {pool.submit(_worker_job, cfg.to_dict(), s, h, out): (s, h) for s, h in jobs}
        while pending:
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(q, tracker)
            for fut in finished:
                key = pending.pop(fut)
                raw, state = fut.result()
                records[key], states[key] = RunRecord.from_dict(raw), state
        _drain(q, tracker)
    except BaseException:
        for proc in list(getattr(pool, "_processes", {}).values()):  # our own workers, by object
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return records, states


def _drain(q, tracker) -> None:
    while True:
        try:
            tracker.step(*q.get_nowait())
        except queue_mod.Empty:
            return


def head_costs(cfg: HeadsConfig, heads: Iterable[str]) -> dict:
    """Per head: the network's params and MAdds (``archlab.profile(...).totals``) and the head row's own."""
    out = {}
    for head in heads:
        totals = plan_of(cfg.net, width=cfg.width, head=head).totals()
        plan = plan_of(cfg.net, width=cfg.width, head=head)
        row = next(r for r in plan.rows if r.index == "head")
        layers = [plan.layer(n) for n in row.layers]
        out[head] = {
            "params": int(totals["params"]),
            "madds": int(totals["madds"]),
            "head_params": sum(int(x.params) for x in layers),
            "head_madds": sum(int(x.madds) for x in layers),
        }
    return out


def run_heads_study(
    net: str = "mobilefacenet",
    width: float = 0.125,
    steps: int = 600,
    seeds: int | Iterable[int] = 3,
    heads: Iterable[str] = HEADS,
    out: str | Path | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    **settings,
) -> HeadsStudy:
    """Run (or resume) the study; ``seeds``: a count (0..n-1) or the seeds themselves.

    ``settings``: any other HeadsConfig field (batch, lr, train_identities, clutter, ...). With ``out``,
    finished (seed, head) runs found there are read back instead of retrained, and every new run is stored
    as it finishes (see ``storage``). ``progress(done, total, description)`` is called after every training
    step (and with unchanged ``done`` for phase notes); ``total`` counts the steps of every run, resumed
    ones included (they count as done from the start)."""
    start = time.perf_counter()
    heads = tuple(heads)
    unknown = [h for h in heads if h not in HEADS]
    if unknown or not heads:
        raise ArchlabError(f"heads must be among {', '.join(HEADS)}, got {', '.join(heads) or 'none'}")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    cfg = HeadsConfig(net=net, width=width, steps=steps, **settings)
    folder = StudyFolder(out, cfg) if out is not None else None
    resumed = {(s, h): folder.load(s, h) for s in seed_list for h in heads} if folder else {}
    resumed = {k: v for k, v in resumed.items() if v is not None}
    jobs = [(s, h) for s in seed_list for h in heads if (s, h) not in resumed]
    tracker = _Tracker(progress, len(seed_list) * len(heads) * steps, len(resumed) * steps, steps)
    tracker.note(f"{len(resumed)} runs resumed, {len(jobs)} to train")
    if workers > 1 and len(jobs) > 1:
        records, states = _run_parallel(cfg, jobs, None if out is None else str(out), tracker, min(workers, len(jobs)))
    else:
        records, states = _run_serial(cfg, jobs, folder, tracker)
    runs = list(resumed.values()) + list(records.values())
    study = assemble(
        cfg.to_dict(),
        heads,
        seed_list,
        runs,
        head_costs(cfg, heads),
        time.perf_counter() - start,
        trained=jobs,
        resumed=sorted(resumed),
        out=None if out is None else str(out),
    )
    study.state_dicts.update(states)
    if folder is not None:
        folder.save_result(study.to_dict())
    return study


def load_run_state_dict(study: HeadsStudy, seed: int, head: str) -> dict:
    """A run's trained state_dict: kept in memory for runs trained in this call, else read from the folder."""
    held = study.state_dicts.get((seed, head))
    if held is not None:
        return held
    if study.out is None:
        raise ArchlabError(f"seed {seed} {head}: no state_dict in memory and no output folder")
    from archlab.studies.heads.storage import load_state_dict

    return load_state_dict(Path(study.out) / f"seed{seed}" / f"{head}.pt")


def read_heads_study(out: str | Path) -> HeadsStudy:
    """A study folder's finished runs read back without training (``archlab report --heads-from DIR``)."""
    import json

    root = Path(out)
    marker = root / "study.json"
    if not marker.is_file():
        raise ArchlabError(f"{root}: not a head study folder (no study.json); run `archlab heads --out {root}` first")
    cfg = HeadsConfig.from_dict(json.loads(marker.read_text(encoding="utf-8"))["config"])
    folder = StudyFolder(root, cfg)
    seeds = sorted(int(p.name[4:]) for p in root.glob("seed*") if p.is_dir() and p.name[4:].isdigit())
    loaded = {(s, h): folder.load(s, h) for s in seeds for h in HEADS}
    runs = {k: v for k, v in loaded.items() if v is not None}
    heads = [h for h in HEADS if any(k[1] == h for k in runs)]
    if not runs:
        raise ArchlabError(f"{root}: no finished (seed, head) run in the folder")
    seeds = sorted({s for s, _ in runs})
    result = root / "result.json"
    wall = json.loads(result.read_text(encoding="utf-8")).get("wall_seconds", 0.0) if result.is_file() else 0.0
    study = assemble(cfg.to_dict(), heads, seeds, list(runs.values()), head_costs(cfg, heads), wall, out=str(root))
    study.resumed = sorted(runs)
    return study
