"""The stages in data-flow order, run with content-hash skipping over a workspace folder.

Each stage reads its predecessor's artifact from the workspace and writes its own; a marker
``<stage dir>/_stage.json`` records the hash of the stage's configuration and of its input's
marker. A stage whose hash is unchanged is skipped, so rerunning ``demo`` costs seconds. Batch
stages also reuse their per-item outputs, so an interrupted stage resumes where it stopped.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from vid2skill import __version__
from vid2skill.artifacts import atomic_write_json, stable_hash
from vid2skill.errors import ArtifactError, ConfigError, DatasetError, Vid2SkillError
from vid2skill.hints import suggest
from vid2skill.parallel import use_executor
from vid2skill.workspace import STAGE_FOLDERS, Workspace, last_checkpoint, new_run_id, read_record

log = logging.getLogger("vid2skill")

SCHEMA = 1  # bump to invalidate every stage marker


@dataclass(frozen=True)
class Stage:
    name: str
    folder: str  # the workspace folder it writes: vid2skill.workspace.STAGE_FOLDERS[name]
    upstream: str | None | Callable[[DictConfig], str | None]
    config_keys: tuple[str, ...]
    run: Callable[[DictConfig, Path], dict]
    # Subfolder of ``folder`` holding this run's marker, for stages with one output per choice
    # (evaluate: per policy and robot, so evaluating the expert does not invalidate the BC run).
    marker_subdir: Callable[[DictConfig], str] | None = None
    # The version of the algorithm behind this stage's output under a configuration, beyond the
    # configuration itself (bumped by a change of code that alters the output), so that such a
    # change reruns the stage; None where no versioned code is involved.
    code_version: Callable[[DictConfig], object] | None = None
    # A fingerprint of the files outside the workspace that the stage reads (a folder of videos,
    # a label CSV), part of the key, so that an edited input reruns the stage; None where none.
    external_inputs: Callable[[DictConfig], object] | None = None
    # The files in the workspace the stage's output consists of: recorded with the marker and
    # checked before a skip, so that a damaged or deleted output reruns the stage.
    outputs: Callable[[DictConfig, Path], list[Path]] | None = None
    # What a skipped stage still shows (evaluate: its table, from the recorded results).
    on_skip: Callable[[DictConfig, Path], None] | None = None

    def upstream_for(self, cfg: DictConfig) -> str | None:
        return self.upstream(cfg) if callable(self.upstream) else self.upstream


def _section(cfg: DictConfig, key: str):
    node = OmegaConf.select(cfg, key)
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def _ws(cfg: DictConfig) -> Path:
    return Path(str(cfg.workspace)).expanduser()


# --- checks -----------------------------------------------------------------------------------


def check_config(cfg: DictConfig, stage: str) -> None:
    """Raise ConfigError, naming the key, for a required value (``???``) left unset in a section that
    ``stage`` reads. (Keys and types are checked while Hydra composes: vid2skill/config.py.)"""
    names = list(STAGES) if stage == "demo" else [stage] if stage in STAGES else []
    sections = {k.split(".")[0] for n in names for k in STAGES[n].config_keys}
    missing = sorted(k for k in OmegaConf.missing_keys(cfg) if k.split(".")[0] in sections)
    if missing:
        choice = {"source": f"source={cfg.source.name} "}.get(missing[0].split(".")[0], "")
        raise ConfigError(
            f"{missing[0]} is required ({choice.strip() or 'no default'}); give it, e.g. "
            f"`vid2skill {stage} {choice}{missing[0]}=...`"
        )


# --- the stages ----------------------------------------------------------------------------------


def _extractor_version(cfg: DictConfig) -> int:
    from vid2skill.extract.hands import EXTRACTOR_VERSION

    return EXTRACTOR_VERSION


def _retarget_version(cfg: DictConfig) -> int:
    from vid2skill.retarget.demos import RETARGET_VERSION

    return RETARGET_VERSION


def _scenes_version(cfg: DictConfig) -> int:
    from vid2skill.scenes.base import SCENES_VERSION

    return SCENES_VERSION


def _render_version(cfg: DictConfig) -> int | None:
    """The synthetic generator's version when it makes the clips (other sources only copy or cut)."""
    from vid2skill.ingest.synthetic import RENDER_VERSION

    return RENDER_VERSION if str(cfg.source.name) == "synthetic" else None


