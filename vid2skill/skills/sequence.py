"""Cutting a clip whose skills are known in order (a weak label such as ``pick;pour;place``) into one
manipulation per skill.

Skills that take hold of something (a drawer, a door, an object to pick) each begin a grasp; skills
done with what is already held (place, pour, stir, cut) continue the grasp before them. So a label
is a sequence of grasp chains, ``[pick, pour, place]`` one chain and ``[slide_open], [slide_close]``
two. Each chain gets one grasp of the track (the strongest ones, in time order; a grasp that must
serve two chains, as when a drawer is pulled out and pushed back without letting go, is split where
the hand turns back), and a chain of several skills is split inside its grasp where the motion
changes: a pick ends at the top of its lift, a pour where the tilt comes back. A clip in which the
hand's closing cannot be found is cut by its motion instead (the stretch in which the wrist moves),
and every segment says how it was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.spatial.transform import Rotation

from vid2skill.errors import ConfigError, Vid2SkillError
from vid2skill.extract.filters import median_depth
from vid2skill.extract.types import HandTrack
from vid2skill.landmarks import index_side
from vid2skill.skills.segment import ContactTrajectory, Segments, _in_contact_frame, find_grasps

UP_CAM = np.array([0.0, -1.0, 0.0])  # the camera's up: image rows grow downwards


@dataclass(frozen=True)
class LabelledSegment:
    """One labelled skill of a clip: where it was found and its manipulation (None, with ``error``, if
    not)."""

    skill: str
    how: str  # grasp | split | motion | none
    start_s: float = float("nan")
    end_s: float = float("nan")
    trajectory: ContactTrajectory | None = None
    error: str | None = None
    up_cam: np.ndarray = field(
        default_factory=UP_CAM.copy
    )  # gravity's up in the (first frame's) camera frame (``HandTrack.up_cam``)

    @property
    def up_contact(self) -> np.ndarray:
        """Gravity's up (3,) in the manipulation's contact frame."""
        return self.trajectory.R_cam_contact.T @ self.up_cam


# Where a skill may end inside a grasp it shares (``cluster.skill_ends``).
SKILL_ENDS = ("lift_top", "tilt_end")


def grasp_chains(skills: list[str], in_hand: set[str]) -> list[list[str]]:
    """Group skills into grasps: a skill in ``in_hand`` continues the grasp before it."""
    chains: list[list[str]] = []
    for s in skills:
        if chains and s in in_hand:
            chains[-1].append(s)
        else:
            chains.append([s])
    return chains


def segment_sequence(track: HandTrack, skills: list[str], cfg, in_hand: set[str]) -> list[LabelledSegment]:
    """One :class:`LabelledSegment` per skill in ``skills`` (``cfg`` is the cluster config)."""
    if not skills:
        return []
    ends = dict(cfg.skill_ends)
    bad = {k: v for k, v in ends.items() if v not in SKILL_ENDS}
    if bad:
        raise ConfigError(f"cluster.skill_ends={bad}: each skill ends at one of {', '.join(SKILL_ENDS)}")
    p = median_depth(
        track.wrist_pos_cam,
        np.isfinite(track.wrist_pos_cam).all(axis=1),
        int(round(cfg.depth_median_s * track.fps)) | 1,
    )
    p = fill_gaps(p)
    if cfg.inplane_motion == "hand_scale":
        p = hand_scaled_path(track, p, int(round(cfg.depth_median_s * track.fps)) | 1)
    elif cfg.inplane_motion != "lift":
        raise ConfigError(f"cluster.inplane_motion={cfg.inplane_motion!r}: use lift or hand_scale")
    p, track = in_first_camera(track, p)
    up = track.up_cam
    chains = grasp_chains(skills, in_hand)
    try:
        intervals = _grasp_intervals(track, p, len(chains), cfg)
    except Vid2SkillError as e:
        return [LabelledSegment(s, "none", error=str(e)) for s in skills]
    out: list[LabelledSegment] = []
    for c, chain in enumerate(chains):
        if c >= len(intervals):
            out += [
                LabelledSegment(
                    s, "none", error=f"found {len(intervals)} grasp(s) for {len(chains)} labelled grasps"
                )
                for s in chain
            ]
            continue
        a, b, how = _chain_interval(track, p, chain, intervals, c, cfg, up, ends)
        for skill, (s_a, s_b) in zip(chain, _split_chain(track, p, chain, a, b, up, ends)):
            out.append(
                _segment(
                    track, p, skill, s_a, s_b, how if len(chain) == 1 or how == "motion" else "split", cfg, up
                )
            )
    return out


def _grasp_intervals(track: HandTrack, p: np.ndarray, n_chains: int, cfg) -> list[tuple[int, int, str]]:
    """(start, end, how) frame intervals, one per grasp chain where they can be found: the track's
    grasps (``grasp``), or the stretch in which the wrist moves (``motion``) when the hand's closing
    cannot be found, a grasp that must serve two chains split where the hand turns back. Raises
    Vid2SkillError when neither a grasp nor a motion can be found."""
    try:
        grasps = find_grasps(
            track,
            cfg.closed_fraction,
            cfg.min_aperture_range_m,
            cfg.min_grasp_frames,
            int(round(cfg.bridge_gap_s * track.fps)),
            int(round(cfg.bridge_missing_s * track.fps)),
            cfg.grasp_method,
            n_chains,
            float(cfg.labelled_min_segment_share),
            str(cfg.grasp_signal),
        )
        intervals = [(s.grasp, s.release, "grasp") for s in grasps]
    except Vid2SkillError as e:
        span = _moving_span(track, p)
        if span is None:
            raise Vid2SkillError(f"{e}; the wrist barely moves either") from None
        intervals = [(*span, "motion")]
    # One grasp serves two chains: split the longest where the hand turns back.
    while len(intervals) < n_chains:
        i = int(np.argmax([b - a for a, b, _ in intervals]))
        a, b, how = intervals[i]
        m = _turning_point(p, a, b)
        if m is None:
            break
        how = "split" if how == "grasp" else how
        intervals[i : i + 1] = [(a, m, how), (m, b, how)]
    return intervals


def _chain_interval(
    track: HandTrack,
    p: np.ndarray,
    chain: list[str],
    intervals: list,
    c: int,
    cfg,
    up: np.ndarray,
    ends: dict,
) -> tuple[int, int, str]:
    """Chain ``c``'s interval, a pick's moved to where the hand closes on the object (the bottom of
    its reach) and to the top of its lift, a pour's followed on while the held object stays tipped."""
    a, b, how = intervals[c]
    # Where a chain may be followed on to: the next grasp, or the last sight of the hand.
    seen = np.flatnonzero(track.valid)
    stop = intervals[c + 1][0] if c + 1 < len(intervals) else int(seen[-1]) if len(seen) else b
    if chain[0] in cfg.reach_starts:
        before = intervals[c - 1][1] if c > 0 else 0
        a = _approach_bottom(p, a, max(before, a - int(round(cfg.pick_contact_s * track.fps))), up)
    if ends.get(chain[-1]) == "lift_top":
        # A lift ends at its top, while the hand still holds: the hand closed around a handle
        # often reads as open, so the lift is looked for up to the next grasp or the last sight.
        top = _lift_top(p, a, max(b, stop), up)
        b = top if top is not None and top >= a + 2 else b
    if any(ends.get(s) == "tilt_end" for s in chain):
        # A pour turns the hand over, and a hand seen from its back often reads open: the grasp is
        # followed on while what it holds stays tipped, up to the next grasp or the last sight.
        b = _tipped_until(track, a, b, stop, up)
    return a, b, how


