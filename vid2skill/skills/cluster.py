"""Grouping contact-frame trajectories into skills without labels, then naming the groups."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import silhouette_score

from vid2skill.skills.features import DESCRIPTORS, describe
from vid2skill.skills.segment import ContactTrajectory


def cluster(
    features: np.ndarray, k_min: int, k_max: int, linkage: str = "ward", min_size: int = 1
) -> tuple[np.ndarray, dict]:
    """Agglomerative clustering with the number of clusters chosen by silhouette.

    Clusters smaller than ``min_size`` are outliers rather than skills (one badly tracked clip
    must not found a skill): they are merged into the nearest larger cluster, and k is chosen
    among the partitions that remain. Returns (labels (N,), {"k": chosen k, "silhouette": {k: score}}).
    With fewer than ``k_min + 1`` samples, everything is one cluster.
    """
    n = len(features)
    if n <= k_min:
        return np.zeros(n, dtype=int), {"k": 1, "silhouette": {}}
    scores, labelings = {}, {}
    for k in range(k_min, min(k_max, n - 1) + 1):
        labels = _merge_small(
            features, AgglomerativeClustering(n_clusters=k, linkage=linkage).fit_predict(features), min_size
        )
        if len(set(labels.tolist())) < 2:
            continue
        labels = np.unique(labels, return_inverse=True)[1]  # merging can leave fewer clusters than asked
        k_eff = int(labels.max() + 1)
        if k_eff not in scores:
            scores[k_eff] = float(silhouette_score(features, labels))
            labelings[k_eff] = labels
    if not scores:
        return np.zeros(n, dtype=int), {"k": 1, "silhouette": {}}
    k = max(scores, key=scores.get)
    return labelings[k], {"k": k, "silhouette": scores}


def _merge_small(features: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Reassign members of clusters below ``min_size`` to the nearest centroid of a larger cluster."""
    labels = labels.copy()
    sizes = np.bincount(labels)
    big = [c for c in range(len(sizes)) if sizes[c] >= min_size]
    if not big or len(big) == len(sizes):
        return labels
    centroids = np.stack([features[labels == c].mean(axis=0) for c in big])
    for i in np.flatnonzero(~np.isin(labels, big)):
        labels[i] = big[int(np.argmin(np.linalg.norm(centroids - features[i], axis=1)))]
    return labels


# Motion signatures, tested in this order on a cluster's median descriptors (see features.DESCRIPTORS).
SIGNATURE_RULES = """
circles      turns >= 0.9                         the hand goes round (stir)
saw          reversals >= 2                       back and forth along one line (cut)
lower        lower >= 0.15                        grasped from above, raised, then lowered (place)
lift         lift >= 0.6                          grasped from above and raised (pick)
swing_open   straight, pulled, arc >= 0.07        out of the object along an arc (hinge open)
swing_close  straight, pushed, arc >= 0.07        into the object along an arc (hinge close)
roll         rotation >= 1.6 rad                  the wrist turns over and stays turned (pour)
pull         straight, pulled                     straight out of the object (slide open)
push         straight, pushed                     straight into it (slide close)
lower        rise <= -0.5                         down in the image (place)
lift         rise >= 0.5                          up in the image (pick)
"""  # "straight": straightness >= 0.6 and |approach| >= 0.4; "pulled": approach < 0
SIGNATURES = tuple(dict.fromkeys(line.split()[0] for line in SIGNATURE_RULES.strip().splitlines()))


def signature_of(d: dict[str, float]) -> str:
    """The motion signature (:data:`SIGNATURE_RULES`) of one set of descriptors."""
    if d["turns"] >= 0.9:
        return "circles"
    if d["reversals"] >= 2:
        return "saw"
    if d["lower"] >= 0.15:  # before lift: a place raises the object first
        return "lower"
    if d["lift"] >= 0.6:  # before pull and push: a lift runs back along the reach, like a pull
        return "lift"
    pulled = d["approach"] < 0
    straight = d["straightness"] >= 0.6 and abs(d["approach"]) >= 0.4
    if straight and d["arc"] >= 0.07:  # before roll: a hand on a door's handle turns with the door
        return "swing_open" if pulled else "swing_close"
    if d["rotation"] >= 1.6:
        return "roll"
    if straight:
        return "pull" if pulled else "push"
    if d["rise"] <= -0.5:
        return "lower"
    if d["rise"] >= 0.5:
        return "lift"
    return "pull" if pulled else "push"


def median_descriptors(trajs: list[ContactTrajectory]) -> dict[str, float]:
    """Each descriptor's median over a group of manipulations."""
    rows = [describe(t) for t in trajs]
    return {k: float(np.median([r[k] for r in rows])) for k in DESCRIPTORS}


def motion_signature(trajs: list[ContactTrajectory]) -> str:
    """A name for an unlabelled cluster from its members' median motion descriptors."""
    return signature_of(median_descriptors(trajs))


def signature_stats(trajs: list[ContactTrajectory]) -> dict:
    """For a skill card: the members' median descriptors (rounded) and the motion signature they give."""
    d = median_descriptors(trajs)
    return {"signature": signature_of(d), "descriptors": {k: round(v, 3) for k, v in d.items()}}


def name_clusters(
    labels: np.ndarray, weak_labels: list[str | None], trajs: list[ContactTrajectory]
) -> dict[int, str]:
    """Majority weak label per cluster where labels exist, else a motion signature; names are unique."""
    names: dict[int, str] = {}
    used: Counter = Counter()
    for c in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == c)
        votes = Counter(weak_labels[i] for i in members if weak_labels[i])
        name = votes.most_common(1)[0][0] if votes else motion_signature([trajs[i] for i in members])
        used[name] += 1
        names[c] = name if used[name] == 1 else f"{name}_{used[name]}"
    return names
