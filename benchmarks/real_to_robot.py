r"""Real human video to simulated robot success: does a real clip of a person doing a skill make the
robot do it?

Input: a ``labels.csv`` in the format of ``../shared/data/labels.csv`` (``file`` relative to the
CSV's folder, ``skills`` the clip's skills in order, ``;``-separated; ``none`` for a distractor).
Every listed video is ingested and extracted into ``--workspace`` (reused when unchanged), each
clip is cut into its labelled skills in order (``vid2skill/skills/sequence.py``), each skill's
manipulation is fitted to the skill's structure (``vid2skill/retarget/primitives.py``) and
replayed open-loop in that skill's randomised scene on every robot (``--episodes`` per clip,
robot and skill, seeds ``sim.start_seed + 10000 * seed + i``, apart from those that make data).

Printed and written to ``--out`` (JSON): per clip and skill whether it was found in order, its
segment times, how it was found, plausibility figures (path length, straightness, arc radius,
rotation), the fitted motion (travel, angle, lift, tilt, turns, strokes) and success per robot;
per skill the mean success over its clips; the mean over skills.

    python benchmarks/real_to_robot.py ../shared/data/labels.csv --episodes 10
    python benchmarks/real_to_robot.py ../shared/data/labels.csv --robots panda --episodes 4 \
        extract.target_fps=10
    # the same on labelled synthetic clips
    python benchmarks/real_to_robot.py /tmp/msyn --workspace /tmp/msyn_r2r
"""

from __future__ import annotations

import argparse
import functools
import logging
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from vid2skill.artifacts import atomic_write_json
from vid2skill.config import compose
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.ingest.labels import read_labels
from vid2skill.parallel import map_items
from vid2skill.pipeline import run_stage
from vid2skill.retarget.primitives import FAMILY_OF_TASK, SkillMotion, fit_motion, path_figures
from vid2skill.skills.sequence import segment_sequence

log = logging.getLogger("real_to_robot")


def known_rows(path: Path, known: set[str]) -> tuple[list[dict], list[dict]]:
    """(rows {file, skills, unknown}, problems {row, error}) of a labels CSV: bad rows and skills that
    are not simulated are reported, and skipped, not guessed."""
    rows, problems = read_labels(path)
    out = []
    for r in rows:
        unknown = [s for s in r.skills if s not in known]
        if unknown:
            problems.append(
                {"row": r.row, "error": f"{r.video.name}: unknown skill(s) {unknown}; skipped those"}
            )
        out.append({"file": r.video, "skills": [s for s in r.skills if s in known], "unknown": unknown})
    return out, problems


def clip_rows(workspace: Path, known: set[str]) -> tuple[list[dict], list[dict]]:
    """Rows of an ingested workspace's labelled clips (synthetic ones name their skill), so that
    synthetic clips go through exactly what real ones do."""
    from vid2skill.ingest.labels import split_skills
    from vid2skill.ingest.types import ClipSet

    rows = []
    for c in ClipSet.load(workspace / "ingest" / "clips").clips:
        skills = split_skills(c.label)
        rows.append(
            {
                "file": Path(c.path),
                "skills": [s for s in skills if s in known],
                "unknown": [s for s in skills if s not in known],
            }
        )
    return rows, []


def stage_videos(rows: list[dict], folder: Path) -> None:
    """Links to the listed videos in one folder (the folder source's input), named by their stems."""
    folder.mkdir(parents=True, exist_ok=True)
    for r in rows:
        link = folder / r["file"].name
        if not link.exists():
            link.symlink_to(r["file"])


