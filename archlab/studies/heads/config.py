"""The settings of the learned head study (no torch): one frozen record, also the key that resuming checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

HEADS = ("gap", "gdconv", "fc")
FARS = (1e-2, 1e-3)
# ``archlab heads --quick`` and ``archlab report --quick``: one seed, fewer steps, a smaller face set (about a
# minute on one core); a smoke run of the pipeline, not the study (its numbers are far from converged)
QUICK = {"steps": 40, "seeds": 1, "batch": 32, "train_identities": 60, "test_identities": 30}


@dataclass(frozen=True)
class HeadsConfig:
    """Everything that decides what one (seed, head) run computes.

    Data: ``train_identities`` x ``train_images`` training faces and ``test_identities`` x ``test_images``
    held-out faces (``archlab.data.faces``, ``data_seed``, ``clutter`` distractors per image), the same for
    every seed. Training: CosFace (scale ``cosface_s``, margin ``cosface_m``) over the training identities,
    SGD with Nesterov momentum, ``lr`` after a linear warm-up of ``warmup`` steps (``None``: 5% of the steps),
    cosine decay to 0, weight decay on conv/linear weights and the class weights. ``record_every``: the
    training curve keeps the mean loss of each block of that many steps.
    """

    net: str = "mobilefacenet"
    width: float = 0.125
    steps: int = 600
    batch: int = 64
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup: int | None = None
    cosface_s: float = 30.0
    cosface_m: float = 0.25
    train_identities: int = 400
    train_images: int = 10
    test_identities: int = 100
    test_images: int = 10
    data_seed: int = 0
    clutter: int = 10
    impostor_seed: int = 0  # the impostor sample of the balanced pairs and the 10 folds
    record_every: int = 10
    channels_last: bool = True  # a CPU speed-up (~20%); the saved state_dicts are contiguous either way

    def __post_init__(self):
        if self.steps < 1 or self.batch < 2:
            raise ValueError("steps must be >= 1 and batch >= 2")
        if self.train_identities < 2 or self.test_identities < 2 or self.test_images < 2:
            raise ValueError("need >= 2 training identities and >= 2 test identities with >= 2 images each")

    @property
    def warmup_steps(self) -> int:
        return self.warmup if self.warmup is not None else max(1, self.steps // 20)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> HeadsConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def differences(self, other: HeadsConfig) -> list[str]:
        """The settings that differ, as ``name: self -> other``."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k}: {a[k]!r} -> {b[k]!r}" for k in a if a[k] != b[k]]
