"""The hand lifter (vid2skill/extract/lifter.py): its geometry, its shipped weights and its training."""

import numpy as np
import pytest

from vid2skill.extract.lifter import (
    DEFAULT_WEIGHTS,
    MAX_LOG_DEPTH,
    MAX_TURN_RAD,
    lift,
    load_lifter,
    main,
    mediapipe_depth,
)
from vid2skill.geometry import rotation_angle_deg
from vid2skill.ingest.synthetic.hand import hand_keypoints
from vid2skill.landmarks import palm_frame

INTR = [500.0, 500.0, 320.0, 240.0]


def _hand_sequence(T=7, seed=0):
    """(px (T, 21, 2), world (T, 21, 3)) of the model's right hand turning in front of a camera."""
    rng = np.random.default_rng(seed)
    kp = hand_keypoints(0.3)  # the rendered hand's keypoints, fingers a little curled
    kp = kp - kp[0]
    px, world = [], []
    for t in range(T):
        a = 0.3 + 0.05 * t
        R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        R = R @ np.array([[1, 0, 0], [0, np.cos(0.4), -np.sin(0.4)], [0, np.sin(0.4), np.cos(0.4)]])
        w = kp @ R.T + rng.normal(0, 0.001, kp.shape)
        cam = w + np.array([0.02, -0.01, 0.5])
        px.append(np.c_[INTR[0] * cam[:, 0] / cam[:, 2] + INTR[2], INTR[1] * cam[:, 1] / cam[:, 2] + INTR[3]])
        world.append(w - w.mean(axis=0))
    return np.array(px), np.array(world)


def test_shipped_weights_load_and_stay_small():
    assert DEFAULT_WEIGHTS.is_file() and DEFAULT_WEIGHTS.stat().st_size <= 5 * 2**20
    model = load_lifter()
    assert (
        model.window % 2 == 1
        and "valid" in __import__("torch").load(DEFAULT_WEIGHTS, weights_only=True)["info"]
    )


def test_lifter_only_nudges_mediapipe_and_mirrors_a_left_hand():
    """Its turn of MediaPipe's palm frame is bounded, its depth factor too; a left hand (the mirror
    image of a right one) gets the mirror image of the right hand's rotation."""
    px, world = _hand_sequence()
    R, factor = lift(px, world, INTR, right=True)
    R_mp = palm_frame(world, right=True)
    assert np.all(rotation_angle_deg(R, R_mp) <= np.degrees(MAX_TURN_RAD) + 1e-3)
    assert np.all(np.abs(np.log(factor)) <= MAX_LOG_DEPTH + 1e-6)
    assert np.allclose([np.linalg.det(r) for r in R], 1.0, atol=1e-5)
    # The same hand mirrored in the image (about the principal point) and in depth-free x.
    px_l, world_l = px.copy(), world.copy()
    px_l[..., 0] = 2 * INTR[2] - px_l[..., 0]
    world_l[..., 0] = -world_l[..., 0]
    R_l, factor_l = lift(px_l, world_l, INTR, right=False)
    M, F = np.diag([-1.0, 1, 1]), np.diag([1.0, -1, 1])
    assert np.allclose(R_l, M @ R @ F, atol=1e-4) and np.allclose(factor_l, factor, atol=1e-5)


def test_lifter_turns_with_the_image():
    """A hand turned about the camera's axis (around the principal point) is lifted to the same
    rotation turned alike: the network reads every hand upright."""
    px, world = _hand_sequence()
    px = px - px[:, :1] + np.array([INTR[2], INTR[3]])  # the wrist at the principal point
    a = np.radians(70)
    Rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    c = np.array([INTR[2], INTR[3]])
    px_t = (px - c) @ Rz[:2, :2].T + c
    world_t = world @ Rz.T
    R, f = lift(px, world, INTR, right=True)
    R_t, f_t = lift(px_t, world_t, INTR, right=True)
    assert np.all(rotation_angle_deg(R_t, Rz @ R) < 0.5) and np.allclose(f, f_t, atol=1e-4)


def test_mediapipe_depth_matches_the_pinhole():
    px, world = _hand_sequence()
    z = mediapipe_depth(px, world, INTR)
    assert np.all(np.abs(z - 0.5) < 0.02)


@pytest.mark.slow
def test_training_command_fits_and_writes_weights(synthetic_ws, tmp_path):
    """`python -m vid2skill.extract.lifter train` on a synthetic workspace writes loadable weights
    that beat MediaPipe's palm frame on the frames they were fitted to."""
    ws, _ = synthetic_ws
    out = tmp_path / "lifter.pt"
    main(["train", str(ws), "--out", str(out), "--epochs", "30"])
    import torch

    info = torch.load(out, weights_only=True)["info"]
    assert info["frames"]["train"] > 50
    model = load_lifter(str(out))
    assert model.window == 5
