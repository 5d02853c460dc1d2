"""Gravity's up in the camera frame, from the scene's straight edges.

A pick's rise, a place's drop, a cut's sinking and a stir's horizontal loop are all measured
against gravity; a camera tilted down at a table (every head-worn camera, most tripods) sees a
lift partly along its view, so the camera's own up understates it by the cosine of the tilt.
Kitchens and tables are built of edges along three orthogonal directions, one of them vertical
(the Manhattan world): cupboard and door edges, table and counter edges, drawer fronts, boards.

Each sampled frame's line segments (OpenCV's LSD, hands and the actor masked out) become planes
through the camera centre; a direction lies in the plane of every segment parallel to it. A
Manhattan frame (three orthogonal directions) is fitted to all segments by RANSAC, each segment
voting for the direction it lies closest to, weighted by its length. Which of the three is up is
decided by a prior that fails only for cameras pointing steeply upwards: of the directions within
``max_tilt_deg`` of the camera's up that pitch the camera down by at least ``min_pitch_deg``
(negative: up) and roll it by at most ``max_roll_deg``, the one that pitches it down the most,
less half its tilt from the camera's up. Looking down at a table, the table's receding edges run
near the camera's up too, but would have the camera look up; a level camera's sideways edges would
have it rolled. A frame
seen in only one direction, or explaining too few segments, gives no estimate, and the camera's
up is kept (``source="camera"``). Segments of a turning camera are turned into the first frame's
camera first (``HandTrack.camera_R_ref``), so the estimate is in the frame the wrist path is in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vid2skill.extract.camera_motion import mask_regions

CAMERA_UP = np.array([0.0, -1.0, 0.0])  # image rows grow downwards


@dataclass(frozen=True)
class GravityEstimate:
    """Gravity's up (3,) in the first frame's camera; how it was found (``lines`` or ``camera``),
    the share of segment length the Manhattan frame explains and the up axis's own share."""

    up: np.ndarray
    source: str
    explained: float = 0.0
    up_support: float = 0.0
    segments: int = 0

    @property
    def pitch_deg(self) -> float:
        """How far the camera looks down (positive) or up, degrees."""
        return float(np.degrees(np.arcsin(np.clip(-self.up[2], -1.0, 1.0))))

    @property
    def roll_deg(self) -> float:
        return float(np.degrees(np.arctan2(self.up[0], -self.up[1])))

    def to_meta(self) -> dict:
        return {
            "gravity_source": self.source,
            "gravity_up": [round(float(v), 5) for v in self.up],
            "gravity_pitch_deg": round(self.pitch_deg, 1),
            "gravity_roll_deg": round(self.roll_deg, 1),
            "gravity_explained": round(self.explained, 3),
            "gravity_segments": self.segments,
        }


def segment_planes(
    gray: np.ndarray, K: np.ndarray, min_length_frac: float, mask: np.ndarray | None = None, detector=None
) -> tuple[np.ndarray, np.ndarray]:
    """(normals (N, 3), lengths (N,) px) of the straight segments of a grey image: each segment's
    plane through the camera centre. Short segments, those along the image's border (padding,
    letterboxes) and those whose midpoint ``mask`` zeroes are left out."""
    detector = detector or cv2.createLineSegmentDetector()
    found = detector.detect(gray)[0]
    if found is None:
        return np.zeros((0, 3)), np.zeros(0)
    s = found[:, 0].astype(float)
    h, w = gray.shape[:2]
    length = np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1])
    xs, ys = s[:, [0, 2]], s[:, [1, 3]]
    border = (xs < 3).all(1) | (xs > w - 4).all(1) | (ys < 3).all(1) | (ys > h - 4).all(1)
    keep = (length >= min_length_frac * np.hypot(w, h)) & ~border
    if mask is not None:
        mx = np.clip(((xs[:, 0] + xs[:, 1]) / 2).astype(int), 0, w - 1)
        my = np.clip(((ys[:, 0] + ys[:, 1]) / 2).astype(int), 0, h - 1)
        keep &= mask[my, mx] > 0
    s, length = s[keep], length[keep]
    Kinv = np.linalg.inv(K)
    a = np.c_[s[:, :2], np.ones(len(s))] @ Kinv.T
    b = np.c_[s[:, 2:], np.ones(len(s))] @ Kinv.T
    n = np.cross(a, b)
    norm = np.linalg.norm(n, axis=1)
    ok = norm > 1e-9
    return n[ok] / norm[ok, None], length[ok]


