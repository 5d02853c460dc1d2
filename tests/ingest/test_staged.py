"""Synthetic human demonstrations staged in the evaluation scenes (ingest/synthetic/staged.py)."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.spatial.transform import Rotation

from tests.helpers import make_cfg
from vid2skill.errors import ConfigError
from vid2skill.geometry import inv_T
from vid2skill.ingest.synthetic.generator import PHASES, HandMeshCache, generate_clip, load_ground_truth
from vid2skill.ingest.synthetic.staged import MOVE, REACH, RELEASE, T_grasp_wrist, skill_definition
from vid2skill.physics.bullet import BulletScene
from vid2skill.scenes import TASKS
from vid2skill.video import probe


def _source_cfg(cache_dir, *overrides):
    cfg = make_cfg(["source.width=240", "source.height=180", "source.fps=15", *overrides])
    src = OmegaConf.create(OmegaConf.to_container(cfg.source, resolve=True))
    src.cache_dir = str(cache_dir)
    return src


@pytest.mark.parametrize("skill", ["place", "hinge_close"])
def test_staged_clip_has_consistent_ground_truth_and_the_demo_does_the_task(tmp_path, hand_meshes, skill):
    cfg = _source_cfg(hand_meshes)
    meshes = HandMeshCache(cfg.cache_dir, cfg.curl_levels, cfg.mesh_voxel_m)
    clip = generate_clip(cfg, skill, 11, tmp_path / "out", meshes)
    meta, gt = load_ground_truth(clip.ground_truth)
    T = len(gt["phase"])
    assert meta["demo_success"], (
        f"the human demonstration of {skill} failed its own success test: {meta['demo_progress']}"
    )
    assert probe(clip.path).frames == T
    assert gt["wrist_pos_world"].shape == (T, 3) and gt["landmarks_px"].shape == (T, 21, 2)
    # Phases run reach -> grasp -> move -> release, each present, never going back.
    assert set(np.unique(gt["phase"])) == set(range(len(PHASES)))
    assert np.all(np.diff(gt["phase"]) >= 0)
    # The hand closes while moving the object and is open before and after.
    ap = gt["aperture_m"]
    assert ap[gt["phase"] == MOVE].mean() < ap[gt["phase"] == REACH].mean() - 0.02
    assert ap[-1] > ap[gt["phase"] == MOVE].mean() + 0.02
    # At the first move frame the wrist holds the scene's grasp: T_world_contact @ grasp @ T_grasp_wrist,
    # up to the hand's small wobble (noise_m).
    first = int(np.flatnonzero(gt["phase"] == MOVE)[0])
    T_cw = inv_T(gt["T_world_contact"])
    wrist_in_contact = T_cw[:3, :3] @ gt["wrist_pos_world"][first] + T_cw[:3, 3]
    with BulletScene() as scene:
        definition = skill_definition(cfg, skill)
        task = TASKS[definition.task](
            scene, definition, cfg.scenes[definition.task], np.random.default_rng(0)
        )
        T_cg = task.grasp_in_contact() if not task.in_hand else None
    if T_cg is not None:  # handle scenes: the grasp frame in the contact frame is the same for every seed
        expected = (T_cg @ T_grasp_wrist(meta["hand_scale"], 0.0, 0.0))[:3, 3]
        assert np.linalg.norm(wrist_in_contact - expected) < 0.06
    # Ground truth and camera agree: projected landmarks inside the image where marked visible.
    uv = gt["landmarks_px"][gt["visible"]]
    assert (uv[..., 0] >= 0).all() and (uv[..., 0] < cfg.width).all()
    assert gt["visible"].mean() >= cfg.min_visible_fraction
    assert np.all(gt["phase"][-3:] == RELEASE)
    if skill == "hinge_close":  # the person's wrist turns with the handle, about the hinge, most of the way
        moving = np.flatnonzero(gt["phase"] == MOVE)
        turn = Rotation.from_matrix(
            gt["wrist_R_world"][moving[-1]] @ gt["wrist_R_world"][moving[0]].T
        ).as_rotvec()
        swing = np.radians(abs(meta["demo_progress"]["start_angle_deg"] - meta["demo_progress"]["angle_deg"]))
        assert abs(turn[2]) > 0.95 * np.linalg.norm(turn)
        assert cfg.wrist_follow[0] - 0.1 <= np.linalg.norm(turn) / swing <= cfg.wrist_follow[1] + 0.1


def test_unknown_skill_is_a_config_error(tmp_path):
    cfg = _source_cfg(tmp_path / "cache")
    meshes = HandMeshCache(cfg.cache_dir, cfg.curl_levels, cfg.mesh_voxel_m)
    with pytest.raises(ConfigError, match="no skill named 'juggle'"):
        generate_clip(cfg, "juggle", 1, tmp_path / "out", meshes)


def test_keypoints_behind_a_nearer_surface_or_outside_the_image_are_not_shown():
    from vid2skill.ingest.synthetic.generator import keypoints_unoccluded

    depth = np.full((40, 60), 6.0)
    depth[:, 30:] = 0.5  # a board 0.5 m away covers the right half of the image
    uv = np.array([[10.0, 10.0], [40.0, 10.0], [40.0, 20.0], [70.0, 10.0]])
    z = np.array([1.0, 1.0, 0.49, 1.0])  # behind the board, in front of it, outside the image
    assert keypoints_unoccluded(uv, z, depth).tolist() == [True, False, True, False]


def test_rendered_depth_matches_the_scene_and_ground_truth_records_occlusion(tmp_path, hand_meshes):
    from vid2skill.physics.bullet import CameraSpec

    # A 0.2 m box whose near face is 1.0 m in front of a camera looking along +x.
    with BulletScene() as scene:
        scene.create_box("box", [0.1, 0.1, 0.1], [1.1, 0.0, 1.0], [1, 0, 0, 1])
        R = np.array([[0, 0, 1.0], [-1.0, 0, 0], [0, -1.0, 0]])  # camera z along world x, y down
        cam = CameraSpec(64, 48, 50.0, 50.0, 32.0, 24.0, np.array([0.0, 0.0, 1.0]), R)
        _, depth = scene.render(cam, depth=True)
    assert depth[24, 32] == pytest.approx(1.0, abs=0.01)
    assert depth[0, 0] > 5.0  # nothing there: the far plane
    cfg = _source_cfg(hand_meshes)
    meshes = HandMeshCache(cfg.cache_dir, cfg.curl_levels, cfg.mesh_voxel_m)
    _, gt = load_ground_truth(generate_clip(cfg, "pick", 3, tmp_path / "out", meshes).ground_truth)
    shown = gt["keypoints_unoccluded"]
    assert shown.shape == gt["landmarks_px"].shape[:2]
    uv = gt["landmarks_px"]
    outside = (uv[..., 0] < 0) | (uv[..., 0] >= cfg.width) | (uv[..., 1] < 0) | (uv[..., 1] >= cfg.height)
    assert 0.3 < shown.mean() <= 1.0 and not shown[outside].any()
