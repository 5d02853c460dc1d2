"""The retarget stage: every skill's human trajectories become robot demonstrations."""

from __future__ import annotations

import logging

import numpy as np

from vid2skill.errors import ConfigError, Vid2SkillError
from vid2skill.physics.robot import Kinematics, RobotSpec
from vid2skill.retarget.demos import DemoSet, demo_report, resample_to_rate, retarget_path
from vid2skill.retarget.primitives import FAMILY_OF_TASK, fit_motion
from vid2skill.skills.library import SkillLibrary

log = logging.getLogger(__name__)


def robot_spec(robot_cfg) -> RobotSpec:
    """The arm a ``robot`` config describes; a key RobotSpec does not know is an error, not dropped."""
    from omegaconf import OmegaConf

    d = OmegaConf.to_container(robot_cfg, resolve=True) if OmegaConf.is_config(robot_cfg) else dict(robot_cfg)
    unknown = sorted(set(d) - set(RobotSpec.__dataclass_fields__))
    if unknown:
        raise ConfigError(
            f"robot {d.get('name', '?')}: unknown key(s) {unknown}; "
            f"the keys are {', '.join(RobotSpec.__dataclass_fields__)}"
        )
    return RobotSpec(**d)


def nominal_scene(skill_cfg, scene_cfg, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(T_base_contact (4, 4), R_contact_grasp (3, 3)) of one randomised scene of the skill, in the
    frame of the robot's nominal base: where demonstrations are checked for reach and limits."""
    from vid2skill.physics.bullet import BulletScene
    from vid2skill.scenes import SCENES

    with BulletScene() as scene:
        task = SCENES.get(skill_cfg.task)(scene, skill_cfg, scene_cfg, np.random.default_rng(seed))
        T = task.contact_frame().copy()
        T[:3, 3] -= task.robot_base
        return T, task.grasp_in_contact()[:3, :3]


def fit_members(card, skill_cfg, cfg) -> tuple[dict, dict]:
    """({clip: SkillMotion}, {clip: why its fit failed}) for a card's members (``retarget.primitives``)."""
    family = FAMILY_OF_TASK.get(str(skill_cfg.task))
    motions, failed = {}, {}
    for clip, traj in card.trajectories.items():
        try:
            motions[clip] = fit_motion(
                family,
                traj,
                card.rotation(clip),
                card.durations_s[clip],
                card.up(clip),
                cfg.primitives,
                card.held_axis(clip),
            )
        except Vid2SkillError as e:
            failed[clip] = str(e)
    return motions, failed


def skill_demos(
    card,
    motions: dict,
    kin: Kinematics,
    T_wc: np.ndarray,
    R_contact_grasp: np.ndarray,
    cfg,
    structure: bool,
    release: bool = True,
) -> list:
    """One skill's RobotDemos in the nominal scene. Members far from their skill's median reach or
    duration (failed segmentations, depth errors) teach learners nothing good: they are left out of
    learning (``card.stats["outliers"]``, the report's ``left_out``). Replay of a fitted motion does
    not depend on that raw path, so with motions every fitted member is kept. Every demonstration's
    arrays span the median duration of those learnt from, so that a policy's clock means the same
    phase of the motion in all of them; a fitted motion keeps the human's own pace. ``release``: the
    skill lets go at its end (``release_at_end``); a skill judged while holding keeps the gripper
    closed through the steps appended after the motion."""
    outliers = set(card.stats.get("outliers", []))
    kept = {c: t for c, t in card.trajectories.items() if (c in motions if structure else c not in outliers)}
    learn = [c for c in kept if c not in outliers] or list(kept)
    duration = float(np.median([card.durations_s[c] for c in learn])) if kept else 0.0
    demos = []
    for clip, traj in kept.items():
        path = resample_to_rate(traj, duration, cfg.control_hz)
        rot = resample_to_rate(card.rotation(clip), duration, cfg.control_hz) if cfg.follow_rotation else None
        demo = retarget_path(kin, path, T_wc, R_contact_grasp, cfg.release_steps, rot, release)
        demo.clip, demo.motion = clip, motions.get(clip)
        demos.append(demo)
    return demos


def retarget(cfg, robot_cfg, library: SkillLibrary, skill_cfgs: dict, scene_cfgs) -> dict[str, DemoSet]:
    """DemoSets for the library's skills that ``skill_cfgs`` (``cfg.skill``) names, each checked by
    IK in one scene of its task (``scene_cfgs``: ``sim.scenes``, seed ``retarget.nominal_scene_seed``)."""
    if cfg.motion_model not in ("structure", "path"):
        raise ConfigError(f"retarget.motion_model={cfg.motion_model!r}: use structure or path")
    spec = robot_spec(robot_cfg)
    kin = Kinematics(spec)
    out = {}
    try:
        for name, card in library.skills.items():
            if name not in skill_cfgs:
                log.info("retarget: no simulated task for skill %r; skipped", name)
                continue
            demo_set = _skill_demo_set(cfg, spec, kin, name, card, skill_cfgs[name], scene_cfgs)
            if demo_set is not None:
                out[name] = demo_set
    finally:
        kin.close()
    return out


def _skill_demo_set(cfg, spec, kin, name: str, card, skill_cfg, scene_cfgs) -> DemoSet | None:
    """One skill's DemoSet with its report (None, logged, when no demonstration could be made)."""
    structure = cfg.motion_model == "structure"
    motions, failed = fit_members(card, skill_cfg, cfg) if structure else ({}, {})
    for clip, why in failed.items():
        log.warning("retarget: %s: %s: no motion fitted: %s", name, clip, why)
    T_wc, R_contact_grasp = nominal_scene(skill_cfg, scene_cfgs[skill_cfg.task], cfg.nominal_scene_seed)
    T_wc[:3, 3] -= np.asarray(spec.mount_offset_m, dtype=float)  # the arm stands at its own mount point
    demos = skill_demos(
        card, motions, kin, T_wc, R_contact_grasp, cfg, structure, bool(skill_cfg.release_at_end)
    )
    if not demos:
        log.warning("retarget: %s: no demonstration could be made; skipped", name)
        return None
    report = demo_report(demos, kin.robot.lower, kin.robot.upper, cfg.reach_tolerance_m, kin)
    report["left_out"] = sorted(card.stats.get("outliers", []))
    if report["left_out"]:
        log.info(
            "retarget: %s: %d clip(s) left out of learning: %s",
            name,
            len(report["left_out"]),
            ", ".join(report["left_out"]),
        )
    if structure:
        report["motions"] = {
            c: {
                "method": m.method,
                "duration_s": round(m.duration_s, 2),
                **{k: round(v, 4) for k, v in m.values.items()},
            }
            for c, m in motions.items()
        }
    worst = max(c["max_ik_error_m"] for c in report["clips"])
    colliding = [c["clip"] for c in report["clips"] if c["self_collision_steps"]]
    log.info(
        "retarget: %s -> %d %s demos, worst IK error %.1f mm, %d in self-collision%s",
        name,
        len(demos),
        spec.name,
        1000 * worst,
        len(colliding),
        f" ({', '.join(colliding)})" if colliding else "",
    )
    return DemoSet(name, spec.name, cfg.control_hz, demos, report)
