"""Clustering the extracted clips of several workspaces together, labels hidden, scored afterwards.

Each workspace must have been extracted (`vid2skill extract`); its clips are segmented and clustered
with the cluster settings given on the command line (Hydra overrides of the shipped config), in
memory: no workspace is changed. Printed: the number of skills found, the adjusted Rand index and
NMI against the skill labels, the same against the workspace each clip came from (mixing real and
synthetic clips must not simply split them by source: near 0 is good), the baseline of a random
partition with the same cluster sizes, how often each cluster's motion signature matches its
majority label (pull for slide_open, swing_open for hinge_open, ...), and where each clip went.

    python benchmarks/cluster_mixed.py /tmp/v2s_all2
    python benchmarks/cluster_mixed.py /tmp/v2s_all2 /tmp/v2s_real --labels ../shared/data/labels.csv
    python benchmarks/cluster_mixed.py /tmp/v2s_all2 cluster.features=path cluster.k_min=9 cluster.k_max=9
    python benchmarks/cluster_mixed.py /tmp/v2s_all2 --ground-truth

``--ground-truth`` clusters synthetic clips as if extraction were perfect: each extracted track's
wrist pose, aperture and landmarks are replaced by the generator's ground truth (frames where the
hand is in view count as detected), so that the clustering's own share of the error shows.
``--parts image,aperture`` puts back only the parts named, and ``--on-detected`` only on the frames
MediaPipe found, which shows what each part and the missed frames cost:

    python benchmarks/cluster_mixed.py /tmp/v2s_all2 --ground-truth --on-detected
    python benchmarks/cluster_mixed.py /tmp/v2s_all2 --ground-truth --parts image
"""

from __future__ import annotations

import argparse
import logging
import re
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from cluster_ari import skills_by_stem, stem_of  # beside this script
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from vid2skill.config import compose
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.ingest.synthetic.generator import load_ground_truth
from vid2skill.ingest.types import ClipSet
from vid2skill.skills.cluster import motion_signature
from vid2skill.skills.stage import build_library

# The motion each skill of the synthetic generator shows (the names of cluster.SIGNATURE_RULES).
EXPECTED_SIGNATURE = {
    "slide_open": "pull",
    "slide_close": "push",
    "hinge_open": "swing_open",
    "hinge_close": "swing_close",
    "pick": "lift",
    "place": "lower",
    "pour": "roll",
    "stir": "circles",
    "cut": "saw",
}


def workspaces_and_cluster_cfg(items: list[str], extra: list[str] = ()):
    """(workspace paths, the shipped cluster settings with the ``key=value`` items among ``items``
    and ``extra`` applied): the command line of the clustering benchmarks."""
    cfg = compose([x for x in items if "=" in x] + list(extra)).cluster
    return [Path(x) for x in items if "=" not in x], cfg


# What --ground-truth can put back, as HandTrack fields.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "items", nargs="+", help="workspaces, then Hydra overrides of the cluster settings (key=value)"
    )
    ap.add_argument("--labels", type=Path, help="CSV (file, skills) for clips ingested without labels")
    ap.add_argument("--skip", default="", help="comma-separated labels to leave out (e.g. none,cut)")
    ground_truth_options(ap)
    args = ap.parse_intermixed_args()
    args.workspaces, cfg = workspaces_and_cluster_cfg(args.items)
    cfg.use_labels_for_names = False  # labels only score the result
    logging.basicConfig(level=logging.WARNING)
    by_stem = skills_by_stem(args.labels) if args.labels else {}
    skip = {s for s in args.skip.split(",") if s}
    records, source_of = [], {}
    scratch = tempfile.TemporaryDirectory()
    for ws in args.workspaces:
        found = TrackSet.load(ws / "extract" / "tracks").ok()
        for rec in with_ground_truth_as_asked(args, ws, found, Path(scratch.name)):
            rec = dict(rec)
            if not rec.get("label") and by_stem:
                stem = stem_of(rec["clip"], by_stem)
                rec["label"] = ";".join(by_stem[stem]) if stem else None
            if rec.get("label") and rec["label"].split(";")[0] in skip:
                continue
            records.append(rec)
            source_of[rec["clip"]] = ws.name
    lib, failures = build_library(cfg, TrackSet(records))
    truth_of = {m["clip"]: m.get("label") for card in lib.skills.values() for m in card.members}
    source = {
        m["clip"]: source_of[m["clip"].split("~")[0]] for card in lib.skills.values() for m in card.members
    }
    clips = sorted(c for c, lab in truth_of.items() if lab not in (None, "", "none"))
    truth = [truth_of[c] for c in clips]
    pred = [lib.clustering["assignment"][c] for c in clips]
    rng = np.random.default_rng(0)
    shuffled = [adjusted_rand_score(truth, rng.permutation(pred)) for _ in range(200)]
    print(
        f"{len(clips)} manipulations from {len(records)} clips ({len(failures)} not segmented), "
        f"{len(set(truth))} labels; {len(lib.skills)} skills found (k by silhouette = {lib.clustering['k']})"
    )
    print(
        f"against the labels: ARI {adjusted_rand_score(truth, pred):.3f}  NMI "
        f"{normalized_mutual_info_score(truth, pred):.3f}  "
        f"(random partition of the same sizes: ARI {np.mean(shuffled):.3f} +- {np.std(shuffled):.3f})"
    )
    if len(args.workspaces) > 1:
        src = [source[c] for c in clips]
        print(
            f"against the source workspace: ARI {adjusted_rand_score(src, pred):.3f}  NMI "
            f"{normalized_mutual_info_score(src, pred):.3f}"
        )
    named = 0
    for name, card in sorted(lib.skills.items()):
        members = [m["clip"] for m in card.members if m["clip"] in truth_of and m["clip"] in clips]
        majority = Counter(truth_of[c] for c in members).most_common(1)[0][0] if members else None
        ok = EXPECTED_SIGNATURE.get(majority) == re.sub(r"_\d+$", "", name)  # pull_2: the second "pull"
        named += ok
        print(
            f"  {name} ({'matches' if ok else 'does not match'} majority {majority}): "
            + ", ".join(f"{c} ({truth_of[c]})" for c in members)
        )
    print(f"clusters whose signature matches their majority label: {named}/{len(lib.skills)}")
    # Named by each label's own members (the clusters given): how well signatures name skills at all.
    by_label: dict[str, list] = {}
    for card in lib.skills.values():
        for m in card.members:
            if m["clip"] in clips:
                by_label.setdefault(truth_of[m["clip"]], []).append(m["clip"])
    trajs = _trajectories(lib)
    right = [
        lab
        for lab, cs in by_label.items()
        if motion_signature([trajs[c] for c in cs]) == EXPECTED_SIGNATURE.get(lab)
    ]
    signatures = ", ".join(
        f"{lab}={motion_signature([trajs[c] for c in cs])}" for lab, cs in sorted(by_label.items())
    )
    print(
        f"labels whose members' median signature is the expected one: {len(right)}/{len(by_label)} "
        f"({signatures})"
    )


def _trajectories(lib) -> dict:
    return {c: card.member(c) for card in lib.skills.values() for c in card.trajectories}


if __name__ == "__main__":
    main()
