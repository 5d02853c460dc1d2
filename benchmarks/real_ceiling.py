"""How much a real clip's hand tells its skill at all: a supervised ceiling for `add` without labels.

`add` decides an unlabelled clip's skill from the hand's motion alone (issue 17 asks for top-1 >= 0.70
on the real clips). Before tuning any decision rule, this measures what the tracks hold: each
labelled real clip is cut into its labelled skills (as `cluster.group_by=label` does), and a
nearest-neighbour classifier that is *shown the labels* of every other clip decides each held-out
clip's segments (leave-one-clip-out; features standardised on the other clips only). Feature
families, each read over the grasp (grasp to release) of the segment:

- ``motion``: the 13 motion descriptors the library clusters and `add` decides on
  (``skills/features.py``);
- ``hand``: the hand's shape while it holds (MediaPipe's metric landmarks): each finger's curl, the
  thumb-index gap, the index-pinky spread and the index tip's reach, in hand lengths;
- ``gravity``: the palm's normal and the fingers' direction against gravity's up (the track's
  ``up_cam``, carried through the camera's own turns), medians and ranges;
- ``arm``: the wrist above the shoulder in upper-arm lengths, the elbow's angle (pose model), and
  the up share of the wrist's motion over the second before the grasp and after the release.

Printed: the majority answer's accuracy, then each family's and their unions' accuracy at k = 1, 3, 5.
Tracks are read from an extracted workspace (read-only); nothing is written.

    python benchmarks/real_ceiling.py /tmp/real --labels ../shared/data/labels.csv
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter

import numpy as np
from common import real_clip_arguments  # beside this script

from vid2skill.config import compose
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.ingest.labels import read_labels
from vid2skill.skills.features import DESCRIPTORS, describe
from vid2skill.skills.segment import ContactTrajectory
from vid2skill.skills.stage import segment_labelled

# MediaPipe's landmark chains, wrist excluded: thumb, index, middle, ring, pinky.
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
FINGER_NAMES = ("thumb", "index", "middle", "ring", "pinky")


def _curl(hand: np.ndarray, chain: tuple[int, ...]) -> float:
    """Sum of the bend angles (rad) along wrist -> knuckle -> ... -> tip of one finger."""
    bones = np.diff(np.vstack([hand[0], hand[list(chain)]]), axis=0)
    bones /= np.linalg.norm(bones, axis=1, keepdims=True) + 1e-9
    return float(np.arccos(np.clip((bones[:-1] * bones[1:]).sum(axis=1), -1.0, 1.0)).sum())


def _median(a: np.ndarray) -> float:
    return float(np.nanmedian(a)) if np.isfinite(a).any() else 0.0


def _up_share(track: HandTrack, a: int, b: int) -> float:
    """Share of the wrist's 3-D displacement from frame ``a`` to ``b`` that points up (0 if unseen)."""
    w = track.wrist_pos_cam
    d = w[b] - w[a]
    if not np.isfinite(d).all() or np.linalg.norm(d) < 1e-9:
        return 0.0
    return float(d @ track.up_cam / np.linalg.norm(d))


