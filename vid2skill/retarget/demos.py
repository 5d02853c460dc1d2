"""Retargeting human contact-frame motions to a robot arm.

A skill's human trajectories are displacements of the hand from the grasp point, in the contact
frame. A scene defines the same frame from the object (for a drawer: origin at the handle, x into
the drawer, z up), so the end-effector path is ``T_world_contact * p_contact`` with the gripper
holding its grasp orientation. IK (damped least squares, joint limits, rest-posture null space)
turns that path into joint trajectories, checked for reach errors, limits, self-collision and
smoothness.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from vid2skill.artifacts import read_artifact, write_artifact
from vid2skill.geometry import apply_T, interp_rows
from vid2skill.physics.robot import Kinematics
from vid2skill.retarget.primitives import SkillMotion

DEMO_SCHEMA = 1
# The retargeting algorithm's version (2: fitted motions), in the retarget stage's key: a change reruns it.
RETARGET_VERSION = 2
# Saved per demo; ee_rotvec_contact is absent from sets written before rotations were kept (read as zeros).
_ARRAYS = ("ee_contact_m", "gripper_closed", "q_nominal", "ik_error_m", "ee_rotvec_contact")


@dataclass
class RobotDemo:
    """One retargeted demonstration, sampled at the control rate (T steps).

    Attributes:
        clip: the human clip it came from.
        ee_contact_m: (T, 3) end-effector displacement from the grasp point, contact frame.
        gripper_closed: (T,) bool, gripper command per step (closed while manipulating; open in the
            steps after the motion for a skill that lets go at its end).
        q_nominal: (T, n_joints) joint angles reaching the path in the nominal scene.
        ik_error_m: (T,) position error of that IK solution.
        ee_rotvec_contact: (T, 3) rotation of the gripper since the grasp, contact frame (rotation
            vectors, rad): R(t) = exp(ee_rotvec_contact[t]) @ R_contact_grasp. Zeros: orientation held.
        motion: the demonstration's fitted structure (``retarget.motion_model: structure``), which
            replay executes in each episode's scene (the arrays, which learners train on, hold the
            human's path time-normalised to the skill's median duration); None: replay the arrays.
    """

    clip: str
    ee_contact_m: np.ndarray
    gripper_closed: np.ndarray
    q_nominal: np.ndarray
    ik_error_m: np.ndarray
    ee_rotvec_contact: np.ndarray | None = None
    motion: SkillMotion | None = None

    def __post_init__(self):
        T = len(self.ee_contact_m)
        if self.ee_rotvec_contact is None:
            self.ee_rotvec_contact = np.zeros((T, 3))
        if not (
            len(self.gripper_closed)
            == len(self.q_nominal)
            == len(self.ik_error_m)
            == len(self.ee_rotvec_contact)
            == T
        ):
            raise ValueError(f"RobotDemo {self.clip}: arrays must all have {T} steps")

    def R_contact(self, i: int, R_contact_grasp: np.ndarray) -> np.ndarray:
        """The gripper's orientation (3, 3) in the contact frame at step ``i``."""
        return Rotation.from_rotvec(self.ee_rotvec_contact[i]).as_matrix() @ R_contact_grasp


@dataclass
class DemoSet:
    """The retargeted demonstrations of one skill on one robot, with the retarget report."""

    skill: str
    robot: str
    control_hz: float
    demos: list[RobotDemo]
    report: dict = field(default_factory=dict)

    def content_hash(self) -> str:
        """Hash of the demonstrations' arrays (not of the file: zip archives carry write times)."""
        h = hashlib.sha1()
        for d in self.demos:
            for k in _ARRAYS:
                h.update(np.ascontiguousarray(getattr(d, k)).tobytes())
            if d.motion is not None:
                h.update(json.dumps(d.motion.to_dict(), sort_keys=True).encode())
        return h.hexdigest()[:16]

    def save(self, path: str | Path) -> None:
        arrays = {}
        for i, d in enumerate(self.demos):
            for k in _ARRAYS:
                arrays[f"{i}/{k}"] = getattr(d, k)
        meta = {
            "skill": self.skill,
            "robot": self.robot,
            "control_hz": self.control_hz,
            "clips": [d.clip for d in self.demos],
            "report": self.report,
            "motions": [d.motion.to_dict() if d.motion is not None else None for d in self.demos],
        }
        write_artifact(path, "DemoSet", DEMO_SCHEMA, meta, arrays)

    @classmethod
    def load(cls, path: str | Path) -> DemoSet:
        meta, arrays = read_artifact(path, "DemoSet", DEMO_SCHEMA)
        motions = meta.get("motions") or [None] * len(
            meta["clips"]
        )  # sets written before motions were fitted
        demos = [
            RobotDemo(
                clip, *(arrays.get(f"{i}/{k}") for k in _ARRAYS), SkillMotion.from_dict(m) if m else None
            )
            for i, (clip, m) in enumerate(zip(meta["clips"], motions))
        ]
        return cls(meta["skill"], meta["robot"], meta["control_hz"], demos, meta["report"])


