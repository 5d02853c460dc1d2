"""The loop that runs a target-pose controller in a scene: a scene's scripted expert (``SkillScene.expert``),
or a policy that answers with target poses (a replay), whether a robot or a synthetic human hand
carries the grasp frame.

Each control step ``k`` the controller is asked, at ``t_s = k * dt``, for its next target grasp pose
in the contact frame given the last one commanded; a target is handed on to ``move``, which drives
the arm or the hand there for one control step (and tells the scene the step is done). The loop ends
when the controller lets go, when the horizon ends or, if asked, when the target has held still.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# A target closer than this to the last one counts as holding still (m; largest rotation matrix entry change).
STILL_M, STILL_ROT = 1e-3, 0.01


@dataclass
class Followed:
    """How a run of :func:`follow_targets` ended.

    Attributes:
        T_contact_cmd: (4, 4) the last target handed to ``move`` (the start pose if none was).
        steps: control steps moved.
        let_go: the controller let go (at control step ``steps``).
        T_contact_last: (4, 4) the controller's last answer, the one it let go with if it did.
    """

    T_contact_cmd: np.ndarray
    steps: int
    let_go: bool
    T_contact_last: np.ndarray


def follow_targets(
    act: Callable[[float, np.ndarray], tuple[np.ndarray, bool]],
    T_contact_start: np.ndarray,
    horizon: int,
    dt: float,
    move: Callable[[int, np.ndarray, np.ndarray], None],
    still_steps: int | None = None,
) -> Followed:
    """Run ``act(t_s, T_contact_cmd) -> (T_contact_target (4, 4), keep_closed)`` from
    ``T_contact_start`` for at most ``horizon`` control steps of ``dt`` seconds, calling
    ``move(k, T_contact_from, T_contact_to)`` with every target it keeps holding towards.
    With ``still_steps``, stop once the target has held still for that many steps (a person
    stops when the motion is done; an evaluation episode runs to its horizon)."""
    T_cmd, T_last, still = T_contact_start, T_contact_start, 0
    for k in range(horizon):
        T_last, keep_closed = act(k * dt, T_cmd)
        if not keep_closed:
            return Followed(T_cmd, k, True, T_last)
        T_next = np.asarray(T_last, dtype=np.float64)
        if still_steps is not None:
            moved = (
                np.linalg.norm(T_next[:3, 3] - T_cmd[:3, 3]) > STILL_M
                or np.abs(T_next[:3, :3] - T_cmd[:3, :3]).max() > STILL_ROT
            )
            still = 0 if moved else still + 1
        T_prev, T_cmd = T_cmd, T_next
        move(k, T_prev, T_cmd)
        if still_steps is not None and still >= still_steps:
            return Followed(T_cmd, k + 1, False, T_last)
    return Followed(T_cmd, horizon, False, T_last)
