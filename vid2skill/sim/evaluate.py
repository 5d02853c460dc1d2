"""The evaluate stage: roll out each skill's policy in randomised scenes, in parallel, and report."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from vid2skill.artifacts import atomic_write_json
from vid2skill.errors import ArtifactError
from vid2skill.parallel import map_items
from vid2skill.report.stats import format_table, success_record

log = logging.getLogger("vid2skill")

_POLICY_CACHE: dict[str, object] = {}


def _episode_job(job: tuple, cfg_dict: dict) -> dict:
    """Worker: one episode of one skill (top level so that spawned workers can import it)."""
    from vid2skill.policy.checkpoint import load_checkpoint
    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.rollout import Rollout

    skill, seed, checkpoint, video = job
    cfg = OmegaConf.create(cfg_dict)
    if checkpoint not in _POLICY_CACHE:
        _POLICY_CACHE[checkpoint] = load_checkpoint(checkpoint)
    model, pcfg, _ = _POLICY_CACHE[checkpoint]
    rollout = Rollout(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot), np.asarray(cfg.robot.grasp_R_contact, dtype=float))
    result = rollout.run(lambda obs: model.act(obs, pcfg.max_step_m), seed, video)
    return {"skill": skill, **result}


def evaluate(cfg: DictConfig, ws: Path) -> dict:
    robot = str(cfg.robot.name)
    policy_root = ws / "policies" / robot
    skills = [s for s in cfg.skill.keys() if (policy_root / s / "checkpoints" / "last").exists()]
    if not skills:
        raise ArtifactError(f"no trained policies under {policy_root} for skills {sorted(cfg.skill.keys())}; run `vid2skill train`")
    out = ws / "eval"
    jobs = []
    for skill in skills:
        for i in range(cfg.sim.episodes):
            video = str(out / "videos" / f"{skill}_{robot}_seed{cfg.sim.start_seed + i}.mp4") if i < cfg.sim.videos else None
            jobs.append((skill, int(cfg.sim.start_seed + i), str(policy_root / skill), video))
    cfg_dict = OmegaConf.to_container(cfg, resolve=True)
    fn = functools.partial(_episode_job, cfg_dict=cfg_dict)
    episodes, errors = [], []
    for job, res, err in map_items(fn, jobs, cfg.workers, "evaluate: episodes"):
        if err:
            errors.append({"skill": job[0], "seed": job[1], "error": err})
            log.warning("evaluate: %s seed %d failed: %s", job[0], job[1], err)
        else:
            episodes.append(res)
    records = []
    for skill in skills:
        eps = [e for e in episodes if e["skill"] == skill]
        n_fail = sum(1 for e in errors if e["skill"] == skill)
        records.append(success_record(skill, sum(e["success"] for e in eps), len(eps) + n_fail, robot=robot,
                                      policy=str(cfg.policy.name)))
    atomic_write_json(out / "results.json", records)
    atomic_write_json(out / "episodes.json", {"episodes": episodes, "errors": errors})
    table = format_table(records, ["skill", "robot", "policy", "episodes", "successes", "success_rate", "ci_low", "ci_high"])
    log.info("evaluate: success per skill (95%% Wilson interval)\n%s\nwritten to %s", table, out / "results.json")
    return {r["skill"]: r["success_rate"] for r in records}
