"""The synthetic face generator (archlab.data.faces): deterministic, held-out identities disjoint from training,
clutter near the borders, the face-region mask, the grid figure."""

import math
import sys
from dataclasses import astuple, replace

import numpy as np
import pytest

from archlab.data import faces as F


def test_images_are_deterministic_per_seed():
    a = F.face_image("train", 3, 2)
    assert a.shape == (112, 112, 3) and a.dtype == np.uint8
    assert np.array_equal(a, F.face_image("train", 3, 2))
    assert not np.array_equal(a, F.face_image("train", 3, 1))  # another image of the same identity
    assert not np.array_equal(a, F.face_image("train", 3, 2, data_seed=1))


def test_make_faces_groups_images_by_identity():
    s = F.make_faces("test", identities=3, images_per_identity=2)
    assert s.images.shape == (6, 112, 112, 3) and len(s) == 6
    assert s.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert np.array_equal(s.images[3], F.face_image("test", 1, 1))
    assert s.identities[1] == F.draw_identity("test", 1)


def test_held_out_identities_never_occur_in_training():
    train = {astuple(F.draw_identity("train", i)) for i in range(400)}
    test = [astuple(F.draw_identity("test", i)) for i in range(100)]
    assert len(train) == 400 and len(set(test)) == 100
    assert not train & set(test)
    # the seed streams themselves are disjoint: split 0 vs split 1 in the spawn key
    keys = {F.seed_sequence("train", i).spawn_key for i in range(400)}
    assert not keys & {F.seed_sequence("test", i).spawn_key for i in range(100)}
    with pytest.raises(ValueError):
        F.seed_sequence("val", 0)


def test_identity_is_fixed_and_conditions_vary_across_images():
    c0, c1 = F.draw_conditions("train", 0, 0), F.draw_conditions("train", 0, 1)
    assert (c0.dx, c0.dy, c0.angle) != (c1.dx, c1.dy, c1.angle)
    assert abs(c0.dx) <= 3 and abs(c0.dy) <= 3 and abs(math.degrees(c0.angle)) <= 5
    assert 0.96 <= c0.scale <= 1.04
    assert len(c0.clutter) == 10 and len(F.draw_conditions("train", 0, 0, clutter=3).clutter) == 3


def test_clutter_lies_mostly_near_the_borders():
    # the clutter shapes are drawn last, so clutter=0 gives the same image without them
    border = np.ones((112, 112), bool)
    border[16:-16, 16:-16] = False
    near, far = [], []
    for i in range(6):
        d = np.abs(F.face_image("train", i, 0, clutter=10).astype(int) - F.face_image("train", i, 0, clutter=0)).sum(2)
        near.append(d[border].mean())
        far.append(d[~border].mean())
    assert np.mean(near) > 2 * np.mean(far) > 0


def test_face_mask_is_the_face_ellipse():
    m = F.face_mask()
    assert m.shape == (112, 112) and m.dtype == bool
    assert m[62, 56] and not m[0, 0] and not m[111, 111] and not m[62, 5]
    assert m.sum() == pytest.approx(math.pi * F.FACE_AXES[0] * F.FACE_AXES[1], rel=0.02)
    idn = F.draw_identity("train", 5)
    cond = replace(F.draw_conditions("train", 5, 0), dx=3.0, dy=0.0, angle=0.0, scale=1.0)
    own, moved = F.face_mask(identity=idn), F.face_mask(identity=idn, cond=cond)
    assert moved.sum() == pytest.approx(own.sum(), rel=0.02)

    def cols(mask):
        return np.flatnonzero(mask.any(0))

    assert cols(moved)[0] - cols(own)[0] == 3 and cols(moved)[-1] - cols(own)[-1] == 3
    assert F.face_mask(size=56).sum() == pytest.approx(m.sum() / 4, rel=0.04)


def test_face_region_is_skin_coloured_in_a_clean_image():
    idn = F.draw_identity("train", 2)
    cond = replace(
        F.draw_conditions("train", 2, 0, clutter=0),
        noise=0.0,
        light_strength=0.0,
        brightness=1.0,
        colour_gain=(1.0, 1.0, 1.0),
    )
    img = F.render_face(idn, cond).astype(float) / 255
    cheek = img[int(idn.mouth_y) - 8, 56 + int(idn.face_rx * 0.6)]
    assert np.abs(cheek - np.array(idn.skin)).max() < 0.06


def test_other_sizes_scale_the_drawing():
    small = F.face_image("train", 0, 0, size=56)
    assert small.shape == (56, 56, 3)


def test_face_grid_png():
    png = F.face_grid_png(identities=2, images=3)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_the_generator_does_not_import_torch():
    import subprocess

    code = "import sys, archlab.data.faces as f; f.make_faces('train', 2, 2); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
