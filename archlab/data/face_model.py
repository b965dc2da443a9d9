"""What a drawn face is made of and how one image of it is painted (numpy only): the canonical 112x112 frame,
an :class:`Identity` (what stays fixed across one person's images), the :class:`Conditions` of one image, and
:func:`render_face`, which paints soft-edged (anti-aliased) ellipses and strokes back to front (hair, head,
features, clutter), then lighting and pixel noise. Sampling identities and conditions per split:
:mod:`archlab.data.faces`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CANON = 112.0  # the coordinate frame every face is drawn in
FACE_CENTRE = (56.0, 62.0)  # the mean face ellipse: centre and semi-axes (what face_mask() draws by default)
FACE_AXES = (33.5, 43.5)


@dataclass(frozen=True)
class Identity:
    """What stays fixed across one person's images (canonical 112x112 coordinates)."""

    face_cy: float
    face_rx: float
    face_ry: float
    jaw: float  # jaw width relative to the face width
    skin: tuple
    eye_y: float
    eye_spacing: float
    eye_w: float
    eye_h: float
    eye_tilt: float
    iris: tuple
    iris_r: float
    brow_gap: float
    brow_len: float
    brow_thick: float
    brow_tilt: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_thick: float
    lips: tuple
    moles: tuple  # ((x, y, r), ...)
    ear_size: float
    hair: tuple
    hair_style: str
    hair_depth: float  # how far below the top of the face the hairline lies


@dataclass(frozen=True)
class Conditions:
    """What changes from image to image: jitter, expression, lighting, background, noise, clutter."""

    dx: float
    dy: float
    scale: float
    angle: float  # radians
    mouth_curve: float  # > 0 smile, < 0 frown
    mouth_open: float
    eye_open: float
    brightness: float
    colour_gain: tuple  # per-channel gain: the camera's white balance
    light_angle: float
    light_strength: float
    background: tuple
    background_gradient: float
    noise: float
    noise_seed: int
    clutter: tuple  # ((kind, x, y, a, b, angle, (r, g, b), alpha), ...) in image pixels of a 112 crop


class _Canvas:
    """A float RGB image with soft-edged (anti-aliased) shapes painted on it, each over its bounding box."""

    def __init__(self, size: int, background, gradient: float = 0.0):
        ramp = 1 + gradient * np.linspace(-1, 1, size, dtype=np.float32)
        self.size = size
        self.img = (ramp[:, None, None] * np.asarray(background, np.float32)[None, None, :]).repeat(size, 1)

    def _window(self, cx, cy, reach):
        x0, x1 = max(0, int(cx - reach - 1)), min(self.size, int(cx + reach + 2))
        y0, y1 = max(0, int(cy - reach - 1)), min(self.size, int(cy + reach + 2))
        if x0 >= x1 or y0 >= y1:
            return None
        dx = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
        dy = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
        return (slice(y0, y1), slice(x0, x1)), dx, dy

    def _paint(self, win, dist, colour, alpha, soft):
        cover = np.clip(0.5 - dist / soft, 0, 1) * alpha
        region = self.img[win]
        region += cover[..., None] * (np.asarray(colour, np.float32) - region)

    def ellipse(self, cx, cy, rx, ry, colour, angle=0.0, alpha=1.0, soft=0.8):
        w = self._window(cx, cy, max(rx, ry) + soft)
        if w is None:
            return
        win, dx, dy = w
        c, s = math.cos(angle), math.sin(angle)
        u, v = dx * c + dy * s, dy * c - dx * s
        dn = np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
        rho = np.sqrt(u * u + v * v)
        radius = np.where(dn > 1e-6, rho / np.maximum(dn, 1e-6), min(rx, ry))
        self._paint(win, (dn - 1) * radius, colour, alpha, soft)

    def rect(self, cx, cy, a, b, colour, angle=0.0, alpha=1.0, soft=0.8):
        w = self._window(cx, cy, math.hypot(a, b) + soft)
        if w is None:
            return
        win, dx, dy = w
        c, s = math.cos(angle), math.sin(angle)
        u, v = dx * c + dy * s, dy * c - dx * s
        self._paint(win, np.maximum(np.abs(u) - a, np.abs(v) - b), colour, alpha, soft)

    def segment(self, x0, y0, x1, y1, half_width, colour, alpha=1.0, soft=0.8):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w = self._window(cx, cy, math.hypot(x1 - x0, y1 - y0) / 2 + half_width + soft)
        if w is None:
            return
        win, dx, dy = w
        ex, ey = (x1 - x0) / 2, (y1 - y0) / 2
        t = np.clip((dx * ex + dy * ey) / max(ex * ex + ey * ey, 1e-9), -1, 1)
        self._paint(win, np.hypot(dx - t * ex, dy - t * ey) - half_width, colour, alpha, soft)


