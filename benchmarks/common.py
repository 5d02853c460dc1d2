"""Helpers the benchmark scripts share: the command line of the clustering benchmarks, the
skills a labels CSV lists per clip, and synthetic ground truth put in place of extracted tracks.

Scripts in this folder import it as ``from common import ...`` (the folder is on ``sys.path``
when a script in it runs); no benchmark imports another."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from vid2skill.config import compose
from vid2skill.extract.truth import GROUND_TRUTH_PARTS, ground_truth_track
from vid2skill.extract.types import HandTrack
from vid2skill.ingest.synthetic.generator import load_ground_truth
from vid2skill.ingest.types import ClipSet


def skills_by_stem(path: Path) -> dict[str, list[str]]:
    """file stem -> skills, from a CSV with ``file`` and ``skills`` columns
    (``../shared/data/labels.csv``)."""
    return {
        Path(r["file"]).stem: [x for x in r["skills"].split(";") if x] for r in csv.DictReader(path.open())
    }


def stem_of(clip_id: str, stems) -> str | None:
    """The longest file stem a clip id starts with (clip ids are the stem plus a hash), or None."""
    return max((s for s in stems if clip_id.startswith(s)), key=len, default=None)


def truth_from_csv(path: Path, clip_ids: list[str]) -> dict[str, str]:
    """Labels for clips ingested with labels hidden, from a CSV with ``file`` and ``skills`` columns
    (``../shared/data/labels.csv``: ``videos/whirl_drawer_open_close.mp4,slide_open;slide_close``).
    A clip id starts with its file's stem; its k-th grasp (``<clip>~k``) gets the k-th skill when
    the clip was cut into as many grasps as it lists skills, else every grasp gets the first."""
    skills = skills_by_stem(path)
    n_segments: dict[str, int] = {}
    for c in clip_ids:
        base = c.split("~")[0]
        n_segments[base] = n_segments.get(base, 0) + 1
    truth = {}
    for c in clip_ids:
        base, _, k = c.partition("~")
        stem = stem_of(base, skills)
        if stem is None:
            continue
        listed = skills[stem]
        truth[c] = listed[int(k) - 1] if k and len(listed) == n_segments[base] else listed[0]
    return truth


def real_clip_arguments(ap: argparse.ArgumentParser) -> None:
    """The arguments of the benchmarks that read an extracted workspace of the real clips and their
    ``labels.csv`` (``../shared/data/labels.csv`` beside the repository by default)."""
    ap.add_argument(
        "workspace", type=Path, help="an extracted workspace of the real clips (extract/tracks.json)"
    )
    ap.add_argument(
        "--labels", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "labels.csv"
    )


def workspaces_and_cluster_cfg(items: list[str], extra: list[str] = ()):
    """(workspace paths, the shipped cluster settings with the ``key=value`` items among ``items``
    and ``extra`` applied): the command line of the clustering benchmarks."""
    cfg = compose([x for x in items if "=" in x] + list(extra)).cluster
    return [Path(x) for x in items if "=" not in x], cfg


def _with_ground_truth(
    ws: Path, records: list[dict], out: Path, parts=tuple(GROUND_TRUTH_PARTS), on_detected: bool = False
) -> list[dict]:
    """Records whose tracks are rewritten from the ground truth under ``out`` (clips without any are
    dropped)."""
    truth = {c.clip_id: c.ground_truth for c in ClipSet.load(ws / "ingest" / "clips").clips if c.ground_truth}
    kept = []
    for rec in records:
        if rec["clip"] not in truth:
            continue
        path = out / ws.name / rec["clip"]
        gt = load_ground_truth(truth[rec["clip"]])[1]
        ground_truth_track(HandTrack.load(rec["track"]), gt, parts, on_detected).save(path)
        kept.append({**rec, "track": str(path)})
    return kept


def ground_truth_options(ap: argparse.ArgumentParser) -> None:
    """--ground-truth, --parts and --on-detected, shared by the clustering benchmarks."""
    ap.add_argument(
        "--ground-truth",
        action="store_true",
        help="synthetic clips: the ground truth in place of the extracted tracks",
    )
    ap.add_argument(
        "--parts",
        default=",".join(GROUND_TRUTH_PARTS),
        help=(
            "--ground-truth: the comma-separated parts put back "
            f"({', '.join(GROUND_TRUTH_PARTS)}; all by default), the rest as extracted"
        ),
    )
    ap.add_argument(
        "--on-detected",
        action="store_true",
        help="--ground-truth only on the frames where MediaPipe found the hand",
    )


def with_ground_truth_as_asked(args, ws: Path, records: list[dict], out: Path) -> list[dict]:
    """The records, or (``--ground-truth``) their ground-truth versions."""
    if not args.ground_truth:
        return records
    parts = tuple(x for x in args.parts.split(",") if x)
    unknown = sorted(set(parts) - set(GROUND_TRUTH_PARTS))
    if unknown:
        raise SystemExit(f"--parts: unknown part(s) {unknown}; choose from {sorted(GROUND_TRUTH_PARTS)}")
    return _with_ground_truth(ws, records, out, parts, args.on_detected)


def agreement(truth: list, pred: list, shuffles: int = 200, seed: int = 0) -> str:
    """ARI and NMI of ``pred`` against ``truth``, with the ARI of random partitions of the same sizes
    (``pred`` shuffled) as the baseline measured in the same run: one line."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    rng = np.random.default_rng(seed)
    shuffled = [adjusted_rand_score(truth, rng.permutation(pred)) for _ in range(shuffles)]
    return (
        f"ARI {adjusted_rand_score(truth, pred):.3f}  NMI {normalized_mutual_info_score(truth, pred):.3f}  "
        f"(random partition of the same sizes: ARI {np.mean(shuffled):.3f} +- {np.std(shuffled):.3f})"
    )
