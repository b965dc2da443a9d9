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

    @property
    def units(self) -> list[tuple[int, int]]:
        return sorted(self.maps)


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

    @property
    def centre_corner_ratio(self) -> float | None:
        """Position weight of the central FMap-end unit over the mean of the four corners."""
        if self.position_weight is None:
            return None
        w = self.position_weight
        h_, w_ = w.shape
        corners = (w[0, 0] + w[0, -1] + w[-1, 0] + w[-1, -1]) / 4
        return float(w[h_ // 2, w_ // 2] / corners) if corners > 0 else None

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
    image: Any  # np.ndarray (H, W, 3) in [0, 1]: the backdrop of the figures
    image_source: str
    notes: list = field(default_factory=list)

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
                "rf_inside_fraction": _grid(g.rf_inside, 5),
                "erf_mass_inside": _grid(g.erf_inside, 5),
                "centre": [[[as_number(v) for v in c] for c in row] for row in g.centres],
                "erf_centre_of_mass": [[[_round(v, 3) for v in c] for c in row] for row in g.com.tolist()],
                "erf_r50": _grid(g.r50, 3),
                "erf_r90": _grid(g.r90, 3),
                "canvas": {"top": g.canvas[0], "left": g.canvas[1], "height": g.canvas[2], "width": g.canvas[3]},
            }
        return {
            "schema_version": 1,
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
            "units": units,
            "notes": list(self.notes),
        }


def _round(v, nd):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), nd)


def _grid(a, nd):
    rows = a.tolist() if hasattr(a, "tolist") else a
    return [[_round(v, nd) for v in row] for row in rows]
