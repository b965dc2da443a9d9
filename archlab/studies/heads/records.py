"""Result records of the learned head study (no torch): one per (seed, head) run, per head over seeds,
paired differences, and the whole study. Each has ``to_dict()`` (JSON-ready); runs also ``from_dict()``
(that is how finished runs are read back when a study resumes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from archlab.studies.heads import metrics as M

DIFFERENCES = (("gdconv", "gap"), ("fc", "gap"), ("fc", "gdconv"))
METRICS = ("auc", "accuracy", "tar_1e-2", "tar_1e-3")


def far_key(far: float) -> str:
    return f"tar_{far:.0e}".replace("e-0", "e-")


@dataclass
class Verification:
    """Verification on the held-out identities. AUC and TAR@FAR use every pair; accuracy (10-fold threshold
    selection) uses all genuine pairs plus an equal seeded sample of impostor pairs."""

    auc: float
    accuracy: float
    accuracy_sd: float | None
    tar: dict  # far_key(far) -> TAR
    genuine_pairs: int
    impostor_pairs: int
    balanced_pairs: int

    def value(self, metric: str) -> float:
        return self.tar[metric] if metric.startswith("tar_") else getattr(self, metric)


@dataclass
class PositionMap:
    """A 7x7 (H x W) map over FMap-end normalised to mean 1, and its ratios (``metrics.map_summary``)."""

    map: list
    centre_corner: float
    inner_ring: float
    ring_range: list
    inner_range: list
    lowest: list  # [row, column] of the smallest value

    @classmethod
    def of(cls, grid) -> PositionMap:
        return cls(**M.map_summary(grid))

    @property
    def corners(self) -> list[float]:
        g = self.map
        return [g[0][0], g[0][-1], g[-1][0], g[-1][-1]]


@dataclass
class RunRecord:
    """One trained head: what it scores, what it learned, how training went."""

    seed: int
    head: str
    verification: Verification
    learned_map: PositionMap
    energy_map: PositionMap
    curve: dict  # {"steps": [...], "loss": [...]}
    train_seconds: float
    eval_seconds: float
    config: dict
    init_energy_map: PositionMap | None = None  # the same seed's untrained backbone (the baseline)
    state_dict_file: str | None = None

    @property
    def seconds_per_step(self) -> float:
        return self.train_seconds / max(1, self.config["steps"])

    def to_dict(self) -> dict:
        out = asdict(self)
        out["seconds_per_step"] = self.seconds_per_step
        return out

    @classmethod
    def from_dict(cls, raw: dict) -> RunRecord:
        raw = {k: v for k, v in raw.items() if k != "seconds_per_step"}
        return cls(
            **{
                **raw,
                "verification": Verification(**raw["verification"]),
                "learned_map": PositionMap(**raw["learned_map"]),
                "energy_map": PositionMap(**raw["energy_map"]),
                "init_energy_map": PositionMap(**raw["init_energy_map"]) if raw.get("init_energy_map") else None,
            }
        )


def spread(values) -> dict:
    """{mean, sd, min, max} of a list of numbers (sd None for one value)."""
    mean, sd = M.mean_sd(values)
    return {"mean": mean, "sd": sd, "min": float(np.min(values)), "max": float(np.max(values))}


@dataclass
class HeadSummary:
    """One head over the seeds: metric spreads, learned-map and feature-energy ratios, head cost."""

    head: str
    seeds: list
    metrics: dict  # metric -> spread()
    learned_centre_corner: dict
    learned_inner_ring: dict
    learned_ring_range: list  # [lowest, highest] ring value over seeds
    learned_inner_range: list
    learned_lowest: list  # per seed [row, column]
    energy_centre_corner: dict
    energy_inner_ring: dict
    energy_corner_range: list  # [lowest, highest] corner energy (mean-1) over seeds
    params: int | None = None  # the whole network (archlab.profile(...).totals)
    madds: int | None = None
    head_params: int | None = None  # the head row alone
    head_madds: int | None = None
    seconds_per_step: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def summarise_head(head: str, runs: list[RunRecord], cost: dict | None = None) -> HeadSummary:
    runs = sorted(runs, key=lambda r: r.seed)
    lm, em = [r.learned_map for r in runs], [r.energy_map for r in runs]
    return HeadSummary(
        head=head,
        seeds=[r.seed for r in runs],
        metrics={m: spread([r.verification.value(m) for r in runs]) for m in METRICS},
        learned_centre_corner=spread([m.centre_corner for m in lm]),
        learned_inner_ring=spread([m.inner_ring for m in lm]),
        learned_ring_range=[min(m.ring_range[0] for m in lm), max(m.ring_range[1] for m in lm)],
        learned_inner_range=[min(m.inner_range[0] for m in lm), max(m.inner_range[1] for m in lm)],
        learned_lowest=[m.lowest for m in lm],
        **{f"energy_{k}": v for k, v in energy_spread(em).items()},
        **{k: (cost or {}).get(k) for k in ("params", "madds", "head_params", "head_madds")},  # type: ignore[arg-type]
        seconds_per_step=float(np.mean([r.seconds_per_step for r in runs])),
    )


@dataclass
class PairedDifference:
    """``a - b`` per seed for one metric, with the count of seeds where a is ahead."""

    a: str
    b: str
    metric: str
    seeds: list
    diffs: list
    mean: float
    sd: float | None
    positive: int
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def paired_differences(runs: list[RunRecord], heads) -> list[PairedDifference]:
    by = {(r.head, r.seed): r for r in runs}
    out = []
    for a, b in DIFFERENCES:
        if a not in heads or b not in heads:
            continue
        for metric in METRICS:
            va = {s: r.verification.value(metric) for (h, s), r in by.items() if h == a}
            vb = {s: r.verification.value(metric) for (h, s), r in by.items() if h == b}
            if set(va) & set(vb):
                out.append(PairedDifference(a, b, metric, **M.paired_difference(va, vb)))
    return out


@dataclass
class HeadsStudy:
    """The learned head study: settings, every run, per-head summaries, paired differences."""

    config: dict
    heads: list
    seeds: list
    runs: list  # RunRecord
    summaries: list  # HeadSummary, in the order of heads
    differences: list  # PairedDifference
    wall_seconds: float
    trained: list = field(default_factory=list)  # [(seed, head)] trained in this call
    resumed: list = field(default_factory=list)  # [(seed, head)] read back from the output folder
    out: str | None = None
    init_energy: dict | None = None  # energy_spread() of the untrained backbones (one per seed)
    state_dicts: dict = field(default_factory=dict, repr=False, compare=False)  # (seed, head) -> trained here
    quick: bool = False  # run with the quick settings (archlab heads --quick): a smoke run, not the study
    files: list = field(default_factory=list)  # figures written into the output folder

    def summary(self, head: str) -> HeadSummary:
        return next(s for s in self.summaries if s.head == head)

    def difference(self, a: str, b: str, metric: str = "auc") -> PairedDifference:
        return next(d for d in self.differences if (d.a, d.b, d.metric) == (a, b, metric))

    def to_dict(self) -> dict:
        return {
            "config": self.config,
            "heads": list(self.heads),
            "seeds": list(self.seeds),
            "runs": [r.to_dict() for r in self.runs],
            "summaries": [s.to_dict() for s in self.summaries],
            "differences": [d.to_dict() for d in self.differences],
            "wall_seconds": self.wall_seconds,
            "trained": [list(t) for t in self.trained],
            "resumed": [list(t) for t in self.resumed],
            "out": self.out,
            "init_energy": self.init_energy,
            "quick": self.quick,
            "files": list(self.files),
        }


def energy_spread(maps: list[PositionMap]) -> dict:
    """Centre/corner and inner/ring spreads and the [lowest, highest] corner value of mean-1 energy maps."""
    return {
        "centre_corner": spread([m.centre_corner for m in maps]),
        "inner_ring": spread([m.inner_ring for m in maps]),
        "corner_range": [min(min(m.corners) for m in maps), max(max(m.corners) for m in maps)],
    }


def assemble(
    config: dict,
    heads,
    seeds,
    runs: list[RunRecord],
    costs: dict,
    wall_seconds: float,
    trained=(),
    resumed=(),
    out: str | None = None,
) -> HeadsStudy:
    """The study record from its runs (``costs``: head -> {params, madds})."""
    summaries = [summarise_head(h, [r for r in runs if r.head == h], costs.get(h)) for h in heads]
    init = {r.seed: r.init_energy_map for r in runs if r.init_energy_map is not None}
    return HeadsStudy(
        config=config,
        heads=list(heads),
        seeds=list(seeds),
        runs=sorted(runs, key=lambda r: (r.seed, list(heads).index(r.head))),
        summaries=summaries,
        differences=paired_differences(runs, heads),
        wall_seconds=wall_seconds,
        trained=list(trained),
        resumed=list(resumed),
        out=out,
        init_energy=energy_spread([init[k] for k in sorted(init)]) if init else None,
    )
