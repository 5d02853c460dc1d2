"""Extraction accuracy on synthetic clips with ground truth, against raw MediaPipe on the same frames.

Renders clips with seeds never used in development (default 5000+), runs `extract`, and prints
detection (overall and per phase) and metric errors. The baseline in the same run is raw MediaPipe
(no tracking across detections, no filtering): the wrist lifted with the same metric solver on
every frame where MediaPipe's top-scoring hand is found.

    python benchmarks/synthetic_accuracy.py --clips-per-skill 10 --seed 5000 --workspace /tmp/v2s_bench
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_module

from vid2skill.extract.accuracy import score_track, summarise
from vid2skill.extract.types import HandTrack
from vid2skill.ingest.synthetic.generator import PHASES, load_ground_truth
from vid2skill.pipeline import run_stage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips-per-skill", type=int, default=10)
    ap.add_argument("--seed", type=int, default=5000)
    ap.add_argument("--workspace", default="/tmp/v2s_bench")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides")
    args = ap.parse_args()
    with initialize_config_module("vid2skill.conf", version_base="1.3"):
        cfg = compose("config", overrides=[
            f"workspace={args.workspace}", f"source.seed={args.seed}", f"source.clips_per_skill={args.clips_per_skill}",
            f"workers={args.workers}", *args.overrides,
        ])
    t0 = time.time()
    run_stage(cfg, "ingest")
    t1 = time.time()
    run_stage(cfg, "extract")
    t2 = time.time()
    records = json.loads((Path(args.workspace) / "extract" / "tracks.json").read_text())["records"]
    scores, failed = [], []
    for r in records:
        if r["error"]:
            failed.append(r)
            continue
        track = HandTrack.load(r["track"])
        gt_json = Path(args.workspace) / "ingest" / "synthetic" / f"{r['clip']}_gt.json"
        _, gt = load_ground_truth(gt_json)
        scores.append(score_track(track, gt, list(PHASES)))
    s = summarise(scores, list(PHASES))
    print(f"clips: {s['clips']} ok, {len(failed)} failed; ingest {t1 - t0:.0f} s, extract {t2 - t1:.0f} s")
    print(f"detection: all {s['detection_rate']:.3f}; " + ", ".join(f"{p} {s['detection_' + p]:.3f}" for p in PHASES))
    print(f"wrist position error (camera frame): median {100 * s['median_position_error_m']:.1f} cm, "
          f"p90 {100 * s['p90_position_error_m']:.1f} cm; per-clip median depth bias {100 * s['clip_median_depth_error_m']:.1f} cm")
    print(f"per-clip medians: rotation {s['clip_median_rotation_error_deg']:.1f} deg, aperture {100 * s['clip_median_aperture_error_m']:.1f} cm")
    for sc in sorted(scores, key=lambda x: x["detection_rate"])[:5]:
        print(f"  worst: {sc['clip']} detection {sc['detection_rate']:.2f} median error {100 * sc.get('median_position_error_m', np.nan):.1f} cm")


if __name__ == "__main__":
    main()
