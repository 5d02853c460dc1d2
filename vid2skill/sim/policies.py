"""Where the episode's policies used to live; kept so that existing imports keep working.

The policy types are now registered in :mod:`vid2skill.policy.registry`, one folder each:
``expert`` (:mod:`vid2skill.policy.expert`), ``replay`` (:mod:`vid2skill.policy.replay`, with
:class:`MotionReplayPolicy`) and ``bc_mlp`` (:mod:`vid2skill.policy.bc_mlp`).
"""

from __future__ import annotations

import numpy as np

from vid2skill.policy import base
from vid2skill.policy.expert import ExpertPolicy
from vid2skill.policy.replay import MotionReplayPolicy, ReplayPolicy, replay_policy_for

__all__ = [
    "ExpertPolicy",
    "ReplayPolicy",
    "MotionReplayPolicy",
    "replay_policy_for",
    "StepPolicy",
    "holds_at_end",
]


def holds_at_end(task) -> bool:
    """Whether the task is judged while its object is still held (see
    :func:`vid2skill.policy.base.holds_at_end`)."""
    return base.holds_at_end(task.skill)


class StepPolicy(base.ScriptedPolicy):
    """The target-pose interface over a model with ``act(x, max_step_m) -> (position step (3,), keep
    closed)`` for x = (commanded position in the contact frame, time): ``bc_mlp`` schema v1's
    interface, kept for models written against it (``bc_mlp`` itself is now a 6-DoF, goal-aware
    Policy-protocol policy). A skill judged while holding never lets go."""

    privileged = False  # it reads only the skill's definition (release_at_end), not the scene

    def __init__(self, model, max_step_m: float, name: str):
        super().__init__(None)
        self.model, self.max_step_m, self.name = model, float(max_step_m), name

    def reset(self, task=None, T_contact_start=None):
        super().reset(task, T_contact_start)
        self.T0 = T_contact_start
        self.hold_at_end = base.holds_at_end(task.skill)

    def act(self, obs):
        T = obs["T_contact_cmd"].copy()
        x = np.append(T[:3, 3] - self.T0[:3, 3], obs["t_s"])
        step, keep = self.model.act(x, self.max_step_m)
        T[:3, 3] = T[:3, 3] + np.asarray(step, dtype=np.float64)
        return T, bool(keep or self.hold_at_end)