class Pose:
    """Canonical 112-frame coordinates -> image pixels: scale to the crop size, then the image's jitter."""

    def __init__(self, size: int, cond: Conditions | None):
        self.k = size / CANON
        self.s = cond.scale if cond else 1.0
        self.angle = cond.angle if cond else 0.0
        self.t = (cond.dx, cond.dy) if cond else (0.0, 0.0)
        self.c = size / 2

    def xy(self, x, y):
        px, py = x * self.k - self.c, y * self.k - self.c
        ca, sa = math.cos(self.angle), math.sin(self.angle)
        return (
            self.c + self.s * (ca * px - sa * py) + self.t[0] * self.k,
            self.c + self.s * (sa * px + ca * py) + self.t[1] * self.k,
        )

    def r(self, length):
        return length * self.k * self.s


def _ellipse(cv, pose, x, y, rx, ry, colour, angle=0.0, alpha=1.0, soft=0.8):
    cx, cy = pose.xy(x, y)
    cv.ellipse(cx, cy, pose.r(rx), pose.r(ry), colour, angle + pose.angle, alpha, soft * pose.k)


def _segment(cv, pose, x0, y0, x1, y1, half_width, colour, alpha=1.0):
    (a, b), (c, d) = pose.xy(x0, y0), pose.xy(x1, y1)
    cv.segment(a, b, c, d, pose.r(half_width), colour, alpha, 0.8 * pose.k)


def _shade(colour, f):
    return tuple(min(1.0, c * f) for c in colour)


def _draw_hair_back(cv, pose, idn: Identity):
    if idn.hair_style == "long":
        _ellipse(cv, pose, 56, idn.face_cy + 4, idn.face_rx * 1.3, idn.face_ry * 1.15, idn.hair, soft=1.5)
    elif idn.hair_style != "bald":
        _ellipse(
            cv, pose, 56, idn.face_cy - idn.face_ry * 0.35, idn.face_rx * 1.12, idn.face_ry * 0.8, idn.hair, soft=1.5
        )


def _draw_hair_front(cv, pose, idn: Identity):
    """The hair over the forehead: an ellipse whose lowest point is the hairline (tilted for "side")."""
    if idn.hair_style == "bald":
        return
    ry = idn.face_ry * (0.35 if idn.hair_style == "fringe" else 0.5)
    rx = idn.face_rx * (1.1 if idn.hair_style == "fringe" else 1.02)
    y0 = idn.face_cy - idn.face_ry + idn.hair_depth - ry
    tilt = 0.25 if idn.hair_style == "side" else 0.0
    _ellipse(cv, pose, 56, y0, rx, ry, idn.hair, angle=tilt, soft=1.2)


def _draw_head(cv, pose, idn: Identity):
    skin = idn.skin
    _ellipse(cv, pose, 56, 110, idn.face_rx * 0.55, 16, _shade(skin, 0.85), soft=1.5)  # neck
    for side in (-1, 1):
        _ellipse(
            cv,
            pose,
            56 + side * idn.face_rx * 0.97,
            idn.eye_y + 7,
            4.5 * idn.ear_size,
            9 * idn.ear_size,
            _shade(skin, 0.9),
        )
    _ellipse(cv, pose, 56, idn.face_cy, idn.face_rx, idn.face_ry, skin, soft=1.2)
    _ellipse(cv, pose, 56, idn.face_cy + idn.face_ry * 0.3, idn.face_rx * idn.jaw, idn.face_ry * 0.7, skin, soft=1.2)
    for x, y, r in idn.moles:
        _ellipse(cv, pose, x, y, r, r, _shade(skin, 0.45), soft=0.5)


