"""Clustering quality of a workspace's latest skill library against the clips' weak labels.

Labels are never used to form clusters (only to name them); this scores the partition with the
adjusted Rand index and normalised mutual information, against the baseline of a partition drawn
at random with the same cluster sizes (its ARI is ~0 by construction; printed as a sanity check).

    vid2skill cluster workspace=/tmp/v2s_heldout      # after ingest and extract
    python benchmarks/cluster_ari.py /tmp/v2s_heldout
    # labels hidden at ingest
    python benchmarks/cluster_ari.py /tmp/v2s_real --labels ../shared/data/labels.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import agreement, truth_from_csv  # beside this script

from vid2skill.ingest.types import ClipSet
from vid2skill.skills.library import SkillLibrary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace")
    ap.add_argument(
        "--labels", type=Path, help="CSV with file and skills columns, for clips ingested without labels"
    )
    args = ap.parse_args()
    ws = Path(args.workspace)
    lib = SkillLibrary.load(ws / "skills")
    assignment = lib.clustering["assignment"]
    if args.labels:
        truth_of = truth_from_csv(args.labels, sorted(assignment))
    else:
        # Each member (a clip, or one grasp of a clip) carries its weak label; older libraries only the
        # clip's.
        clip_labels = {c.clip_id: c.label for c in ClipSet.load(ws / "ingest" / "clips").clips}
        truth_of = {
            m["clip"]: m.get("label") or clip_labels.get(m["clip"])
            for card in lib.skills.values()
            for m in card.members
        }
    clips = sorted(
        c for c in assignment if truth_of.get(c) not in (None, "", "none")
    )  # "none": a clip of no skill
    truth = [truth_of[c] for c in clips]
    pred = [assignment[c] for c in clips]
    print(
        f"library v{lib.version}: {len(clips)} manipulations, {len(lib.skills)} skills (k by silhouette = "
        f"{lib.clustering['k']})"
    )
    print(agreement(truth, pred))
    for name in lib.skills:
        members = [c for c in clips if assignment[c] == name]
        print(f"  {name}: " + ", ".join(f"{c} ({truth_of[c]})" for c in members))


if __name__ == "__main__":
    main()
