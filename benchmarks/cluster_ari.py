"""Clustering quality of a workspace's latest skill library against the clips' weak labels.

Labels are never used to form clusters (only to name them); this scores the partition with the
adjusted Rand index and normalised mutual information, against the baseline of a partition drawn
at random with the same cluster sizes (its ARI is ~0 by construction; printed as a sanity check).

    vid2skill cluster workspace=/tmp/v2s_heldout      # after ingest and extract
    python benchmarks/cluster_ari.py /tmp/v2s_heldout
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from vid2skill.ingest.types import ClipSet
from vid2skill.skills.library import SkillLibrary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace")
    args = ap.parse_args()
    ws = Path(args.workspace)
    labels = {c.clip_id: c.label for c in ClipSet.load(ws / "ingest" / "clips").clips}
    lib = SkillLibrary.load(ws / "skills")
    assignment = lib.clustering["assignment"]
    clips = sorted(assignment)
    truth = [labels[c] for c in clips]
    pred = [assignment[c] for c in clips]
    rng = np.random.default_rng(0)
    shuffled = [adjusted_rand_score(truth, rng.permutation(pred)) for _ in range(200)]
    print(f"library v{lib.version}: {len(clips)} clips, {len(lib.skills)} skills (k by silhouette = {lib.clustering['k']})")
    print(f"ARI {adjusted_rand_score(truth, pred):.3f}  NMI {normalized_mutual_info_score(truth, pred):.3f}  "
          f"(random partition of the same sizes: ARI {np.mean(shuffled):.3f} +- {np.std(shuffled):.3f})")
    for name, card in lib.skills.items():
        members = [m["clip"] for m in card.members]
        wrong = [m for m in members if labels[m] != name]
        print(f"  {name}: {len(members)} clips" + (f"; not labelled {name}: {', '.join(wrong)}" if wrong else ""))


if __name__ == "__main__":
    main()
