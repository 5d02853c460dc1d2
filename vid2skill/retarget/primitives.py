"""A human manipulation reduced to its skill's structure: the few numbers and timing profiles that
the video measures, fitted to the motion the skill's object allows.

A drawer moves on a line and a door on an arc about a vertical hinge; a lift rises; a place carries
and lowers; a pour tilts the held cup; a stir loops in a horizontal plane; a cut saws back and forth
while sinking. Fitting that structure to a noisy monocular path is denoising: what the robot then
executes comes from the video (how far, how much it turns, how many strokes, at the human's pace),
and the scene supplies only what the task states (where the drawer's axis and the door's hinge are,
where the bowl, pot, region or block stands), as a robot would perceive it. Nothing here reads a
scene; :meth:`vid2skill.scenes.base.SkillScene.primitive` executes a :class:`SkillMotion` in a scene.

Frames: the fit works in the human contact frame of :mod:`vid2skill.skills.segment` (x along the
manipulation, +x into the object) with gravity's up taken from ``up_contact`` (the camera's up,
or a better estimate where the extractor has one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter
from scipy.spatial.transform import Rotation

from vid2skill.errors import ConfigError, Vid2SkillError

MOTION_SCHEMA = 1
FAMILIES = ("slide", "hinge", "lift", "place", "pour", "stir", "cut")
# The motion family of each simulated task (``conf/skill/<skill>.yaml: task``).
FAMILY_OF_TASK = {
    "drawer": "slide",
    "door": "hinge",
    "pick": "lift",
    "place": "place",
    "pour": "pour",
    "stir": "stir",
    "cut": "cut",
}


@dataclass(frozen=True)
class SkillMotion:
    """One demonstration's structural parameters.

    Attributes:
        family: one of ``FAMILIES``.
        duration_s: the manipulation's length in the video, seconds.
        values: scalars measured in the video (metres and radians; see each ``fit_*``).
        profiles: (N,) arrays over the manipulation's duration (uniform in time), each in [0, 1]
            unless its ``fit_*`` says otherwise: how far along its motion the hand was.
        method: how the main value was measured (written to reports, e.g. ``arc`` or ``wrist_yaw``).
    """

    family: str
    duration_s: float
    values: dict[str, float]
    profiles: dict[str, np.ndarray] = field(default_factory=dict)
    method: str = ""

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"SkillMotion: unknown family {self.family!r}; one of {FAMILIES}")
        if not self.duration_s > 0:
            raise ValueError(f"SkillMotion: duration_s must be > 0, got {self.duration_s}")

    def at(self, name: str, u: float) -> float:
        """Profile ``name`` at ``u`` in [0, 1] of the duration (held at its ends outside)."""
        prof = self.profiles[name]
        return float(np.interp(np.clip(u, 0.0, 1.0), np.linspace(0.0, 1.0, len(prof)), prof))

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "duration_s": self.duration_s,
            "values": self.values,
            "method": self.method,
            "profiles": {k: [round(float(x), 5) for x in v] for k, v in self.profiles.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> SkillMotion:
        return cls(
            d["family"],
            float(d["duration_s"]),
            {k: float(v) for k, v in d["values"].items()},
            {k: np.asarray(v, dtype=float) for k, v in d.get("profiles", {}).items()},
            d.get("method", ""),
        )


# --- small measures --------------------------------------------------------------------------------


def progress(v: np.ndarray, extent: float) -> np.ndarray:
    """(N,) monotone progress in [0, 1]: the running maximum of ``v`` over ``extent`` (a hand that
    slips back a little has not undone the motion it made)."""
    if not extent > 1e-9:
        return np.linspace(0.0, 1.0, len(v))
    return np.clip(np.maximum.accumulate(np.clip(v, 0.0, None)) / extent, 0.0, 1.0)


def robust_max(v: np.ndarray) -> float:
    """The largest value of ``v`` once single-sample spikes are filtered out (a running median of 5):
    exact for a motion that ends where it went furthest."""
    return float(median_filter(v, size=min(5, len(v)), mode="nearest").max()) if len(v) else 0.0


def horizontal_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors (3,) spanning the plane orthogonal to ``up``, the first as close to contact x as
    possible."""
    up = up / np.linalg.norm(up)
    e1 = np.array([1.0, 0.0, 0.0]) - up[0] * up
    if np.linalg.norm(e1) < 1e-6:
        e1 = np.array([0.0, 1.0, 0.0]) - up[1] * up
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(up, e1)


