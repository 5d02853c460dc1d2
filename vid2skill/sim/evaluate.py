"""The evaluate stage: roll out a policy for each skill in randomised scenes, in parallel, and report.

``policy.name`` chooses what acts, by name in the policy registry (:mod:`vid2skill.policy.registry`):
``expert`` (the scripted expert of each scene; needs nothing upstream), ``replay`` (the retargeted
human demonstrations, open-loop: the baseline any learned policy must beat) or a trained policy
such as ``bc_mlp``. Episode ``i`` of run seed ``S`` uses
scene seed ``sim.start_seed + 10000 * S + i``, so runs with the same seed give the same table.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vid2skill.artifacts import atomic_write_json, stored_path
from vid2skill.errors import ArtifactError, ConfigError, Vid2SkillError
from vid2skill.parallel import map_items
from vid2skill.stats import format_table, success_record
from vid2skill.workspace import Workspace

log = logging.getLogger("vid2skill")

RESULT_FIELDS = [
    "skill",
    "robot",
    "policy",
    "episodes",
    "successes",
    "crashed",
    "success_rate",
    "ci_low",
    "ci_high",
]
SEED_BLOCK = 10000  # scene seeds per run seed

_CACHE: dict[tuple, object] = {}


def episode_seed(cfg: DictConfig, i: int) -> int:
    return int(cfg.sim.start_seed + SEED_BLOCK * int(cfg.seed) + i)


def eval_dir(cfg: DictConfig, ws: Path) -> Path:
    """This run's folder: ``eval/<policy>/<robot>/``."""
    return Workspace(ws).eval(cfg.policy.name, cfg.robot.name)


def _make_policy(kind: str, source: str, index: int, skill_cfg=None, settings=None):
    """The policy of episode ``index``, chosen by name in the policy registry; its source (a DemoSet,
    a checkpoint) is read once per process. A replayed demo that carries a fitted ``motion`` is
    replayed through it (:func:`vid2skill.policy.replay.replay_policy_for`). A learned policy takes
    its inference-only settings (ACT's temporal ensembling) from ``settings`` (``cfg.policy``)."""
    from vid2skill.policy.registry import get_policy

    cls = get_policy(kind)
    key = (kind, source)
    if key not in _CACHE:
        _CACHE[key] = cls.load_source(source)
    policy = cls.for_episode(_CACHE[key], index, skill_cfg if skill_cfg is not None else {})
    return (
        policy.with_inference(settings)
        if settings is not None and hasattr(policy, "with_inference")
        else policy
    )


def _episode_job(job: tuple, cfg_dict: dict) -> dict:
    """Worker: one episode of one skill (top level so that spawned workers can import it)."""
    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.episode import EpisodeRunner

    skill, index, seed, source, video = job
    cfg = OmegaConf.create(cfg_dict)
    policy = _make_policy(str(cfg.policy.name), source, index, cfg.skill[skill], cfg.policy)
    runner = EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot))
    return {"skill": skill, **runner.run(policy, seed, video)}


def _sources(cfg: DictConfig, ws: Path) -> dict[str, str]:
    """Per skill, where its policy comes from (nothing for the expert)."""
    from vid2skill.policy.registry import get_policy

    kind, robot, skills = str(cfg.policy.name), str(cfg.robot.name), list(cfg.skill.keys())
    cls = get_policy(kind)
    if cls.made_by is None:
        return {s: "" for s in skills}
    paths = {s: cls.source(ws, robot, s) for s in skills}
    have = {s: p for s, p in paths.items() if cls.has_source(p)}
    missing = sorted(set(skills) - set(have))
    if not have:
        from vid2skill.hints import suggest

        root = paths[skills[0]].parent if skills else ws
        if getattr(cls, "train_args", None):  # a policy trained by options of its own (DAgger)
            hint = f"vid2skill {cls.made_by}{cls.train_args} robot={robot} workspace={ws}"
        else:
            hint = suggest(
                cls.made_by, cfg, ("policy.name", "robot.name") if cls.made_by == "train" else ("robot.name",)
            )
        raise ArtifactError(f"no {kind} inputs under {root} for skills {skills}; run `{hint}` first")
    if missing:
        log.info("evaluate: no %s for %s on %s; skipped", kind, ", ".join(missing), robot)
    return {s: str(p) for s, p in have.items()}