def _segment(
    track: HandTrack, p: np.ndarray, skill: str, a: int, b: int, how: str, cfg, up: np.ndarray
) -> LabelledSegment:
    t = track.time_s
    if b - a + 1 < 3:
        return LabelledSegment(
            skill, "none", error=f"{skill}: only {b - a + 1} frames between the skills around it"
        )
    seg = Segments(
        max(0, a - int(round(cfg.reach_window_s * track.fps))),
        a,
        b,
        min(len(p) - 1, b + int(round(cfg.reach_window_s * track.fps))),
    )
    try:
        traj = _in_contact_frame(track, seg, p, cfg)
    except Vid2SkillError as e:
        return LabelledSegment(skill, "none", float(t[a]), float(t[b]), error=str(e), up_cam=up)
    return LabelledSegment(skill, how, float(t[a]), float(t[b]), traj, up_cam=up)


def in_first_camera(track: HandTrack, p: np.ndarray) -> tuple[np.ndarray, HandTrack]:
    """The wrist path ``p`` (T, 3) and the track's palm orientations turned from each frame's camera
    into the first frame's (``HandTrack.camera_R_ref``), so that a head-worn camera's turns are not
    read as the hand's motion. Depth is filtered before, along each frame's own view."""
    R = track.camera_R_ref
    if np.allclose(R, np.eye(3)):
        return p, track
    return np.einsum("tij,tj->ti", R, p), replace(track, wrist_R_cam=R @ track.wrist_R_cam)


