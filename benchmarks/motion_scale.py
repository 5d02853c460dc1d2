r"""How well the wrist's motion during the manipulation is measured, against synthetic ground truth:
the per-frame metric lift (PnP of MediaPipe's metric landmarks, depth median-filtered, as the
motion clustering uses it) beside the hand-scaled path of labelled segmentation (in-plane motion
from pixel steps times the hand's metres per pixel, depth from the lift).

For every clip of a synthetic workspace (ingested and extracted), over the ground truth's
manipulation phase: the wrist's displacement since the phase began, compared frame by frame with
the truth (median error, cm, in the image plane and along the view) and the extent ratio (largest
estimated displacement over the true one; 1 is right, below 1 the motion is measured short).
Then gravity: the angle between the extractor's up (``extract/gravity.py``) and the true one, and
the error of the rise (displacement along up, cm) measured along the estimated up beside the same
along the camera's up, which is what the rise was before gravity was estimated.

    vid2skill ingest workspace=/tmp/msyn source=synthetic_hard "source.skills=[slide_open,...,cut]" \
        source.clips_per_skill=2 source.seed=12000
    vid2skill extract workspace=/tmp/msyn ...same overrides...
    python benchmarks/motion_scale.py /tmp/msyn
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from vid2skill.config import compose
from vid2skill.extract.filters import median_depth
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.geometry import apply_T, inv_T
from vid2skill.ingest.synthetic.generator import PHASES, load_ground_truth
from vid2skill.ingest.types import ClipSet
from vid2skill.skills.sequence import fill_gaps, hand_scaled_path, in_first_camera

MOVE = PHASES.index("move")


def errors(est: np.ndarray, gt: np.ndarray) -> dict:
    """Displacement errors of (N, 3) paths since their first sample, camera axes."""
    d_est, d_gt = est - est[0], gt - gt[0]
    diff = d_est - d_gt
    extent = np.linalg.norm(d_gt, axis=1).max()
    return {
        "plane_cm": 100 * float(np.median(np.linalg.norm(diff[:, :2], axis=1))),
        "depth_cm": 100 * float(np.median(np.abs(diff[:, 2]))),
        "extent_ratio": float(np.linalg.norm(d_est, axis=1).max() / extent)
        if extent > 0.02
        else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    args = ap.parse_args()
    cluster = compose([]).cluster
    clips = {c.clip_id: c for c in ClipSet.load(args.workspace / "ingest" / "clips").clips}
    rows = defaultdict(lambda: defaultdict(list))
    gravity = defaultdict(list)
    for rec in TrackSet.load(args.workspace / "extract" / "tracks").ok():
        clip = clips.get(rec["clip"])
        if clip is None or not clip.ground_truth:
            continue
        path = Path(rec["track"])
        track = HandTrack.load(path if path.is_absolute() else args.workspace / path)
        _, gt = load_ground_truth(clip.ground_truth)
        frames = track.frame_index
        move = (gt["phase"][frames] == MOVE) & np.isfinite(track.wrist_pos_cam).all(axis=1)
        if move.sum() < 5:
            continue
        window = int(round(cluster.depth_median_s * track.fps)) | 1
        p = median_depth(track.wrist_pos_cam, np.isfinite(track.wrist_pos_cam).all(axis=1), window)
        # Both in the first frame's camera: a head-worn camera's turns taken out of the estimate as
        # labelled segmentation does (``in_first_camera``), and the truth in the clip's first camera.
        truth = apply_T(inv_T(gt["T_world_cam"]), gt["wrist_pos_world"][frames])[move]
        for method, path in (
            ("per-frame lift", fill_gaps(p)),
            ("hand-scaled", hand_scaled_path(track, fill_gaps(p), window)),
        ):
            est = in_first_camera(track, path)[0]
            for key, value in errors(est[move], truth).items():
                rows[method][key].append(value)
                rows[f"{method}|{clip.label}"][key].append(value)
        up_true = gt["T_world_cam"][:3, :3].T @ np.array([0.0, 0.0, 1.0])
        est, rise_true = in_first_camera(track, fill_gaps(p))[0][move], (truth - truth[0]) @ up_true
        up_est = track.up_cam
        gravity["angle_deg"].append(float(np.degrees(np.arccos(np.clip(up_est @ up_true, -1.0, 1.0)))))
        gravity["from_lines"].append(track.meta.get("gravity_source") == "lines")
        for name, up in (("estimated up", up_est), ("camera up", np.array([0.0, -1.0, 0.0]))):
            gravity[f"rise_cm|{name}"].append(100 * float(np.median(np.abs((est - est[0]) @ up - rise_true))))
    print(f"{'method':<36} {'clips':>5} {'plane err cm':>12} {'depth err cm':>12} {'extent ratio':>12}")
    for method in sorted(rows, key=lambda m: ("|" in m, m)):
        r = rows[method]
        ratio = np.array(r["extent_ratio"])
        ratio = ratio[np.isfinite(ratio)]
        print(
            f"{method:<36} {len(r['plane_cm']):>5} {np.median(r['plane_cm']):>12.2f} "
            f"{np.median(r['depth_cm']):>12.2f} "
            f"{np.exp(np.mean(np.log(ratio))) if len(ratio) else float('nan'):>12.2f}"
        )

    a = np.array(gravity["angle_deg"])
    if len(a):
        print(
            f"\ngravity: {int(np.sum(gravity['from_lines']))}/{len(a)} clips from the scene's edges; "
            f"angle to the true up: median {np.median(a):.1f} deg, mean {a.mean():.1f}, "
            f"within 5 deg {int((a < 5).sum())}/{len(a)}"
        )
        for name in ("estimated up", "camera up"):
            print(f"  rise along the {name:<13} median error {np.median(gravity[f'rise_cm|{name}']):.2f} cm")


if __name__ == "__main__":
    main()
