"""The retarget stage: every skill's human trajectories become robot demonstrations."""

from __future__ import annotations

import logging

import numpy as np

from vid2skill.geometry import R_CONTACT_GRASP, make_T
from vid2skill.physics.robot import Kinematics, RobotSpec
from vid2skill.retarget.demos import DemoSet, demo_report, resample_to_rate, retarget_path
from vid2skill.skills.library import SkillLibrary

log = logging.getLogger(__name__)


def robot_spec(robot_cfg) -> RobotSpec:
    from omegaconf import OmegaConf

    d = OmegaConf.to_container(robot_cfg, resolve=True)
    return RobotSpec(**{k: v for k, v in d.items() if k in RobotSpec.__dataclass_fields__})


def nominal_contact_frame(cfg) -> np.ndarray:
    """T_base_contact of the nominal scene used to check reachability: x into the object, z up."""
    yaw = np.radians(cfg.nominal_contact_yaw_deg)
    x = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    z = np.array([0.0, 0.0, 1.0])
    return make_T(np.stack([x, np.cross(z, x), z], axis=1), np.asarray(cfg.nominal_contact_position_m, dtype=float))


def retarget(cfg, robot_cfg, library: SkillLibrary, skills: list[str]) -> dict[str, DemoSet]:
    """DemoSets for the library's skills that ``skills`` names (those with a simulated task)."""
    spec = robot_spec(robot_cfg)
    kin = Kinematics(spec)
    T_wc = nominal_contact_frame(cfg)
    T_wc[:3, 3] -= np.asarray(spec.mount_offset_m, dtype=float)  # the arm stands at its own mount point
    out = {}
    try:
        for name, card in library.skills.items():
            if name not in skills:
                log.info("retarget: no simulated task for skill %r; skipped", name)
                continue
            demos = []
            outliers = set(card.stats.get("outliers", []))
            if outliers:
                log.info("retarget: %s: leaving out %d outlier clip(s): %s", name, len(outliers), ", ".join(sorted(outliers)))
            # Time-normalise: every demonstration of a skill spans the skill's median duration, so
            # that the policy's clock means the same phase of the motion in all of them.
            kept = {c: t for c, t in card.trajectories.items() if c not in outliers}
            duration = float(np.median([card.durations_s[c] for c in kept]))
            for clip, traj in kept.items():
                path = resample_to_rate(traj, duration, cfg.control_hz)
                rot = resample_to_rate(card.rotation(clip), duration, cfg.control_hz) if cfg.follow_rotation else None
                demo = retarget_path(kin, path, T_wc, R_CONTACT_GRASP, cfg.release_steps, rot)
                demo.clip = clip
                demos.append(demo)
            report = demo_report(demos, kin.robot.lower, kin.robot.upper, cfg.reach_tolerance_m)
            report["left_out"] = sorted(outliers)
            out[name] = DemoSet(name, spec.name, cfg.control_hz, demos, report)
            worst = max(c["max_ik_error_m"] for c in report["clips"])
            log.info("retarget: %s -> %d %s demos, worst IK error %.1f mm", name, len(demos), spec.name, 1000 * worst)
    finally:
        kin.close()
    return out