def hand_scaled_path(track: HandTrack, p: np.ndarray, window: int) -> np.ndarray:
    """(T, 3) wrist path, camera axes: across the image, the wrist's pixel steps times the metres per
    pixel at the hand (the metric hand's wrist-to-middle-knuckle length over its image length,
    median-filtered over ``window`` frames); along the view, the metric lift's depth (``p``).

    A per-frame lift ``X = (u - cx) Z / f`` turns every flicker of the estimated depth into a
    sideways jump as large as the wrist is far from the image centre; the hand's own size measures
    the in-plane motion without that (and without knowing the camera's focal length). Frames
    without a hand are bridged; a clip without a usable hand size keeps ``p``.
    """
    w, k = track.landmarks_px[:, 0], track.landmarks_px[:, 9]
    L = track.landmarks_world
    length_px = np.linalg.norm(k - w, axis=1)
    # MediaPipe's metric landmarks have camera-aligned axes: the bone's extent across the image plane
    # is what its pixel length measures (the full length would count a tilted palm's foreshortening as scale).
    length_m = (
        np.linalg.norm((L[:, 9] - L[:, 0])[:, :2], axis=1) if L is not None else np.full(len(w), np.nan)
    )
    scale = length_m / np.where(length_px > 1.0, length_px, np.nan)
    ok = np.isfinite(scale) & np.isfinite(w).all(axis=1)
    if ok.sum() < 2:
        return p
    t = np.arange(len(w))
    scale = median_filter(np.interp(t, t[ok], scale[ok]), size=max(1, window), mode="nearest")
    px = fill_gaps(w)
    steps = np.diff(px, axis=0) * scale[1:, None]
    xy = np.vstack([np.zeros((1, 2)), np.cumsum(steps, axis=0)]) + p[0, :2]
    return np.c_[xy, p[:, 2]]


def fill_gaps(p: np.ndarray) -> np.ndarray:
    """The wrist path with unseen frames interpolated from the seen ones around them (held at the
    ends): a labelled skill happens even where the hand was not seen, so its motion is bridged."""
    ok = np.isfinite(p).all(axis=1)
    if ok.sum() < 2 or ok.all():
        return p
    t = np.arange(len(p))
    return np.stack([np.interp(t, t[ok], p[ok, k]) for k in range(p.shape[1])], axis=1)


def _moving_span(track: HandTrack, p: np.ndarray) -> tuple[int, int] | None:
    """(start, end) frames between 10% and 90% of the wrist's image path length; None if it hardly moves."""
    w = track.landmarks_px[:, 0]
    ok = np.flatnonzero(np.isfinite(w).all(axis=1))
    if len(ok) < 3:
        return None
    steps = np.r_[0.0, np.linalg.norm(np.diff(w[ok], axis=0), axis=1)]
    cum = np.cumsum(steps)
    if cum[-1] < 0.05 * max(track.width, track.height):
        return None
    a, b = ok[np.searchsorted(cum, 0.1 * cum[-1])], ok[min(len(ok) - 1, np.searchsorted(cum, 0.9 * cum[-1]))]
    return (int(a), int(b)) if b - a >= 2 else None


def _turning_point(p: np.ndarray, a: int, b: int) -> int | None:
    """The frame in (a, b) farthest from the wrist's position at ``a``: where an out-and-back motion turns."""
    seg = p[a : b + 1]
    ok = np.isfinite(seg).all(axis=1)
    if ok.sum() < 5:
        return None
    d = np.linalg.norm(seg - seg[np.flatnonzero(ok)[0]], axis=1)
    d[~ok] = -1.0
    m = a + int(np.argmax(d[1:-1])) + 1
    return m if a + 2 <= m <= b - 2 else None


def _split_chain(
    track: HandTrack, p: np.ndarray, chain: list[str], a: int, b: int, up: np.ndarray, ends: dict
) -> list[tuple[int, int]]:
    """Frame intervals, one per skill of a chain held in one grasp [a, b]: a skill ends where
    ``ends`` (``cluster.skill_ends``) says, else the grasp's rest is shared evenly."""
    if len(chain) == 1:
        return [(a, b)]
    cuts, start = [], a
    for i, skill in enumerate(chain[:-1]):
        left = len(chain) - i - 1  # skills still to place after this one, each needs a few frames
        hi = b - 3 * left
        if ends.get(skill) == "lift_top":
            m = _lift_top(p, start, hi, up)
        elif ends.get(skill) == "tilt_end":
            m = _tilt_end(track, start, hi)
        else:
            m = None
        if m is None:
            m = start + (hi - start) // (left + 1)
        m = int(np.clip(m, start + 2, hi))
        cuts.append(m)
        start = m
    bounds = [a] + cuts + [b]
    return list(zip(bounds[:-1], bounds[1:]))


