"""The records of the effective-receptive-field study (``archlab rf``) and the statistics of a mass map.

Pure Python (numpy inside the functions). The measurement: :mod:`archlab.nn.erf`; the study:
:mod:`archlab.studies.rf`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from archlab.static.display import Display, options_suffix
from archlab.static.receptive import RF, as_number

MASS_LEVELS = (0.5, 0.9)
# Student's t quantile 0.975 for 1..30 degrees of freedom (any statistics table): 95% two-sided intervals
T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
NOISE_WORDS = "no structure beyond initialisation noise"  # a random-weight ratio whose interval covers 1
PROBE_NOISE_WORDS = "no structure beyond probe-to-probe noise"  # the same for trained weights


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (table up to 30, then the
    Cornish-Fisher expansion around the normal quantile, within 1e-3 of the exact value)."""
    if df < 1:
        raise ValueError("t975 needs df >= 1")
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass
class Interval:
    """The mean of per-sample values with its 95% t interval (``low``/``high`` None below 2 samples)."""

    values: list
    mean: float
    low: float | None
    high: float | None

    @property
    def n(self) -> int:
        return len(self.values)

    def covers(self, x: float = 1.0) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return self.low <= x <= self.high

    def label(self, digits: int = 3) -> str:
        if self.low is None or self.high is None:
            return f"{self.mean:.{digits}f} (N = 1: no interval)"
        if self.low == self.high:
            return f"{self.mean:.{digits}f} (the same in every sample)"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def verdict(self, random: bool) -> str:
        """What a ratio's interval says: structure (it excludes 1) or the noise words (it covers 1)."""
        if self.low is None or self.high is None:
            return "one sample: no interval (use N >= 2)"
        if self.low == self.high:
            return "1 by construction" if math.isclose(self.mean, 1.0) else "fixed by the weights (no sampling)"
        if self.low <= 1 <= self.high:
            return NOISE_WORDS if random else PROBE_NOISE_WORDS
        return "centre above corners" if self.mean > 1 else "centre below corners"

    def to_dict(self) -> dict:
        return {
            "mean": _round(self.mean, 5),
            "ci95": None if self.low is None else [_round(self.low, 5), _round(self.high, 5)],
            "n": self.n,
        }


