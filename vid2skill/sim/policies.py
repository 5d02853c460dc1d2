"""Where the episode's policies used to live; kept so that existing imports keep working.

The policy types are now registered in :mod:`vid2skill.policy.registry`, one folder each:
``expert`` (:mod:`vid2skill.policy.expert`), ``replay`` (:mod:`vid2skill.policy.replay`, with
:class:`MotionReplayPolicy`) and ``bc_mlp`` (:mod:`vid2skill.policy.bc_mlp`).
"""

from __future__ import annotations

import numpy as np

from vid2skill.dataset.features import STATE, TIMESTAMP
from vid2skill.policy import base
from vid2skill.policy.expert import ExpertPolicy
from vid2skill.policy.replay import MotionReplayPolicy, ReplayPolicy, replay_policy_for

__all__ = ["ExpertPolicy", "ReplayPolicy", "MotionReplayPolicy", "replay_policy_for", "StepPolicy", "holds_at_end"]


def holds_at_end(task) -> bool:
    """Whether the task is judged while its object is still held (see :func:`vid2skill.policy.base.holds_at_end`)."""
    return base.holds_at_end(task.skill)


class StepPolicy(base.ScriptedPolicy):
    """The target-pose interface over a model that maps (commanded position in the contact frame,
    time) to a position step and a keep-closed flag, such as the BC MLP; the step itself is
    :class:`~vid2skill.policy.bc_mlp.BCMLPPolicy`'s."""

    privileged = False  # it reads only the skill's definition (release_at_end), not the scene

    def __init__(self, model, max_step_m: float, name: str):
        from vid2skill.policy.bc_mlp import BCMLPConfig, BCMLPPolicy

        super().__init__(None)
        self.policy = BCMLPPolicy(BCMLPConfig(max_step_m=max_step_m), model=model)
        self.name = name

    def reset(self, task=None, T_contact_start=None):
        super().reset(task, T_contact_start)
        self.T0 = T_contact_start
        self.policy = self.policy.with_skill(task.skill)
        self.policy.reset()

    def act(self, obs):
        T = obs["T_contact_cmd"].copy()
        state = np.zeros(STATE.shape, np.float32)
        state[:3] = T[:3, 3] - self.T0[:3, 3]
        a = self.policy.select_action({STATE.key: state, TIMESTAMP.key: np.array([obs["t_s"]], np.float32)})
        T[:3, 3] = T[:3, 3] + a[:3]
        return T, bool(a[6] >= 0.5)
