"""Units of compute counts and the batch they are counted for.

archlab counts multiply-adds (MAdds, the MobileNet papers' Mult-Adds). ``--units flops`` reports
FLOPs = 2 x MAdds (a multiply and an add each count as one floating-point operation); other ops are
already counted one per arithmetic operation and do not change. ``--batch N`` reports counts for a batch
of N images (N x the per-image figure); parameters and weight bytes do not depend on the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from archlab.errors import OptionError

COMPUTE_UNITS = ("madds", "flops")
FLOPS_PER_MADD = 2
PER_IMAGE_KEYS = ("madds", "other_ops", "activations")  # counts that scale with the batch


@dataclass(frozen=True)
class Units:
    compute: str = "madds"  # madds | flops
    batch: int = 1

    def __post_init__(self) -> None:
        if self.compute not in COMPUTE_UNITS:
            raise OptionError(f"--units must be one of {', '.join(COMPUTE_UNITS)}, got {self.compute!r}")
        if not isinstance(self.batch, int) or isinstance(self.batch, bool) or self.batch < 1:
            raise OptionError(f"--batch must be an integer >= 1, got {self.batch!r}")

    @property
    def factor(self) -> int:
        """Compute units per multiply-add."""
        return FLOPS_PER_MADD if self.compute == "flops" else 1

    @property
    def is_default(self) -> bool:
        return self.compute == "madds" and self.batch == 1

    @property
    def column(self) -> str:
        """The name of the compute column/key: ``madds`` or ``flops``."""
        return self.compute

    @property
    def label(self) -> str:
        return "FLOPs (= 2 x MAdds)" if self.compute == "flops" else "MAdds"

    @property
    def scope(self) -> str:
        return f"per batch of {self.batch} images" if self.batch > 1 else "per image"

    def describe(self) -> str:
        return f"{self.label}, {self.scope}"

    def compute_value(self, madds: int, *, per_image: bool = False) -> int:
        """MAdds (per image) -> the requested unit, per batch unless ``per_image``."""
        return madds * self.factor * (1 if per_image else self.batch)

    def scale(self, key: str, value: int) -> int:
        """A per-image count -> per batch (and MAdds -> FLOPs when asked); other keys unchanged."""
        if key == "madds":
            return self.compute_value(value)
        if key in PER_IMAGE_KEYS:
            return value * self.batch
        return value

    def to_dict(self) -> dict:
        return {
            "compute": self.compute,
            "flops_per_madd": FLOPS_PER_MADD,
            "batch": self.batch,
            "note": "totals/rows/layers are per image; 'flops' = 2 x 'madds' when units are flops; "
            "'per_batch' holds batch x the per-image counts",
        }

    def augment(self, data: dict) -> dict:
        """Add the units section (and ``flops``, ``per_batch``) to a profile's JSON; counts stay integers."""
        data["units"] = self.to_dict()
        if self.compute == "flops":
            for section in ("rows", "layers"):
                for rec in data.get(section, []):
                    if "madds" in rec:
                        rec["flops"] = rec["madds"] * FLOPS_PER_MADD
            if "totals" in data:
                data["totals"]["flops"] = data["totals"]["madds"] * FLOPS_PER_MADD
        if self.batch > 1 and "totals" in data:
            per = {k: v * self.batch for k, v in data["totals"].items() if k in PER_IMAGE_KEYS}
            if self.compute == "flops":
                per["flops"] = data["totals"]["madds"] * FLOPS_PER_MADD * self.batch
            data["per_batch"] = {"batch": self.batch, "totals": per}
        return data
