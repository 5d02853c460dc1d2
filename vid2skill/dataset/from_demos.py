"""Episodes from retargeted human demonstrations (``<workspace>/retarget/<robot>/<skill>.{json,npz}``).

Each :class:`~vid2skill.retarget.demos.RobotDemo` becomes one episode at the DemoSet's control
rate: its contact-frame end-effector path and rotation become the state, their differences the
actions, and the skill's goal is read from the demonstration itself, in hindsight, by the rule that
``dataset.goals`` names for the skill (never from a scene's ground truth):

* ``release``: where the hand lets go (the last frame with the gripper closed), as for place;
* ``max_tilt``: where the held object is turned furthest from its grasp orientation, as a cup is
  tipped to pour (the end of the held motion where the demonstration kept no rotations);
* ``centroid_late``: the centre of the second half of the held motion, where a spoon circles or a
  knife saws;
* ``arc_centre``: the centre of the circle the held motion swings on in the horizontal plane, where
  a door's hinge is (no goal where the path is too short or too straight to hold a circle);
* ``none``: the skill has no goal (the flag is 0 and the position zeros).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from vid2skill.dataset.episodes import Episode, EpisodeDataset, fix_hint
from vid2skill.errors import ConfigError, DatasetError
from vid2skill.retarget.demos import DemoSet, RobotDemo

log = logging.getLogger(__name__)

GOAL_RULES = ("none", "release", "max_tilt", "centroid_late", "arc_centre")
_NO_ROTATION_RAD = 1e-6
# An arc's centre is read only from a swing of at least this much, on a circle of at most this radius.
_MIN_ARC_RAD = np.radians(20.0)
_MAX_ARC_RADIUS_M = 2.0
_MIN_ARC_SPREAD = 0.05  # ... from a path whose second principal spread is at least this share of its first


def _held(demo: RobotDemo) -> np.ndarray:
    """Indices of the held motion: the frames up to the last one with the gripper closed (all, if never)."""
    closed = np.flatnonzero(np.asarray(demo.gripper_closed, dtype=bool))
    return np.arange((closed[-1] + 1) if len(closed) else len(demo.ee_contact_m))


def hindsight_goal(demo: RobotDemo, rule: str) -> np.ndarray:
    """The skill's goal read from one demonstration by ``rule`` (see the module docstring):
    (4,) target position (m, contact frame) and valid flag."""
    if rule not in GOAL_RULES:
        raise ConfigError(f"goal rule {rule!r} is not known; choose one of {', '.join(GOAL_RULES)}")
    if rule == "none":
        return np.zeros(4)
    p = np.asarray(demo.ee_contact_m, dtype=np.float64)
    held = _held(demo)
    if rule == "release":
        target = p[held[-1]]
    elif rule == "max_tilt":
        angle = np.linalg.norm(np.asarray(demo.ee_rotvec_contact)[held], axis=1)
        target = p[held[int(np.argmax(angle))]] if angle.max() > _NO_ROTATION_RAD else p[held[-1]]
    elif rule == "arc_centre":
        return arc_centre(p[held])
    else:  # centroid_late
        target = p[held[len(held) // 2 :]].mean(axis=0)
    return np.append(target, 1.0)


def arc_centre(p: np.ndarray) -> np.ndarray:
    """(4,) the centre of the circle through a path (N, 3) in the horizontal (x, y) plane, at the
    path's start height, and the valid flag; zeros where the path swings less than
    ``_MIN_ARC_RAD`` about it, the circle is wider than ``_MAX_ARC_RADIUS_M``, or the path is too
    straight or too far off any circle to hold one."""
    xy = p[:, :2]
    if len(xy) < 3 or not np.isfinite(xy).all():
        return np.zeros(4)
    spread = np.linalg.svd(xy - xy.mean(axis=0), compute_uv=False)
    if spread[1] < _MIN_ARC_SPREAD * spread[0]:  # a line: no circle to read
        return np.zeros(4)
    # Kasa's algebraic fit: x^2 + y^2 = 2 a x + 2 b y + c.
    A = np.column_stack([2 * xy, np.ones(len(xy))])
    (a, b, c), *_ = np.linalg.lstsq(A, (xy**2).sum(axis=1), rcond=None)
    radius = np.sqrt(max(c + a * a + b * b, 0.0))
    centre = np.array([a, b])
    swept = np.unwrap(np.arctan2(*(xy - centre).T[::-1]))
    off_circle = np.std(np.linalg.norm(xy - centre, axis=1))
    if not (0.0 < radius <= _MAX_ARC_RADIUS_M) or np.ptp(swept) < _MIN_ARC_RAD or off_circle > 0.2 * radius:
        return np.zeros(4)
    return np.array([a, b, p[0, 2], 1.0])


def episode_from_demo(demo: RobotDemo, task: str, goal_rule: str, source: str = "") -> Episode:
    """One demonstration as an episode: state (p, r, gripper, phase), the hindsight goal on every
    frame, and actions that step from each frame to the next (zero after the last)."""
    p = np.asarray(demo.ee_contact_m, dtype=np.float64)
    r = np.asarray(demo.ee_rotvec_contact, dtype=np.float64)
    closed = np.asarray(demo.gripper_closed, dtype=bool).astype(np.float64)
    T = len(p)
    phase = np.arange(T) / max(1, T - 1)
    R = Rotation.from_rotvec(r)
    d_p = np.zeros((T, 3))
    d_r = np.zeros((T, 3))
    if T > 1:
        d_p[:-1] = p[1:] - p[:-1]
        d_r[:-1] = (R[1:] * R[:-1].inv()).as_rotvec()  # left-applied: R(t+1) = exp(d_r) R(t)
    command = np.append(closed[1:], closed[-1])  # the gripper command that leads to the next frame
    state = np.column_stack([p, r, closed, phase])
    action = np.column_stack([d_p, d_r, command])
    goal = np.repeat(hindsight_goal(demo, goal_rule)[None], T, axis=0)
    return Episode(task, demo.clip, state, goal, action, source=source)


def _check_demo(demo: RobotDemo, where: str) -> None:
    """NaNs or ragged arrays in a DemoSet, named before they become frames."""
    T = len(demo.ee_contact_m)
    for name in ("ee_contact_m", "ee_rotvec_contact"):
        a = np.asarray(getattr(demo, name))
        if a.shape != (T, 3):
            raise DatasetError(f"{where}: {name} has shape {a.shape}, expected ({T}, 3)")
        if not np.isfinite(a).all():
            raise DatasetError(
                f"{where}: {name} is not finite at step {int(np.argwhere(~np.isfinite(a))[0, 0])}"
            )
    if np.asarray(demo.gripper_closed).shape != (T,):
        raise DatasetError(
            f"{where}: gripper_closed has shape {np.asarray(demo.gripper_closed).shape}, expected ({T},)"
        )
    if T < 2:
        raise DatasetError(f"{where}: a demonstration needs at least 2 steps, has {T}")


def episodes_from_demoset(demos: DemoSet, goal_rule: str, path: str | Path = "") -> list[Episode]:
    """Every demonstration of one skill's DemoSet (read from ``path``, named in errors) as episodes."""
    path = str(Path(path).with_suffix(".npz")) if path else f"DemoSet {demos.skill}/{demos.robot}"
    out = []
    with fix_hint(f"rerun `vid2skill retarget robot={demos.robot} force=true` to remake it"):
        for i, d in enumerate(demos.demos):
            where = f"{path} demo {i} ({d.clip})"
            _check_demo(d, where)
            out.append(episode_from_demo(d, demos.skill, goal_rule, source=where))
    return out


