r"""How much the motion descriptors can tell skills apart at all: a supervised ceiling for clustering.

Unsupervised clustering cannot separate skills better than a classifier that is shown the labels.
Given extracted workspaces of labelled clips, each workspace in turn is held out: a nearest-neighbour
classifier (k=5, on the clustering's own weighted descriptors, `cluster.descriptor_weights`) learns
from the others' manipulations and labels the held-out ones. Printed per workspace and on average:
its accuracy, and the clustering's ARI on the same workspace (labels hidden, as `vid2skill cluster`
does it). With ``--ground-truth`` the synthetic clips' ground truth takes the place of the extracted
tracks (as in `cluster_mixed.py`), which shows how much of the gap is extraction's.

    python benchmarks/descriptor_ceiling.py /tmp/v2s_n10000 /tmp/v2s_n10100 /tmp/v2s_n10200 --skip cut
    python benchmarks/descriptor_ceiling.py /tmp/v2s_n10000 /tmp/v2s_n10100 /tmp/v2s_n10200 --skip cut \
        --ground-truth
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np
from common import (
    ground_truth_options,
    with_ground_truth_as_asked,
    workspaces_and_cluster_cfg,
)  # beside this script
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import KNeighborsClassifier

from vid2skill.extract.types import TrackSet
from vid2skill.skills.cluster import cluster
from vid2skill.skills.features import features
from vid2skill.skills.stage import min_cluster_size, segment_tracks


def labelled_features(records: list[dict], cfg) -> tuple[np.ndarray, list[str]]:
    """(clustering features (N, D), label per manipulation) of the records' segmented clips."""
    trajs, seg_records, _ = segment_tracks(records, cfg)
    return features(trajs, cfg), [r["label"] for r in seg_records]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "items", nargs="+", help="two or more extracted workspaces, then Hydra overrides (key=value)"
    )
    ap.add_argument("--skip", default="", help="comma-separated labels to leave out")
    ground_truth_options(ap)
    args = ap.parse_intermixed_args()
    workspaces, cfg = workspaces_and_cluster_cfg(args.items)
    if len(workspaces) < 2:
        ap.error("give at least two workspaces: one is held out while the others teach the classifier")
    logging.basicConfig(level=logging.ERROR)
    skip = {s for s in args.skip.split(",") if s}
    scratch = tempfile.TemporaryDirectory()
    data = {}
    for ws in workspaces:
        records = [
            r
            for r in TrackSet.load(ws / "extract" / "tracks").ok()
            if r.get("label") and r["label"] not in skip
        ]
        data[ws] = labelled_features(with_ground_truth_as_asked(args, ws, records, Path(scratch.name)), cfg)
    accuracy, ari = [], []
    for held in workspaces:
        X = np.vstack([data[ws][0] for ws in workspaces if ws != held])
        y = [lab for ws in workspaces if ws != held for lab in data[ws][1]]
        Xh, yh = data[held]
        accuracy.append(float(KNeighborsClassifier(5).fit(X, y).score(Xh, yh)))
        labels, info = cluster(Xh, cfg.k_min, cfg.k_max, cfg.linkage, min_cluster_size(cfg, len(Xh)))
        ari.append(float(adjusted_rand_score(yh, labels)))
        print(
            f"held out {held.name}: {len(yh)} manipulations, {len(set(yh))} labels: "
            f"nearest-neighbour accuracy {accuracy[-1]:.3f}; clustering ARI {ari[-1]:.3f} (k = {info['k']})"
        )
    print(
        f"mean over {len(workspaces)} hold-outs: accuracy {np.mean(accuracy):.3f}, clustering ARI "
        f"{np.mean(ari):.3f}"
    )


if __name__ == "__main__":
    main()
