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
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vid2skill.physics.robot import RobotSpec
from vid2skill.policy.base import PRIVILEGED_KEY
from vid2skill.scenes.expert_loop import follow_targets
from vid2skill.sim.env import SkillEnv, _video_camera, kinematics_for, reach_path, stand_off  # noqa: F401 (re-exported)
from vid2skill.video import VideoWriter, write_gif

log = logging.getLogger(__name__)


def policy_observation(policy, obs: dict, info: dict) -> dict:
    """What ``policy`` is given: the observation, and the environment's info only if it is privileged."""
    return {**obs, PRIVILEGED_KEY: info} if getattr(policy, "privileged", False) else obs


def run_target_policy(
    env: SkillEnv,
    policy,
    obs: dict,
    info: dict,
    before_step: Callable[[dict, np.ndarray, np.ndarray, bool], None] | None = None,
) -> dict:
    """Run a target-pose policy (see the module docstring) through ``env``'s episode, just reset to
    ``(obs, info)``, with the scenes' expert loop (:func:`~vid2skill.scenes.expert_loop.follow_targets`);
    returns the last step's info. ``before_step(obs, T_contact_cmd, T_contact_target, keep_closed)``
    sees each step before it is taken (to record rollouts)."""
    task = info["task"]
    policy.reset(task, info["T_contact_start"])
    if hasattr(policy, "horizon_s"):  # a replay of a human motion runs at the human's pace
        env.extend_horizon_s(policy.horizon_s(task))
    last = {"obs": obs, "info": info}

    def act(t_s: float, T_contact_cmd: np.ndarray) -> tuple[np.ndarray, bool]:
        return policy.act({"t_s": t_s, "T_contact_cmd": T_contact_cmd.copy(), "task": task})

    def step(T_from: np.ndarray, T_to: np.ndarray, keep_closed: bool) -> None:
        if before_step is not None:
            before_step(last["obs"], T_from, T_to, keep_closed)
        last["obs"], _, _, _, last["info"] = env.step_to(T_to, keep_closed)

    followed = follow_targets(
        act, info["T_contact_cmd"], env.horizon, env.dt, lambda k, a, b: step(a, b, True)
    )
    if followed.let_go:  # the horizon's end has finished the episode already; a release finishes it here
        step(followed.T_contact_cmd, np.asarray(followed.T_contact_last, dtype=np.float64), False)
    return last["info"]


def run_protocol_policy(env: SkillEnv, policy, obs: dict, info: dict) -> dict:
    """Run a Policy-protocol policy (``select_action``) through ``env``'s episode, just reset to
    ``(obs, info)``; returns the last step's info."""
    policy.reset()
    if hasattr(policy, "horizon_s"):
        env.extend_horizon_s(policy.horizon_s(info["task"]))
    done = False
    while not done:
        action = policy.select_action(policy_observation(policy, obs, info))
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return info


def write_episode_video(env: SkillEnv, video_path: str | Path) -> dict:
    """Write the episode's recorded frames as an mp4 and a smaller gif beside it; returns their paths."""
    cfg, fps = env.sim_cfg, env.video_fps
    with VideoWriter(video_path, fps, env.camera.width, env.camera.height) as w:
        for f in env.frames:
            w.write(f)
    gif = Path(video_path).with_suffix(".gif")
    write_gif(gif, env.frames[:: cfg.video.gif_every], fps / cfg.video.gif_every, cfg.video.gif_scale)
    return {"video": str(video_path), "gif": str(gif)}


class EpisodeRunner:
    """Runs episodes of one skill (``conf/skill/<name>.yaml``) with one robot."""

    def __init__(self, skill_cfg, sim_cfg, robot_spec: RobotSpec):
        self.skill_cfg, self.sim_cfg, self.spec = skill_cfg, sim_cfg, robot_spec
        SkillEnv(skill_cfg, sim_cfg, robot_spec)  # checks the skill's task now, not at the first episode

    def run(self, policy, seed: int, video_path: str | Path | None = None) -> dict:
        env = SkillEnv(self.skill_cfg, self.sim_cfg, self.spec, record_video=bool(video_path))
        try:
            obs, info = env.reset(seed=seed)
            if hasattr(policy, "act"):  # a target-pose policy (see the module docstring)
                info = run_target_policy(env, policy, obs, info)
            else:
                info = run_protocol_policy(env, policy, obs, info)
            result = info["result"]
            if video_path and env.frames:
                result.update(write_episode_video(env, video_path))
            return result
        finally:
            env.close()