def fit_circle(xy: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(centre (2,), radius, rms residual) of the least-squares circle through 2-D points (Kasa's fit)."""
    A = np.c_[2 * xy, np.ones(len(xy))]
    b = (xy**2).sum(axis=1)
    sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    c = sol[:2]
    r = float(np.sqrt(max(sol[2] + c @ c, 0.0)))
    resid = float(np.sqrt(np.mean((np.linalg.norm(xy - c, axis=1) - r) ** 2)))
    return c, r, resid


def path_figures(position_m: np.ndarray, rotvec: np.ndarray, up: np.ndarray) -> dict:
    """Plausibility figures of a contact-frame path: length, straightness (chord over length), the
    radius of its best circle in the horizontal plane, and the largest rotation since the grasp."""
    steps = np.linalg.norm(np.diff(position_m, axis=0), axis=1)
    length = float(steps.sum())
    chord = float(np.linalg.norm(position_m[-1] - position_m[0]))
    e1, e2 = horizontal_basis(up)
    xy = np.c_[position_m @ e1, position_m @ e2]
    _, r, _ = (
        fit_circle(xy) if len(xy) >= 3 and np.ptp(xy, axis=0).max() > 1e-4 else (None, float("nan"), 0.0)
    )
    return {
        "path_length_m": round(length, 4),
        "straightness": round(chord / length, 3) if length > 1e-9 else 1.0,
        "arc_radius_m": round(r, 3) if np.isfinite(r) else None,
        "max_rotation_deg": round(float(np.degrees(np.linalg.norm(rotvec, axis=1).max())), 1),
    }


# --- fits per family -------------------------------------------------------------------------------


def fit_motion(
    family: str,
    position_m: np.ndarray,
    rotvec: np.ndarray,
    duration_s: float,
    up: np.ndarray,
    cfg,
    held_axis: np.ndarray | None = None,
) -> SkillMotion:
    """Fit ``family``'s structure to one manipulation (contact frame, (N, 3) each; ``up`` (3,) gravity's
    up in that frame; ``held_axis`` (3,) the held object's axis at the grasp, or None:
    ``ContactTrajectory.held_axis``); ``cfg`` is ``retarget.primitives``."""
    if family not in FAMILIES:
        raise Vid2SkillError(f"no motion model for {family!r}; known: {', '.join(FAMILIES)}")
    if len(position_m) < 3 or not np.isfinite(position_m).all():
        raise Vid2SkillError(f"a {family} needs a finite path of 3+ samples")
    up = np.asarray(up, float) / np.linalg.norm(up)
    p = position_m - position_m[0]
    if family == "pour":
        return _fit_pour(p, rotvec, float(duration_s), up, cfg, held_axis)
    return _FITS[family](p, rotvec, float(duration_s), up, cfg)


def _fit_slide(p, rotvec, duration, up, cfg) -> SkillMotion:
    """``travel_m``: how far along its line the hand went (the principal axis, contact x)."""
    d = np.abs(p[:, 0])
    travel = robust_max(d)
    return SkillMotion("slide", duration, {"travel_m": travel}, {"s": progress(d, travel)}, "line")


def _fit_hinge(p, rotvec, duration, up, cfg) -> SkillMotion:
    """``angle_rad``: the swing about the hinge. A door turns about a vertical axis, but a lid, a
    flap or a panel turns about a horizontal one, and the human's swing is what transfers, whatever
    the axis. The path's own plane (its two principal directions) tells which: where it lies near
    the horizontal, the circle through the horizontal path (``arc``); where it stands tilted, the
    circle in that plane (``arc_plane``); either only where the circle is plausible for a hinge.
    Otherwise, and for a path too straight to hold a circle, the hand's turn about the vertical
    (``wrist_yaw``: the hand turns with a handle), then about its own axis (``wrist_turn``), else the
    chord over a typical door's radius (``chord``)."""
    e1, e2 = horizontal_basis(up)
    xy = np.c_[p @ e1, p @ e2]
    chord = float(np.linalg.norm(xy[-1] - xy[0]))
    _, sv, vt = np.linalg.svd(p - p.mean(axis=0), full_matrices=False)
    curved = sv[0] > 1e-9 and sv[1] >= cfg.min_arc_spread * sv[0]
    upright = abs(float(vt[2] @ up)) < np.cos(np.radians(45.0))  # the plane's normal is nearer horizontal
    swing, r, method = None, float("nan"), ""
    if curved and not upright:
        swing, r = _arc_swing(xy, cfg)
        method = "arc"
    elif curved:
        swing, r = _arc_swing(np.c_[p @ vt[0], p @ vt[1]], cfg)
        method, chord = "arc_plane", float(np.linalg.norm(p[-1] - p[0]))
    if swing is not None:
        angle = robust_max(swing)
        s = progress(swing, angle)
    else:
        yaw = np.abs(rotvec @ up)
        turn = np.linalg.norm(rotvec, axis=1)
        if robust_max(yaw) >= np.radians(cfg.min_wrist_yaw_deg):
            angle, method, s = robust_max(yaw), "wrist_yaw", progress(yaw, robust_max(yaw))
        elif robust_max(turn) >= np.radians(cfg.min_wrist_yaw_deg):
            angle, method, s = robust_max(turn), "wrist_turn", progress(turn, robust_max(turn))
        else:
            dist = np.linalg.norm(xy, axis=1)
            angle = 2 * np.arcsin(min(1.0, robust_max(dist) / (2 * cfg.prior_door_radius_m)))
            method = "chord"
            s = progress(dist, robust_max(dist))
    angle = min(angle, np.radians(cfg.max_hinge_deg))
    return SkillMotion(
        "hinge", duration, {"angle_rad": angle, "radius_m": r, "chord_m": chord}, {"s": s}, method
    )


def _arc_swing(xy: np.ndarray, cfg) -> tuple[np.ndarray | None, float]:
    """(swing (N,) radians, radius) of the circle through 2-D points where a hinge could have drawn
    it (radius within ``cfg.hinge_radius_m``, residual under a quarter of it, a chord of
    ``cfg.min_extent_m`` or more); (None, radius) otherwise."""
    chord = float(np.linalg.norm(xy[-1] - xy[0]))
    c, r, resid = fit_circle(xy)
    lo, hi = cfg.hinge_radius_m
    if not (lo <= r <= hi and resid < 0.25 * r and chord >= cfg.min_extent_m):
        return None, r
    a = np.unwrap(np.arctan2(xy[:, 1] - c[1], xy[:, 0] - c[0]))
    return np.abs(a - a[0]), r


def _fit_lift(p, rotvec, duration, up, cfg) -> SkillMotion:
    """``lift_m``: how far the hand rose from the bottom of its reach to its highest point after it
    (the largest rise to a later point). The grasp is seen to close from the aperture, which often
    reads closed while the hand is still coming down onto the object (a loose grip on real video,
    fingers curled on the way down): the object leaves the table at the lowest point, not where the
    segment begins, and a segment that begins high on the way down rises less than that start."""
    h = p @ up
    smooth = median_filter(h, size=min(5, len(h)), mode="nearest")
    top = int(np.argmax(smooth - np.minimum.accumulate(smooth)))
    low = int(np.argmin(smooth[: top + 1]))
    bottom = min(float(smooth[low]), 0.0)
    rise = h - bottom
    rise[:low] = 0.0  # still coming down: the object has not left the table
    lift = float(smooth[top]) - bottom
    return SkillMotion("lift", duration, {"lift_m": lift}, {"s": progress(rise, lift)}, "rise")


def _carry_profile(p, up, cfg) -> tuple[np.ndarray, float]:
    """(progress (N,), horizontal extent m) of a carry: the hand's horizontal displacement along its
    own final direction; a hand that hardly moves sideways progresses evenly in time."""
    horiz = p - np.outer(p @ up, up)
    extent_vec = horiz[np.argmax(np.linalg.norm(horiz, axis=1))]
    extent = float(np.linalg.norm(extent_vec))
    if extent < cfg.min_extent_m:
        return np.linspace(0.0, 1.0, len(p)), extent
    along = horiz @ (extent_vec / extent)
    return progress(along, robust_max(along)), extent


def _fit_place(p, rotvec, duration, up, cfg) -> SkillMotion:
    """``drop_m``: how far the hand came down; profiles ``carry`` (sideways progress) and ``lower``
    (downwards progress; the carry's where the hand barely came down)."""
    carry, extent = _carry_profile(p, up, cfg)
    fall = -(p @ up)
    drop = robust_max(fall)
    lower = progress(fall, drop) if drop >= cfg.min_extent_m else carry
    return SkillMotion(
        "place",
        duration,
        {"drop_m": drop, "carry_m": extent},
        {"carry": carry, "lower": lower},
        "carry+lower",
    )


def _fit_pour(p, rotvec, duration, up, cfg, held_axis=None) -> SkillMotion:
    """``tilt_rad``: the held object's largest tilt; profiles ``carry`` and ``tilt`` (tilt over its
    largest value, not monotone: a pour tilts back).

    ``cfg.pour_tilt`` says how the tilt is read. ``gravity``: the angle between gravity's up and the
    held object's axis (``held_axis`` turned by the hand's rotation since the grasp), so a bottle
    taken already tipped, or a cup taken lying on its side, pours as far as it was tipped, not only
    as far as the hand turned after taking it; without a held axis (libraries written before it was
    kept) the tilt is read as ``grasp`` reads it. ``grasp``: the hand's rotation since the grasp (the
    object taken upright)."""
    if cfg.pour_tilt not in ("gravity", "grasp"):
        raise ConfigError(f"retarget.primitives.pour_tilt={cfg.pour_tilt!r}: use gravity or grasp")
    carry, extent = _carry_profile(p, up, cfg)
    if cfg.pour_tilt == "gravity" and held_axis is not None:
        axis = Rotation.from_rotvec(rotvec).apply(np.asarray(held_axis, float) / np.linalg.norm(held_axis))
        tilt = np.arccos(np.clip(axis @ up, -1.0, 1.0))
        method = "gravity_tilt"
    else:
        tilt = np.linalg.norm(rotvec, axis=1)
        method = "rotation"
    peak = robust_max(tilt)
    prof = np.clip(tilt / peak, 0.0, 1.0) if peak > 1e-6 else np.zeros(len(tilt))
    return SkillMotion(
        "pour", duration, {"tilt_rad": peak, "carry_m": extent}, {"carry": carry, "tilt": prof}, method
    )


def _fit_stir(p, rotvec, duration, up, cfg) -> SkillMotion:
    """``turns`` and ``radius_m`` of the loop the hand drew in the horizontal plane, and the sawing-like
    ``stroke_m`` and ``reversals`` of a stir that pushes back and forth (a spatula in a pan; see
    :func:`_strokes`); profiles ``angle`` (the angle swept about the loop's centre, radians, signed as
    the hand went) and ``stroke`` (metres along the strokes' axis). ``method`` is ``loop`` when the hand
    wound at least ``cfg.min_loop_turns`` turns, else ``strokes``."""
    e1, e2 = horizontal_basis(up)
    xy = np.c_[p @ e1, p @ e2]
    c = xy.mean(axis=0)
    a = np.unwrap(np.arctan2(xy[:, 1] - c[1], xy[:, 0] - c[0]))
    swept = a - a[0]
    radius = float(np.median(np.linalg.norm(xy - c, axis=1)))
    turns = float(abs(swept[-1]) / (2 * np.pi))
    stroke, amp, reversals, axis = _strokes(xy, cfg.min_stroke_m)
    return SkillMotion(
        "stir",
        duration,
        {
            "turns": turns,
            "radius_m": radius,
            "stroke_m": amp,
            "reversals": float(reversals),
            "axis_x": float(axis[0]),
            "axis_y": float(axis[1]),
        },
        {"angle": swept, "stroke": stroke},
        "loop" if turns >= cfg.min_loop_turns else "strokes",
    )


def _strokes(horiz: np.ndarray, min_stroke_m: float) -> tuple[np.ndarray, float, int, np.ndarray]:
    """(stroke (N,) metres along the main horizontal axis with the slow drift removed, half its range,
    reversals of direction of at least ``min_stroke_m``, the axis (2,) in ``horiz``'s basis) of a
    back-and-forth motion: a saw's strokes, or a spatula pushed to and fro."""
    _, _, vt = np.linalg.svd(horiz - horiz.mean(axis=0), full_matrices=False)
    s = horiz @ vt[0]
    n = len(s)
    win = max(3, n // 4) | 1
    drift = np.convolve(np.pad(s, win // 2, mode="edge"), np.ones(win) / win, mode="valid")
    stroke = s - drift
    amp = 0.5 * (robust_max(stroke) + robust_max(-stroke))
    reversals, direction, start = 0, 0, stroke[0]
    for i in range(1, n):  # hysteresis: a reversal needs a stroke of at least min_stroke_m
        d = np.sign(stroke[i] - stroke[i - 1])
        if d and d != direction:
            if direction and abs(stroke[i - 1] - start) >= min_stroke_m:
                reversals += 1
            start, direction = stroke[i - 1], d
    return stroke, amp, reversals, vt[0]


def _fit_cut(p, rotvec, duration, up, cfg) -> SkillMotion:
    """``stroke_m`` (half the sawing's range), ``reversals`` (changes of direction of at least
    ``min_stroke_m``) and ``sink_m`` (how far the hand went down); profiles ``stroke`` (metres along
    the sawing axis, the slow drift removed) and ``sink`` (downwards progress)."""
    e1, e2 = horizontal_basis(up)
    stroke, amp, reversals, _ = _strokes(np.c_[p @ e1, p @ e2], cfg.min_stroke_m)
    fall = -(p @ up)
    sink = robust_max(fall)
    return SkillMotion(
        "cut",
        duration,
        {"stroke_m": amp, "reversals": float(reversals), "sink_m": sink},
        {"stroke": stroke, "sink": progress(fall, sink)},
        "saw",
    )


_FITS = {
    "slide": _fit_slide,
    "hinge": _fit_hinge,
    "lift": _fit_lift,
    "place": _fit_place,
    "pour": _fit_pour,
    "stir": _fit_stir,
    "cut": _fit_cut,
}
