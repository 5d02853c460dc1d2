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
gripper's closing axis, turned about the fingers by the scene's ``hand_roll_deg`` (a cup to pour
from is held index on top). A scene's grasp frame therefore fixes the wrist pose
(``T_grasp_wrist``).
"""

from __future__ import annotations

from collections.abc import Callable
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


class _Recorder:
    """Steps the scene once per video frame and records the frame: its phase, the finger curl, the
    hand's grasp pose and every body's state (but ``skip``'s). In the move phase a grip, once there is
    one, carries the held object or handle to the grasp pose."""

    def __init__(self, scene: BulletScene, steps_per_frame: int, skip: set[int]):
        self.scene, self.steps_per_frame, self.skip = scene, steps_per_frame, skip
        self.grip: Grip | None = None
        self.phase, self.curl, self.grasp_poses, self.states = [], [], [], []

    def frame(self, ph: int, c: float, T_world_grasp: np.ndarray) -> None:
        if self.grip is not None and ph == MOVE:
            self.grip.move(T_world_grasp)
        self.scene.step(self.steps_per_frame)
        self.phase.append(ph)
        self.curl.append(c)
        self.grasp_poses.append(T_world_grasp)
        self.states.append(_snapshot(self.scene.client, self.skip))


def _reach_and_grasp(
    rec: _Recorder,
    T_world_grasp: np.ndarray,
    draw: Callable[[str], float],
    rng: np.random.Generator,
    n_reach: int,
    n_grasp: int,
    open_curl: float,
    closed_curl: float,
) -> None:
    """Reach the grasp from behind and beside it (along the approach, in the person's frame), hand
    open, then close the fingers; ``draw(key)`` samples a source range."""
    approach = T_world_grasp[:3, 2]
    back = -approach * draw("reach_back_m") + np.array([0, 0, 1.0]) * draw("reach_up_m")
    side = np.cross(np.array([0, 0, 1.0]), approach)
    side = side / (np.linalg.norm(side) + 1e-9) * draw("reach_side_m")
    T_start = make_T(reach_start_R(T_world_grasp[:3, :3], rng), T_world_grasp[:3, 3] + back + side)
    for s in min_jerk(np.linspace(0, 1, n_reach)):
        rec.frame(REACH, open_curl, _interp_pose(T_start, T_world_grasp, float(s)))
    for c in blend_curl(open_curl, closed_curl, min_jerk(np.linspace(0, 1, n_grasp))):
        rec.frame(GRASP, float(c), T_world_grasp)


def _manipulate(
    rec: _Recorder,
    task,
    T_cmd: np.ndarray,
    horizon: int,
    dt: float,
    frames_per_control: int,
    closed_curl: float,
    hold_steps: int,
) -> tuple[np.ndarray, bool]:
    """Follow the scene's expert (the scenes' expert loop): its target every control step, the hand
    moving smoothly between them, for as long as the expert needs (up to ``horizon`` steps), or until
    its target has held still ``hold_steps`` steps (a lift, a finished stir: a person would stop).
    Returns the last target (contact frame) and whether the expert let go."""
    from vid2skill.scenes.expert_loop import follow_targets

    T_wc = task.contact_frame()

    def move(k: int, T_from: np.ndarray, T_to: np.ndarray) -> None:
        T_prev, T_next = T_wc @ T_from, T_wc @ T_to
        for f in range(frames_per_control):
            rec.frame(MOVE, closed_curl, _interp_pose(T_prev, T_next, (f + 1) / frames_per_control))
        task.on_step((k + 1) * dt)

    followed = follow_targets(task.expert, T_cmd, horizon, task.dt, move, still_steps=hold_steps)
    return followed.T_contact_cmd, followed.let_go


def _release(rec: _Recorder, end: np.ndarray, n_release: int, open_curl: float, closed_curl: float) -> None:
    """Open the hand and withdraw backwards and up from the grasp pose ``end`` (world)."""
    T_away = make_T(end[:3, :3], withdrawn(end[:3, 3], -end[:3, 2]))
    opening, withdrawal = release_profile(np.linspace(0, 1, n_release))
    for c, b in zip(blend_curl(closed_curl, open_curl, opening), withdrawal):
        rec.frame(RELEASE, float(c), _interp_pose(end, T_away, float(b)))


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
    T_gw = T_grasp_wrist(hand_scale, u("grasp_pitch_deg"), u("grasp_roll_deg") + task.hand_roll_deg)
    body, link = task.held()
    # The floor is removed before rendering (the painted backdrop stands in for it): not recorded.
    rec = _Recorder(scene, steps_per_frame, {scene.body("floor")})
    if task.in_hand:  # the object waits at its start pose, as if held up by the other hand
        task.place_in_hand(T_wc @ T_cmd)
        rec.grip = Grip.to_world(scene.client, scene.body(body), link, T_wc @ T_cmd, rigid=True)
    scene.step(60)

    start = T_wc @ T_cmd
    _reach_and_grasp(rec, start, u, rng, n_reach, n_grasp, open_curl, closed_curl)
    if rec.grip is None:
        rec.grip = Grip.to_world(scene.client, scene.body(body), link, start, rigid=task.rigid_grasp)
    horizon = int(round(float(skill_cfg.horizon_s) * cfg.control_hz / speed))
    hold_steps = max(1, int(round(float(cfg.hold_end_s) * cfg.control_hz)))
    T_cmd, let_go = _manipulate(rec, task, T_cmd, horizon, dt, frames_per_control, closed_curl, hold_steps)
    # Articulated objects and objects meant to be put down are let go; a held cup, spoon or knife
    # stays where the hand leaves it.
    if let_go or skill_cfg.release_at_end:
        rec.grip.release()
    _release(rec, T_wc @ T_cmd, n_release, open_curl, closed_curl)
    scene.step(int(round(max(float(cfg.settle_s), float(skill_cfg.settle_s)) / float(cfg.timestep_s))))

    return _recorded(rec, task, T_gw, rng, float(cfg.noise_m), cfg.fps, speed)


def _recorded(
    rec: _Recorder,
    task,
    T_grasp_wrist: np.ndarray,
    rng: np.random.Generator,
    noise_m: float,
    fps,
    speed: float,
) -> StagedMotion:
    """The demonstration's record: the wrist follows the recorded grasp poses, with a wobble of
    ``noise_m``; the scene is judged with the floor gone (it is not rendered)."""
    T_wg = np.stack(rec.grasp_poses) @ T_grasp_wrist
    t = np.arange(len(rec.phase)) / fps
    wrist_pos = T_wg[:, :3, 3] + smooth_noise(rng, t, noise_m)
    p.removeBody(rec.scene.body("floor"), physicsClientId=rec.scene.client)
    return StagedMotion(
        np.array(rec.phase),
        np.array(rec.curl),
        wrist_pos,
        T_wg[:, :3, :3],
        rec.states,
        task.contact_frame().copy(),
        np.asarray(task.robot_base, dtype=np.float64),
        bool(task.is_success()),
        task.progress(),
        str(task.skill.task),
        speed,
    )