def dataset_from_demosets(demosets: dict[Path, DemoSet], goal_rules: dict[str, str]) -> EpisodeDataset:
    """One dataset from the DemoSets of one robot (path -> DemoSet), skills in the given order.

    ``goal_rules``: skill -> rule; skills not listed have no goal. The DemoSets must share their robot
    and control rate (the dataset's fps).
    """
    if not demosets:
        raise DatasetError("no DemoSets to build a dataset from; run `vid2skill retarget` first")
    robots = {d.robot for d in demosets.values()}
    rates = {float(d.control_hz) for d in demosets.values()}
    if len(robots) > 1 or len(rates) > 1:
        raise DatasetError(
            f"DemoSets {sorted(map(str, demosets))} mix robots {sorted(robots)} or control rates "
            f"{sorted(rates)}; rerun `vid2skill retarget force=true` so they share one"
        )
    episodes, provenance = [], {"demosets": []}
    for path, ds in demosets.items():
        rule = goal_rules.get(ds.skill, "none")
        if rule not in GOAL_RULES:
            raise ConfigError(
                f"dataset.goals.{ds.skill}={rule!r} is not a goal rule; choose one of {', '.join(GOAL_RULES)}"
            )
        eps = episodes_from_demoset(ds, rule, path)
        if not eps:
            log.warning("dataset: %s holds no demonstrations; skipped", path)
            continue
        episodes.extend(eps)
        provenance["demosets"].append(
            {
                "file": str(path),
                "skill": ds.skill,
                "demos": len(eps),
                "goal_rule": rule,
                "content_hash": ds.content_hash(),
            }
        )
    if not episodes:
        raise DatasetError(
            f"the DemoSets {sorted(map(str, demosets))} hold no demonstrations; "
            "check `vid2skill skills` and rerun `vid2skill retarget`"
        )
    return EpisodeDataset(robots.pop(), rates.pop(), tuple(episodes), provenance)
