"""Open-loop replay of retargeted human demonstrations, registered as ``replay``: the baseline any
learned policy must beat.

Episode ``i`` replays demonstration ``i mod n`` of the skill's DemoSet
(``<workspace>/retarget/<robot>/<skill>``). A demonstration that carries a fitted
:class:`~vid2skill.retarget.primitives.SkillMotion` (``demo.motion``) is replayed through its
skill's structure (:class:`MotionReplayPolicy`); one without is replayed step by step
(:class:`ReplayPolicy`). Both read the scene's task specification, so they are privileged.
"""

from __future__ import annotations

from pathlib import Path

from vid2skill.errors import ArtifactError
from vid2skill.policy.base import ScriptedPolicy, holds_at_end
from vid2skill.policy.registry import register
from vid2skill.workspace import Workspace


def replay_policy_for(demo) -> ScriptedPolicy:
    """The replay of one demonstration: through its fitted motion where it has one, else step by step."""
    motion = getattr(demo, "motion", None)
    return MotionReplayPolicy(motion) if motion is not None else ReplayPolicy(demo)


@register("replay")
class ReplayPolicy(ScriptedPolicy):
    """Executes one retargeted human demonstration open-loop: the end-effector positions in the
    contact frame, step by step, the gripper turned as the hand turned since the grasp (held, for
    demos without rotations). Where the demonstration lets go (or ends), the replay lets go too if
    the skill's task ends with a release (``release_at_end``: drawers, doors, place); skills judged
    while holding (pick, pour, stir, cut) keep holding the last pose instead, as their expert does:
    the hand opening at the end of a video is the end of the demonstration, not part of the skill."""

    made_by = "retarget"

    def __init__(self, demo, config=None):
        super().__init__(config)
        self.demo = demo

    @classmethod
    def from_config(cls, config=None, *, demo) -> ScriptedPolicy:
        return replay_policy_for(demo)

    def reset(self, task=None, T_contact_start=None):
        super().reset(task, T_contact_start)
        self.T0 = T_contact_start
        self.t = 0
        self.hold_at_end = holds_at_end(task.skill) if task is not None else False

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

    @classmethod
    def from_pretrained(cls, directory, **kwargs):
        raise ArtifactError(
            f"a replay is its retargeted demonstrations, not a saved policy ({directory}): "
            "build it with ReplayPolicy.from_config(demo=DemoSet.load(path).demos[i])"
        )

    # --- evaluation: the skill's DemoSet --------------------------------------------------------
    @classmethod
    def source(cls, ws: Path, robot: str, skill: str) -> Path:
        return Workspace(ws).demos(robot, skill)

    @classmethod
    def has_source(cls, path: Path) -> bool:
        return path.with_suffix(".json").exists()

    @classmethod
    def load_source(cls, source: str):
        from vid2skill.retarget.demos import DemoSet

        demos = DemoSet.load(source)
        if not demos.demos:
            raise ArtifactError(f"{source} holds no demonstrations; rerun `vid2skill retarget force=true`")
        return demos

    @classmethod
    def for_episode(cls, loaded, index: int, skill_cfg) -> ScriptedPolicy:
        return replay_policy_for(loaded.demos[index % len(loaded.demos)])


class MotionReplayPolicy(ScriptedPolicy):
    """Replays a human demonstration through its skill's structure (a fitted
    :class:`vid2skill.retarget.primitives.SkillMotion`): the video's extents and timing, executed
    along the scene's axis, hinge or towards its target (``SkillScene.primitive``), open-loop. It runs for
    as long as the human's motion takes, even past the skill's horizon.

    Where the motion lets go, the arm first holds the motion's last pose for ``finish_s`` seconds, as
    a trajectory controller waits for its last waypoint: a speed-limited arm lags a quick human pull,
    and letting go on the hand's schedule would leave a drawer or door short of where the human took
    it (and the last pose itself was never commanded)."""

    name = "replay"
    made_by = "retarget"

    def __init__(self, motion, settle_s: float = 1.0, finish_s: float = 0.5):
        super().__init__(None)
        self.motion, self.settle_s, self.finish_s = motion, settle_s, finish_s

    def reset(self, task=None, T_contact_start=None):
        super().reset(task, T_contact_start)
        self.task = task
        self.release_s: float | None = None

    def horizon_s(self, task) -> float:
        return task.primitive_time_s(self.motion) + self.finish_s + self.settle_s

    def act(self, obs):
        t = obs["t_s"]
        if self.release_s is None:
            T, keep = self.task.primitive(self.motion, t)
            if keep:
                return T, True
            self.release_s, self.T_last = t, T
        return self.T_last, t - self.release_s < self.finish_s - 1e-9


__all__ = ["ReplayPolicy", "MotionReplayPolicy", "replay_policy_for"]
