"""One evaluation episode of one skill with one robot, driven by any policy: a loop over
:class:`vid2skill.sim.env.SkillEnv`, which holds the episode's mechanics (scene sampled from its
seed, oracle grasp or in-hand start, control steps, release, settle and success test).

Two kinds of policy run here:

* target-pose policies (scripted experts and replays, :class:`vid2skill.policy.base.ScriptedPolicy`,
  and anything with ``reset(task, T_contact_start)`` and ``act(obs) -> (T_contact_target (4, 4),
  keep_closed)``; ``obs`` holds ``t_s`` (seconds since the grasp), ``T_contact_cmd`` (the last
  commanded pose) and ``task`` (privileged state)): their poses are commanded exactly
  (``SkillEnv.step_to``);
* Policy-protocol policies (``reset()``, ``select_action(obs) -> action (7,)``, learned ones):
  they see only the environment's observation, plus ``obs["privileged"]`` (the environment's
  info) if they declare ``privileged = True``.

A policy with ``horizon_s(task)`` may extend the episode's horizon (a replay of a human motion
runs at the human's pace).
"""

from __future__ import annotations

import logging
from pathlib import Path

from vid2skill.physics.robot import RobotSpec
from vid2skill.policy.base import PRIVILEGED_KEY
from vid2skill.sim.env import SkillEnv, _video_camera, kinematics_for, reach_path, stand_off  # noqa: F401 (re-exported)
from vid2skill.video import VideoWriter, write_gif

log = logging.getLogger(__name__)


def policy_observation(policy, obs: dict, info: dict) -> dict:
    """What ``policy`` is given: the observation, and the environment's info only if it is privileged."""
    return {**obs, PRIVILEGED_KEY: info} if getattr(policy, "privileged", False) else obs


class EpisodeRunner:
    """Runs episodes of one skill (``conf/skill/<name>.yaml``) with one robot."""

    def __init__(self, skill_cfg, sim_cfg, robot_spec: RobotSpec):
        self.skill_cfg, self.sim_cfg, self.spec = skill_cfg, sim_cfg, robot_spec
        SkillEnv(skill_cfg, sim_cfg, robot_spec)  # checks the skill's task now, not at the first episode

    def run(self, policy, seed: int, video_path: str | Path | None = None) -> dict:
        env = SkillEnv(self.skill_cfg, self.sim_cfg, self.spec, record_video=bool(video_path))
        try:
            obs, info = env.reset(seed=seed)
            targets = hasattr(policy, "act")  # a target-pose policy (see the module docstring)
            if targets:
                policy.reset(info["task"], info["T_contact_start"])
            else:
                policy.reset()
            if hasattr(policy, "horizon_s"):  # a replay of a human motion runs at the human's pace
                env.extend_horizon_s(policy.horizon_s(info["task"]))
            done = False
            while not done:
                if targets:
                    T_next, keep_closed = policy.act(
                        {"t_s": info["t_s"], "T_contact_cmd": info["T_contact_cmd"], "task": info["task"]}
                    )
                    obs, _, terminated, truncated, info = env.step_to(T_next, keep_closed)
                else:
                    action = policy.select_action(policy_observation(policy, obs, info))
                    obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            result = info["result"]
            if video_path and env.frames:
                cfg = env.sim_cfg
                fps = env.video_fps
                with VideoWriter(video_path, fps, env.camera.width, env.camera.height) as w:
                    for f in env.frames:
                        w.write(f)
                gif = Path(video_path).with_suffix(".gif")
                write_gif(
                    gif, env.frames[:: cfg.video.gif_every], fps / cfg.video.gif_every, cfg.video.gif_scale
                )
                result["video"] = str(video_path)
                result["gif"] = str(gif)
            return result
        finally:
            env.close()
