"""A synthetic, face-like aligned crop that archlab draws itself (numpy only; nothing is downloaded).

The figures of ``archlab rf`` overlay receptive-field maps on an aligned face. Without ``--image`` they use
this drawing: eyes, nose and mouth corners sit on the five-point template that InsightFace's 112x112
alignment uses (ArcFace), scaled to the crop size, so the maps show where a real aligned face would be.
"""

from __future__ import annotations

# (x, y) in a 112x112 aligned crop: left eye, right eye, nose tip, left and right mouth corners.
LANDMARKS_112 = ((38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041))


def landmarks(h: int, w: int) -> list[tuple[float, float]]:
    """The template landmarks (x, y) for an h x w crop: scaled with the height, centred horizontally
    (for 112x96 this gives the usual 96-wide template, x - 8)."""
    s = h / 112
    return [((x - 56) * s + w / 2, y * s) for x, y in LANDMARKS_112]


def synthetic_face(h: int = 112, w: int = 112):
    """An (h, w, 3) float array in [0, 1]: a schematic aligned face."""
    import numpy as np

    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    s = h / 112
    (lex, ley), (rex, rey), (nx, ny), (mlx, mly), (mrx, mry) = landmarks(h, w)
    cx = (lex + rex) / 2

    def ellipse(x0, y0, rx, ry, soft=1.0):
        d = np.sqrt(((xx - x0) / rx) ** 2 + ((yy - y0) / ry) ** 2)
        return 1 / (1 + np.exp(np.clip((d - 1) * max(rx, ry) / (soft * s), -50, 50)))

    def paint(img, mask, colour):
        return img * (1 - mask[..., None]) + np.asarray(colour)[None, None, :] * mask[..., None]

    img = np.empty((h, w, 3))
    img[:] = np.linspace(0.78, 0.58, h)[:, None, None] * np.array([0.85, 0.88, 0.95])
    img = paint(img, ellipse(cx, 30 * s, 44 * s, 34 * s, 2), (0.23, 0.16, 0.12))  # hair
    img = paint(img, ellipse(cx, 110 * s, 34 * s, 14 * s, 2), (0.80, 0.66, 0.55))  # neck
    img = paint(img, ellipse(cx, 64 * s, 36 * s, 46 * s, 1.5), (0.90, 0.74, 0.62))  # face
    img = paint(img, ellipse(cx, 22 * s, 40 * s, 12 * s, 2) * (yy < 34 * s), (0.23, 0.16, 0.12))  # fringe
    for ex, ey in ((lex, ley), (rex, rey)):
        img = paint(img, ellipse(ex, ey - 9 * s, 9 * s, 2.2 * s), (0.30, 0.21, 0.16))  # eyebrow
        img = paint(img, ellipse(ex, ey, 7.5 * s, 3.6 * s, 0.7), (0.97, 0.97, 0.97))  # eye white
        img = paint(img, ellipse(ex, ey, 3.4 * s, 3.4 * s, 0.6), (0.25, 0.17, 0.10))  # iris
    img = paint(img, ellipse(nx, (ny + ley) / 2, 3.5 * s, (ny - ley) / 2, 1.5) * 0.25, (0.65, 0.48, 0.40))
    for side in (-1, 1):
        img = paint(img, ellipse(nx + side * 4 * s, ny + 1 * s, 2.4 * s, 1.6 * s, 0.7), (0.45, 0.30, 0.25))
    mx, my = (mlx + mrx) / 2, (mly + mry) / 2
    img = paint(img, ellipse(mx, my, (mrx - mlx) / 2, 3.6 * s, 0.8), (0.72, 0.36, 0.36))  # lips
    img = paint(img, ellipse(mx, my, (mrx - mlx) / 2 - 1 * s, 0.8 * s, 0.6), (0.40, 0.16, 0.16))
    return np.clip(img, 0, 1)
