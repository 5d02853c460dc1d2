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
from pathlib import Path

from common import (  # beside this script
    agreement,
    ground_truth_options,
    skills_by_stem,
    stem_of,
    with_ground_truth_as_asked,
    workspaces_and_cluster_cfg,
)
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from vid2skill.extract.types import TrackSet
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
    print(
        f"{len(clips)} manipulations from {len(records)} clips ({len(failures)} not segmented), "
        f"{len(set(truth))} labels; {len(lib.skills)} skills found (k by silhouette = {lib.clustering['k']})"
    )
    print(f"against the labels: {agreement(truth, pred)}")
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
