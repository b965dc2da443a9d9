"""Procedurally drawn, aligned face crops (numpy only): a seeded stand-in for a face-recognition data set.

Each identity is drawn from its own seed: face shape (ellipse axes, jaw), skin tone, eyes (shape, spacing,
tilt, iris colour), brows, nose, mouth, moles, ears and hair (colour, style). Each image of an identity is
drawn from an image seed: a small similarity jitter (a few px, a few % scale, a few degrees), expression
(mouth curve and opening, eye openness), lighting (brightness, white balance, a gradient), background, pixel noise and
``clutter`` distractor shapes, mostly near the borders (where a 7x7 FMap-end's ring units look).

Seeds are ``numpy.random.SeedSequence(data_seed, spawn_key=(split, identity[, 1 + image]))`` with split 0
for ``"train"`` and 1 for ``"test"``: the streams are disjoint by construction, so held-out identities never
occur in training. Coordinates are pixels of a 112x112 crop (x right, y down), scaled for other sizes.

    >>> faces = make_faces("train", identities=4, images_per_identity=3)
    >>> faces.images.shape, faces.labels.tolist()
    ((12, 112, 112, 3), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archlab.data.face_model import CANON, FACE_AXES, FACE_CENTRE, Conditions, Identity, Pose, render_face

__all__ = [
    "CANON",
    "FACE_AXES",
    "FACE_CENTRE",
    "Conditions",
    "FaceSet",
    "Identity",
    "draw_conditions",
    "draw_identity",
    "face_grid_png",
    "face_image",
    "face_mask",
    "make_faces",
    "render_face",
]

SPLITS = {"train": 0, "test": 1}
SKIN_LIGHT, SKIN_DARK = (0.96, 0.82, 0.72), (0.42, 0.28, 0.20)
IRIS = ((0.30, 0.18, 0.08), (0.22, 0.40, 0.65), (0.25, 0.45, 0.25), (0.45, 0.47, 0.50), (0.10, 0.07, 0.05))
HAIR = ((0.06, 0.05, 0.05), (0.30, 0.18, 0.09), (0.80, 0.66, 0.38), (0.58, 0.25, 0.10), (0.70, 0.70, 0.70))
HAIR_STYLES = ("bald", "short", "fringe", "long", "side")


@dataclass
class FaceSet:
    """Images (N, H, W, 3) uint8, labels (N,) int64 (0..identities-1), and the identities drawn."""

    images: np.ndarray
    labels: np.ndarray
    identities: list
    split: str

    def __len__(self) -> int:
        return len(self.labels)


def seed_sequence(split: str, identity: int, image: int | None = None, data_seed: int = 0):
    """The seed of one identity (``image=None``) or of one of its images."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    key = (SPLITS[split], int(identity)) if image is None else (SPLITS[split], int(identity), 1 + int(image))
    return np.random.SeedSequence(int(data_seed), spawn_key=key)


def _mix(a, b, t):
    return tuple(float(x + (y - x) * t) for x, y in zip(a, b))


def _tint(rng, colour, amount):
    return tuple(float(np.clip(c + rng.normal(0, amount), 0, 1)) for c in colour)


def draw_identity(split: str, index: int, data_seed: int = 0) -> Identity:
    """The identity ``index`` of a split, drawn from its own seed."""
    rng = np.random.default_rng(seed_sequence(split, index, data_seed=data_seed))
    u = rng.uniform
    face_rx, face_ry, face_cy = u(29, 38), u(39, 48), u(59, 65)
    skin = _tint(rng, _mix(SKIN_LIGHT, SKIN_DARK, u(0, 1)), 0.03)
    eye_y = u(47, 55)
    mouth_y = u(86, 96)
    moles = tuple(
        (float(u(34, 78)), float(u(eye_y + 6, mouth_y + 8)), float(u(0.8, 1.9))) for _ in range(int(rng.integers(0, 4)))
    )
    return Identity(
        face_cy=face_cy,
        face_rx=face_rx,
        face_ry=face_ry,
        jaw=u(0.7, 0.98),
        skin=skin,
        eye_y=eye_y,
        eye_spacing=u(28, 40),
        eye_w=u(4.5, 8.0),
        eye_h=u(2.4, 4.4),
        eye_tilt=u(-0.2, 0.2),
        iris=_tint(rng, IRIS[rng.integers(len(IRIS))], 0.05),
        iris_r=u(2.0, 3.4),
        brow_gap=u(6, 11),
        brow_len=u(8, 14),
        brow_thick=u(1.0, 3.0),
        brow_tilt=u(-0.3, 0.3),
        nose_y=u(65, 77),
        nose_w=u(2.5, 6.5),
        mouth_y=mouth_y,
        mouth_w=u(9, 19),
        lip_thick=u(1.5, 4.0),
        lips=_tint(rng, _mix(skin, (0.70, 0.25, 0.28), u(0.3, 0.8)), 0.03),
        moles=moles,
        ear_size=u(0.8, 1.25),
        hair=_tint(rng, HAIR[rng.integers(len(HAIR))], 0.05),
        hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
        hair_depth=u(5, 17),
    )


