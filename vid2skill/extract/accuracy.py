"""Scoring a hand track against a synthetic clip's ground truth (detection per phase, metric errors)."""

from __future__ import annotations

import numpy as np

from vid2skill.extract.types import HandTrack
from vid2skill.geometry import rotation_angle_deg


def score_track(track: HandTrack, gt: dict, phases: list[str]) -> dict:
    """Per-clip accuracy: detection rate overall and per phase (over frames where the hand is in view),
    over frames that show at least half the hand's keypoints unoccluded (where the ground truth
    records occlusion), and wrist position / orientation / aperture errors over valid frames.

    Args:
        track: the extracted track.
        gt: the ground-truth arrays of the clip (``load_ground_truth(...)[1]``).
        phases: phase names, indexed by ``gt["phase"]``.
    """
    idx = track.frame_index
    visible = gt["visible"][idx]
    det = track.detected & visible
    out = {
        "clip": track.clip_id,
        "frames": int(visible.sum()),
        "detected": int(det.sum()),
        "detection_rate": float(det.sum() / max(visible.sum(), 1)),
    }
    if "keypoints_unoccluded" in gt:  # clips rendered since occlusion is recorded
        shown = visible & (gt["keypoints_unoccluded"][idx].mean(axis=1) >= 0.5)
        out["frames_shown"], out["detected_shown"] = int(shown.sum()), int((track.detected & shown).sum())
    phase = gt["phase"][idx]
    for k, name in enumerate(phases):
        m = visible & (phase == k)
        out[f"detection_{name}"] = float(det[m].mean()) if m.any() else float("nan")
    v = track.valid & visible
    if v.any():
        err = np.linalg.norm(track.wrist_pos_cam[v] - gt["wrist_pos_cam"][idx][v], axis=1)
        out["position_error_m"] = err.tolist()
        out["median_position_error_m"] = float(np.median(err))
        out["median_depth_error_m"] = float(
            np.median(track.wrist_pos_cam[v, 2] - gt["wrist_pos_cam"][idx][v, 2])
        )
        out["median_rotation_error_deg"] = float(
            np.median(rotation_angle_deg(track.wrist_R_cam[v], gt["wrist_R_cam"][idx][v]))
        )
        out["median_aperture_error_m"] = float(
            np.median(np.abs(track.aperture_m[v] - gt["aperture_m"][idx][v]))
        )
    return out


def summarise(scores: list[dict], phases: list[str]) -> dict:
    """Pooled figures over clips: detection over all frames and per phase, median errors over all frames."""
    frames = sum(s["frames"] for s in scores)
    summary = {
        "clips": len(scores),
        "frames": frames,
        "detection_rate": sum(s["detected"] for s in scores) / max(frames, 1),
    }
    if all("frames_shown" in s for s in scores):
        shown = sum(s["frames_shown"] for s in scores)
        summary["frames_shown"] = shown
        summary["detection_rate_shown"] = sum(s["detected_shown"] for s in scores) / max(shown, 1)
    for name in phases:
        vals = [s[f"detection_{name}"] for s in scores if not np.isnan(s[f"detection_{name}"])]
        w = [s["frames"] for s in scores if not np.isnan(s[f"detection_{name}"])]
        summary[f"detection_{name}"] = float(np.average(vals, weights=w)) if vals else float("nan")
    errs = np.concatenate(
        [s["position_error_m"] for s in scores if "position_error_m" in s] or [np.array([np.nan])]
    )
    summary["median_position_error_m"] = float(np.median(errs))
    summary["p90_position_error_m"] = float(np.percentile(errs, 90))
    for k in ("median_rotation_error_deg", "median_aperture_error_m", "median_depth_error_m"):
        vals = [s[k] for s in scores if k in s]
        summary[f"clip_{k}"] = float(np.median(vals)) if vals else float("nan")
    return summary
