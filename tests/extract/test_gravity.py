"""Gravity's up from a scene's straight edges (vid2skill/extract/gravity.py), on drawn scenes whose
camera pose is known."""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from vid2skill.extract.gravity import CAMERA_UP, GravityEstimator

W, H, F = 480, 360, 380.0
K = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]])
CFG = SimpleNamespace(
    frames=4,
    width_px=480,
    min_length_frac=0.04,
    mask_pad_frac=0.3,
    inlier_deg=1.5,
    iterations=800,
    min_explained=0.35,
    min_axis_support=0.08,
    max_tilt_deg=85,
    min_pitch_deg=-30,
    max_roll_deg=30,
)


def camera(pitch_deg: float, roll_deg: float = 0.0, yaw_deg: float = 20.0) -> np.ndarray:
    """R_cam_world of a camera 1.5 m up, looking along world +y turned by ``yaw``, pitched down, rolled."""
    p, r, y = np.radians([pitch_deg, roll_deg, yaw_deg])
    # world: z up. Camera looking along +y with x right and y down, before turning.
    R0 = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # rows: camera axes in world
    Ry = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
    Rp = np.array(
        [[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]]
    )  # about camera x: look down
    Rr = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])  # about camera z
    return Rr @ Rp @ R0 @ Ry.T


def draw(R_cam_world: np.ndarray, table: bool = True, cupboard: bool = True, seed: int = 0) -> np.ndarray:
    """A grey image of a table's tiles and a cupboard's panels seen from ``R_cam_world`` at 1.5 m height."""
    img = np.full((H, W, 3), 128, np.uint8)
    rng = np.random.default_rng(seed)
    img += rng.integers(0, 6, img.shape, dtype=np.uint8)
    eye = np.array([0.0, 0.0, 1.5])
    segs = []
    if table:  # tiles on the floor plane z=0.75 in front of the camera
        for v in np.arange(-1.0, 1.01, 0.2):
            segs.append(([v, 0.3, 0.75], [v, 2.5, 0.75]))
            segs.append(([-1.0, 0.3 + (v + 1.0), 0.75], [1.0, 0.3 + (v + 1.0), 0.75]))
    if cupboard:  # vertical and horizontal edges on a wall at y=3
        for v in np.arange(-2.0, 2.01, 0.4):
            segs.append(([v, 3.0, 0.0], [v, 3.0, 2.5]))
        for z in np.arange(0.2, 2.5, 0.45):
            segs.append(([-2.0, 3.0, z], [2.0, 3.0, z]))
    for a, b in segs:
        pts = []
        for s in np.linspace(0, 1, 60):  # clip to the part in front of the camera
            xc = R_cam_world @ (np.array(a) + s * (np.array(b) - np.array(a)) - eye)
            if xc[2] > 0.1:
                pts.append((K @ xc)[:2] / xc[2])
        if len(pts) >= 2:
            cv2.line(
                img,
                tuple(np.round(pts[0]).astype(int)),
                tuple(np.round(pts[-1]).astype(int)),
                (30, 30, 30),
                2,
            )
    return img


def estimate(img: np.ndarray, masked=()):
    g = GravityEstimator([F, F, W / 2, H / 2], W, H, CFG, frames=4)
    for _ in range(4):
        g.update(img, list(masked))
    return g.estimate()


@pytest.mark.parametrize("pitch, roll", [(10.0, 0.0), (35.0, 5.0), (60.0, -8.0), (75.0, 0.0)])
def test_up_of_a_tilted_camera_within_two_degrees(pitch, roll):
    R = camera(pitch, roll)
    truth = R @ np.array([0.0, 0.0, 1.0])
    est = estimate(draw(R))
    assert est.source == "lines"
    err = np.degrees(np.arccos(np.clip(est.up @ truth, -1, 1)))
    assert err < 2.0, (est.up, truth, err)
    assert est.pitch_deg == pytest.approx(pitch, abs=2.5)


def test_a_table_alone_seen_steeply_gives_up_not_its_receding_edges():
    """Looking 65 deg down at a tiled table: its receding edges run near the camera's up, but up is
    the direction the camera looks down from."""
    R = camera(65.0, yaw_deg=0.0)
    est = estimate(draw(R, cupboard=False))
    assert est.source == "lines"
    assert est.pitch_deg == pytest.approx(65.0, abs=2.5)


def test_no_edges_keeps_the_camera_up():
    rng = np.random.default_rng(1)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), (9, 9), 3)
    est = estimate(noise)
    assert est.source == "camera"
    assert np.allclose(est.up, CAMERA_UP)


def test_masked_regions_give_no_edges():
    img = draw(camera(40.0))
    everything = [np.array([[0.0, 0.0], [W - 1.0, H - 1.0]])]
    est = estimate(img, everything)
    assert est.source == "camera"


def test_a_turning_camera_is_brought_back_to_the_first_frame():
    """Frames of a camera that panned 25 deg: each frame's edges are turned into the first frame's
    camera with the camera's rotation, so up comes out in the first frame."""
    R0 = camera(40.0, yaw_deg=10.0)
    R1 = camera(40.0, yaw_deg=35.0)
    g = GravityEstimator([F, F, W / 2, H / 2], W, H, CFG, frames=2)
    g.update(draw(R0), [])
    g.update(draw(R1), [])
    R_ref_cam = np.stack([np.eye(3), R0 @ R1.T])  # frame 1's camera vectors into frame 0's
    est = g.estimate(R_ref_cam)
    truth = R0 @ np.array([0.0, 0.0, 1.0])
    assert np.degrees(np.arccos(np.clip(est.up @ truth, -1, 1))) < 2.0
