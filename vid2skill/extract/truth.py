"""A synthetic clip's ground truth as a hand track (``extract.ground_truth=true``): what extraction
would give if it were perfect, on the frames it read. Trained on such tracks, a policy measures the
ceiling that separates extraction from learning; the clustering benchmarks use them the same way."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vid2skill.errors import Vid2SkillError
from vid2skill.extract.types import HandTrack

# What can be put back from the ground truth, as HandTrack fields.
GROUND_TRUTH_PARTS = {
    "wrist": "wrist_pos_cam",
    "rotation": "wrist_R_cam",
    "aperture": "aperture_m",
    "image": "landmarks_px",
    "world": "landmarks_world",
}


def ground_truth_track(
    track: HandTrack, gt: dict, parts=tuple(GROUND_TRUTH_PARTS), on_detected: bool = False
) -> HandTrack:
    """``track`` with the synthetic ground truth in place of what was extracted, on the same frames:
    every part (:data:`GROUND_TRUTH_PARTS`), or only ``parts`` with the rest as extracted. The hand
    counts as seen where the ground truth shows it or, ``on_detected``, only where MediaPipe found
    it too (so that the missed frames stay missed)."""
    idx = track.frame_index
    seen = gt["visible"][idx].astype(bool) & (track.detected if on_detected else True)

    def masked(a: np.ndarray) -> np.ndarray:
        a = np.array(a, dtype=float)
        a[~seen] = np.nan
        return a

    lm = gt["landmarks_cam"][idx]
    truth = HandTrack(
        track.clip_id,
        track.fps,
        track.width,
        track.height,
        track.intrinsics,
        track.handedness,
        track.label,
        idx,
        seen.copy(),
        seen.copy(),
        masked(gt["wrist_pos_cam"][idx]),
        masked(gt["wrist_R_cam"][idx]),
        masked(gt["aperture_m"][idx]),
        seen.astype(float),
        masked(gt["landmarks_px"][idx]),
        masked(lm - lm.mean(axis=1, keepdims=True)),
        meta=dict(track.meta),
    )
    if set(parts) == set(GROUND_TRUTH_PARTS):
        return truth
    return replace(track, **{GROUND_TRUTH_PARTS[k]: getattr(truth, GROUND_TRUTH_PARTS[k]) for k in parts})


def track_from_ground_truth(track: HandTrack, clip) -> HandTrack:
    """``track`` (of ``clip``) with every part replaced by the clip's ground truth; raises
    Vid2SkillError for a clip that has none (only synthetic clips do)."""
    from vid2skill.ingest.synthetic.generator import load_ground_truth

    if not clip.ground_truth:
        raise Vid2SkillError(
            f"{clip.clip_id}: extract.ground_truth=true needs a synthetic clip with ground truth, "
            f"and this one has none; extract it with extract.ground_truth=false"
        )
    out = ground_truth_track(track, load_ground_truth(clip.ground_truth)[1])
    out.meta["ground_truth"] = True
    return out
