"""Grouping contact-frame trajectories into skills without labels, then naming the groups."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import silhouette_score

from vid2skill.skills.segment import ContactTrajectory


def trajectory_features(trajs: list[ContactTrajectory], points: int, rotation_m_per_rad: float = 0.0) -> np.ndarray:
    """(N, points * 6 + 1) camera-invariant features: the displacement path, the hand's rotation since
    the grasp (weighted as ``rotation_m_per_rad`` metres per radian) and the log duration."""
    feats = []
    for tr in trajs:
        idx = np.linspace(0, len(tr.position_m) - 1, points).round().astype(int)
        feats.append(np.concatenate([tr.position_m[idx].ravel(), rotation_m_per_rad * tr.rotvec[idx].ravel(),
                                     [np.log(max(tr.duration_s, 1e-2)) * 0.05]]))
    return np.asarray(feats)


def cluster(features: np.ndarray, k_min: int, k_max: int, linkage: str = "ward", min_size: int = 1) -> tuple[np.ndarray, dict]:
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
        labels = _merge_small(features, AgglomerativeClustering(n_clusters=k, linkage=linkage).fit_predict(features), min_size)
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


def motion_signature(trajs: list[ContactTrajectory]) -> str:
    """A name for an unlabelled cluster from its mean motion in the contact frame."""
    end = np.mean([t.position_m[-1] for t in trajs], axis=0)
    along = end[0]
    if abs(along) >= max(abs(end[1]), abs(end[2])):
        return "pull" if along < 0 else "push"
    return "lift" if end[2] > 0 else "lower"


def name_clusters(labels: np.ndarray, weak_labels: list[str | None], trajs: list[ContactTrajectory]) -> dict[int, str]:
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
