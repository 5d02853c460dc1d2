"""Synthetic human demonstrations of every skill, staged in the robots' evaluation scenes.

A human hand takes the robot's place. The skill's scene (``vid2skill.scenes``) is built from the
clip's seed exactly as an evaluation episode builds it, without the robot; the hand reaches the
scene's grasp pose (the same grasp the robot's oracle uses), closes its fingers, and then its grasp
frame follows the scene's scripted expert, closed-loop on the scene's true state and at the clip's
tempo (``speed``: the expert's clock runs that much faster than the video's), while a grip
carried by the world (:class:`~vid2skill.physics.grip.Grip`, the robot's grip with the hand in the
end effector's place) holds the object or handle; finally the hand opens and withdraws.
Physics runs first and records every body's state once per video frame; then a camera that keeps
the hand in view is sampled and the recorded frames are rendered.

The hand holds the grasp the way the drawer script's hook grasp holds a bar: fingers along the
gripper's approach, the grasped bar or rim across the palm (the gripper's x), palm towards the
gripper's closing axis. A scene's grasp frame therefore fixes the wrist pose (``T_grasp_wrist``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p
from omegaconf import DictConfig, OmegaConf
from scipy.spatial.transform import Rotation, Slerp

from vid2skill.errors import ConfigError
from vid2skill.geometry import R_CONTACT_GRASP, axis_angle_R, make_T, min_jerk
from vid2skill.ingest.synthetic.motion import (
    GRASP,
    MOVE,
    REACH,
    RELEASE,
    blend_curl,
    reach_start_R,
    release_profile,
    smooth_noise,
    withdrawn,
)
from vid2skill.physics.bullet import BulletScene
from vid2skill.physics.grip import Grip


def skill_definition(cfg, skill: str) -> DictConfig:
    """A skill's definition (task, horizon, expert) as the synthetic source ``cfg`` composed it
    (``source.skill_definitions``: conf/skill/), a copy the staged clip may change."""
    if skill not in cfg.skill_definitions:
        raise ConfigError(f"source.skills: no skill named '{skill}' (see conf/skill/)")
    return OmegaConf.create(OmegaConf.to_container(cfg.skill_definitions[skill], resolve=True))


def T_grasp_wrist(
    hand_scale: float, pitch_deg: float, roll_deg: float, bar_in_hand_m=(0.080, 0.0, 0.024)
) -> np.ndarray:
    """The wrist (hand frame of ``hand.py``) in a gripper grasp frame, for a hook grasp round the
    grasp point, tilted by ``pitch_deg`` about the bar and ``roll_deg`` about the fingers."""
    R = (
        R_CONTACT_GRASP.T
        @ axis_angle_R([0, 1, 0], -np.radians(pitch_deg))
        @ axis_angle_R([1, 0, 0], np.radians(roll_deg))
    )
    return make_T(R, -R @ (np.asarray(bar_in_hand_m) * hand_scale))


@dataclass
class StagedMotion:
    """What the physics pass recorded, one row per video frame (T frames).

    Attributes:
        phase: (T,) int, REACH / GRASP / MOVE / RELEASE.
        curl: (T,) finger curl, 0 open .. 1 closed.
        wrist_pos: (T, 3) world, metres.
        wrist_R: (T, 3, 3) world.
        states: per frame, ``{body id: (position, quaternion, joint positions)}`` to replay for rendering.
        T_world_contact: (4, 4) the scene's contact frame at the start.
        look_from: (3,) where the person stands (the robot's base): cameras are placed around it.
        success: whether the scene's success test passed at the end (the demonstration did the task).
        progress: the scene's progress scalars at the end.
        task: the scene's task name (``conf/skill/<skill>.yaml``'s ``task``).
        speed: the person's tempo (1 = the scripted expert's own speed).
    """

    phase: np.ndarray
    curl: np.ndarray
    wrist_pos: np.ndarray
    wrist_R: np.ndarray
    states: list
    T_world_contact: np.ndarray
    look_from: np.ndarray
    success: bool
    progress: dict
    task: str
    speed: float = 1.0


def _snapshot(cid: int, skip: set[int]) -> dict:
    out = {}
    for i in range(p.getNumBodies(physicsClientId=cid)):
        uid = p.getBodyUniqueId(i, physicsClientId=cid)
        if uid in skip:
            continue
        pos, quat = p.getBasePositionAndOrientation(uid, physicsClientId=cid)
        n = p.getNumJoints(uid, physicsClientId=cid)
        q = [s[0] for s in p.getJointStates(uid, range(n), physicsClientId=cid)] if n else []
        out[uid] = (pos, quat, q)
    return out


def restore(cid: int, state: dict) -> None:
    """Put every recorded body back where a snapshot saw it (for rendering only: velocities are not kept)."""
    for uid, (pos, quat, q) in state.items():
        p.resetBasePositionAndOrientation(uid, pos, quat, physicsClientId=cid)
        for j, v in enumerate(q):
            p.resetJointState(uid, j, v, physicsClientId=cid)


def _interp_pose(T0: np.ndarray, T1: np.ndarray, s: float) -> np.ndarray:
    rot = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([T0[:3, :3], T1[:3, :3]])))([s]).as_matrix()[0]
    return make_T(rot, (1 - s) * T0[:3, 3] + s * T1[:3, 3])


def stage_demo(
    scene: BulletScene, cfg, skill: str, rng: np.random.Generator, hand_scale: float
) -> StagedMotion:
    """Run one human demonstration of ``skill`` in a fresh scene; returns the per-frame record.

    ``cfg`` is the synthetic source's config: ``fps``, ``phase_durations_s`` (reach, grasp, -,
    release), ``speed``, ``open_curl``, ``closed_curl``, ``grasp_pitch_deg``, ``grasp_roll_deg``,
    ``reach_back_m``, ``reach_side_m``, ``reach_up_m``, ``noise_m``, ``wrist_follow`` (doors),
    ``scenes`` (``sim.scenes``), ``control_hz``, ``timestep_s`` and ``hold_end_s``.
    """
    # Scenes import pybullet_data objects: keep ingest light until needed.
    from vid2skill.scenes import SCENES
    from vid2skill.scenes.expert_loop import follow_targets

    skill_cfg = skill_definition(cfg, skill)
    scene_cfg = cfg.scenes[skill_cfg.task]
    u = lambda key: float(rng.uniform(*cfg[key]))  # noqa: E731
    task = SCENES.get(skill_cfg.task)(scene, skill_cfg, scene_cfg, rng)
    dt = 1.0 / float(cfg.control_hz)
    steps_per_frame = max(1, int(round(1.0 / (cfg.fps * float(cfg.timestep_s)))))
    frames_per_control = max(1, int(round(dt * cfg.fps)))
    speed = u("speed")  # the person's tempo, for every phase: the expert's clock runs this much faster
    task.dt = dt * speed
    n_reach, n_grasp, _, n_release = (max(2, int(round(d / speed * cfg.fps))) for d in cfg.phase_durations_s)
    open_curl, closed_curl = u("open_curl"), u("closed_curl")
    if "wrist_follow" in skill_cfg.expert and cfg.wrist_follow is not None:
        # A person's wrist turns with a door's handle, most of the way; the robot's expert keeps its own
        # setting.
        skill_cfg.expert.wrist_follow = u("wrist_follow")

    T_wc = task.contact_frame()
    T_cmd = task.grasp_in_contact()
    T_gw = T_grasp_wrist(hand_scale, u("grasp_pitch_deg"), u("grasp_roll_deg"))
    body, link = task.held()
    grip: Grip | None = None
    if task.in_hand:  # the object waits at its start pose, as if held up by the other hand
        task.place_in_hand(T_wc @ T_cmd)
        grip = Grip.to_world(scene.client, scene.body(body), link, T_wc @ T_cmd, rigid=True)
    scene.step(60)

    cid = scene.client
    floor = {scene.body("floor")}  # removed before rendering: the painted backdrop stands in for it
    phase, curl, grasp_poses, states = [], [], [], []

    def frame(ph: int, c: float, T_world_grasp: np.ndarray) -> None:
        if grip is not None and ph == MOVE:
            grip.move(T_world_grasp)
        scene.step(steps_per_frame)
        phase.append(ph)
        curl.append(c)
        grasp_poses.append(T_world_grasp)
        states.append(_snapshot(cid, floor))

    # Reach: from behind and beside the grasp (along the approach, in the person's frame), hand open.
    approach = (T_wc @ T_cmd)[:3, 2]
    start = T_wc @ T_cmd
    back = -approach * u("reach_back_m") + np.array([0, 0, 1.0]) * u("reach_up_m")
    side = np.cross(np.array([0, 0, 1.0]), approach)
    side = side / (np.linalg.norm(side) + 1e-9) * u("reach_side_m")
    T_start = make_T(reach_start_R(start[:3, :3], rng), start[:3, 3] + back + side)
    for s in min_jerk(np.linspace(0, 1, n_reach)):
        frame(REACH, open_curl, _interp_pose(T_start, start, float(s)))
    for c in blend_curl(open_curl, closed_curl, min_jerk(np.linspace(0, 1, n_grasp))):
        frame(GRASP, float(c), start)
    if grip is None:
        grip = Grip.to_world(scene.client, scene.body(body), link, start, rigid=task.rigid_grasp)

    # Manipulate: the expert's target every control step, the hand moving smoothly between them, for as
    # long as the expert needs (up to the skill's horizon).
    def move(k: int, T_from: np.ndarray, T_to: np.ndarray) -> None:
        T_prev, T_next = T_wc @ T_from, T_wc @ T_to
        for f in range(frames_per_control):
            frame(MOVE, closed_curl, _interp_pose(T_prev, T_next, (f + 1) / frames_per_control))
        task.on_step((k + 1) * dt)

    horizon = int(round(float(skill_cfg.horizon_s) * cfg.control_hz / speed))
    # Once the expert holds still (a lift, a finished stir) a person would stop.
    hold_steps = max(1, int(round(float(cfg.hold_end_s) * cfg.control_hz)))
    followed = follow_targets(task.expert, T_cmd, horizon, task.dt, move, still_steps=hold_steps)
    T_cmd, let_go = followed.T_contact_cmd, followed.let_go

    # Release: open the hand and withdraw backwards and up. Articulated objects and objects meant
    # to be put down are let go; a held cup, spoon or knife stays where the hand leaves it.
    if let_go or skill_cfg.release_at_end:
        grip.release()
    end = T_wc @ T_cmd
    T_away = make_T(end[:3, :3], withdrawn(end[:3, 3], -end[:3, 2]))
    opening, withdrawal = release_profile(np.linspace(0, 1, n_release))
    for c, b in zip(blend_curl(closed_curl, open_curl, opening), withdrawal):
        frame(RELEASE, float(c), _interp_pose(end, T_away, float(b)))
    scene.step(int(round(max(float(cfg.settle_s), float(skill_cfg.settle_s)) / float(cfg.timestep_s))))

    T_wg = np.stack(grasp_poses) @ T_gw
    T = len(phase)
    t = np.arange(T) / cfg.fps
    wrist_pos = T_wg[:, :3, 3] + smooth_noise(rng, t, float(cfg.noise_m))
    p.removeBody(scene.body("floor"), physicsClientId=cid)
    return StagedMotion(
        np.array(phase),
        np.array(curl),
        wrist_pos,
        T_wg[:, :3, :3],
        states,
        T_wc.copy(),
        np.asarray(task.robot_base, dtype=np.float64),
        bool(task.is_success()),
        task.progress(),
        str(skill_cfg.task),
        speed,
    )