def manhattan_frame(
    normals: np.ndarray, weights: np.ndarray, inlier_deg: float, iterations: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """(directions (3, 3) as rows, each one's share of the total weight) of the three orthogonal
    directions most segments lie along; None with fewer than 6 segments. Hypotheses: two segments
    give a direction (the line common to their planes), a third segment a second orthogonal to it."""
    if len(normals) < 6:
        return None
    rng = np.random.default_rng(seed)
    tol = np.sin(np.radians(inlier_deg))
    total = float(weights.sum())
    best, best_score = None, -1.0
    for _ in range(iterations):
        i, j, k = rng.choice(len(normals), 3, replace=False)
        d1 = np.cross(normals[i], normals[j])
        if np.linalg.norm(d1) < 1e-6:
            continue
        d1 /= np.linalg.norm(d1)
        d2 = np.cross(d1, normals[k])
        if np.linalg.norm(d2) < 1e-6:
            continue
        d2 /= np.linalg.norm(d2)
        D = np.stack([d1, d2, np.cross(d1, d2)])
        r = np.abs(normals @ D.T)
        score = float(weights[r.min(axis=1) < tol].sum())
        if score > best_score:
            best, best_score = D, score
    if best is None:
        return None
    return _refine(normals, weights, best, tol), _support(normals, weights, best, tol) / total


def _support(normals, weights, D, tol) -> np.ndarray:
    r = np.abs(normals @ D.T)
    nearest, inlier = r.argmin(axis=1), r.min(axis=1) < tol
    return np.array([weights[inlier & (nearest == c)].sum() for c in range(3)])


def _refine(normals, weights, D, tol) -> np.ndarray:
    """Each direction refitted to its own segments (the weighted null direction of their normals),
    then the three made orthogonal again, each weighted by its segments (a direction seen in a
    few stray segments must not tilt the two that the scene shows well)."""
    r = np.abs(normals @ D.T)
    nearest, inlier = r.argmin(axis=1), r.min(axis=1) < tol
    out, w = D.copy(), np.full(3, 1e-6)
    for c in range(3):
        sel = inlier & (nearest == c)
        if sel.sum() >= 2:
            v = np.linalg.svd(normals[sel] * weights[sel, None])[2][-1]
            out[c] = v if v @ D[c] >= 0 else -v
            w[c] += weights[sel].sum()
    # The rotation nearest to the weighted directions (weighted orthogonal Procrustes).
    U, _, Vt = np.linalg.svd((out * w[:, None]).T)
    R = U @ Vt
    if np.linalg.det(R) < 0:
        R = U @ np.diag([1.0, 1.0, -1.0]) @ Vt
    return R.T


def up_from_frame(D: np.ndarray, support: np.ndarray, cfg) -> tuple[np.ndarray, float] | None:
    """(gravity's up (3,), its axis's support) among a Manhattan frame's directions, or None when the
    frame is too weakly seen (``cfg``: ``min_axis_support``, ``min_explained``, ``max_tilt_deg``,
    ``min_pitch_deg``, ``max_roll_deg``; see the module docstring)."""
    if support.sum() < cfg.min_explained or (support >= cfg.min_axis_support).sum() < 2:
        return None
    best = None
    for d, s in zip(D, support):
        d = d if d @ CAMERA_UP >= 0 else -d
        tilt = np.degrees(np.arccos(np.clip(d @ CAMERA_UP, -1.0, 1.0)))
        pitch = np.degrees(np.arcsin(np.clip(-d[2], -1.0, 1.0)))
        roll = np.degrees(np.arctan2(d[0], -d[1]))
        score = pitch - 0.5 * tilt  # looking down beats looking up; a level camera keeps its near-up axis
        if (
            tilt <= cfg.max_tilt_deg
            and pitch >= cfg.min_pitch_deg
            and abs(roll) <= cfg.max_roll_deg
            and (best is None or score > best[2])
        ):
            best = (d, float(s), score)
    return None if best is None else (best[0], best[1])


class GravityEstimator:
    """Feeds on frames in order (``cfg.frames`` of the clip's ``frames``, evenly spread, are used);
    :meth:`estimate` then gives gravity's up in the first frame's camera."""

    def __init__(self, intrinsics: list, width: int, height: int, cfg, frames: int):
        self.cfg = cfg
        self.every = max(1, int(frames) // max(1, int(cfg.frames)))
        self.scale = min(1.0, cfg.width_px / max(width, 1))
        fx, fy, cx, cy = (float(v) * self.scale for v in intrinsics)
        self.K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
        self.size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        self.detector = cv2.createLineSegmentDetector()
        self.frames = 0
        self.seen: list[tuple[int, np.ndarray, np.ndarray]] = []  # (frame number, normals, lengths)

    def update(self, rgb: np.ndarray, masked_px: list[np.ndarray]) -> None:
        """Add one frame; ``masked_px``: (K, 2) pixel points of each hand or person, masked out."""
        n = self.frames
        self.frames += 1
        if n % self.every:
            return
        gray = cv2.cvtColor(cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        mask = mask_regions(
            gray.shape, [(pts, False) for pts in masked_px], self.scale, self.cfg.mask_pad_frac
        )
        normals, lengths = segment_planes(gray, self.K, self.cfg.min_length_frac, mask, self.detector)
        if len(normals):
            self.seen.append((n, normals, lengths))

    def estimate(self, R_ref_cam: np.ndarray | None = None) -> GravityEstimate:
        """Gravity's up in the first frame's camera (``R_ref_cam`` (T, 3, 3): each frame's camera
        into the first's, as :class:`~vid2skill.extract.camera_motion.CameraMotion` gives it)."""
        if not self.seen:
            return GravityEstimate(CAMERA_UP.copy(), "camera")
        normals = np.vstack(
            [
                nv @ (R_ref_cam[i].T if R_ref_cam is not None and i < len(R_ref_cam) else np.eye(3))
                for i, nv, _ in self.seen
            ]
        )
        lengths = np.concatenate([lv for _, _, lv in self.seen])
        fit = manhattan_frame(normals, lengths, self.cfg.inlier_deg, self.cfg.iterations)
        if fit is None:
            return GravityEstimate(CAMERA_UP.copy(), "camera", segments=len(normals))
        D, support = fit
        up = up_from_frame(D, support, self.cfg)
        if up is None:
            return GravityEstimate(CAMERA_UP.copy(), "camera", float(support.sum()), 0.0, len(normals))
        return GravityEstimate(up[0], "lines", float(support.sum()), up[1], len(normals))