def interval(values) -> Interval:
    """Mean ± t(0.975, n-1) sd / sqrt(n) of the finite values (sample sd, ddof 1)."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if not v:
        raise ValueError("interval of no values")
    mean = sum(v) / len(v)
    if len(v) < 2:
        return Interval(v, mean, None, None)
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1))
    half = t975(len(v) - 1) * sd / math.sqrt(len(v))
    return Interval(v, mean, mean - half, mean + half)


def centre_block(h: int, w: int) -> list[tuple[int, int]]:
    """The central unit (odd sizes) or the central 2 units per even axis."""
    return [(i, j) for i in range((h - 1) // 2, h // 2 + 1) for j in range((w - 1) // 2, w // 2 + 1)]


def corner_units(h: int, w: int) -> list[tuple[int, int]]:
    return [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]


def centre_corner_ratio(grid) -> float:
    """Centre unit (or the central 2x2 for even sizes) over the mean of the four corner units."""
    import numpy as np

    g = np.asarray(grid, dtype=np.float64)
    h, w = g.shape
    centre = np.mean([g[u] for u in centre_block(h, w)])
    corners = np.mean([g[u] for u in corner_units(h, w)])
    return float(centre / corners)


def inner_ring_ratio(grid) -> float:
    """Mean of the inner (h-2)x(w-2) block over the mean of the outer ring of units."""
    import numpy as np

    g = np.asarray(grid, dtype=np.float64)
    ring = np.ones(g.shape, dtype=bool)
    ring[1:-1, 1:-1] = False
    return float(g[~ring].mean() / g[ring].mean())


def key_units(h: int, w: int) -> list[tuple[int, int]]:
    """The four corners, the edge midpoints and the centre of an h x w grid (at most 9 units)."""
    rows, cols = sorted({0, h // 2, h - 1}), sorted({0, w // 2, w - 1})
    return [(i, j) for i in rows for j in cols]


def mass_stats(m, y0: float = 0.0, x0: float = 0.0, levels=MASS_LEVELS) -> tuple[tuple[float, float], list[float]]:
    """Centre of mass (y, x) of a non-negative map and the radii around it holding each share of ``levels``.
    Pixel (r, c) of the map sits at image coordinates (r + y0, c + x0)."""
    import numpy as np

    m = np.asarray(m, dtype=float)
    total = m.sum()
    yy, xx = np.mgrid[0 : m.shape[0], 0 : m.shape[1]]
    yy, xx = yy + y0, xx + x0
    cy, cx = float((m * yy).sum() / total), float((m * xx).sum() / total)
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2).ravel()
    order = np.argsort(d, kind="stable")
    cum = np.cumsum(m.ravel()[order]) / total
    radii = [float(d[order][min(np.searchsorted(cum, level), len(cum) - 1)]) for level in levels]
    return (cy, cx), radii


@dataclass
class UnitGrid:
    """Per FMap-end unit (i, j): theoretical and effective RF measures. Arrays are (h, w); NaN = not measured."""

    shape: tuple[int, int]
    centres: list  # [[(y, x)]]: RF centres in image coordinates
    rf_inside: list  # [[float]]: share of the theoretical RF box on the image
    erf_inside: Any  # np.ndarray (h, w): share of ERF mass on the image
    com: Any  # np.ndarray (h, w, 2): ERF centre of mass (y, x), image coordinates
    r50: Any  # np.ndarray (h, w)
    r90: Any  # np.ndarray (h, w)
    canvas: tuple[int, int, int, int]  # (top, left, height, width): image placement on the canvas
    maps: dict = field(default_factory=dict)  # (i, j) -> canvas-sized ERF (mass 1)
    samples: int = 0
    method: str = "canvas"  # real: the network as it runs (padding inside every layer); canvas: zero margin
    weights: str = "random"  # random | trained
    face_share: Any = None  # np.ndarray (h, w): share of ERF mass on the face region (mean over samples)
    face_samples: dict = field(default_factory=dict)  # (i, j) -> [face share per sample]
    image_samples: dict = field(default_factory=dict)  # (i, j) -> [image share per sample] (canvas)

    @property
    def units(self) -> list[tuple[int, int]]:
        return sorted(self.maps)

    def ratio(self, which: str = "face") -> Interval | None:
        """Centre over corner units of the face (or image) share, per sample, with its interval. The centre:
        the central unit, or the measured ones of the central 2 x 2 (even sizes)."""
        h, w = self.shape
        per = self.face_samples if which == "face" else self.image_samples
        centre = [u for u in centre_block(h, w) if per.get(u)]
        corners = corner_units(h, w)
        if not centre or any(not per.get(u) for u in corners):
            return None
        n = min(len(per[u]) for u in centre + corners)
        pairs = [(sum(per[u][k] for u in centre) / len(centre), sum(per[u][k] for u in corners) / 4) for k in range(n)]
        if any(corner <= 0 for _, corner in pairs):
            return None  # a corner unit's ERF holds none of the region in some sample: no ratio (ratio_note says so)
        return interval([c / corner for c, corner in pairs])

    def ratio_note(self, which: str = "face") -> str | None:
        """Why :meth:`ratio` is None although every unit was measured (the corners hold none of the region)."""
        h, w = self.shape
        per = self.face_samples if which == "face" else self.image_samples
        corners = corner_units(h, w)
        if self.ratio(which) is not None or any(not per.get(u) for u in corners):
            return None
        n = min(len(per[u]) for u in corners)
        if any(sum(per[u][k] for u in corners) <= 0 for k in range(n)):
            region = "face region" if which == "face" else "image"
            return f"undefined: the corner units' ERFs hold none of the {region} (a receptive field too small)"
        return None


@dataclass
class HeadResult:
    """One head: its cost and what it looks at."""

    name: str
    params: int
    params_deployed: int
    madds: int
    other_ops: int
    out_dim: int
    layers: tuple[str, ...]
    importance: Any = None  # np.ndarray (H, W), mass 1
    com: tuple[float, float] | None = None
    com_offset: float | None = None  # max over axes of |com - image centre| / image size
    r50: float | None = None
    r90: float | None = None
    position_weight: Any = None  # np.ndarray (h, w), sums to 1
    weights: str = "random"  # random | trained | backbone (trained backbone, random head)
    position_cc: Interval | None = None  # centre/corner of the position weight, per sample
    position_ir: Interval | None = None  # inner/ring of the position weight, per sample (grids >= 3x3)
    face_share: Interval | None = None  # share of the importance map on the face region, per sample

    @property
    def centre_corner_ratio(self) -> float | None:
        """Position weight of the central FMap-end unit(s) over the mean of the four corners."""
        if self.position_weight is None or not self.position_weight.min() > 0:
            return None
        return centre_corner_ratio(self.position_weight)

    def to_dict(self) -> dict:
        out = {
            "params": self.params,
            "params_deployed": self.params_deployed,
            "madds": self.madds,
            "other_ops": self.other_ops,
            "out_dim": self.out_dim,
            "layers": list(self.layers),
            "weights": self.weights,
        }
        if self.importance is not None and self.com is not None:
            out.update(
                {
                    "importance_centre_of_mass": [round(v, 3) for v in self.com],
                    "importance_com_offset": _round(self.com_offset, 5),
                    "importance_r50": _round(self.r50, 3),
                    "importance_r90": _round(self.r90, 3),
                    "position_weight": _grid(self.position_weight, 5),
                    "position_centre_corner_ratio": _round(self.centre_corner_ratio, 4),
                }
            )
        for key, iv in (
            ("position_centre_corner", self.position_cc),
            ("position_inner_ring", self.position_ir),
        ):
            if iv is not None:
                out[key] = {**iv.to_dict(), "verdict": iv.verdict(self.weights == "random")}
        if self.face_share is not None:
            out["importance_face_share"] = self.face_share.to_dict()
        return out


@dataclass
class RFStudy:
    model: str
    options: dict
    image_hw: tuple[int, int]
    fmap: str
    fmap_shape: tuple[int, int, int]
    rf: RF
    grid: UnitGrid | None
    heads: dict  # name -> HeadResult
    samples: int
    seed: int
    weights: str | None
    inputs: str
    image: Any  # np.ndarray (H, W, 3) in [0, 1]: the backdrop of the figures; None: the inputs were noise
    image_source: str
    notes: list = field(default_factory=list)
    method: str = "real"  # how the unit grid was measured: real (the network as it runs) or canvas
    erf: str = "abs"  # abs: |d unit / d input| summed over channels; grad2: squared gradient (Luo et al.)
    random_grid: UnitGrid | None = None  # with trained weights: the same measure with random weights
    face_region: Any = None  # np.ndarray (H, W) bool: the mean face region of the probes (for outlines)
    face_area: float | None = None  # mean share of the image that the face region covers

    def __repr__(self) -> str:
        units = f"{len(self.grid.maps)} units" if self.grid is not None else "no unit grid"
        heads = ", ".join(self.heads) or "no heads"
        return (
            f"<RFStudy {self.model}{options_suffix(self.options)}: FMap-end {'x'.join(map(str, self.fmap_shape))}, "
            f"RF {self.rf.label()} px jump {self.rf.label('jump')}; N={self.samples}, {units}, heads {heads}; "
            f"weights {self.weights or 'random'}>"
        )

    def _repr_html_(self) -> str | None:
        return Display.html_of(self)

    def to_frame(self):
        """A pandas DataFrame, one record per measured FMap-end unit: (i, j), its theoretical RF (``rf``,
        ``jump``, centre, share of the box on the image) and its ERF (share of mass on the image, centre of mass,
        r50, r90)."""
        from archlab.static.frames import frame, rf_columns

        g = self.grid
        records: list[dict] = []
        for i, j in g.units if g is not None else []:
            assert g is not None
            cy, cx = g.centres[i][j]
            records.append(
                {
                    "i": i,
                    "j": j,
                    **rf_columns(self.rf),
                    "rf_centre_y": as_number(cy),
                    "rf_centre_x": as_number(cx),
                    "rf_inside": float(g.rf_inside[i][j]),
                    "erf_inside": float(g.erf_inside[i, j]),
                    "erf_com_y": float(g.com[i, j, 0]),
                    "erf_com_x": float(g.com[i, j, 1]),
                    "erf_r50": float(g.r50[i, j]),
                    "erf_r90": float(g.r90[i, j]),
                }
            )
        return frame(records)

    def to_dict(self) -> dict:
        g = self.grid
        units = None
        if g is not None:
            units = {
                **grid_dict(g),
                "rf_inside_fraction": _grid(g.rf_inside, 5),
                "erf_mass_inside": _grid(g.erf_inside, 5),
                "centre": [[[as_number(v) for v in c] for c in row] for row in g.centres],
                "erf_centre_of_mass": [[[_round(v, 3) for v in c] for c in row] for row in g.com.tolist()],
                "erf_r50": _grid(g.r50, 3),
                "erf_r90": _grid(g.r90, 3),
                "canvas": {"top": g.canvas[0], "left": g.canvas[1], "height": g.canvas[2], "width": g.canvas[3]},
            }
        return {
            "schema_version": 2,
            "model": self.model,
            "options": self.options,
            "input": list(self.image_hw),
            "fmap_end": {"layer": self.fmap, "shape": list(self.fmap_shape), "rf": self.rf.to_dict()},
            "samples": self.samples,
            "seed": self.seed,
            "weights": self.weights,
            "inputs": self.inputs,
            "image": self.image_source,
            "heads": {name: h.to_dict() for name, h in self.heads.items()},
            "method": self.method,
            "erf": self.erf,
            "face_region_share_of_image": _round(self.face_area, 5),
            "units": units,
            "units_random": grid_dict(self.random_grid) if self.random_grid is not None else None,
            "notes": list(self.notes),
        }


def grid_dict(g: UnitGrid) -> dict:
    """The face-share part of a unit grid's JSON: per unit, and the centre/corner ratio with its interval."""
    out: dict = {
        "method": g.method,
        "weights": g.weights,
        "erf_face_share": _grid(g.face_share, 5) if g.face_share is not None else None,
    }
    random = g.weights == "random"
    for key, which in (("face_share_centre_corner", "face"), ("image_share_centre_corner", "image")):
        iv = g.ratio(which)
        note = g.ratio_note(which)
        if note:
            out[key] = {"verdict": note}
        else:
            out[key] = None if iv is None else {**iv.to_dict(), "verdict": iv.verdict(random)}
    return out


def _round(v, nd):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), nd)


def _grid(a, nd):
    rows = a.tolist() if hasattr(a, "tolist") else a
    return [[_round(v, nd) for v in row] for row in rows]