def resample_to_rate(path: np.ndarray, duration_s: float, control_hz: float) -> np.ndarray:
    """Resample an (N, D) path spanning ``duration_s`` to one sample per control step (uniform in time)."""
    steps = max(2, int(round(duration_s * control_hz)) + 1)
    s_old = np.linspace(0, 1, len(path))
    s_new = np.linspace(0, 1, steps)
    return interp_rows(s_new, s_old, path)


def retarget_path(
    kin: Kinematics,
    path_contact: np.ndarray,
    T_world_contact: np.ndarray,
    R_contact_grasp: np.ndarray,
    hold_steps: int,
    rotvec_contact: np.ndarray | None = None,
    release: bool = True,
) -> RobotDemo:
    """Joint trajectory for one contact-frame path (and the hand's rotation since the grasp, if given)
    in a scene, held for ``hold_steps`` at the end, with the gripper open then if ``release`` (a skill
    that lets go at its end) and closed otherwise (a pick or a pour is judged while holding)."""
    pad = lambda a: np.concatenate([a, np.repeat(a[-1:], hold_steps, axis=0)])  # noqa: E731
    path = pad(path_contact)
    rot = pad(rotvec_contact) if rotvec_contact is not None else np.zeros_like(path)
    world = apply_T(T_world_contact, path)
    R_world = T_world_contact[:3, :3] @ Rotation.from_rotvec(rot).as_matrix() @ R_contact_grasp
    q = None
    qs, errs = [], []
    for p, R in zip(world, R_world):
        q, err, _ = kin.ik(p, R, q_seed=q)
        qs.append(q)
        errs.append(err)
    gripper = np.ones(len(path), dtype=bool)
    if release:
        gripper[len(path_contact) :] = False
    return RobotDemo("", path, gripper, np.array(qs), np.array(errs), rot)


def demo_report(
    demos: list[RobotDemo],
    lower: np.ndarray,
    upper: np.ndarray,
    reach_tol_m: float,
    kin: Kinematics | None = None,
) -> dict:
    """Per-clip checks: IK error, joint-limit violations, the largest joint step (smoothness) and,
    given the arm's kinematic twin, the steps at which the arm runs into itself (and which links)."""
    per_clip = []
    for d in demos:
        viol = int(((d.q_nominal < lower - 1e-6) | (d.q_nominal > upper + 1e-6)).sum())
        step = float(np.abs(np.diff(d.q_nominal, axis=0)).max()) if len(d.q_nominal) > 1 else 0.0
        rec = {
            "clip": d.clip,
            "steps": len(d.q_nominal),
            "max_ik_error_m": round(float(d.ik_error_m.max()), 4),
            "mean_ik_error_m": round(float(d.ik_error_m.mean()), 4),
            "unreachable_steps": int((d.ik_error_m > reach_tol_m).sum()),
            "joint_limit_violations": viol,
            "max_joint_step_rad": round(step, 4),
        }
        if kin is not None:
            hits = [kin.self_collisions(q) for q in d.q_nominal]
            rec["self_collision_steps"] = sum(bool(h) for h in hits)
            rec["self_collision_links"] = sorted({"/".join(pair) for h in hits for pair in h})
        per_clip.append(rec)
    return {"clips": per_clip}
