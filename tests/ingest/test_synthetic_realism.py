"""Synthetic renders nearer to real video (``source.realism``; conf/source/synthetic_real.yaml):
a head-worn camera that turns, its backdrop turned with it, blur, compression, clutter."""

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.spatial.transform import Rotation

from vid2skill.geometry import apply_T, inv_T
from vid2skill.ingest.synthetic.generator import (
    Degrade,
    camera_path,
    load_ground_truth,
    project,
    turned_backdrop,
)
from vid2skill.physics.bullet import CameraSpec

REALISM = OmegaConf.create(
    {"camera_turn_deg": 8, "camera_bob_m": 0.02, "blur_px": [5, 7], "jpeg_quality": [30, 40]}
)
CAM = CameraSpec(
    480,
    360,
    400.0,
    400.0,
    240.0,
    180.0,
    np.array([0.0, -0.5, 1.2]),
    Rotation.from_euler("x", -120, degrees=True).as_matrix(),
)


def test_a_third_person_camera_stands_still():
    cams = camera_path(CAM, "third_person", REALISM, np.random.default_rng(0), 50, 30.0)
    assert all(c is CAM for c in cams)


def test_a_head_worn_camera_turns_smoothly_from_where_it_began():
    cams = camera_path(CAM, "egocentric", REALISM, np.random.default_rng(0), 90, 30.0)
    turns = np.degrees(
        [np.linalg.norm(Rotation.from_matrix(CAM.R_world_cam.T @ c.R_world_cam).as_rotvec()) for c in cams]
    )
    assert turns[0] == pytest.approx(0.0, abs=1e-9)
    assert 1.0 < turns.max() < 40.0
    assert np.abs(np.diff(turns)).max() < 2.0  # smooth: no frame-to-frame jumps
    assert np.linalg.norm(cams[0].position - CAM.position) < 1e-12
    assert max(np.linalg.norm(c.position - CAM.position) for c in cams) < 0.2


def test_no_realism_draws_nothing():
    from tests.helpers import make_cfg

    off = make_cfg([]).source.realism  # source=synthetic: every part of realism off
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    cams = camera_path(CAM, "egocentric", off, rng, 10, 30.0)
    d = Degrade(off, rng)
    img = np.random.default_rng(1).integers(0, 255, (36, 48, 3), dtype=np.uint8)
    assert all(c is CAM for c in cams) and np.array_equal(d(img), img)
    assert rng.bit_generator.state == before


def test_the_backdrop_turns_as_a_scene_at_infinity():
    """A direction seen at pixel u in the first camera is seen where the turned camera projects it."""
    img = np.zeros((360, 480, 3), np.uint8)
    img[170:190, 230:250] = 255  # a bright patch around the image centre of the first camera
    R1 = CAM.R_world_cam @ Rotation.from_euler("y", 5, degrees=True).as_matrix()
    out = turned_backdrop(img, CAM.K, CAM.R_world_cam, R1)
    ray_world = CAM.R_world_cam @ np.array([0.0, 0.0, 1.0])  # the centre's direction
    u1 = project(CAM.K, (R1.T @ ray_world)[None])[0]
    ys, xs = np.nonzero(out[..., 0] > 128)
    assert np.hypot(xs.mean() - u1[0], ys.mean() - u1[1]) < 2.0
    assert abs(u1[0] - 240) > 20  # it did move


def test_degrade_blurs_and_compresses():
    rng = np.random.default_rng(0)
    d = Degrade(REALISM, rng)
    img = np.zeros((120, 160, 3), np.uint8)
    img[:, 80:] = 255
    out = d(img)
    assert d.kernel is not None and 30 <= d.quality <= 40
    edge = np.abs(np.diff(out[60, :, 0].astype(int)))
    assert edge.max() < 200  # a hard edge is smeared over several pixels
    assert abs(float(out.mean()) - float(img.mean())) < 3.0


@pytest.mark.slow
def test_a_realistic_clip_records_each_frames_camera(tmp_path, hand_meshes):
    """Rendered with a turning head-worn camera: the ground truth's landmarks project through each
    frame's own camera, and the first frame's camera is the clip's."""
    from vid2skill.config import compose
    from vid2skill.ingest.synthetic.generator import HandMeshCache, generate_clip

    cfg = compose(["source=synthetic_real", "source.third_person_prob=0.0"]).source
    meshes = HandMeshCache(hand_meshes, int(cfg.curl_levels), float(cfg.mesh_voxel_m))
    clip = generate_clip(cfg, "slide_open", 14100, tmp_path, meshes)
    meta, gt = load_ground_truth(clip.ground_truth)
    assert meta["view"] == "egocentric" and meta["clutter"] > 0
    frames = gt["T_world_cam_frames"]
    assert np.allclose(frames[0], gt["T_world_cam"])
    turn = [
        np.degrees(np.linalg.norm(Rotation.from_matrix(frames[0, :3, :3].T @ T[:3, :3]).as_rotvec()))
        for T in frames
    ]
    assert max(turn) > 1.0
    f = len(frames) // 2
    uv = project(gt["K"], apply_T(inv_T(frames[f]), gt["wrist_pos_world"][f][None]))[0]
    assert np.allclose(uv, gt["landmarks_px"][f, 0], atol=0.5)