def run_ingest(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.ingest.sources import ingest

    layout = Workspace(ws)
    clips = ingest(cfg.source, layout.source_dir(cfg.source.name), cfg.workers)
    clips.config_hash = stable_hash(_section(cfg, "source"))
    clips.save(layout.clips, workspace=ws)
    for f in clips.failures:
        log.warning("ingest: %s: %s", f["item"], f["error"])
    if not clips.clips:
        raise Vid2SkillError("ingest: no clips; see the failures above")
    return {"clips": len(clips.clips), "failures": len(clips.failures)}


def run_extract(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.extract.stage import extract
    from vid2skill.ingest.types import ClipSet

    layout = Workspace(ws)
    clips = ClipSet.load(layout.clips)
    tracks = extract(cfg.extract, clips, layout.extract_dir, cfg.workers, viz=bool(cfg.viz))
    tracks.save(layout.tracks, workspace=ws)
    for r in tracks.failures():
        log.warning("extract: %s: %s", r["clip"], r["error"])
    if not tracks.ok():
        raise Vid2SkillError("extract: no clip yielded a hand track; see the failures above")
    ok = tracks.ok()
    return {
        "clips": len(ok),
        "failures": len(tracks.failures()),
        "detection_rate": round(
            sum(r["frames_with_hand"] for r in ok) / max(1, sum(r["frames"] for r in ok)), 4
        ),
    }


def run_cluster(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.extract.types import TrackSet
    from vid2skill.skills.stage import build_library

    layout = Workspace(ws)
    tracks = TrackSet.load(layout.tracks)
    added = layout.added_tracks  # clips brought in later by `vid2skill add` stay in the library
    if added.with_suffix(".json").exists():
        tracks = TrackSet(tracks.records + TrackSet.load(added).records)
    library, failures = build_library(cfg.cluster, tracks)
    library.config_hash = stable_hash(_section(cfg, "cluster"))
    folder = library.save(layout.skills, workspace=ws)
    atomic_write_json(layout.segmentation_failures, failures)
    return {
        "version": library.version,
        "folder": str(folder),
        "skills": {n: len(c.members) for n, c in library.skills.items()},
    }


def run_retarget(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.retarget.stage import retarget
    from vid2skill.skills.library import SkillLibrary

    layout = Workspace(ws)
    library = SkillLibrary.load(layout.skills)
    demosets = retarget(cfg.retarget, cfg.robot, library, cfg.skill, cfg.sim.scenes)
    if not demosets:
        raise Vid2SkillError(
            f"retarget: none of the library's skills {sorted(library.skills)} has a simulated task "
            f"in skill= ({sorted(cfg.skill.keys())})"
        )
    robot = str(cfg.robot.name)
    for name, ds in demosets.items():
        ds.save(layout.demos(robot, name))
    atomic_write_json(layout.demo_index(robot), sorted(demosets))
    return {"skills": sorted(demosets), "library_version": library.version}


def _check_training_seeds(cfg: DictConfig, lo: int, hi: int, key: str) -> None:
    """Training scenes ``lo .. hi-1`` must not be among the evaluation seeds of this run's seed."""
    from vid2skill.sim.evaluate import SEED_BLOCK

    e_lo = int(cfg.sim.start_seed) + SEED_BLOCK * int(cfg.seed)
    if lo < e_lo + int(cfg.episodes) and e_lo < hi:
        raise Vid2SkillError(
            f"{key}={lo} puts training scenes {lo}..{hi - 1} among the evaluation seeds "
            f"{e_lo}..{e_lo + int(cfg.episodes) - 1}; choose another {key}"
        )


def _dagger(
    cfg: DictConfig,
    ws: Path,
    skill: str,
    episodes: list,
    policy_cfg,
    model,
    stats: dict,
    control_hz: float,
    inputs: str,
) -> dict:
    """DAgger rounds after BC (``dagger.iterations``): the learner's rollouts in training scenes,
    every visited state labelled by the scripted expert (privileged), aggregated over the rounds
    (with the BC data too when ``dagger.aggregate=all``) and trained again; every round's learner
    is tried in the same judging scenes, and the one ``dagger.keep`` names is saved as
    ``bc_mlp_dagger`` with the learner's success per round."""
    from vid2skill.policy.checkpoint import save_checkpoint
    from vid2skill.policy.registry import get_policy

    d = cfg.dagger
    n, rounds, start = int(d.rollouts), int(d.iterations), int(d.start_seed)
    end = start + n * (rounds + 1) + int(d.expert_rollouts) + int(d.judge_episodes)
    _check_training_seeds(cfg, start, end, "dagger.start_seed")
    cls = get_policy("bc_mlp_dagger")
    run_dir = cls.source(ws, str(cfg.robot.name), skill)
    # the expert labels in the scenes: a change to them is a new DAgger even for BC on the arrays
    key = stable_hash({"bc": inputs, "dagger": _section(cfg, "dagger"), "scenes": _scenes_version(cfg)})
    last = last_checkpoint(run_dir)
    if last is not None:
        old = last / "stats.json"
        if old.exists() and json.loads(old.read_text()).get("inputs") == key:
            return {"checkpoint": str(old.parent), "kept": True}
    curve, rounds_kept = _dagger_rounds(cfg, skill, episodes, policy_cfg, model, stats, control_hz, run_dir)
    # keep=best: the round whose learner succeeded most in the judging scenes (a tie keeps the
    # later, which learnt from more of the expert), as DAgger's guarantee is for the best of its
    # policies; keep=last: the last round's.
    kept = (
        rounds
        if str(d.keep) == "last"
        else max(range(rounds + 1), key=lambda i: (curve[i]["learner_success"], i))
    )
    model, stats = rounds_kept[kept]
    stats = dict(stats)
    stats.update(
        inputs=key,
        library_version=__version__,
        dagger_curve=curve,
        dagger_round=kept,
        train_on=f"bc data, then expert-relabelled rollouts (aggregate={d.aggregate}, round {kept} kept)",
    )
    folder = save_checkpoint(run_dir, rounds, "bc_mlp_dagger", model, policy_cfg, stats)
    atomic_write_json(run_dir / "dagger_curve.json", curve)
    _plot_curve(curve, run_dir / "dagger_curve.png", skill)
    return {"checkpoint": str(folder), "dagger_curve": curve}


def _dagger_rounds(
    cfg: DictConfig, skill: str, episodes: list, policy_cfg, model, stats, control_hz, run_dir
):
    """(curve, [(model, stats) per round]) of ``dagger.iterations`` rounds: each round's learner is
    tried on its own in the judging scenes (the curve; the same ``dagger.judge_episodes`` scenes for
    every round, so that rounds are compared on equal terms), then drives the rollouts that the
    scripted expert labels in the round's own training scenes, and the aggregate trains the next
    round's learner."""
    from vid2skill.policy.registry import get_policy
    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.rollouts import expert_relabelled_rollouts, expert_rollouts, learner_successes

    d, cls = cfg.dagger, get_policy("bc_mlp_dagger")
    n, rounds, start = int(d.rollouts), int(d.iterations), int(d.start_seed)
    spec, curve = robot_spec(cfg.robot), []
    # DAgger's dataset starts with the expert's own rollouts (``expert_rollouts``, in the scenes after
    # the rounds') and gains every state the learners visited, labelled by the expert: a learner fitted
    # to its own visited states alone drifts to states nobody labelled (cut, Panda: 0 of 20 trial
    # scenes, against 20 of 20 with the expert's 20 rollouts added). The human-derived data only make
    # the first learner (aggregate=expert); aggregate=all keeps them in every round, where they
    # contradict the expert wherever the human moved otherwise (a wider stir, a slower saw).
    first = start + n * (rounds + 1)
    data, _ = expert_rollouts(
        cfg.skill[skill], cfg.sim, spec, list(range(first, first + int(d.expert_rollouts))), int(cfg.workers)
    )
    # Every round is judged in the same scenes: judged each in the few scenes of its own rollouts, a
    # round could be kept for having met easier ones (docs/notebook.md, "DAgger's rounds judged in
    # the same scenes").
    first += int(d.expert_rollouts)
    judge = list(range(first, first + int(d.judge_episodes)))
    data += list(episodes) if str(d.aggregate) == "all" else []
    learner = cls(policy_cfg, model=model, stats=stats).with_skill(cfg.skill[skill])
    rounds_kept = [(model, stats)]
    for it in range(rounds + 1):
        ok = learner_successes(learner, cfg.skill[skill], cfg.sim, spec, judge, int(cfg.workers))
        curve.append(
            {"iteration": it, "learner_success": round(sum(ok) / max(1, len(ok)), 4), "rollouts": len(ok)}
        )
        log.info(
            "DAgger %s round %d: the learner succeeded in %d of %d judging scenes",
            skill,
            it,
            sum(ok),
            len(ok),
        )
        if it == rounds:
            break
        seeds = [start + n * it + j for j in range(n)]
        eps, _ = expert_relabelled_rollouts(
            learner, cfg.skill[skill], cfg.sim, spec, seeds, int(cfg.workers), float(d.hold_on_s)
        )
        data += eps
        model, stats = cls.train(data, policy_cfg, control_hz, run_dir=run_dir)
        rounds_kept.append((model, stats))
        learner = cls(policy_cfg, model=model, stats=stats).with_skill(cfg.skill[skill])
    return curve, rounds_kept


def _plot_curve(curve: list[dict], path: Path, skill: str) -> None:
    """The learner's success in the judging scenes against the DAgger round (round 0: plain BC)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([c["iteration"] for c in curve], [c["learner_success"] for c in curve], marker="o")
    ax.set(
        xlabel="DAgger round (0: BC)",
        ylabel="learner success (judging scenes)",
        ylim=(-0.05, 1.05),
        title=skill,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _best_motion(learn: list, episodes: list, ok: list[bool]):
    """The demonstration whose fitted motion's rollouts succeeded most often (rate, then count), or
    None when none succeeded. Among equals, the one whose duration is nearest their median: the most
    typical pace. A rollout's episode names its demonstration as ``<clip>#<scene seed>``."""
    tries, wins = Counter(), Counter()
    for ep, s in zip(episodes, ok):
        clip = ep.clip.rsplit("#", 1)[0]
        tries[clip] += 1
        wins[clip] += bool(s)
    scored = [(wins[d.clip] / tries[d.clip], wins[d.clip], d) for d in learn if tries[d.clip]]
    if not scored or max(r for r, _, _ in scored) == 0:
        return None, {}
    top = max((r, w) for r, w, _ in scored)
    tied = [d for r, w, d in scored if (r, w) == top]
    med = float(np.median([d.motion.duration_s for d in tied]))
    best = min(tied, key=lambda d: (abs(d.motion.duration_s - med), d.clip))
    return best, {c: f"{wins[c]}/{tries[c]}" for c in sorted(tries)}


def _training_episodes(
    cfg: DictConfig, policy_cfg, demos, path: Path, skill: str, cache: dict | None = None
) -> tuple[list, dict]:
    """The episodes one skill's policy learns from, by ``policy.train_on`` (see BCMLPConfig), and
    what they were: the DemoSet's arrays with hindsight goals, rollouts of its fitted motions, or
    rollouts of the one fitted motion that succeeded most (``best_motion``). ``cache`` (a dict kept
    by the caller) keeps the fitted motions' rollouts between calls for the same skill."""
    from vid2skill.dataset.from_demos import episodes_from_demoset
    from vid2skill.retarget.demos import DemoSet

    learn = _usable_demos(cfg, policy_cfg, demos, path, skill)
    train_on = policy_cfg.train_on
    rules = dict(OmegaConf.to_container(cfg.dataset.goals, resolve=True))
    if train_on == "auto":  # the arrays of goal skills do not know where the target is (see BCMLPConfig)
        train_on = "motion_rollouts" if rules.get(skill, "none") != "none" else "demos"
    if train_on in ("motion_rollouts", "best_motion") and any(d.motion is not None for d in learn):
        eps, info = _rollout_episodes(cfg, policy_cfg, learn, skill, train_on, {} if cache is None else cache)
        if eps:
            return eps, info
        log.warning("train: no rollout of %s ran; training on its demonstrations' arrays", skill)
    return (
        episodes_from_demoset(
            DemoSet(demos.skill, demos.robot, demos.control_hz, learn), rules.get(skill, "none"), path
        ),
        {"train_on": "demos", "goal_rule": rules.get(skill, "none")},
    )


def _usable_demos(cfg: DictConfig, policy_cfg, demos, path: Path, skill: str) -> list:
    """The demonstrations a skill's policy may learn from (retarget's ``left_out`` are replayed but
    not learnt from, unless nothing else is left); too few is an error that names the fix."""
    left_out = set(demos.report.get("left_out", []))
    learn = [d for d in demos.demos if d.clip not in left_out] or demos.demos
    need = int(policy_cfg.min_demos)
    if len(learn) < need:
        raise DatasetError(
            f"{path.with_suffix('.json')} holds {len(learn)} usable demonstration(s) of {skill}; "
            f"{cfg.policy.name} needs at least {need} (policy.min_demos): add clips of {skill} "
            "(`vid2skill add`) and rerun `vid2skill retarget`, or train with "
            f"policy.min_demos={max(1, len(learn))}"
        )
    return learn


def _rollout_episodes(cfg: DictConfig, policy_cfg, learn: list, skill: str, train_on: str, cache: dict):
    """(episodes, info) of ``train_on`` = motion_rollouts or best_motion: the demonstrations' fitted
    motions replayed in the training scenes and recorded from the robot's side (``cache["all"]``
    keeps them for the next call), or only the best one's; ``filter_success`` keeps the successes."""
    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.rollouts import motion_rollouts

    lo = int(policy_cfg.rollout_start_seed)
    _check_training_seeds(cfg, lo, lo + int(policy_cfg.rollouts), "policy.rollout_start_seed")
    roll = functools.partial(
        motion_rollouts,
        skill_cfg=cfg.skill[skill],
        sim_cfg=cfg.sim,
        spec=robot_spec(cfg.robot),
        n=int(policy_cfg.rollouts),
        start_seed=lo,
        workers=int(cfg.workers),
    )
    if "all" not in cache:
        cache["all"] = roll(learn)
    eps, ok = cache["all"]
    info = {"train_on": "motion_rollouts"}
    if train_on == "best_motion":
        # One human's motion in every training scene: demonstrations of different people, pace and
        # extent average into a motion none of them made, and a unimodal learner that fits them all
        # can fail where each of their replays succeeds.
        best, rates = _best_motion(learn, eps, ok)
        if best is None:  # nothing to choose by: learn from them all (select skips this)
            log.warning("train: no rollout of %s succeeded; learning from every fitted motion", skill)
            info["best_fallback"] = True
        else:
            eps, ok = roll([best])
            info = {"train_on": "best_motion", "member": best.clip, "member_successes": rates}
    info.update(rollouts=len(eps), rollout_successes=int(sum(ok)))
    info["filter_success"] = bool(policy_cfg.filter_success)
    if policy_cfg.filter_success:
        kept = [e for e, s in zip(eps, ok) if s]
        info["filter_fallback"] = not kept  # no rollout succeeded: learn from all of them rather than none
        eps = kept or eps
    return eps, info


def _chosen_skills(cfg: DictConfig, index: Path) -> list[str]:
    """The retargeted skills (``index``) that ``skill=`` names: `train skill=stir` trains stir alone
    even where retarget ran for every skill. A one-line error where it names none of them."""
    listed = list(json.loads(index.read_text()))
    chosen = [s for s in listed if s in cfg.skill]
    if not chosen:
        raise ConfigError(
            f"skill= names {', '.join(sorted(cfg.skill))}, and the retargeted demos at {index} hold "
            f"{', '.join(listed) or 'none'}; choose one of those, or run `{suggest('retarget', cfg)}`"
        )
    if len(chosen) < len(listed):
        log.info(
            "train: %s only (skill=); %s left as they are",
            ", ".join(chosen),
            ", ".join(s for s in listed if s not in chosen),
        )
    return chosen


def run_train(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.policy.registry import get_policy

    index = Workspace(ws).demo_index(cfg.robot.name)
    if not index.exists():
        raise ArtifactError(f"no retargeted demos at {index}; run `{suggest('retarget', cfg)}` first")
    name = str(cfg.policy.name)
    entry = get_policy(name)
    if name == "bc_mlp_dagger":
        raise Vid2SkillError("bc_mlp_dagger is made by `vid2skill train policy=bc_mlp dagger.iterations=N`")
    if entry.made_by != "train":
        raise Vid2SkillError(
            f"policy.name={name!r} is not trained (it is scripted); evaluate it directly with "
            f"`vid2skill evaluate policy={name}`"
        )
    policy_cfg = entry.config_cls(**{k: v for k, v in _section(cfg, "policy").items() if k != "name"})
    for k, choices in (("aggregate", ("expert", "all")), ("keep", ("best", "last"))):
        if str(cfg.dagger[k]) not in choices:
            raise ConfigError(f"dagger.{k}={cfg.dagger[k]!r}; choose one of {', '.join(choices)}")
    if int(cfg.dagger.expert_rollouts) < 0:
        raise ConfigError(f"dagger.expert_rollouts={cfg.dagger.expert_rollouts}; give 0 or more")
    if int(cfg.dagger.judge_episodes) < 1:
        raise ConfigError(
            f"dagger.judge_episodes={cfg.dagger.judge_episodes}; give 1 or more "
            "(every round's learner is tried there)"
        )
    if float(cfg.dagger.hold_on_s) < 0:
        raise ConfigError(
            f"dagger.hold_on_s={cfg.dagger.hold_on_s}; give 0 or more seconds "
            "(0: the learner lets go when the expert does)"
        )
    if int(cfg.dagger.iterations) > 0 and name != "bc_mlp":
        raise Vid2SkillError(
            f"dagger.iterations trains bc_mlp_dagger from bc_mlp; run it with policy=bc_mlp, "
            f"or train policy={name} with dagger.iterations=0"
        )
    skills, out, failed = _chosen_skills(cfg, index), {}, []
    for skill in skills:
        try:
            out[skill] = _train_skill(cfg, ws, entry, policy_cfg, skill)
        except DatasetError as e:  # one skill's unusable demonstrations do not stop the others
            if len(skills) == 1:
                raise
            log.warning("train: %s not trained: %s", skill, e)
            out[skill] = {"error": str(e)}
            failed.append(e)
    if failed and len(failed) == len(skills):
        raise failed[0]
    return out


def _train_skill(cfg: DictConfig, ws: Path, entry, policy_cfg, skill: str) -> dict:
    """Train (or keep, when its inputs are unchanged) one skill's policy; its stage record entry."""
    from vid2skill.policy.checkpoint import save_checkpoint
    from vid2skill.retarget.demos import DemoSet

    name, dagger = str(cfg.policy.name), int(cfg.dagger.iterations) > 0
    path = Workspace(ws).demos(cfg.robot.name, skill)
    policy_cfg = entry.config_for_skill(policy_cfg, cfg.skill[skill])
    demos = DemoSet.load(path)
    inputs = _train_inputs(cfg, policy_cfg, demos, skill)
    run_dir = entry.source(ws, str(cfg.robot.name), skill)  # each learned policy type has its own folder
    last = last_checkpoint(run_dir)
    # DAgger starts from the BC model and its data, so it retrains them
    if last is not None and not dagger:
        stats_path = last / "stats.json"
        if stats_path.exists() and json.loads(stats_path.read_text()).get("inputs") == inputs:
            log.info("train: %s unchanged (same demos and settings); kept its checkpoint", skill)
            return {"checkpoint": str(stats_path.parent), "kept": True}
    if policy_cfg.train_on == "select":
        episodes, source, model, stats, timing = _select(
            cfg, entry, policy_cfg, demos, path, skill, run_dir, inputs
        )
    else:
        t0 = time.time()
        episodes, source = _training_episodes(cfg, policy_cfg, demos, path, skill)
        t1 = time.time()
        model, stats = entry.train(episodes, policy_cfg, demos.control_hz, run_dir=run_dir, resume_key=inputs)
        timing = {"data_s": round(t1 - t0, 1), "train_s": round(time.time() - t1, 1), "trials_s": 0.0}
    stats.update(source, inputs=inputs, library_version=__version__)
    # Timings (making the data, fitting, select's trials) go to the stage's record and the log, not
    # into the checkpoint: a checkpoint is a function of its inputs (a resumed run must write the same one).
    folder = save_checkpoint(
        run_dir, int(stats.get("epochs_run", policy_cfg.epochs)), name, model, policy_cfg, stats
    )
    out = {"checkpoint": str(folder), **stats, **timing}
    if dagger:
        out["dagger"] = _dagger(cfg, ws, skill, episodes, policy_cfg, model, stats, demos.control_hz, inputs)
    log.info(
        "train: %s on %d episodes (%s), loss %.4f -> %.4f, %.0f s data + %.0f s training + %.0f s trials",
        skill,
        stats.get("episodes", stats.get("demos")),
        source["train_on"],
        stats["first_loss"],
        stats["final_loss"],
        timing["data_s"],
        timing["train_s"],
        timing["trials_s"],
    )
    return out


def _train_inputs(cfg: DictConfig, policy_cfg, demos, skill: str) -> str:
    """The hash of what one skill's policy is a function of. A skill whose demonstrations and
    settings are unchanged keeps its checkpoint: after `vid2skill add`, only the skills that gained
    clips are trained again. Rollouts read the skill's scene and the simulator too (their settings,
    and ``SCENES_VERSION`` for their code)."""
    return stable_hash(
        {
            "demos": demos.content_hash(),
            "policy": str(cfg.policy.name),
            "cfg": asdict(policy_cfg),
            "goals": _section(cfg, "dataset.goals"),
            **(
                {
                    "skill": _section(cfg, f"skill.{skill}"),
                    "sim": _section(cfg, "sim"),
                    "scenes": _scenes_version(cfg),
                }
                if policy_cfg.train_on != "demos"
                else {}
            ),
            **({"candidates": SELECT_CANDIDATES} if policy_cfg.train_on == "select" else {}),
        }
    )


def _select_rank(successes: int, episodes: int) -> tuple[int, int]:
    """How ``train_on=select`` ranks a candidate: its successes in the trial scenes, then, as a
    few trial scenes cannot tell two candidates that both succeed apart, the number of episodes it
    learnt from: a policy fitted to four demonstrations has seen four goals, one fitted to forty
    rollouts forty, and a goal-conditioned skill needs the spread (the first candidate tried, the
    arrays', keeps a full tie)."""
    return successes, episodes


SELECT_CANDIDATES = ("demos", "motion_rollouts", "best_motion")


def _select(cfg: DictConfig, entry, policy_cfg, demos, path: Path, skill: str, run_dir: Path, inputs: str):
    """``train_on=select``: a policy trained on each of ``SELECT_CANDIDATES``' data (the DemoSet's
    arrays; rollouts of all fitted motions and of the one that succeeded most, where the
    demonstrations have them), each tried in ``policy.select_episodes`` training scenes; returns
    (episodes, source, model, stats, timing) of the one that succeeded more (a tie keeps the one
    trained on more episodes, see :func:`_select_rank`); a candidate that could not rank above the
    best so far is not tried (``not_tried``). The trials' scenes are disjoint from the evaluation's
    and the rollouts'. ``timing`` sums every candidate's seconds spent making data (rollouts),
    fitting and in the trials."""
    from dataclasses import replace

    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.rollouts import learner_successes

    lo, n = int(policy_cfg.select_start_seed), int(policy_cfg.select_episodes)
    r_n = int(policy_cfg.rollouts)
    _check_select_seeds(cfg, policy_cfg)
    best, trials, skipped, cache = None, {}, [], {}
    spent = {"data_s": 0.0, "train_s": 0.0, "trials_s": 0.0}
    for train_on in SELECT_CANDIDATES:
        # A rollouts' candidate learns from at most policy.rollouts episodes: once a candidate has
        # succeeded in every trial scene with as many, no later one can rank above it (a tie keeps
        # the first), so neither its rollouts nor its training would change the choice.
        if best is not None and train_on != "demos" and not _select_rank(n, r_n) > best[0]:
            skipped.append(train_on)
            continue
        # filter_success filters rollouts; the arrays' candidate has none to filter
        sub_cfg = replace(
            policy_cfg, train_on=train_on, filter_success=policy_cfg.filter_success and train_on != "demos"
        )
        t0 = time.time()
        episodes, source = _training_episodes(cfg, sub_cfg, demos, path, skill, cache)
        spent["data_s"] += time.time() - t0
        if source["train_on"] != train_on:  # no fitted motion to roll out: nothing else to try
            continue
        trial_dir = run_dir / "select" / train_on
        trial_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        model, stats = entry.train(
            episodes, sub_cfg, demos.control_hz, run_dir=trial_dir, resume_key=f"{inputs}:{train_on}"
        )
        spent["train_s"] += time.time() - t0
        learner = entry(policy_cfg, model=model, stats=stats).with_skill(cfg.skill[skill])
        spec, seeds = robot_spec(cfg.robot), list(range(lo, lo + n))
        t0 = time.time()
        trials[train_on] = int(
            sum(learner_successes(learner, cfg.skill[skill], cfg.sim, spec, seeds, int(cfg.workers)))
        )
        spent["trials_s"] += time.time() - t0
        log.info(
            "train: %s from %s succeeds in %d of %d training scenes", skill, train_on, trials[train_on], n
        )
        rank = _select_rank(trials[train_on], len(episodes))
        if best is None or rank > best[0]:
            best = (rank, episodes, source, model, stats)
    _, episodes, source, model, stats = best
    if skipped:
        log.info(
            "train: %s: %s could not rank above %s; not tried", skill, ", ".join(skipped), source["train_on"]
        )
    timing = {k: round(v, 1) for k, v in spent.items()}
    return episodes, {**source, "select": {"scenes": n, **trials, "not_tried": skipped}}, model, stats, timing


def _check_select_seeds(cfg: DictConfig, policy_cfg) -> None:
    """``train_on=select``'s trial scenes must be apart from the evaluation's and the rollouts'."""
    lo, n = int(policy_cfg.select_start_seed), int(policy_cfg.select_episodes)
    _check_training_seeds(cfg, lo, lo + n, "policy.select_start_seed")
    r_lo, r_n = int(policy_cfg.rollout_start_seed), int(policy_cfg.rollouts)
    if lo < r_lo + r_n and r_lo < lo + n:
        raise ConfigError(
            f"policy.select_start_seed={lo} puts trial scenes {lo}..{lo + n - 1} among the rollouts' "
            f"training scenes {r_lo}..{r_lo + r_n - 1}; choose another policy.select_start_seed"
        )


def _evaluate_upstream(cfg: DictConfig) -> str | None:
    """What the policy type needs made first (the registry says): nothing for the scripted expert,
    retargeted demos for replay, training for learned policies."""
    from vid2skill.policy.registry import get_policy

    return get_policy(str(cfg.policy.name)).made_by


def run_evaluate(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.sim.evaluate import evaluate

    return evaluate(cfg, ws)


def run_export(cfg: DictConfig, ws: Path) -> dict:
    from vid2skill.export.stage import export

    return export(cfg, ws)


def _show_evaluation(cfg: DictConfig, ws: Path) -> None:
    from vid2skill.sim.evaluate import show_results

    show_results(cfg, ws)


def _ingest_inputs(cfg: DictConfig) -> str | None:
    from vid2skill.ingest.sources import input_fingerprint

    return input_fingerprint(cfg.source)


def run_add(cfg: DictConfig, ws: Path) -> dict:
    """Bring ``add.target``'s new clips into the library (``vid2skill/skills/add.py``): extracted into
    ``add/``, cut, decided against the newest library version and landed as the next one."""
    from vid2skill.skills.add import run_add as add_clips

    if not cfg.add.target:
        raise ConfigError("add.target is required: `vid2skill add <video|folder|file://url> [skill=NAME]`")
    skill = str(cfg.add.skill) if cfg.add.skill else None
    return add_clips(cfg, ws, str(cfg.add.target), skill, int(cfg.workers))


def _add_run(cfg: DictConfig) -> str:
    """The add stage's record folder: one per target, so that adding another does not forget this one."""
    from vid2skill.skills.add import target_id

    return f"runs/{stable_hash(target_id(str(cfg.add.target)))}"


def _add_inputs(cfg: DictConfig) -> str:
    from vid2skill.skills.add import target_fingerprint

    return target_fingerprint(str(cfg.add.target))


def _track_files(cfg: DictConfig, ws: Path) -> list[Path]:
    """The extract stage's index and every track file it lists."""
    from vid2skill.artifacts import resolved_path

    index = Workspace(ws).tracks.with_suffix(".json")
    files = [index]
    try:
        records = json.loads(index.read_text())["records"]
    except (OSError, ValueError, KeyError, TypeError):
        return files  # missing or damaged: the fingerprint no longer matches, so the stage reruns
    for r in records:
        if r.get("track"):
            track = Path(resolved_path(r["track"], index.parent))
            files += [track.with_suffix(".json"), track.with_suffix(".npz")]
    return files


STAGES: dict[str, Stage] = {
    s.name: s
    for s in [
        Stage(
            "ingest",
            STAGE_FOLDERS["ingest"],
            None,
            ("source",),
            run_ingest,
            code_version=_render_version,
            external_inputs=_ingest_inputs,
        ),
        Stage(
            "extract",
            STAGE_FOLDERS["extract"],
            "ingest",
            ("extract", "viz"),
            run_extract,
            code_version=_extractor_version,
            outputs=_track_files,
        ),
        Stage("cluster", STAGE_FOLDERS["cluster"], "extract", ("cluster",), run_cluster),
        Stage(
            "retarget",
            STAGE_FOLDERS["retarget"],
            "cluster",
            ("retarget", "robot", "skill", "sim.scenes"),
            run_retarget,
            code_version=_retarget_version,
        ),
        Stage(
            "train",
            STAGE_FOLDERS["train"],
            "retarget",
            ("policy", "robot", "dataset.goals", "sim", "skill", "dagger"),
            run_train,
            code_version=_scenes_version,
        ),
        Stage(
            "evaluate",
            STAGE_FOLDERS["evaluate"],
            _evaluate_upstream,
            ("sim", "skill", "robot", "policy", "episodes", "seed"),
            run_evaluate,
            code_version=_scenes_version,
            marker_subdir=lambda cfg: f"{cfg.policy.name}/{cfg.robot.name}",
            on_skip=_show_evaluation,
        ),
        Stage(
            "export",
            STAGE_FOLDERS["export"],
            "retarget",
            ("dataset", "format", "robot"),
            run_export,
            marker_subdir=lambda cfg: f"{cfg.format.name}/{cfg.robot.name}",
        ),
        # Grows the library that cluster wrote (and renews cluster's record, so that retarget and
        # what follows rerun); keyed on its target's videos, not on the library it changes.
        Stage(
            "add",
            STAGE_FOLDERS["add"],
            None,
            ("add", "extract", "cluster", "labels"),
            run_add,
            marker_subdir=_add_run,
            external_inputs=_add_inputs,
        ),
    ]
}


def _marker(ws: Path, stage: Stage, cfg: DictConfig | None = None) -> Path:
    run = stage.marker_subdir(cfg) if stage.marker_subdir is not None and cfg is not None else None
    return Workspace(ws).stage_record(stage.name, run)


def stage_key(cfg: DictConfig, stage: Stage, ws: Path) -> str:
    upstream = None
    name = stage.upstream_for(cfg)
    if name:
        m = _marker(ws, STAGES[name])
        if not m.exists():
            raise ArtifactError(
                f"{stage.name} needs the {name} stage's output in {ws}; "
                f"run `{suggest(name, cfg)}` (or `vid2skill demo`) first"
            )
        done = _read_marker(m)
        if done is None:
            raise ArtifactError(f"{m} is damaged; run `{suggest(name, cfg)}` again")
        # The upstream's run id changes whenever it reruns (even forced with the same key), so
        # everything downstream of a rerun stage reruns too.
        upstream = [done["key"], done.get("run")]
    version = stage.code_version(cfg) if stage.code_version else None
    code = {"code": version} if version is not None else {}  # stages without one keep their old keys
    external = stage.external_inputs(cfg) if stage.external_inputs else None
    inputs = (
        {"inputs": external} if external is not None else {}
    )  # likewise for stages reading nothing outside
    return stable_hash(
        {
            "schema": SCHEMA,
            "version": __version__,
            "stage": stage.name,
            "upstream": upstream,
            "cfg": {k: _section(cfg, k) for k in stage.config_keys},
            **code,
            **inputs,
        }
    )


_read_marker = read_record  # a stage marker, or None where it is absent or damaged


def _fingerprint_outputs(files: list[Path], ws: Path) -> dict:
    """Per output file (relative to the workspace): size, modification time and content hash."""
    from vid2skill.artifacts import file_hash

    out = {}
    for f in files:
        try:
            st = f.stat()
            out[os.path.relpath(f, ws)] = [st.st_size, st.st_mtime_ns, file_hash(f)]
        except OSError:
            out[os.path.relpath(f, ws)] = None
    return out


def _changed_output(recorded: dict, files: list[Path], ws: Path) -> str | None:
    """The first output file that is missing or differs from when the marker was written, else None.
    Size and time first; the content is hashed only where the time alone changed (a copy)."""
    from vid2skill.artifacts import file_hash

    now = {os.path.relpath(f, ws): f for f in files}
    if set(now) != set(recorded):
        return sorted(set(now) ^ set(recorded))[0]
    for rel, f in now.items():
        was = recorded[rel]
        try:
            st = f.stat()
            if was is None or st.st_size != was[0] or (st.st_mtime_ns != was[1] and file_hash(f) != was[2]):
                return rel
        except OSError:
            return rel
    return None


def run_stage(cfg: DictConfig, name: str) -> dict:
    """Run one stage unless its inputs and configuration are unchanged; returns its summary.

    A stage whose upstream has never run in the workspace (or left a damaged record) runs it first,
    with the same configuration, as ``make`` would. An upstream that has run is used as it is, even
    under other overrides than this command's: stages are often run with only their own overrides,
    and rerunning an ingest under the default source would replace the workspace's clips."""
    stage = STAGES[name]
    check_config(cfg, name)
    use_executor(str(cfg.executor), OmegaConf.select(cfg, "ray.address"))
    ws = _ws(cfg)
    upstream = stage.upstream_for(cfg)
    if upstream and _read_marker(_marker(ws, STAGES[upstream])) is None:
        log.info(
            "%-8s needs %s, which has not run in %s: running it first with the same settings",
            name,
            upstream,
            ws,
        )
        run_stage(cfg, upstream)
    key = stage_key(cfg, stage, ws)
    marker = _marker(ws, stage, cfg)
    done = _read_marker(marker) if not cfg.force else None
    if done is not None and done.get("key") == key:
        # (a marker from before outputs were recorded cannot tell: it is trusted)
        changed = (
            _changed_output(done["outputs"], stage.outputs(cfg, ws), ws)
            if stage.outputs and "outputs" in done
            else None
        )
        if changed is None:
            log.info("%-8s up to date (inputs and config unchanged); skipped", name)
            if stage.on_skip:
                stage.on_skip(cfg, ws)
            return done["summary"]
        log.info("%-8s %s is missing or changed since the last run; running again", name, changed)
    # No marker while the stage runs: an interrupted or failed run is never taken for a finished one.
    marker.unlink(missing_ok=True)
    t0 = time.time()
    summary = stage.run(cfg, ws)
    outputs = {"outputs": _fingerprint_outputs(stage.outputs(cfg, ws), ws)} if stage.outputs else {}
    atomic_write_json(
        marker,
        {
            "key": key,
            "run": new_run_id(),
            "summary": summary,
            "seconds": round(time.time() - t0, 1),
            "config": {k: _section(cfg, k) for k in stage.config_keys},
            **outputs,
        },
    )
    log.info("%-8s done in %.1f s: %s", name, time.time() - t0, _short(summary))
    return summary


def _short(summary: dict) -> str:
    text = json.dumps(summary, default=str)
    return text if len(text) < 200 else text[:197] + "..."


# Stages run on their own rather than in the pipeline's chain: export (an optional extra) and add
# (which grows the library with a user's clips).
OWN_STAGES = ("export", "add")


def run_demo(cfg: DictConfig) -> dict:
    """Every stage in order: the whole pipeline end to end (export and add left out)."""
    return {name: run_stage(cfg, name) for name in STAGES if name not in OWN_STAGES}


def run_to(cfg: DictConfig, last: str) -> dict:
    """``last`` and every stage it depends on, upstream first, each under this command's settings: a
    stage whose inputs or settings changed reruns, the others are skipped."""
    if last not in STAGES or last == "add":
        chain_stages = [n for n in STAGES if n != "add"]
        raise ConfigError(f"to={last!r} is not a stage; choose one of {', '.join(chain_stages)}")
    chain = [last]
    while (up := STAGES[chain[0]].upstream_for(cfg)) is not None:
        chain.insert(0, up)
    return {name: run_stage(cfg, name) for name in chain}