def evaluate(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.scenes import SCENES

    if cfg.episodes < 1:
        raise ConfigError(f"episodes={cfg.episodes}: evaluate needs at least one episode per skill")
    unknown = [s for s in cfg.skill if cfg.skill[s].task not in SCENES]
    if unknown:
        raise ConfigError(f"skills {unknown} name unknown tasks; known tasks: {SCENES.names()}")
    robot, kind = str(cfg.robot.name), str(cfg.policy.name)
    sources = _sources(cfg, ws)
    layout = Workspace(ws)
    out = layout.eval(kind, robot)
    jobs = []
    for skill, source in sources.items():
        for i in range(cfg.episodes):
            seed = episode_seed(cfg, i)
            video = str(layout.eval_video(kind, robot, skill, seed)) if i < cfg.sim.videos else None
            jobs.append((skill, i, seed, source, video))
    fn = functools.partial(_episode_job, cfg_dict=OmegaConf.to_container(cfg, resolve=True))
    episodes, errors = [], []
    for job, res, err in map_items(fn, jobs, cfg.workers, f"evaluate: {kind} on {robot}"):
        if err:
            errors.append({"skill": job[0], "seed": job[2], "error": err})
            log.warning("evaluate: %s seed %d failed: %s", job[0], job[2], err)
        else:  # video paths kept relative to the results, so that a copied workspace shows its own
            episodes.append(
                {k: stored_path(v, out, ws) if k in ("video", "gif") and v else v for k, v in res.items()}
            )
    # A crashed episode (an exception, a dead worker) is no outcome of the policy: it is counted on its
    # own, left out of the rate, and fails the run, so that a broken setup never reads as a 0% policy.
    records = []
    for skill in sources:
        eps = [e for e in episodes if e["skill"] == skill]
        crashed = sum(1 for e in errors if e["skill"] == skill)
        records.append(
            success_record(
                skill, sum(e["success"] for e in eps), len(eps), robot=robot, policy=kind, crashed=crashed
            )
        )
    atomic_write_json(layout.eval_results(kind, robot), records)
    atomic_write_json(
        layout.eval_episodes(kind, robot),
        {
            "episodes": episodes,
            "errors": errors,
            "seeds": {"start_seed": cfg.sim.start_seed, "seed": cfg.seed},
        },
    )
    _log_table(records, layout.eval_results(kind, robot))
    if errors:
        first = errors[0]
        raise EvaluationCrashed(
            f"{len(errors)} of {len(jobs)} episodes crashed (first: {first['skill']} seed {first['seed']}: "
            f"{first['error']}); nothing is counted as a result for them and this run is not recorded as "
            f"done; fix the cause and rerun (every crash is in {layout.eval_episodes(kind, robot)})"
        )
    return {r["skill"]: r["success_rate"] for r in records}


class EvaluationCrashed(Vid2SkillError):
    """Episodes raised instead of ending in success or failure."""


def _log_table(records: list[dict], path: Path, note: str = "") -> None:
    table = format_table(records, RESULT_FIELDS)
    log.info(
        "evaluate: success per skill (95%% Wilson interval; crashed episodes not counted)%s"
        "\n%s\nwritten to %s",
        note,
        table,
        path,
    )


def show_results(cfg: DictConfig, ws: Path) -> None:
    """Log the table of a finished evaluation from its recorded results (a skipped run still shows them)."""
    path = Workspace(ws).eval_results(cfg.policy.name, cfg.robot.name)
    try:
        records = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("evaluate: the recorded results %s cannot be read; rerun with force=true", path)
        return
    _log_table(records, path, note=", recorded by the last run")
