"""archlab/data/face_model.py: the canonical frame and the painter. Pose maps the 112 frame to any crop size
and applies an image's jitter exactly (a hand derivation); sampling and whole images: test_faces.py."""

import math
from dataclasses import replace

import pytest

from archlab.data.face_model import CANON, Pose, render_face
from archlab.data.faces import draw_conditions, draw_identity


def test_pose_without_conditions_only_scales():
    pose = Pose(56, None)
    assert pose.xy(0, 0) == (0.0, 0.0) and pose.xy(CANON, CANON) == (56.0, 56.0) and pose.r(10) == 5.0


def test_pose_rotates_scales_and_shifts_about_the_centre():
    cond = replace(draw_conditions("train", 0, 0), dx=2.0, dy=-1.0, scale=1.1, angle=math.pi / 2)
    pose = Pose(112, cond)
    # the point 10 px right of the centre turns a quarter turn (y down: to below the centre), scaled, shifted
    x, y = pose.xy(56 + 10, 56)
    assert (x, y) == pytest.approx((56 + 2.0, 56 + 11.0 - 1.0))
    assert pose.r(10) == pytest.approx(11.0)


def test_render_face_is_a_pure_function_of_identity_and_conditions():
    idn, cond = draw_identity("test", 3), draw_conditions("test", 3, 1)
    a, b = render_face(idn, cond, 64), render_face(idn, cond, 64)
    assert a.shape == (64, 64, 3) and a.dtype.name == "uint8" and (a == b).all()
    assert (render_face(idn, replace(cond, noise_seed=cond.noise_seed + 1), 64) != a).any()  # only the noise
