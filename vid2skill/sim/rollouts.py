"""Episodes recorded from the robot's side: a policy rolled out through :class:`SkillEnv` in
randomised training scenes, each step's observation and the action that was executed.

``bc_mlp`` trains on rollouts of the human demonstrations' fitted motions
(``policy.train_on=motion_rollouts``): demonstration ``j mod n`` replayed by
:class:`~vid2skill.policy.replay.MotionReplayPolicy` (the human's extents and pace, executed in the
scene through ``SkillScene.primitive``, which reads only the task's specification) in training scene
``j``. The recorded observations are exactly what a learned policy sees in evaluation
(``observation.state``, ``observation.goal``, ``timestamp``); nothing else of the scene is kept,
except each rollout's success flag, which ``filter_success`` may use and which is reported apart.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from vid2skill.dataset.episodes import Episode
from vid2skill.dataset.features import GOAL, STATE
from vid2skill.parallel import map_items
from vid2skill.policy.base import action_towards

log = logging.getLogger(__name__)


def _plain(c):
    """A resolved, self-contained copy of a config node, for worker processes."""
    from omegaconf import OmegaConf

    return OmegaConf.create(OmegaConf.to_container(c, resolve=True)) if OmegaConf.is_config(c) else c


def record_episode(env, policy, seed: int, task_name: str, clip: str) -> tuple[Episode, bool]:
    """Roll a target-pose policy (``reset(task, T0)``, ``act(obs)``) out in ``env`` from ``seed``;
    returns the episode (observations and executed actions) and whether it succeeded."""
    from vid2skill.sim.episode import run_target_policy

    states, goals, actions = [], [], []

    def record(obs: dict, T_contact_cmd: np.ndarray, T_contact_target: np.ndarray, keep_closed: bool) -> None:
        states.append(obs[STATE.key])
        goals.append(obs[GOAL.key])
        actions.append(action_towards(T_contact_cmd, T_contact_target, keep_closed))

    obs, info = env.reset(seed=seed)
    info = run_target_policy(env, policy, obs, info, before_step=record)
    ep = Episode(
        task_name,
        f"{clip}#{seed}",
        np.asarray(states),
        np.asarray(goals),
        np.asarray(actions),
        source=f"rollout of {clip} in scene {seed}",
    )
    return ep, bool(info["is_success"])


def _rollout_job(job: tuple, skill_cfg, sim_cfg, spec) -> dict:
    """One recorded rollout: ``job`` is (index, scene seed, clip, motion); a motion's replay, or the
    scripted expert where the motion is None."""
    from vid2skill.policy.expert import ExpertPolicy
    from vid2skill.policy.replay import MotionReplayPolicy
    from vid2skill.sim.env import SkillEnv

    j, seed, clip, motion = job
    policy = ExpertPolicy() if motion is None else MotionReplayPolicy(motion)
    env = SkillEnv(skill_cfg, sim_cfg, spec)
    try:
        ep, ok = record_episode(env, policy, seed, str(skill_cfg.name), clip)
    finally:
        env.close()
    return {"episode": ep, "success": ok}


def _recorded(job_fn, jobs: list, skill_cfg, sim_cfg, spec, workers: int, what: str, seed_of=lambda job: job):
    """(episodes, success flags) of ``job_fn`` run over ``jobs``; a job that fails is logged and left out."""
    fn = functools.partial(job_fn, skill_cfg=_plain(skill_cfg), sim_cfg=_plain(sim_cfg), spec=spec)
    eps, ok = [], []
    for job, res, err in map_items(fn, jobs, workers, f"{what}: {skill_cfg.name}"):
        if err:
            log.warning("%s: %s scene %d failed: %s", what, skill_cfg.name, seed_of(job), err)
            continue
        eps.append(res["episode"]), ok.append(res["success"])
    return eps, ok


def motion_rollouts(
    demos, skill_cfg, sim_cfg, spec, n: int, start_seed: int, workers: int = 1
) -> tuple[list[Episode], list[bool]]:
    """``n`` rollouts of the demonstrations' fitted motions (demo ``j mod len``, scene ``start_seed + j``);
    demonstrations without a motion are left out. Returns the episodes and their success flags."""
    with_motion = [d for d in demos if getattr(d, "motion", None) is not None]
    if not with_motion:
        return [], []
    jobs = [
        (j, start_seed + j, with_motion[j % len(with_motion)].clip, with_motion[j % len(with_motion)].motion)
        for j in range(n)
    ]

    return _recorded(_rollout_job, jobs, skill_cfg, sim_cfg, spec, workers, "rollouts", lambda job: job[1])


def _trial_job(seed: int, learner, skill_cfg, sim_cfg, spec) -> bool:
    from vid2skill.sim.env import SkillEnv
    from vid2skill.sim.episode import run_protocol_policy

    env = SkillEnv(skill_cfg, sim_cfg, spec)
    try:
        obs, info = env.reset(seed=seed)
        return bool(run_protocol_policy(env, learner, obs, info)["is_success"])
    finally:
        env.close()


def learner_successes(learner, skill_cfg, sim_cfg, spec, seeds: list[int], workers: int = 1) -> list[bool]:
    """Whether a Policy-protocol ``learner`` succeeds in each training scene of ``seeds`` (a scene
    that fails to run counts as a failure)."""
    fn = functools.partial(
        _trial_job, learner=learner, skill_cfg=_plain(skill_cfg), sim_cfg=_plain(sim_cfg), spec=spec
    )
    ok = []
    for seed, res, err in map_items(fn, seeds, workers, f"trials: {skill_cfg.name}"):
        if err:
            log.warning("trials: %s scene %d failed: %s", skill_cfg.name, seed, err)
        ok.append(not err and bool(res))
    return ok


def record_relabelled(
    env, learner, labeller, seed: int, task_name: str, clip: str, hold_on_steps: int = 0
) -> tuple[Episode, bool]:
    """DAgger's data: ``learner`` (a Policy-protocol policy that sees only the observation) moves the
    arm, ``labeller`` (a target-pose policy, the scripted expert, which reads the scene: privileged)
    labels every visited state with its action and decides when the gripper lets go. Returns the
    relabelled episode and whether the episode succeeded (the learner's motion with the expert's
    release: not the learner's own success, which :func:`learner_successes` measures).

    A learner that holds on after the expert has let go keeps holding for up to ``hold_on_steps``
    more steps, each labelled by the expert (let go, and where to), before it is made to let go:
    the states past the release are where a learner that misses it goes on to (a door dragged back
    shut as it holds on), and without them the let-go label is one step in an episode."""
    obs, info = env.reset(seed=seed)
    learner.reset()
    labeller.reset(info["task"], info["T_contact_start"])
    if hasattr(learner, "horizon_s"):
        env.extend_horizon_s(learner.horizon_s())
    states, goals, labels = [], [], []
    done, held_on = False, 0
    while not done:
        T_e, keep_e = labeller.act(
            {"t_s": info["t_s"], "T_contact_cmd": info["T_contact_cmd"], "task": info["task"]}
        )
        states.append(obs[STATE.key]), goals.append(obs[GOAL.key])
        labels.append(action_towards(info["T_contact_cmd"], np.asarray(T_e, dtype=np.float64), bool(keep_e)))
        # The learner moves; it lets go no earlier than the expert (one that let go too early
        # would end the episode before the states it must learn to hold through) and no more than
        # ``hold_on_steps`` later.
        action = np.array(learner.select_action(obs), dtype=np.float64)
        learner_holds = action[6] >= 0.5
        if not keep_e and learner_holds and held_on < hold_on_steps:
            held_on += 1
        else:
            action[6] = 1.0 if keep_e else 0.0
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    ep = Episode(
        task_name,
        f"{clip}#{seed}",
        np.asarray(states),
        np.asarray(goals),
        np.asarray(labels),
        source=f"DAgger rollout in scene {seed}",
        relabelled=True,
    )
    return ep, bool(info["is_success"])


def _dagger_job(seed: int, learner, hold_on_s: float, skill_cfg, sim_cfg, spec) -> dict:
    from vid2skill.policy.expert import ExpertPolicy
    from vid2skill.sim.env import SkillEnv

    env = SkillEnv(skill_cfg, sim_cfg, spec)
    steps = int(round(hold_on_s * float(sim_cfg.control_hz)))
    try:
        ep, ok = record_relabelled(env, learner, ExpertPolicy(), seed, str(skill_cfg.name), "dagger", steps)
    finally:
        env.close()
    return {"episode": ep, "success": ok}


def expert_relabelled_rollouts(
    learner, skill_cfg, sim_cfg, spec, seeds: list[int], workers: int = 1, hold_on_s: float = 0.0
) -> tuple[list[Episode], list[bool]]:
    """One DAgger round: the learner's rollouts in ``seeds``, each state labelled by the scripted
    expert; a learner may hold on up to ``hold_on_s`` past the expert's release
    (:func:`record_relabelled`)."""
    job = functools.partial(_dagger_job, learner=learner, hold_on_s=float(hold_on_s))
    return _recorded(job, seeds, skill_cfg, sim_cfg, spec, workers, "DAgger")


def expert_rollouts(
    skill_cfg, sim_cfg, spec, seeds: list[int], workers: int = 1
) -> tuple[list[Episode], list[bool]]:
    """The scripted expert driving itself in ``seeds`` (privileged): the demonstrations that start
    DAgger's dataset, so that its learners see the expert's own path as well as their own."""
    jobs = [(j, seed, "expert", None) for j, seed in enumerate(seeds)]
    return _recorded(_rollout_job, jobs, skill_cfg, sim_cfg, spec, workers, "expert", lambda job: job[1])
