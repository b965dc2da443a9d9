"""Reading image files (``archlab rf --image``) as float arrays, with one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

from archlab.errors import ArchlabError


def read_image(path, h: int, w: int):
    """Read an image file as an (h, w, 3) float array in [0, 1]; returns (array, note or None).

    Other sizes are resized (bilinear) and the note says so; errors are ArchlabErrors naming the file."""
    import numpy as np

    path = Path(path)
    if not path.exists():
        raise ArchlabError(f"image {path}: no such file")
    if not path.is_file():
        raise ArchlabError(f"image {path}: not a file")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            rgb = im.convert("RGB")
    except UnidentifiedImageError:
        raise ArchlabError(f"image {path}: not an image file (PNG, JPEG, ... that Pillow can read)") from None
    except (OSError, ValueError) as e:
        raise ArchlabError(f"image {path}: cannot read: {e}") from None
    note = None
    if rgb.size != (w, h):
        note = f"image {path.name}: {rgb.size[1]}x{rgb.size[0]} resized to {h}x{w} (the network input)"
        rgb = rgb.resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=float) / 255.0, note
