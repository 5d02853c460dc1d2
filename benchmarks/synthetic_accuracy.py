"""Extraction on synthetic clips with ground truth, against raw MediaPipe on the same frames.

Renders clips with seeds never used in development (default 5000+), then, on one core, runs
`extract_clip` on each and, as the baseline in the same run, raw MediaPipe Hands: decode, detect,
take the top-scoring hand per frame, lift its wrist with the same metric solver, no tracking,
outlier rejection, gap filling or smoothing. Prints detection (over frames where the hand is in
view, overall and per phase, and over frames that show at least half of the hand's keypoints
unoccluded), metric wrist errors, and throughput, each as ours / baseline.

    python benchmarks/synthetic_accuracy.py --clips-per-skill 10 --seed 5000 --workspace /tmp/v2s_bench
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from vid2skill.config import compose
from vid2skill.errors import NoHandError
from vid2skill.extract.accuracy import score_track, summarise
from vid2skill.extract.hands import MediaPipeHands, extract_clip
from vid2skill.extract.metric import hand_translation
from vid2skill.extract.types import HandTrack
from vid2skill.ingest.synthetic.generator import PHASES, load_ground_truth
from vid2skill.ingest.types import ClipSet
from vid2skill.landmarks import WRIST
from vid2skill.pipeline import run_stage
from vid2skill.video import iter_frames


def raw_mediapipe(clip, cfg) -> tuple[HandTrack, int]:
    """The baseline: MediaPipe's top hand per frame, lifted to metric, nothing else."""
    hands = MediaPipeHands(cfg)
    idx, det, wrist = [], [], []
    for i, rgb in iter_frames(clip.path, stride=cfg.stride):
        dets = hands.detect(rgb)
        idx.append(i)
        if dets:
            d = max(dets, key=lambda d: d.score)
            t = hand_translation(d.world[None], d.px[None], clip.intrinsics, cfg.hand_scale)[0]
            wrist.append(d.world[WRIST] + t)
            det.append(True)
        else:
            wrist.append(np.full(3, np.nan))
            det.append(False)
    hands.close()
    T = len(idx)
    det = np.array(det)
    track = HandTrack(
        clip.clip_id,
        30.0,
        0,
        0,
        clip.intrinsics,
        "right",
        clip.label,
        np.array(idx),
        det,
        det,
        np.array(wrist),
        np.tile(np.eye(3), (T, 1, 1)),
        np.zeros(T),
        det.astype(float),
        np.zeros((T, 21, 2)),
    )
    return track, T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips-per-skill", type=int, default=10)
    ap.add_argument("--seed", type=int, default=5000)
    ap.add_argument("--workspace", default="/tmp/v2s_bench")
    ap.add_argument("--workers", type=int, default=0, help="processes for rendering the clips")
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides")
    args = ap.parse_args()
    cfg = compose(
        [
            f"workspace={args.workspace}",
            f"source.seed={args.seed}",
            f"source.clips_per_skill={args.clips_per_skill}",
            f"workers={args.workers}",
            *args.overrides,
        ]
    )
    run_stage(cfg, "ingest")
    clips = ClipSet.load(Path(args.workspace) / "ingest" / "clips").clips
    ours, base, frames, t_ours, t_base = [], [], 0, 0.0, 0.0
    for clip in clips:
        _, gt = load_ground_truth(clip.ground_truth)
        t0 = time.perf_counter()
        try:
            track = extract_clip(clip, cfg.extract)
        except NoHandError:
            track = None  # no hand in the whole clip: every visible frame counts as missed
        t1 = time.perf_counter()
        raw, n = raw_mediapipe(clip, cfg.extract)
        t2 = time.perf_counter()
        t_ours, t_base, frames = t_ours + t1 - t0, t_base + t2 - t1, frames + n
        base.append(score_track(raw, gt, list(PHASES)))
        if track is None:
            track = replace(raw, detected=np.zeros_like(raw.detected), valid=np.zeros_like(raw.valid))
        ours.append(score_track(track, gt, list(PHASES)))
    s, b = summarise(ours, list(PHASES)), summarise(base, list(PHASES))
    print(
        f"{len(clips)} clips, {frames} frames, seeds {args.seed}+ ({args.clips_per_skill} per skill)"
        + (
            f"; {s['frames_shown']} in-view frames show >= half the hand's keypoints"
            if "frames_shown" in s
            else ""
        )
    )
    print(f"{'':28s}{'ours':>9s}{'raw MP':>9s}{'ratio':>8s}")
    rows = [("detection, all frames", "detection_rate", 1)] + [
        (f"detection, {p}", f"detection_{p}", 1) for p in PHASES
    ]
    if (
        "detection_rate_shown" in s
    ):  # over frames showing >= half the hand's keypoints (not hidden behind an object)
        rows.insert(1, ("detection, hand shown", "detection_rate_shown", 1))
    rows += [
        ("median wrist error (cm)", "median_position_error_m", 100),
        ("p90 wrist error (cm)", "p90_position_error_m", 100),
    ]
    for name, key, scale in rows:
        print(f"{name:28s}{s[key] * scale:9.3f}{b[key] * scale:9.3f}{s[key] / b[key]:8.2f}")
    fps_ours, fps_base = frames / t_ours, frames / t_base
    print(f"{'throughput, 1 core (fps)':28s}{fps_ours:9.1f}{fps_base:9.1f}{fps_ours / fps_base:8.2f}")
    print(
        f"ours only: per-clip median rotation error {s['clip_median_rotation_error_deg']:.1f} deg, "
        f"aperture error {100 * s['clip_median_aperture_error_m']:.1f} cm, depth bias "
        f"{100 * s['clip_median_depth_error_m']:.1f} cm"
    )
    skills = sorted({c.label for c in clips})
    if len(skills) > 1:
        print(
            f"{'per skill':14s}{'clips':>6s}{'detection':>10s}{'wrist err (cm)':>15s}"
            f"{'rot err (deg)':>14s}{'aperture err (cm)':>18s}"
        )
        for skill in skills:
            k = summarise([o for o, c in zip(ours, clips) if c.label == skill], list(PHASES))
            n = sum(c.label == skill for c in clips)
            print(
                f"{skill:14s}{n:6d}{k['detection_rate']:10.3f}{100 * k['median_position_error_m']:15.2f}"
                f"{k['clip_median_rotation_error_deg']:14.1f}{100 * k['clip_median_aperture_error_m']:18.2f}"
            )
    worst = sorted(ours, key=lambda x: x["detection_rate"])[:3]
    print("lowest detection:", ", ".join(f"{w['clip']} {w['detection_rate']:.2f}" for w in worst))


if __name__ == "__main__":
    main()
