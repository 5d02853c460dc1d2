"""Policies an episode can run: the scripted expert, open-loop replay of retargeted human
demonstrations, and learned policies from checkpoints. Each implements ``reset(task, T_contact_start)``
and ``act(obs) -> (T_contact_target (4, 4), keep_closed)`` (see :mod:`vid2skill.sim.episode`)."""

from __future__ import annotations

import numpy as np


def holds_at_end(task) -> bool:
    """Whether the task is judged while its object is still held (``release_at_end: false``: pick,
    pour, stir, cut): a demonstration's final opening of the hand is then not part of the skill."""
    return not bool(task.skill.get("release_at_end", True))


class ExpertPolicy:
    """The task's scripted expert (privileged: it reads the scene's true state)."""

    name = "expert"

    def reset(self, task, T_contact_start):
        self.task = task

    def act(self, obs):
        return self.task.expert(obs["t_s"], obs["T_contact_cmd"])


class ReplayPolicy:
    """Executes one retargeted human demonstration open-loop: the end-effector positions in the
    contact frame, step by step, the gripper turned as the hand turned since the grasp (held, for
    demos without rotations). Where the demonstration lets go (or ends), the replay lets go too if
    the skill's task ends with a release (``release_at_end``: drawers, doors, place); skills judged
    while holding (pick, pour, stir, cut) keep holding the last pose instead, as their expert does:
    the hand opening at the end of a video is the end of the demonstration, not part of the skill."""

    name = "replay"

    def __init__(self, demo):
        self.demo = demo

    def reset(self, task, T_contact_start):
        self.T0 = T_contact_start
        self.t = 0
        self.hold_at_end = holds_at_end(task)

    def act(self, obs):
        d = self.demo
        i = min(self.t, len(d.ee_contact_m) - 1)
        self.t += 1
        if self.t > len(d.ee_contact_m) or not d.gripper_closed[i]:
            return obs["T_contact_cmd"], self.hold_at_end
        T = self.T0.copy()
        T[:3, 3] = self.T0[:3, 3] + d.ee_contact_m[i]
        T[:3, :3] = d.R_contact(i, self.T0[:3, :3])
        return T, True


class MotionReplayPolicy:
    """Replays a human demonstration through its skill's structure (a fitted
    :class:`vid2skill.retarget.primitives.SkillMotion`): the video's extents and timing, executed
    along the scene's axis, hinge or towards its target (``Task.primitive``), open-loop. It runs for
    as long as the human's motion takes, even past the skill's horizon."""

    name = "replay"

    def __init__(self, motion, settle_s: float = 1.0):
        self.motion, self.settle_s = motion, settle_s

    def reset(self, task, T_contact_start):
        self.task = task

    def horizon_s(self, task) -> float:
        return task.primitive_time_s(self.motion) + self.settle_s

    def act(self, obs):
        return self.task.primitive(self.motion, obs["t_s"])


class StepPolicy:
    """Adapts a learned policy that maps (commanded position in the contact frame, time) to a
    position step and a keep-closed flag, such as the BC MLP. As with ``replay``, a skill judged
    while holding never lets go: its demonstrations' final opening of the hand is not the skill."""

    def __init__(self, model, max_step_m: float, name: str):
        self.model, self.max_step_m, self.name = model, max_step_m, name

    def reset(self, task, T_contact_start):
        self.T0 = T_contact_start
        self.hold_at_end = holds_at_end(task)

    def act(self, obs):
        T = obs["T_contact_cmd"].copy()
        rel = T[:3, 3] - self.T0[:3, 3]
        step, keep = self.model.act(np.append(rel, obs["t_s"]), self.max_step_m)
        T[:3, 3] = T[:3, 3] + step
        return T, bool(keep) or self.hold_at_end