def _draw_eyes_brows(cv, pose, idn: Identity, cond: Conditions):
    brow = _shade(idn.hair, 0.8)
    for side in (-1, 1):
        ex, ey = 56 + side * idn.eye_spacing / 2, idn.eye_y
        h = max(0.6, idn.eye_h * cond.eye_open)
        _ellipse(cv, pose, ex, ey, idn.eye_w, h, (0.96, 0.96, 0.94), angle=side * idn.eye_tilt, soft=0.6)
        _ellipse(cv, pose, ex, ey, idn.iris_r, min(idn.iris_r, h), idn.iris, soft=0.5)
        _ellipse(cv, pose, ex, ey, idn.iris_r * 0.4, min(idn.iris_r, h) * 0.4, (0.03, 0.03, 0.03), soft=0.4)
        by = ey - idn.brow_gap - idn.eye_h
        half = idn.brow_len / 2
        _segment(
            cv,
            pose,
            ex - half,
            by + side * idn.brow_tilt * half,
            ex + half,
            by - side * idn.brow_tilt * half,
            idn.brow_thick / 2,
            brow,
        )


def _draw_nose_mouth(cv, pose, idn: Identity, cond: Conditions):
    nose = _shade(idn.skin, 0.55)
    _ellipse(
        cv,
        pose,
        56,
        (idn.nose_y + idn.eye_y) / 2,
        idn.nose_w * 0.6,
        (idn.nose_y - idn.eye_y) / 2,
        _shade(idn.skin, 0.85),
        alpha=0.5,
        soft=2.0,
    )
    for side in (-1, 1):
        _ellipse(cv, pose, 56 + side * idn.nose_w * 0.7, idn.nose_y, 1.8, 1.2, nose, soft=0.5)
    if cond.mouth_open > 0.05:
        _ellipse(cv, pose, 56, idn.mouth_y, idn.mouth_w * 0.6, 4.5 * cond.mouth_open, (0.25, 0.06, 0.08))
    points = [(56 + idn.mouth_w * t, idn.mouth_y - 3.5 * cond.mouth_curve * t * t) for t in np.linspace(-1, 1, 7)]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        _segment(cv, pose, x0, y0, x1, y1, idn.lip_thick / 2, idn.lips)


def _draw_clutter(cv, size, shapes):
    k = size / CANON
    for kind, x, y, a, b, angle, colour, alpha in shapes:
        if kind == "ellipse":
            cv.ellipse(x * k, y * k, a * k, b * k, colour, angle, alpha)
        elif kind == "rect":
            cv.rect(x * k, y * k, a * k, b * k, colour, angle, alpha)
        else:
            dx, dy = a * k * math.cos(angle), a * k * math.sin(angle)
            cv.segment(x * k - dx, y * k - dy, x * k + dx, y * k + dy, b * k, colour, alpha)


def _light_and_noise(img, cond: Conditions):
    size = img.shape[0]
    grid = np.linspace(-1, 1, size, dtype=np.float32)
    ramp = math.cos(cond.light_angle) * grid[None, :] + math.sin(cond.light_angle) * grid[:, None]
    img *= (cond.brightness * (1 + cond.light_strength * ramp))[..., None] * np.asarray(cond.colour_gain, np.float32)
    img += np.random.default_rng(cond.noise_seed).normal(0, cond.noise, img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def render_face(identity: Identity, cond: Conditions, size: int = 112) -> np.ndarray:
    """Draw one image: (size, size, 3) uint8."""
    cv = _Canvas(size, cond.background, cond.background_gradient)
    pose = Pose(size, cond)
    _draw_hair_back(cv, pose, identity)
    _draw_head(cv, pose, identity)
    _draw_hair_front(cv, pose, identity)
    _draw_eyes_brows(cv, pose, identity, cond)
    _draw_nose_mouth(cv, pose, identity, cond)
    _draw_clutter(cv, size, cond.clutter)
    return _light_and_noise(cv.img, cond)
