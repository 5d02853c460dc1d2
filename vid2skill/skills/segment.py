"""Cutting a hand track into reach, grasp-and-manipulate and release, and expressing it in the contact frame.

The contact frame is camera-independent: its origin is the wrist where the hand closes, its x axis
the direction of the manipulation motion signed to agree with the reach (so "into the object" is
+x: a pull has negative x, a push positive), its z axis the camera's up direction made orthogonal
to x. One human motion then applies to any object pose once the scene gives the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_closing, median_filter, uniform_filter1d
from scipy.spatial.transform import Rotation

from vid2skill.errors import Vid2SkillError
from vid2skill.extract.filters import median_depth
from vid2skill.extract.types import HandTrack
from vid2skill.geometry import interp_rows
from vid2skill.landmarks import index_side


@dataclass(frozen=True)
class Segments:
    """Frame indices (into the track) of a grasp: the hand closes at ``grasp`` and opens at ``release``."""

    reach_start: int
    grasp: int
    release: int
    end: int


@dataclass(frozen=True)
class ContactTrajectory:
    """The manipulation of one clip in its contact frame.

    Attributes:
        position_m: (N, 3) wrist position relative to the grasp point, contact frame, resampled to N.
        aperture_m: (N,) grasp aperture over the same samples.
        duration_s: time from grasp to release.
        R_cam_contact: (3, 3) contact frame axes in the camera frame.
        segments: where the grasp was found in the track.
        rotvec: (N, 3) the hand's rotation since the grasp, contact frame, as a rotation vector
            (rad): R_contact(t) = exp(rotvec(t)) @ R_contact(grasp). A pour is a roll about the contact y.
        image_path: (N, 3) the same manipulation as the camera saw it, free of monocular depth:
            the wrist's image displacement since the grasp in hand lengths (wrist to middle-finger
            knuckle; right, up) and the direction the fingers point in the image (the wrist to
            middle-knuckle line, rad anticlockwise from the image's right, unwrapped over time).
            Zeros where unknown (trajectories rebuilt from libraries written before it was kept).
        approach: how the manipulation runs against the hand's own reach and retreat around it, in
            [-1, 1]: the mean of the cosines of the manipulation's displacement with the reach before
            the grasp and against the retreat after the release, in 3-D and in the image. -1 pulls
            back the way the hand came (a drawer pulled open), +1 carries on into the object (a push),
            ~0 runs across the approach (a carry to one side). NaN where unknown (libraries written
            before it was kept).
        held_axis: (3,) unit vector, contact frame, or None where unknown: the axis of what the hand
            holds at the grasp, read as the index side of the knuckle line (index to pinky MCP reversed).
            A cup, bottle or handle held from the side lies along that line with its mouth or top at
            the index, so the angle between ``exp(rotvec) @ held_axis`` and gravity's up is how far the
            held object is tipped, whatever its pose when it was taken (a pour's tilt).
    """

    position_m: np.ndarray
    aperture_m: np.ndarray
    duration_s: float
    R_cam_contact: np.ndarray
    segments: Segments
    rotvec: np.ndarray | None = None
    image_path: np.ndarray | None = None
    approach: float = float("nan")
    held_axis: np.ndarray | None = None

    def __post_init__(self):
        for name in ("rotvec", "image_path"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros_like(self.position_m))
            if getattr(self, name).shape != self.position_m.shape:
                raise ValueError(
                    f"ContactTrajectory: {name} {getattr(self, name).shape} must match position_m "
                    f"{self.position_m.shape}"
                )


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """(start, end inclusive) of the longest run of True; (-1, -1) if none."""
    best, start = (-1, -1), None
    for i, m in enumerate(np.append(mask, False)):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - 1 - start > best[1] - best[0]:
                best = (start, i - 1)
            start = None
    return best


def _max_evidence_interval(evidence: np.ndarray, valid: np.ndarray, max_missing: int) -> tuple[int, int]:
    """(start, end inclusive) of the interval with the largest summed evidence (maximum subarray).

    ``evidence`` is positive where the hand looks closed and negative where it looks open; an
    unseen stretch longer than ``max_missing`` frames cannot lie inside the interval. Returns
    (-1, -1) when no frame has positive evidence.
    """
    best, best_sum = (-1, -1), 0.0
    start, run, missing = 0, 0.0, 0
    for t, e in enumerate(evidence):  # Kadane's scan: a loop over time is inherent
        missing = 0 if valid[t] else missing + 1
        if missing > max_missing:
            start, run = t + 1, 0.0
            continue
        if run <= 0.0:
            start, run = t, 0.0
        run += e
        if run > best_sum and valid[t]:
            best, best_sum = (start, t), run
    if best[0] >= 0:  # trim leading frames that add nothing
        g = best[0]
        while g < best[1] and evidence[g] <= 0.0:
            g += 1
        best = (g, best[1])
    return best


def finger_flexion(landmarks_world: np.ndarray) -> np.ndarray:
    """(T,) mean flexion of the four fingers, radians summed over each finger's three joints
    (0 for a flat hand, ~3-4 for a fist), from (T, 21, 3) metric landmarks; NaN where unseen."""
    L = landmarks_world
    total = np.zeros(L.shape[0])
    for mcp in (5, 9, 13, 17):  # index, middle, ring, pinky: MCP, PIP, DIP, tip follow each other
        chain = [L[:, 0], L[:, mcp], L[:, mcp + 1], L[:, mcp + 2], L[:, mcp + 3]]
        for a, b, c in zip(chain, chain[1:], chain[2:]):
            u, w = b - a, c - b
            cos = (u * w).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(w, axis=-1) + 1e-12)
            total += np.arccos(np.clip(cos, -1.0, 1.0))
    return total / 4


def _aperture_range(track: HandTrack) -> tuple[np.ndarray, float, float]:
    """(valid (T,), 5th, 95th percentile of the aperture over those frames; NaN when there are none)."""
    v = track.valid & np.isfinite(track.aperture_m)
    if not v.any():
        return v, float("nan"), float("nan")
    a = track.aperture_m[v]
    return v, float(np.percentile(a, 5)), float(np.percentile(a, 95))


def hand_openness(
    track: HandTrack, signal: str = "aperture", smooth_frames: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """(openness (T,), valid (T,)): 0 where the hand is as closed as it gets in the clip, 1 where
    as open (5th and 95th percentiles), NaN where unknown.

    ``aperture`` uses the thumb-index distance alone. ``aperture+flexion`` averages it with the
    fingers' flexion (:func:`finger_flexion`, median-filtered over ``smooth_frames``): seen from
    the side or along the fingers, MediaPipe often reads an open hand's thumb and index as touching,
    while the curl of the four fingers still shows (it separates grasp frames from open-hand frames
    better on staged clips; figures in docs/notebook.md).
    """
    if signal not in ("aperture", "aperture+flexion"):
        raise ValueError(f"unknown grasp signal {signal!r}; use aperture or aperture+flexion")
    v, lo, hi = _aperture_range(track)
    a = track.aperture_m
    openness = np.full(len(a), np.nan)
    openness[v] = (a[v] - lo) / max(hi - lo, 1e-9)
    if signal == "aperture" or track.landmarks_world is None:
        return openness, v
    f = finger_flexion(track.landmarks_world)
    seen = np.isfinite(f)
    if seen.sum() < 3:
        return openness, v
    t = np.arange(len(f))
    f = np.interp(t, t[seen], f[seen])
    f = median_filter(f, size=max(1, smooth_frames), mode="nearest")
    flo, fhi = np.percentile(f[v], 5), np.percentile(f[v], 95)
    flex_open = (fhi - f) / max(fhi - flo, 1e-9)
    openness[v] = 0.5 * (openness[v] + flex_open[v])
    return openness, v


def find_grasps(
    track: HandTrack,
    closed_fraction: float,
    min_aperture_range_m: float,
    min_grasp_frames: int,
    bridge_frames: int = 0,
    bridge_missing_frames: int = 0,
    method: str = "longest_run",
    max_segments: int = 1,
    min_segment_share: float = 0.5,
    signal: str = "aperture",
) -> list[Segments]:
    """Where the hand holds something: intervals from the hand's closing to its opening, in time order.

    The hand is closed where its openness (:func:`hand_openness` with ``signal``; the aperture's
    place in the clip's range) is below ``closed_fraction``. ``max_evidence`` takes
    the interval with the most closed-hand evidence (threshold minus openness, summed), across
    detection gaps of up to ``bridge_missing_frames``; ``longest_run`` takes the longest run of
    closed frames after bridging open flickers of up to ``bridge_frames`` (landmark noise on a fist).
    A clip can hold several grasps in a row (open a drawer, let go, push it shut): up to
    ``max_segments`` intervals are taken, strongest first, each outside the ones before and at
    least ``min_segment_share`` as strong as the first (evidence, or length for runs), so that
    noise on one long grasp does not split it.
    """
    v = _graspable_frames(track, min_grasp_frames, min_aperture_range_m)
    openness, _ = hand_openness(track, signal)
    if method == "max_evidence":
        evidence = np.zeros(len(v))
        evidence[v] = closed_fraction - openness[v]
    else:
        closed = v & (openness < closed_fraction)
        if bridge_frames > 0:
            closed = binary_closing(closed, structure=np.ones(bridge_frames + 1, bool)) | closed
    taken = np.zeros(len(v), bool)
    found: list[tuple[int, int]] = []
    first_strength = 0.0
    for _ in range(max_segments):
        if method == "max_evidence":
            # Frames already taken cannot be crossed: an interval never spans two grasps.
            g, r = _max_evidence_interval(np.where(taken, -1e9, evidence), v, bridge_missing_frames)
            strength = float(evidence[g : r + 1].sum()) if g >= 0 else 0.0
        else:
            g, r = _longest_run(closed & ~taken)
            strength = float(r - g + 1) if g >= 0 else 0.0
        if g < 0 or r - g + 1 < min_grasp_frames or (found and strength < min_segment_share * first_strength):
            break
        found.append((int(g), int(r)))
        first_strength = first_strength or strength
        taken[g : r + 1] = True
    if not found:
        raise Vid2SkillError(f"clip {track.clip_id}: no closed-hand run of {min_grasp_frames}+ frames")
    return _with_reach_and_retreat(sorted(found), v)


def _graspable_frames(track: HandTrack, min_grasp_frames: int, min_aperture_range_m: float) -> np.ndarray:
    """The (T,) mask of frames with a hand, after refusing a clip with too few of them or with an
    aperture that barely changes (nothing there to segment)."""
    v, lo, hi = _aperture_range(track)
    if v.sum() < min_grasp_frames:
        raise Vid2SkillError(f"clip {track.clip_id}: only {int(v.sum())} valid frames; cannot find a grasp")
    if hi - lo < min_aperture_range_m:
        raise Vid2SkillError(
            f"clip {track.clip_id}: the grasp aperture barely changes ({100 * (hi - lo):.1f} cm < "
            f"{100 * min_aperture_range_m:.1f} cm); no grasp to segment"
        )
    return v


def _with_reach_and_retreat(found: list[tuple[int, int]], v: np.ndarray) -> list[Segments]:
    """Each (grasp, release) interval of ``found`` (in time order) as :class:`Segments`: its reach
    starts where the previous grasp let go (the first valid frame for the first), its retreat ends
    where the next one closes (the last valid frame for the last)."""
    valid_idx = np.flatnonzero(v)
    first, last = int(valid_idx[0]), int(valid_idx[-1])
    return [
        Segments(found[i - 1][1] if i else first, g, r, found[i + 1][0] if i + 1 < len(found) else last)
        for i, (g, r) in enumerate(found)
    ]


def _settle_on_contact(seg: Segments, p: np.ndarray, window: int, min_frames: int = 3) -> Segments:
    """Move the grasp frame to where the wrist is slowest near the aperture's closing.

    The aperture crosses its threshold while the hand may still be arriving; people pause as the
    fingers close on a handle, so the slowest frame within ``window`` of the crossing is the contact.
    The grasp keeps at least ``min_frames`` frames up to its release.
    """
    if window <= 0:
        return seg
    speed = np.linalg.norm(np.gradient(p, axis=0), axis=1)
    speed[~np.isfinite(p).all(axis=1)] = np.nan  # a frame between two seen ones has a speed but no position
    lo, hi = (
        max(seg.reach_start, seg.grasp - window),
        min(seg.release - max(2, min_frames - 1), seg.grasp + window),
    )
    if hi <= lo:
        return seg
    cand = speed[lo : hi + 1]
    if not np.isfinite(cand).any():
        return seg
    g = lo + int(np.nanargmin(cand))
    return Segments(seg.reach_start, g, seg.release, seg.end)


def _pixels_wrist(track: HandTrack) -> np.ndarray:
    """(T, 2) image-plane wrist path, gaps filled by interpolation."""
    w = track.landmarks_px[:, 0, :]
    ok = np.isfinite(w).all(axis=1)
    if ok.sum() < 2:
        return np.full_like(w, np.nan)
    t = np.arange(len(w))
    return interp_rows(t, t[ok], w[ok])


def _displacement(path: np.ndarray, a: int, b: int) -> np.ndarray | None:
    """Median position over a few frames around b minus around a (robust to single-frame noise)."""

    def around(i):
        window = path[max(0, i - 2) : i + 3]
        window = window[np.isfinite(window).all(axis=1)]
        return np.median(window, axis=0) if len(window) else None

    pa, pb = around(a), around(b)
    if pa is None or pb is None or b <= a:
        return None
    return pb - pa


def contact_trajectories(track: HandTrack, cfg, max_segments: int | None = None) -> list[ContactTrajectory]:
    """Segment a track into up to ``max_segments`` (default ``cfg.max_segments``) grasps, in time
    order, and express each manipulation in its own contact frame, resampled to ``cfg.resample``."""
    bridge = int(round(cfg.bridge_gap_s * track.fps))
    n = int(cfg.max_segments) if max_segments is None else max_segments
    segs = find_grasps(
        track,
        cfg.closed_fraction,
        cfg.min_aperture_range_m,
        cfg.min_grasp_frames,
        bridge,
        int(round(cfg.bridge_missing_s * track.fps)),
        cfg.grasp_method,
        n,
        float(cfg.min_segment_share),
        str(cfg.grasp_signal),
    )
    p = median_depth(
        track.wrist_pos_cam,
        np.isfinite(track.wrist_pos_cam).all(axis=1),
        int(round(cfg.depth_median_s * track.fps)) | 1,
    )
    window = int(round(cfg.contact_search_s * track.fps))
    return [
        _in_contact_frame(track, _settle_on_contact(seg, p, window, int(cfg.min_grasp_frames)), p, cfg)
        for seg in segs
    ]


def contact_trajectory(track: HandTrack, cfg) -> ContactTrajectory:
    """The clip's strongest grasp in its contact frame (one manipulation per clip)."""
    return contact_trajectories(track, cfg, max_segments=1)[0]


def _in_contact_frame(track: HandTrack, seg: Segments, p: np.ndarray, cfg) -> ContactTrajectory:
    """The manipulation ``seg`` of a track (wrist path ``p``, depth-filtered) in its contact frame."""
    move = p[seg.grasp : seg.release + 1]
    ok = np.isfinite(move).all(axis=1)
    if ok.sum() < 2:
        raise Vid2SkillError(
            f"clip {track.clip_id}: the wrist is seen in {int(ok.sum())} frames of the grasp; "
            "cannot follow it"
        )
    origin = move[np.flatnonzero(ok)[0]]  # the grasp frame, or the first after it where the wrist is seen
    rel = move[ok] - origin
    # Principal direction of the manipulation (a line for slides, the chord of an arc for hinges).
    _, _, vt = np.linalg.svd(rel - rel.mean(axis=0), full_matrices=False)
    x = vt[0]
    # Sign: +x runs into the object, the way the reach went (see approach_cosine).
    approach = approach_cosine(track, seg, p, max(2, int(round(cfg.reach_window_s * track.fps))))
    if np.dot(x, rel[-1]) * approach < 0:
        x = -x
    up = np.array([0.0, -1.0, 0.0])  # the camera's up: image rows grow downwards
    z = up - np.dot(up, x) * x
    if np.linalg.norm(z) < 1e-3:
        z = np.array([0.0, 0.0, -1.0]) - x[2] * x
    z = z / np.linalg.norm(z)
    R = np.stack([x, np.cross(z, x), z], axis=1)
    local = (p[seg.grasp : seg.release + 1] - origin) @ R
    t = np.flatnonzero(np.isfinite(local).all(axis=1))
    s = np.linspace(t[0], t[-1], cfg.resample)
    pos = interp_rows(s, t, local[t])
    ap = track.aperture_m[seg.grasp : seg.release + 1]
    at = np.flatnonzero(np.isfinite(ap))
    aperture = (
        np.interp(s, at, ap[at]) if len(at) else np.full(len(s), np.nan)
    )  # a bridged stretch may have none
    rotvec = relative_rotation(
        track.wrist_R_cam[seg.grasp : seg.release + 1],
        track.valid[seg.grasp : seg.release + 1],
        R,
        s,
        int(round(cfg.rotation_smooth_s * track.fps)) | 1,
    )
    image = image_displacement(track.landmarks_px[seg.grasp : seg.release + 1], s)
    held = held_axis(
        track.wrist_R_cam[seg.grasp : seg.release + 1],
        track.valid[seg.grasp : seg.release + 1],
        track.handedness == "right",
        int(round(cfg.rotation_smooth_s * track.fps)) | 1,
    )
    return ContactTrajectory(
        pos,
        aperture,
        float((seg.release - seg.grasp) / track.fps),
        R,
        seg,
        rotvec,
        image,
        approach,
        None if held is None else R.T @ held,
    )


def approach_cosine(track: HandTrack, seg: Segments, p: np.ndarray, window: int) -> float:
    """Mean cosine of the manipulation's displacement with the reach (``window`` frames before the
    grasp) and against the retreat (as long after the release), over the 3-D path ``p`` and the image
    path: people withdraw the hand the way it came, so a manipulation that continues the retreat runs
    out of the object. The 3-D cue suffers from monocular depth errors and the image cue from views
    along the motion, so both vote. A reach or retreat under a tenth of the manipulation's length
    (the hand held still) has no direction to give and does not vote; 0 when none does."""
    a, b = max(seg.reach_start, seg.grasp - window), min(seg.end, seg.release + window)
    votes = []
    for path in (p, _pixels_wrist(track)):
        manip = _displacement(path, seg.grasp, seg.release)
        length = np.linalg.norm(manip) if manip is not None else 0.0
        if not length > 0:
            continue
        for other, sign in (
            (_displacement(path, a, seg.grasp), 1.0),
            (_displacement(path, seg.release, b), -1.0),
        ):
            other_length = np.linalg.norm(other) if other is not None else 0.0
            if other_length >= 0.1 * length:
                votes.append(sign * float(np.dot(other, manip) / (other_length * length)))
    return float(np.mean(votes)) if votes else 0.0


def image_displacement(landmarks_px: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(len(s), 3): the wrist's image displacement from the first frame in hand lengths (right, up)
    and the fingers' direction in the image (rad, anticlockwise from right, unwrapped), sampled at
    frames ``s``.

    The hand length (wrist to middle-finger knuckle, median over the frames) makes the path
    independent of image size and camera distance; zeros where no frame has the hand.
    """
    w, k = landmarks_px[:, 0], landmarks_px[:, 9]
    ok = np.isfinite(w).all(axis=1) & np.isfinite(k).all(axis=1)
    out = np.zeros((len(s), 3))
    if ok.sum() < 2:
        return out
    t = np.flatnonzero(ok).astype(float)
    axis = k[ok] - w[ok]
    length = float(np.median(np.linalg.norm(axis, axis=1)))
    if length < 1e-6:  # no hand drawn (landmarks all at one point)
        return out
    roll = np.unwrap(np.arctan2(-axis[:, 1], axis[:, 0]))  # image rows grow downwards
    path = np.c_[(w[ok, 0] - w[ok][0, 0]) / length, -(w[ok, 1] - w[ok][0, 1]) / length, roll]
    return interp_rows(s, t, path)


def held_axis(R_cam_hand: np.ndarray, valid: np.ndarray, right: bool, window: int) -> np.ndarray | None:
    """(3,) camera frame: the index side of the knuckle line at the grasp
    (:func:`vid2skill.landmarks.index_side`), averaged over the grasp's first ``window`` seen
    frames (the reference :func:`relative_rotation` turns from), or None if fewer than two frames
    are seen."""
    ok = valid & np.isfinite(R_cam_hand).all(axis=(1, 2))
    if ok.sum() < 2:
        return None
    y = index_side(R_cam_hand[ok][: max(1, window)], right).mean(axis=0)
    n = float(np.linalg.norm(y))
    return y / n if n > 1e-6 else None


def relative_rotation(
    R_cam_hand: np.ndarray, valid: np.ndarray, R_cam_contact: np.ndarray, s: np.ndarray, window: int
) -> np.ndarray:
    """(len(s), 3) rotation vectors of the hand since the grasp, in the contact frame, sampled at ``s``.

    The per-frame palm frame is noisy (tens of degrees on some frames), so each frame's rotation is
    a running chordal mean over ``window`` frames; the reference is the mean over the first window.
    A constant error of the palm frame cancels in the relative rotation.
    """
    ok = valid & np.isfinite(R_cam_hand).all(axis=(1, 2))
    if ok.sum() < 2:
        return np.zeros((len(s), 3))
    t = np.flatnonzero(ok)
    q = Rotation.from_matrix(R_cam_hand[ok]).as_quat()
    q *= np.sign(
        np.sum(q * q[:1], axis=1, keepdims=True) + 1e-12
    )  # one hemisphere, so that averaging is meaningful
    q = uniform_filter1d(q, size=min(window, len(q)), axis=0, mode="nearest")
    rots = Rotation.from_quat(q / np.linalg.norm(q, axis=1, keepdims=True))
    rel = rots * rots[0].inv()  # camera frame: R(t) R(0)^-1
    rv_cam = rel.as_rotvec()
    rv_contact = rv_cam @ R_cam_contact  # a rotation vector transforms like a vector: R^T v
    # Unwrap along time (rotation vectors jump near pi) before interpolating.
    rv_contact = _unwrap_rotvec(rv_contact)
    return interp_rows(s, t.astype(float), rv_contact)


def _unwrap_rotvec(rv: np.ndarray) -> np.ndarray:
    out = rv.copy()
    for i in range(1, len(out)):
        a = np.linalg.norm(out[i])
        if a > 1e-9:
            alt = out[i] * (1 - 2 * np.pi / a)  # the same rotation the other way round the axis
            if np.linalg.norm(alt - out[i - 1]) < np.linalg.norm(out[i] - out[i - 1]):
                out[i] = alt
    return out