def _episode(job: tuple, cfg_dict: dict) -> bool:
    from vid2skill.retarget.stage import robot_spec
    from vid2skill.sim.episode import EpisodeRunner
    from vid2skill.sim.policies import MotionReplayPolicy

    _, (skill, robot, motion, seed) = job
    cfg = OmegaConf.create(cfg_dict)
    runner = EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robots[robot]))
    return runner.run(MotionReplayPolicy(SkillMotion.from_dict(motion)), seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "labels", type=Path, help="a labels CSV, or a workspace whose ingested clips carry labels (synthetic)"
    )
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/v2s_real_to_robot"))
    ap.add_argument("--robots", default="panda,iiwa,xarm6")
    ap.add_argument("--episodes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--out", type=Path, default=None, help="JSON results (default: <workspace>/real_to_robot.json)"
    )
    ap.add_argument(
        "--only", default="", help="comma-separated substrings: run only clips whose name holds one"
    )
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. extract.target_fps=10")
    args = ap.parse_intermixed_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    robots = args.robots.split(",")
    ws = args.workspace.resolve()
    base = [
        f"workspace={ws}",
        "source=folder",
        f"source.path={ws / 'videos'}",
        "skill=all",
        f"workers={args.workers}",
    ]
    cfg = compose(base + args.overrides)
    robot_cfgs = {r: compose(base + [f"robot={r}"] + args.overrides).robot for r in robots}
    in_hand = set(cfg.cluster.continues_grasp)
    known = set(cfg.skill.keys())
    from_clips = args.labels.is_dir()
    rows, problems = clip_rows(args.labels, known) if from_clips else known_rows(args.labels, known)
    if args.only:
        rows = [r for r in rows if any(k in r["file"].stem for k in args.only.split(","))]
    for p in problems:
        log.warning("labels row %d: %s", p["row"], p["error"])
    stage_videos(rows, ws / "videos")
    run_stage(cfg, "ingest")
    run_stage(cfg, "extract")
    tracks = {r["clip"]: r for r in TrackSet.load(ws / "extract" / "tracks").records}
    by_stem = {c.rsplit("_", 1)[0]: r for c, r in tracks.items()}

    clips, jobs = [], []
    for row in rows:
        stem = row["file"].stem
        rec = by_stem.get(stem) or by_stem.get(stem.replace(" ", "_"))
        entry = {"clip": stem, "skills": row["skills"], "unknown_skills": row["unknown"], "segments": []}
        clips.append(entry)
        if rec is None or rec["error"]:
            entry["error"] = rec["error"] if rec else "not extracted"
            continue
        path = Path(rec["track"])
        track = HandTrack.load(path if path.is_absolute() else ws / path)
        for seg in segment_sequence(track, row["skills"], cfg.cluster, in_hand):
            s = {
                "skill": seg.skill,
                "found": seg.trajectory is not None,
                "how": seg.how,
                "start_s": round(seg.start_s, 2),
                "end_s": round(seg.end_s, 2),
                "error": seg.error,
                "success": {},
            }
            entry["segments"].append(s)
            if seg.trajectory is None:
                continue
            traj = seg.trajectory
            family = FAMILY_OF_TASK[cfg.skill[seg.skill].task]
            motion = fit_motion(
                family,
                traj.position_m,
                traj.rotvec,
                traj.duration_s,
                seg.up_contact,
                cfg.retarget.primitives,
                traj.held_axis,
            )
            s["figures"] = path_figures(traj.position_m, traj.rotvec, seg.up_contact)
            s["motion"] = {
                "method": motion.method,
                "duration_s": round(motion.duration_s, 2),
                **{k: round(v, 3) for k, v in motion.values.items()},
            }
            for robot in robots:
                for i in range(args.episodes):
                    seed = int(cfg.sim.start_seed + 10000 * args.seed + i)
                    jobs.append(((stem, seg.skill, robot), (seg.skill, robot, motion.to_dict(), seed)))

    cfg_dict = OmegaConf.to_container(cfg, resolve=True)
    cfg_dict["robots"] = {r: OmegaConf.to_container(c, resolve=True) for r, c in robot_cfgs.items()}
    t0 = time.time()
    outcomes: dict[tuple, list] = defaultdict(list)
    for (key, _), res, err in map_items(
        functools.partial(_episode, cfg_dict=cfg_dict),
        jobs,
        args.workers,
        "real_to_robot: episodes",
        cost=lambda j: j[1][2]["duration_s"],
    ):
        outcomes[key].append(None if err else res)
        if err:
            log.warning("%s: episode crashed: %s", key, err)
    log.info("%d episodes in %.0f s", len(jobs), time.time() - t0)
    report = summarise(clips, outcomes, robots)
    report.update(
        {"labels": str(args.labels), "episodes": args.episodes, "seed": args.seed, "label_problems": problems}
    )
    out = args.out or ws / "real_to_robot.json"
    atomic_write_json(out, report)
    print_report(report, robots)
    print(f"\nwritten to {out}")


def summarise(clips: list[dict], outcomes: dict, robots: list[str]) -> dict:
    per_skill: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    pairs = found = 0
    for c in clips:
        stem = c["clip"]
        for s in c["segments"]:
            pairs += 1
            found += s["found"]
            for robot in robots:
                eps = outcomes.get((stem, s["skill"], robot), [])
                crashed = sum(e is None for e in eps)
                ok = [e for e in eps if e is not None]
                rate = sum(e["success"] for e in ok) / len(eps) if eps else 0.0
                s["success"][robot] = {
                    "rate": round(rate, 3),
                    "episodes": len(eps),
                    "crashed": crashed,
                    "progress": ok[0] if ok else None,
                }
                per_skill[s["skill"]][robot].append(rate)
        if c.get("error"):  # not extracted: each labelled skill counts as not found and failed
            pairs += len(c["skills"])
            for skill in c["skills"]:
                for robot in robots:
                    per_skill[skill][robot].append(0.0)
    skills = {
        k: {r: round(float(np.mean(v[r])), 3) for r in robots} | {"clips": len(v[robots[0]])}
        for k, v in sorted(per_skill.items())
    }
    mean = {r: round(float(np.mean([v[r] for v in skills.values()])), 3) if skills else 0.0 for r in robots}
    return {
        "clips": clips,
        "skills": skills,
        "mean_over_skills": mean,
        "found_in_order": {"pairs": pairs, "found": found, "rate": round(found / pairs, 3) if pairs else 0.0},
    }


def print_report(report: dict, robots: list[str]) -> None:
    print("\nper clip and skill (found: how; success per robot)")
    for c in report["clips"]:
        if c.get("error"):
            print(f"  {c['clip']:<44} {'/'.join(c['skills']) or 'none':<26} not extracted: {c['error']}")
        for s in c["segments"]:
            rates = " ".join(f"{s['success'][r]['rate']:.2f}" if s["found"] else "  - " for r in robots)
            m = s.get("motion", {})
            desc = (
                ", ".join(f"{k}={v}" for k, v in m.items() if k not in ("duration_s",)) if m else s["error"]
            )
            print(
                f"  {c['clip']:<44} {s['skill']:<12} {s['how']:<7} {s['start_s']:>6}-{s['end_s']:<6} "
                f"{rates}  {desc}"
            )
    print(f"\nper skill: mean success over its clips ({', '.join(robots)})")
    for k, v in report["skills"].items():
        print(f"  {k:<12} clips {v['clips']:>2}  " + "  ".join(f"{v[r]:.2f}" for r in robots))
    print("  mean         " + "         " + "  ".join(f"{report['mean_over_skills'][r]:.2f}" for r in robots))
    f = report["found_in_order"]
    print(f"labelled skills found in order: {f['found']}/{f['pairs']} = {f['rate']:.2f}")


if __name__ == "__main__":
    main()