def _clutter_shape(rng, near_border: float = 0.8) -> tuple:
    """One distractor: mostly within 16 px of an edge, otherwise anywhere."""
    u = rng.uniform
    if u() < near_border:
        along, depth = u(0, CANON), u(0, 16)
        x, y = [(along, depth), (along, CANON - depth), (depth, along), (CANON - depth, along)][rng.integers(4)]
    else:
        x, y = u(0, CANON), u(0, CANON)
    kind = ("ellipse", "rect", "line")[rng.integers(3)]
    a, b = u(3, 12), u(1.5, 8) if kind != "line" else u(0.8, 2.0)
    colour = tuple(float(c) for c in rng.uniform(0, 1, 3))
    return (kind, float(x), float(y), float(a), float(b), float(u(0, math.pi)), colour, float(u(0.7, 1.0)))


def draw_conditions(split: str, identity: int, image: int, data_seed: int = 0, clutter: int = 10) -> Conditions:
    """The conditions of image ``image`` of identity ``identity`` (``clutter`` distractor shapes)."""
    rng = np.random.default_rng(seed_sequence(split, identity, image, data_seed))
    u = rng.uniform
    background = tuple(float(c) for c in rng.uniform(0.15, 0.85, 3))
    return Conditions(
        dx=u(-3, 3),
        dy=u(-3, 3),
        scale=u(0.96, 1.04),
        angle=math.radians(u(-5, 5)),
        mouth_curve=u(-0.6, 1.0),
        mouth_open=max(0.0, u(-0.6, 1.0)),
        eye_open=u(0.5, 1.1),
        brightness=u(0.75, 1.2),
        colour_gain=tuple(float(g) for g in np.exp(rng.normal(0, 0.08, 3))),
        light_angle=u(0, 2 * math.pi),
        light_strength=u(0, 0.3),
        background=background,
        background_gradient=u(-0.2, 0.2),
        noise=u(0.01, 0.04),
        noise_seed=int(rng.integers(2**31)),
        clutter=tuple(_clutter_shape(rng) for _ in range(int(clutter))),
    )


def face_image(
    split: str, identity: int, image: int, data_seed: int = 0, clutter: int = 10, size: int = 112
) -> np.ndarray:
    """Image ``image`` of identity ``identity`` of a split: (size, size, 3) uint8."""
    return render_face(
        draw_identity(split, identity, data_seed), draw_conditions(split, identity, image, data_seed, clutter), size
    )


def make_faces(
    split: str, identities: int, images_per_identity: int, data_seed: int = 0, clutter: int = 10, size: int = 112
) -> FaceSet:
    """``identities`` x ``images_per_identity`` images of a split, grouped by identity (label = index)."""
    images = np.empty((identities * images_per_identity, size, size, 3), np.uint8)
    drawn = []
    for i in range(identities):
        idn = draw_identity(split, i, data_seed)
        drawn.append(idn)
        for j in range(images_per_identity):
            images[i * images_per_identity + j] = render_face(
                idn, draw_conditions(split, i, j, data_seed, clutter), size
            )
    labels = np.repeat(np.arange(identities, dtype=np.int64), images_per_identity)
    return FaceSet(images, labels, drawn, split)


def face_mask(size: int = 112, identity: Identity | None = None, cond: Conditions | None = None) -> np.ndarray:
    """The face region (the skin ellipse) as a (size, size) bool array in image coordinates: the mean face by
    default; with ``identity`` its own ellipse, with ``cond`` also moved by that image's jitter."""
    cy, rx, ry = (identity.face_cy, identity.face_rx, identity.face_ry) if identity else (FACE_CENTRE[1],) + FACE_AXES
    pose = Pose(size, cond)
    cx, cy = pose.xy(FACE_CENTRE[0], cy)
    rx, ry = pose.r(rx), pose.r(ry)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c, s = math.cos(pose.angle), math.sin(pose.angle)
    u, v = (xx - cx) * c + (yy - cy) * s, (yy - cy) * c - (xx - cx) * s
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def face_grid_png(
    split: str = "train",
    identities: int = 4,
    images: int = 5,
    data_seed: int = 0,
    clutter: int = 10,
    size: int = 112,
    dpi: int = 100,
) -> bytes:
    """A figure (PNG bytes): one row per identity, one column per image (matplotlib, Agg canvas)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.2 * images, 1.2 * identities + 0.3))
    FigureCanvasAgg(fig)
    for i in range(identities):
        for j in range(images):
            ax = fig.add_subplot(identities, images, i * images + j + 1)
            ax.imshow(face_image(split, i, j, data_seed, clutter, size))
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(f"{split} {i}", fontsize=9)
    fig.suptitle(f"synthetic faces ({split}, data seed {data_seed}, clutter {clutter})", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
