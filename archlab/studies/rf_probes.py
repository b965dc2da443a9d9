"""The probe inputs of ``archlab rf`` and each probe's face region (numpy; no torch).

* ``faces`` (the default): faces drawn by :mod:`archlab.data.faces` from the held-out split (identities
  ``seed * 1000 + n``, never training identities), one per sample; the face region of each is its own skin
  ellipse (:func:`archlab.data.faces.face_mask`), and the figures' backdrop is the mean of the probes (what
  the averaged maps were measured on);
* ``noise``: standard-normal inputs; the face region is the mean face ellipse (where an aligned face would
  be) and the figures get no backdrop (the network never saw a face);
* ``lfw``: the 100 LFW faces (25x25 grey, resized) that scikit-image's wheel ships as
  ``skimage/data/lfw_subset.npy``, when scikit-image is installed (nothing is downloaded); probes only;
* a path or an (H, W, 3) array in [0, 1]: that image (plus noise per sample) is input and backdrop.

Sizes other than the generator's square crop: drawn at the larger side, then centre-cropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archlab.errors import OptionError

PROBE_SPLIT = "test"
PROBE_KINDS = ("faces", "noise", "lfw")
APPROXIMATE = "face region: the generator's mean face ellipse (approximate for this input)"


@dataclass
class Probes:
    """The inputs of one study and what the figures draw under its maps."""

    kind: str  # faces | noise | lfw | image
    images: list | None  # per sample (H, W, 3) in [0, 1] (faces, lfw); None: noise or the user image
    user_image: Any  # the user's (H, W, 3) image (kind image), else None
    masks: list  # per sample (H, W) bool: the face region
    backdrop: Any  # (H, W, 3) in [0, 1] or None (noise: nothing was seen)
    source: str
    notes: list = field(default_factory=list)

    @property
    def face_area(self) -> float:
        import numpy as np

        return float(np.mean([m.mean() for m in self.masks]))

    @property
    def mean_mask(self):
        import numpy as np

        return np.mean(self.masks, axis=0) >= 0.5


def _crop(a, hw: tuple[int, int]):
    h, w = hw
    top, left = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
    return a[top : top + h, left : left + w]


def mean_face_mask(hw: tuple[int, int]):
    from archlab.data.faces import face_mask

    return _crop(face_mask(max(hw)), hw)


def drawn_faces(hw: tuple[int, int], samples: int, seed: int) -> tuple[list, list]:
    """(images in [0, 1], face masks): held-out identities ``seed * 1000 + n``, image 0 of each."""
    from archlab.data.faces import draw_conditions, draw_identity, face_mask, render_face

    size = max(hw)
    images, masks = [], []
    for n in range(samples):
        ident = seed * 1000 + n
        idn, cond = draw_identity(PROBE_SPLIT, ident), draw_conditions(PROBE_SPLIT, ident, 0)
        images.append(_crop(render_face(idn, cond, size), hw) / 255.0)
        masks.append(_crop(face_mask(size, idn, cond), hw))
    return images, masks


def lfw_faces(hw: tuple[int, int], samples: int) -> list:
    """Up to ``samples`` of scikit-image's 100 LFW faces, resized to ``hw``, grey in three channels."""
    import numpy as np
    from PIL import Image

    try:
        import skimage
    except ImportError:
        raise OptionError(
            "--image lfw uses the LFW faces that scikit-image ships; install scikit-image (nothing is downloaded)"
        ) from None
    path = Path(skimage.__file__).parent / "data" / "lfw_subset.npy"
    if not path.is_file():
        raise OptionError(f"--image lfw: {path} is not in this scikit-image installation")
    faces = np.load(path)[:100]  # the first 100 are faces, the next 100 are not
    out = []
    for face in faces[:samples]:
        grey = np.asarray(face, dtype=np.float64)
        grey = grey / 255.0 if grey.max() > 1 else grey
        pil = Image.fromarray((np.clip(grey, 0, 1) * 255).astype(np.uint8))
        pil = pil.resize((hw[1], hw[0]), Image.Resampling.BILINEAR)
        out.append(np.repeat((np.asarray(pil) / 255.0)[..., None], 3, axis=2))
    return out


def make_probes(image, hw: tuple[int, int], samples: int, seed: int) -> Probes:
    """The probes of ``image`` (None = ``faces``; see the module docstring)."""
    import numpy as np

    if image is None or (isinstance(image, str) and image == "faces"):
        images, masks = drawn_faces(hw, samples, seed)
        return Probes(
            "faces",
            images,
            None,
            masks,
            np.mean(images, axis=0),
            f"{samples} face(s) drawn by archlab (held-out identities), backdrop: their mean",
        )
    if isinstance(image, str) and image == "noise":
        return Probes("noise", None, None, [mean_face_mask(hw)] * samples, None, "standard-normal noise", [APPROXIMATE])
    if isinstance(image, str) and image == "lfw":
        images = lfw_faces(hw, samples)
        note = f"{len(images)} LFW face(s) from scikit-image (probes only, never training)"
        notes = [APPROXIMATE] + ([f"only {len(images)} LFW faces: N = {len(images)}"] if len(images) < samples else [])
        return Probes("lfw", images, None, [mean_face_mask(hw)] * len(images), np.mean(images, axis=0), note, notes)
    if isinstance(image, (str, Path)):
        from archlab.storage.images import read_image

        picture, note = read_image(image, *hw)
        notes = ([note] if note else []) + [APPROXIMATE]
        return Probes("image", None, picture, [mean_face_mask(hw)] * samples, picture, str(image), notes)
    picture = np.asarray(image, dtype=float)
    return Probes("image", None, picture, [mean_face_mask(hw)] * samples, picture, "array", [APPROXIMATE])
