"""What each section of the workspace report shows, read from the stages' artifacts.

Every ``*_section`` function returns the section's template data, or None when the stage that makes
it has not run; plots and images come back as ``data:`` URIs (:mod:`vid2skill.report.images`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from vid2skill.artifacts import resolved_path
from vid2skill.errors import ArtifactError, Vid2SkillError
from vid2skill.report.images import array_uri, figure_uri, file_uri, pyplot
from vid2skill.stats import wilson_interval
from vid2skill.workspace import Workspace, last_checkpoint

log = logging.getLogger("vid2skill")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise ArtifactError(f"{path} is damaged ({e}); rerun the stage that wrote it with force=true") from e


# --- (a) extraction ------------------------------------------------------------------------------


def thumbnail(track, video_path: str, max_side_px: int) -> str | None:
    """The frame where the hand was seen most confidently, with the track drawn on (landmarks, arm,
    palm axes, wrist path), as a PNG data URI; None where no frame had the hand or the video is gone."""
    import cv2

    from vid2skill.errors import VideoError
    from vid2skill.extract.viz import draw_frame
    from vid2skill.video import iter_frames

    if not track.detected.any():
        return None
    t = int(np.argmax(np.where(track.detected, track.confidence, -1.0)))
    frame = int(track.frame_index[t])
    try:
        rgb = next((img for _, img in iter_frames(video_path, start=frame, stop=frame + 1)), None)
    except (VideoError, OSError) as e:
        log.warning("report: no thumbnail of %s: %s", track.clip_id, e)
        return None
    if rgb is None:
        return None
    if rgb.shape[1] != track.width or rgb.shape[0] != track.height:
        rgb = cv2.resize(rgb, (track.width, track.height))
    return array_uri(draw_frame(rgb, track, t), max_side_px)


def extraction_section(ws: Path, cfg: DictConfig) -> dict | None:
    """Per clip: detection rate, confidence, largest jump, error, and for the first
    ``report.thumbnails`` clips a thumbnail with the landmark overlay."""
    from vid2skill.extract.types import HandTrack, TrackSet
    from vid2skill.ingest.types import ClipSet

    index = Workspace(ws).tracks
    if not index.with_suffix(".json").exists():
        return None
    tracks = TrackSet.load(index)
    clips_index = Workspace(ws).clips
    videos = (
        {c.clip_id: c.path for c in ClipSet.load(clips_index).clips}
        if clips_index.with_suffix(".json").exists()
        else {}
    )
    rows, shown = [], 0
    for r in tracks.records:
        row = {
            k: r.get(k)
            for k in (
                "clip",
                "label",
                "frames",
                "frames_with_hand",
                "detection_rate",
                "mean_confidence",
                "max_jump_m",
                "error",
            )
        }
        row["thumbnail"] = None
        if r["error"] is None and shown < int(cfg.report.thumbnails) and r["clip"] in videos:
            row["thumbnail"] = thumbnail(
                HandTrack.load(r["track"]), videos[r["clip"]], int(cfg.report.thumbnail_px)
            )
            shown += row["thumbnail"] is not None
        rows.append(row)
    ok = tracks.ok()
    frames = sum(r["frames"] for r in ok)
    return {
        "rows": rows,
        "clips": len(rows),
        "failures": len(tracks.failures()),
        "thumbnails": shown,
        "detection_rate": sum(r["frames_with_hand"] for r in ok) / frames if frames else 0.0,
    }


# --- (b) the skill library -----------------------------------------------------------------------


def _cluster_config(ws: Path, cfg: DictConfig):
    """The cluster settings the library was made with (its stage marker records them), else the current
    ones."""
    try:
        recorded = Workspace(ws).read_stage_record("cluster")["config"]["cluster"]
    except (KeyError, TypeError):  # not run, damaged, or recorded before configs were
        return cfg.cluster
    return OmegaConf.create(recorded)


def descriptor_map(lib, cluster_cfg) -> str | None:
    """A scatter of every member's clustering features projected on their first two principal
    components, coloured by skill, as a data URI (None with fewer than three members)."""
    from vid2skill.skills.features import features

    members = [(name, clip) for name, card in sorted(lib.skills.items()) for clip in card.trajectories]
    if len(members) < 3:
        return None
    feats = features([lib.skills[n].member(c) for n, c in members], cluster_cfg)
    centred = feats - feats.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T if vt.shape[0] >= 2 else np.c_[centred @ vt[:1].T, np.zeros(len(centred))]
    explained = (s[:2] ** 2) / max(float((s**2).sum()), 1e-12)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    owner = np.array([n for n, _ in members])
    for k, name in enumerate(sorted(lib.skills)):
        pts = xy[owner == name]
        ax.scatter(
            pts[:, 0], pts[:, 1], s=28, color=plt.cm.tab10(k % 10), label=f"{name} ({len(pts)})", alpha=0.85
        )
    ax.set(
        xlabel=f"PC 1 ({100 * explained[0]:.0f}% of variance)",
        ylabel=f"PC 2 ({100 * explained[1]:.0f}%)" if len(explained) > 1 else "PC 2",
        title=f"the clips' clustering features ({cluster_cfg.features}), coloured by skill",
    )
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return figure_uri(fig)


def skills_section(ws: Path, cfg: DictConfig) -> dict | None:
    """The latest library: its table, the map of its members and one card (statistics, members,
    trajectory plot) per skill."""
    from vid2skill.skills.library import SkillLibrary, latest_version
    from vid2skill.skills.show import card_figure, library_rows

    root = Workspace(ws).skills
    if latest_version(root) == 0:
        return None
    lib = SkillLibrary.load(root)
    cards = []
    for name, card in sorted(lib.skills.items()):
        outliers = set(card.stats.get("outliers", []))
        members = [
            {
                "clip": m["clip"],
                "label": m.get("label"),
                "duration_s": card.durations_s.get(m["clip"]),
                "outlier": m["clip"] in outliers,
            }
            for m in card.members
        ]
        stats = {k: v for k, v in card.stats.items() if k != "outliers"}
        cards.append(
            {
                "name": name,
                "stats": stats,
                "made": card.made,
                "members": members,
                "plot": figure_uri(card_figure(card), dpi=60),
            }
        )
    try:
        map_uri, map_error = descriptor_map(lib, _cluster_config(ws, cfg)), None
    except Vid2SkillError as e:  # a library written before the descriptors' inputs were kept
        map_uri, map_error = None, str(e)
    return {
        "version": lib.version,
        "rows": library_rows(lib),
        "cards": cards,
        "map": map_uri,
        "map_error": map_error,
        "k": lib.clustering.get("k"),
        "clips": sum(len(c.members) for c in lib.skills.values()),
    }


# --- (c) retargeting -----------------------------------------------------------------------------


def _retargeted(ws: Path) -> dict[str, list[str]]:
    """Per robot with retargeted demos, its skills (from the stage's index)."""
    return {robot: _read_json(index) for robot, index in Workspace(ws).demo_indexes().items()}


def retarget_section(ws: Path, cfg: DictConfig) -> dict | None:
    """Per robot and skill, the retarget report summed over clips, with the per-clip rows."""
    from vid2skill.retarget.demos import DemoSet

    robots = _retargeted(ws)
    if not robots:
        return None
    out = []
    for robot, skills in robots.items():
        for skill in skills:
            ds = DemoSet.load(Workspace(ws).demos(robot, skill))
            clips = ds.report.get("clips", [])
            out.append(
                {
                    "robot": robot,
                    "skill": skill,
                    "demos": len(ds.demos),
                    "control_hz": ds.control_hz,
                    "clips": clips,
                    "mean_ik_error_mm": 1000 * float(np.mean([c["mean_ik_error_m"] for c in clips]))
                    if clips
                    else None,
                    "max_ik_error_mm": 1000 * max((c["max_ik_error_m"] for c in clips), default=0.0),
                    "unreachable_steps": sum(c["unreachable_steps"] for c in clips),
                    "joint_limit_violations": sum(c["joint_limit_violations"] for c in clips),
                    "max_joint_step_rad": max((c["max_joint_step_rad"] for c in clips), default=0.0),
                    "self_collision_steps": sum(c.get("self_collision_steps", 0) for c in clips),
                    "left_out": ds.report.get("left_out", []),
                }
            )
    return {"rows": out}


# --- (d) training --------------------------------------------------------------------------------


def _learned_policies() -> list[type]:
    """The registered policy types made by ``vid2skill train``."""
    from vid2skill.policy.registry import available, get_policy

    return [cls for cls in map(get_policy, available()) if cls.made_by == "train"]


def _tensorboard_curve(run_dir: Path) -> dict | None:
    """Per-epoch losses from the run's TensorBoard scalars (checkpoints written before stats.json
    kept them), or None where TensorBoard is not installed or wrote nothing."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return None
    if not (run_dir / "tensorboard").is_dir():
        return None
    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    tags = acc.Tags().get("scalars", [])
    curve = {
        key: [e.value for e in acc.Scalars(f"loss/{key}")] if f"loss/{key}" in tags else []
        for key in ("train", "valid")
    }
    return curve if curve["train"] else None


def _training_runs(ws: Path) -> list[dict]:
    runs = []
    for robot, skills in _retargeted(ws).items():
        for cls in _learned_policies():
            for skill in skills:
                run_dir = cls.source(ws, robot, skill)
                if not cls.has_source(run_dir):
                    continue
                stats_path = last_checkpoint(run_dir) / "stats.json"
                stats = _read_json(stats_path) if stats_path.exists() else {}
                curve = stats.get("loss_curve") or _tensorboard_curve(run_dir)
                runs.append(
                    {
                        "policy": cls.name,
                        "robot": robot,
                        "skill": skill,
                        "stats": stats,
                        "curve": curve,
                        "checkpoint": str(stats_path.parent.relative_to(ws)),
                    }
                )
    return runs


def training_curves(runs: list[dict], title: str) -> str | None:
    """The training (solid) and validation (dashed) loss per epoch of each skill, one line each."""
    runs = [r for r in runs if r["curve"]]
    if not runs:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, r in enumerate(runs):
        colour = plt.cm.tab10(k % 10)
        train = r["curve"]["train"]
        ax.plot(np.arange(1, len(train) + 1), train, color=colour, label=r["skill"])
        valid = r["curve"].get("valid") or []
        if valid:
            ax.plot(np.arange(1, len(valid) + 1), valid, color=colour, ls="--")
    ax.set(xlabel="epoch", ylabel="loss (dashed: held-out clips)", title=title)
    if all(min(r["curve"]["train"]) > 0 for r in runs):
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return figure_uri(fig)


def training_section(ws: Path, cfg: DictConfig) -> dict | None:
    """Per policy type and robot: the loss curves of every skill and a table of the checkpoints."""
    runs = _training_runs(ws)
    if not runs:
        return None
    groups = []
    for key in sorted({(r["policy"], r["robot"]) for r in runs}):
        mine = [r for r in runs if (r["policy"], r["robot"]) == key]
        groups.append(
            {
                "policy": key[0],
                "robot": key[1],
                "runs": mine,
                "plot": training_curves(mine, f"{key[0]} on {key[1]}"),
                "missing_curves": [r["skill"] for r in mine if not r["curve"]],
            }
        )
    return {"groups": groups}


# --- (e) evaluation and (f) rollouts -------------------------------------------------------------


def _evaluations(ws: Path) -> list[tuple[str, str, list[dict]]]:
    """(policy, robot, results) of every evaluation run."""
    layout = Workspace(ws)
    return [(p, r, _read_json(layout.eval_results(p, r))) for p, r in layout.eval_runs()]


def success_bars(records: list[dict]) -> str:
    """Success rate per skill, one bar per policy and robot, with 95% Wilson intervals."""
    plt = pyplot()
    skills = sorted({r["skill"] for r in records})
    runs = sorted({(r["policy"], r["robot"]) for r in records})
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(skills) * max(1, len(runs)) ** 0.5 + 2), 4))
    for k, run in enumerate(runs):
        mine = {r["skill"]: r for r in records if (r["policy"], r["robot"]) == run}
        x = (
            np.array([i for i, s in enumerate(skills) if s in mine], dtype=float)
            + (k - (len(runs) - 1) / 2) * width
        )
        rate = np.array([mine[s]["rate"] for s in skills if s in mine])
        lo = np.array([mine[s]["ci_low"] for s in skills if s in mine])
        hi = np.array([mine[s]["ci_high"] for s in skills if s in mine])
        ax.bar(
            x,
            rate,
            width,
            yerr=np.clip(np.vstack([rate - lo, hi - rate]), 0.0, None),
            capsize=3,
            label=f"{run[0]} / {run[1]}",
            color=plt.cm.tab10(k % 10),
        )
    ax.set_xticks(np.arange(len(skills)), skills, rotation=30, ha="right")
    ax.set(ylim=(0, 1.05), ylabel="success rate (95% Wilson interval)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, never over them
    ax.grid(axis="y", alpha=0.3)
    return figure_uri(fig)


def evaluation_section(ws: Path, cfg: DictConfig) -> dict | None:
    """Success per skill, policy and robot: a bar chart with intervals, and the table."""
    rows = []
    for policy, robot, results in _evaluations(ws):
        for r in results:
            n, k = int(r["episodes"]), int(r["successes"])
            lo, hi = wilson_interval(k, n)
            rows.append(
                {
                    "skill": r["skill"],
                    "policy": r.get("policy", policy),
                    "robot": r.get("robot", robot),
                    "episodes": n,
                    "successes": k,
                    "crashed": r.get("crashed", 0),
                    "rate": k / n if n else 0.0,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    if not rows:
        return None
    return {"rows": rows, "plot": success_bars(rows)}


def rollouts_section(ws: Path, cfg: DictConfig) -> dict | None:
    """The evaluation runs' rollout GIFs, up to ``report.gifs_per_run`` per run and
    ``report.max_media_mb`` in all (the page must stay small enough to mail)."""
    runs = _evaluations(ws)
    if not runs:
        return None
    budget = float(cfg.report.max_media_mb) * 2**20
    groups, left_out = [], 0
    for policy, robot, _ in runs:
        run_dir, episodes_path = Workspace(ws).eval(policy, robot), Workspace(ws).eval_episodes(policy, robot)
        episodes = _read_json(episodes_path).get("episodes", []) if episodes_path.exists() else []
        gifs = []
        for e in episodes:
            path = Path(resolved_path(e["gif"], run_dir)) if e.get("gif") else None
            if path is None or not path.exists():
                continue
            size = path.stat().st_size
            if len(gifs) >= int(cfg.report.gifs_per_run) or size > budget:
                left_out += 1
                continue
            budget -= size
            gifs.append(
                {
                    "skill": e["skill"],
                    "seed": e.get("seed"),
                    "success": bool(e.get("success")),
                    "uri": file_uri(path),
                }
            )
        if gifs:
            groups.append({"policy": policy, "robot": robot, "gifs": gifs})
    return {"groups": groups, "left_out": left_out}


# --- (g) real clips to robot ---------------------------------------------------------------------


def real_to_robot_path(ws: Path, cfg: DictConfig) -> Path | None:
    """The real-to-robot results to show: ``report.real_to_robot`` (an error where it is missing),
    else ``<workspace>/real_to_robot.json`` where benchmarks/real_to_robot.py left one, else None."""
    given = OmegaConf.select(cfg, "report.real_to_robot")
    if given:
        path = Path(str(given)).expanduser()
        if not path.is_file():
            raise ArtifactError(
                f"real_to_robot={path}: no such file; give the JSON that "
                "`python benchmarks/real_to_robot.py LABELS.csv --out PATH` wrote"
            )
        return path
    found = Workspace(ws).real_to_robot
    return found if found.is_file() else None


def real_to_robot_section(path: Path | None) -> dict | None:
    """Per clip and labelled skill: found in order or not, how, when, and success per robot; the
    mean per skill and over skills."""
    if path is None:
        return None
    report = _read_json(path)
    try:
        skills = report["skills"]
        robots = sorted(report["mean_over_skills"])
        rows = [
            {
                "clip": c["clip"],
                "skill": s["skill"],
                "found": s["found"],
                "how": s.get("how"),
                "span": f"{s['start_s']}-{s['end_s']} s" if s["found"] else "",
                "error": s.get("error"),
                "success": {r: s["success"].get(r, {}).get("rate") for r in robots},
            }
            for c in report["clips"]
            for s in c["segments"]
        ]
        rows += [
            {
                "clip": c["clip"],
                "skill": "/".join(c["skills"]) or "none",
                "found": False,
                "how": None,
                "span": "",
                "error": f"not extracted: {c['error']}",
                "success": {},
            }
            for c in report["clips"]
            if c.get("error")
        ]
    except (KeyError, TypeError, AttributeError) as e:
        raise ArtifactError(
            f"{path} is not a benchmarks/real_to_robot.py result (missing {e}); "
            "give the JSON it wrote with --out"
        ) from e
    return {
        "path": str(path),
        "robots": robots,
        "rows": rows,
        "skills": skills,
        "mean": report["mean_over_skills"],
        "found": report.get("found_in_order", {}),
        "episodes": report.get("episodes"),
    }
