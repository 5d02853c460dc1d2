"""A scene's goal as the policy observes it (``observation.goal``): the task's target as an
end-effector (grasp point) position in the contact frame, relative to the start grasp, and a
valid flag, defined as the dataset reads it from a demonstration in hindsight
(:mod:`vid2skill.dataset.from_demos`, rules in ``conf/dataset/demos.yaml``):

* place (``release``): where the hand lets go, over the region's centre at the expert's release height;
* pour (``max_tilt``): where the cup is turned furthest, tipped over the bowl's rim;
* stir (``centroid_late``): the centre of the circling, the spoon's head at stirring depth in the pot;
* cut (``centroid_late``): the centre of the sawing, the edge over the block's centre at the cut's depth.
* door, for hinge_open (``arc_centre``): the hinge, at the handle's height: the centre of the arc
  the handle swings on (the door starts shut, so the swing to make is the skill's own);
* door, for hinge_close (``release``): where the handle is with the door shut, where the hand lets go.
  A door starts anywhere from half to fully open, and only this point says how far to swing it:
  the hinge sits in the same place relative to the handle whatever the door's angle.
* drawer, for slide_close (``release``): where the handle is with the drawer shut. The drawer starts
  open by a random amount, which nothing else the policy observes tells. slide_open starts shut
  and has none.

Each reads only the scene's specification (its targets' placement), fixed when the scene is
sampled, never its state during the episode. Skills without a goal give zeros and flag 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vid2skill.geometry import inv_T


def _place(task) -> np.ndarray:
    return task._release_point(task.skill.expert.release_height_m)


def _pour(task) -> np.ndarray:
    return task._tilted(task._prepour_cup(), np.radians(task.skill.expert.tilt_deg))[:3, 3]


def _stir(task) -> np.ndarray:
    depth = task.pot.wall + task.skill.expert.depth_above_bottom_m
    return task.grasp_for_tip(task.pot_centre + np.array([0.0, 0.0, depth]))[:3, 3]


def _cut(task) -> np.ndarray:
    centre = task.T_w_block[:3, 3]
    return task.grasp_for_tip(
        np.array([centre[0], centre[1], task.block_top - task.success_cfg.min_depth_m])
    )[:3, 3]


def _door(task) -> np.ndarray:
    if task.skill.sense == "close":
        return task.grasp_at_angle(0.0)[:3, 3]
    hinge = task._T_w_door0[:3, 3].copy()
    hinge[2] = task._T_wc[2, 3]  # the axis is vertical: its point level with the handle
    return (inv_T(task._T_wc) @ np.append(hinge, 1.0))[:3]


def _drawer(task) -> np.ndarray | None:
    return task.grasp_at_opening(0.0)[:3, 3] if task.skill.sense == "close" else None


# Scene type (``conf/skill/<name>.yaml`` ``task``) -> its goal point (3,), contact frame, or None
# where the skill has none.
GOALS: dict[str, Callable] = {
    "place": _place,
    "pour": _pour,
    "stir": _stir,
    "cut": _cut,
    "door": _door,
    "drawer": _drawer,
}


def scene_goal(task, task_name: str) -> np.ndarray:
    """(4,) float64: the goal position relative to the start grasp (m, contact frame) and the valid flag."""
    point = GOALS[task_name](task) if task_name in GOALS else None
    if point is None:
        return np.zeros(4)
    return np.append(np.asarray(point, dtype=np.float64) - task.grasp_in_contact()[:3, 3], 1.0)