def grasp_features(track: HandTrack, tr: ContactTrajectory) -> dict[str, dict[str, float]] | None:
    """The ``hand``, ``gravity`` and ``arm`` families of one segment (None: no hand seen in its grasp)."""
    s = tr.segments
    frames = np.arange(s.grasp, s.release + 1)
    seen = frames[np.isfinite(track.landmarks_world[frames, 0, 0])]
    if len(seen) == 0:
        return None
    lw = track.landmarks_world[seen]
    size = np.linalg.norm(lw[:, 9] - lw[:, 0], axis=1)
    curls = np.array([[_curl(h, c) for c in FINGERS] for h in lw])
    # Gravity's up in each frame's camera: camera_R_ref takes a frame's vectors into the first frame's.
    still = np.broadcast_to(np.eye(3), (len(seen), 3, 3))
    turn = track.camera_R_ref[seen] if track.camera_R_ref is not None else still
    up = np.einsum("tji,j->ti", turn, track.up_cam)
    palm = np.einsum("ti,ti->t", track.wrist_R_cam[seen][:, :, 2], up)
    fingers = np.einsum("ti,ti->t", track.wrist_R_cam[seen][:, :, 0], up)
    arm = track.arm_pos_cam[seen]
    upper = np.linalg.norm(arm[:, 1] - arm[:, 0], axis=1)
    fore = np.linalg.norm(arm[:, 2] - arm[:, 1], axis=1)
    elbow = np.einsum("ti,ti->t", arm[:, 0] - arm[:, 1], arm[:, 2] - arm[:, 1]) / (upper * fore + 1e-9)
    over = np.einsum("ti,ti->t", arm[:, 2] - arm[:, 0], up) / np.where(upper > 0, upper, np.nan)
    second = int(round(track.fps))
    last = len(track.wrist_pos_cam) - 1
    return {
        "hand": {
            **{f"curl_{n}": _median(curls[:, i]) for i, n in enumerate(FINGER_NAMES)},
            "thumb_index": _median(np.linalg.norm(lw[:, 4] - lw[:, 8], axis=1) / size),
            "spread": _median(np.linalg.norm(lw[:, 8] - lw[:, 20], axis=1) / size),
            "index_reach": _median(np.linalg.norm(lw[:, 8] - lw[:, 0], axis=1) / size),
        },
        "gravity": {
            "palm_up": _median(palm),
            "fingers_up": _median(fingers),
            "palm_up_range": float(np.ptp(palm)),
            "fingers_up_range": float(np.ptp(fingers)),
        },
        "arm": {
            "wrist_over_shoulder": _median(over),
            "elbow": _median(elbow),
            "reach_up": _up_share(track, max(0, s.grasp - second), s.grasp),
            "retreat_up": _up_share(track, s.release, min(last, s.release + second)),
        },
    }


def loco_accuracy(X: np.ndarray, labels: np.ndarray, clips: np.ndarray, k: int) -> float:
    """Leave-one-clip-out accuracy of a k-nearest-neighbour vote (ties to the nearest), features
    standardised on the training clips of each fold."""
    right = 0
    for i in range(len(X)):
        train = clips != clips[i]
        mu, sd = X[train].mean(axis=0), X[train].std(axis=0) + 1e-9
        d = np.linalg.norm((X[train] - mu) / sd - (X[i] - mu) / sd, axis=1)
        near = np.argsort(d, kind="stable")[:k]
        votes = Counter(labels[train][near])
        first = {lab: j for j, lab in reversed(list(enumerate(labels[train][near])))}
        right += max(votes, key=lambda lab: (votes[lab], -first[lab])) == labels[i]
    return right / len(X)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    real_clip_arguments(ap)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    cfg = compose(["cluster.group_by=label"]).cluster
    rows, _ = read_labels(args.labels)
    truth = {r.video.stem: r.skills for r in rows}
    recs = [
        {**r, "label": ";".join(truth[stem]), "label_source": "csv"}
        for r in TrackSet.load(args.workspace / "extract" / "tracks").ok()
        if truth.get(stem := r["clip"].rsplit("_", 1)[0])
    ]
    trajs, seg_records, failures = segment_labelled(recs, cfg)
    tracks: dict[str, HandTrack] = {}
    table = []
    for tr, rec in zip(trajs, seg_records):
        track = tracks.setdefault(rec["track"], HandTrack.load(rec["track"]))
        extra = grasp_features(track, tr)
        if extra is not None:
            table.append((rec["source_clip"], rec["label"], {"motion": describe(tr), **extra}))
    labels = np.array([t[1] for t in table])
    clips = np.array([t[0] for t in table])
    counts = Counter(labels)
    print(
        f"{len(recs)} labelled clips, {len(table)} labelled segments with a hand in their grasp "
        f"({len(failures)} skills not found); {dict(sorted(counts.items()))}"
    )
    print(f"majority answer ({counts.most_common(1)[0][0]}): {counts.most_common(1)[0][1] / len(table):.3f}")
    assert set(table[0][2]["motion"]) == set(DESCRIPTORS)
    families = ["motion", "hand", "gravity", "arm"]
    pairs = [["hand", "gravity"], ["motion", "gravity"], ["motion", "arm"]]
    unions = [[f] for f in families] + pairs + [families]
    print(f"\n{'features':<28}{'k=1':>7}{'k=3':>7}{'k=5':>7}")
    for fams in unions:
        X = np.array([[v for f in fams for v in t[2][f].values()] for t in table], dtype=float)
        accs = [loco_accuracy(X, labels, clips, k) for k in (1, 3, 5)]
        print(f"{'+'.join(fams):<28}" + "".join(f"{a:>7.3f}" for a in accs))


if __name__ == "__main__":
    main()