def _approach_bottom(p: np.ndarray, a: int, lo: int, up: np.ndarray, margin_m: float = 0.01) -> int:
    """The frame in [lo, a] where the wrist is lowest (along ``up``), when it is at least ``margin_m``
    below its height at ``a``; else ``a``. The aperture shows a grasp closed only once the fingers
    have closed, often after the lift has begun: the hand's contact is at the bottom of its reach."""
    h = p[lo : a + 1] @ up
    if a <= lo or not np.isfinite(h).all():
        return a
    m = int(np.argmin(h))
    return lo + m if h[-1] - h[m] >= margin_m else a


def _lift_top(p: np.ndarray, a: int, b: int, up: np.ndarray, share: float = 0.95) -> int | None:
    """The first frame in [a, b] at which the wrist has risen (along ``up``) ``share`` of its highest rise."""
    h = (p[a : b + 1] - p[a]) @ up if np.isfinite(p[a]).all() else None
    if h is None or not np.isfinite(h).any() or np.nanmax(h) <= 0:
        return None
    return a + int(np.flatnonzero(np.nan_to_num(h, nan=-np.inf) >= share * np.nanmax(h))[0])


def held_tilt(track: HandTrack, up: np.ndarray) -> np.ndarray:
    """(T,) rad: how far the index side of the knuckle line (what a side or handle grasp holds
    upright: ``ContactTrajectory.held_axis``) is from gravity's ``up``, per frame; NaN where unseen."""
    axis = index_side(track.wrist_R_cam, track.handedness == "right")
    norm = np.linalg.norm(axis, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tilt = np.arccos(np.clip(axis @ up / norm, -1.0, 1.0))
    tilt[~(track.valid & np.isfinite(tilt))] = np.nan
    return tilt


def _tipped_until(
    track: HandTrack, a: int, b: int, stop: int, up: np.ndarray, margin: float = np.radians(30)
) -> int:
    """The end of a grasp [a, b] that holds a pour, moved on while the pour is still underway: when
    the held object is tipped ``margin`` further at the grasp's end than at its start (the median
    of the seen frames in its first and its last 0.2 s), to the last frame up to ``stop`` at which
    it is still tipped at least halfway between the two; else ``b``."""
    if stop <= b:
        return b
    tilt = held_tilt(track, up)
    w = max(1, int(round(0.2 * track.fps)))
    start, end = tilt[a : min(b, a + w) + 1], tilt[max(a, b - w) : b + 1]
    start, end = start[np.isfinite(start)], end[np.isfinite(end)]
    if len(start) == 0 or len(end) == 0:
        return b
    t0, t1 = float(np.median(start)), float(np.median(end))
    if t1 < t0 + margin:
        return b
    after = np.nan_to_num(tilt[b + 1 : stop + 1], nan=-np.inf) >= (t0 + t1) / 2
    # Followed only while it stays tipped: the first frame seen upright again ends it.
    upright = np.isfinite(tilt[b + 1 : stop + 1]) & ~after
    last = int(np.flatnonzero(upright)[0]) if upright.any() else len(after)
    kept = np.flatnonzero(after[:last])
    return b + 1 + int(kept[-1]) if len(kept) else b


def _tilt_end(track: HandTrack, a: int, b: int, share: float = 0.5) -> int | None:
    """The last frame in [a, b] at which the hand is still turned ``share`` of its largest turn since
    ``a``."""
    R = track.wrist_R_cam[a : b + 1]
    ok = track.valid[a : b + 1] & np.isfinite(R).all(axis=(1, 2))
    if ok.sum() < 3:
        return None
    idx = np.flatnonzero(ok)
    rots = Rotation.from_matrix(R[idx])
    angle = uniform_filter1d(
        np.linalg.norm((rots * rots[0].inv()).as_rotvec(), axis=1), size=3, mode="nearest"
    )
    if angle.max() < np.radians(20):
        return None
    return a + int(idx[np.flatnonzero(angle >= share * angle.max())[-1]])
