"""Features that make skills separable whatever the camera: the path itself, or motion descriptors.

``path`` features are the contact-frame displacement resampled in time: exact where depth is good,
but monocular depth noise of 5-15 cm swamps the shape of a 20 cm motion. ``descriptors`` are a
handful of scalars, each named after a motion people can see (a pull, a swing, a roll of the wrist,
circles, a saw, a lift), measured mostly in the image, where a straight line stays straight and a
circle stays closed under any perspective, and in hand lengths, so that neither the camera's
distance nor the video's size matters.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.spatial.transform import Rotation

from vid2skill.errors import ConfigError
from vid2skill.skills.segment import ContactTrajectory

# name: (what it measures, scale). Each descriptor is divided by its scale, so that a difference of
# one scale unit is "clearly different" for every descriptor alike; fixed scales (not the spread of
# the clips at hand) keep distances comparable across library versions and `add` runs.
DESCRIPTORS: dict[str, tuple[str, float]] = {
    "approach": (
        "the manipulation against the hand's reach and retreat (ContactTrajectory.approach): -1 a pull back "
        "the way the hand came, +1 a push on, 0 across",
        0.5,
    ),
    "straightness": (
        "net image displacement over (smoothed) image path length: 1 for a line, ~0 for circles or a saw",
        0.2,
    ),
    "arc": (
        "largest image distance from the start-end chord over the chord's length, at most 0.25: a swing "
        "about a hinge",
        0.1,
    ),
    "reversals": ("turns back along the image path's main direction (sawing, stirring), at most 4", 1.0),
    "turns": ("signed-angle winding of the image path about its centre, in turns (circles)", 0.5),
    "rotation": (
        "3-D rotation of the hand from the grasp's first quarter to its last (between their mean "
        "orientations), rad: a pour rolls the wrist",
        0.6,
    ),
    "image_roll": ("largest in-plane rotation of the hand since the grasp (running median of 5), rad", 0.4),
    "top": (
        "a grasp from above: 1 when the fingers point down in the image over the grasp's first quarter "
        "(sine <= -0.9), 0 when level or up (>= -0.5)",
        0.5,
    ),
    "lift": (
        "top times the image-up share of the net displacement over the extent: an object grasped from above "
        "and raised",
        0.5,
    ),
    "lower": (
        "top times the drop from the highest image point to the end, over the extent: lowered and released",
        0.5,
    ),
    "rise": (
        "image-up share of the net image displacement: +1 straight up, -1 straight down, whatever the grasp",
        0.5,
    ),
    "log_duration": ("natural log of the grasp's duration in seconds (0.3-20 s)", 0.5),
    "log_extent": ("natural log of the largest image displacement, in hand lengths (0.3-20)", 0.5),
}


def trajectory_features(
    trajs: list[ContactTrajectory], points: int, rotation_m_per_rad: float = 0.0
) -> np.ndarray:
    """(N, points * 6 + 1) path features: the displacement path, the hand's rotation since the
    grasp (weighted as ``rotation_m_per_rad`` metres per radian) and the log duration."""
    feats = []
    for tr in trajs:
        idx = np.linspace(0, len(tr.position_m) - 1, points).round().astype(int)
        feats.append(
            np.concatenate(
                [
                    tr.position_m[idx].ravel(),
                    rotation_m_per_rad * tr.rotvec[idx].ravel(),
                    [np.log(max(tr.duration_s, 1e-2)) * 0.05],
                ]
            )
        )
    return np.asarray(feats)


def _principal_axes(path: np.ndarray) -> np.ndarray:
    """(2, 2) rows: the main direction of a 2-D point set, then the one across it."""
    _, _, vt = np.linalg.svd(path - path.mean(axis=0), full_matrices=False)
    return vt


def count_reversals(s: np.ndarray, hysteresis: float) -> int:
    """Times a 1-D signal turns back by more than ``hysteresis`` after moving the other way."""
    direction, extreme, n = 0, s[0], 0
    for v in s[1:]:  # a hysteresis scan is sequential
        if direction >= 0 and v < extreme - hysteresis:
            n += direction > 0
            direction, extreme = -1, v
        elif direction <= 0 and v > extreme + hysteresis:
            n += direction < 0
            direction, extreme = 1, v
        elif (direction > 0 and v > extreme) or (direction < 0 and v < extreme):
            extreme = v
    return n


def _arc(xy: np.ndarray, chord: np.ndarray, net: float) -> float:
    """Largest distance of the (T, 2) image path from its start-end ``chord``, over the chord's length
    ``net`` (1 where the path ends where it began)."""
    if net > 1e-6:
        u = chord / net
        across = (xy - xy[0]) - np.outer((xy - xy[0]) @ u, u)
        return float(np.linalg.norm(across, axis=1).max()) / net
    return 1.0


def _reversals_and_turns(xy: np.ndarray, extent: float) -> tuple[int, float]:
    """How often the (T, 2) image path turns back along its main direction, and how many turns it
    winds about its centre (0 and 0.0 for a path of no ``extent``)."""
    if extent > 1e-6:
        centred = xy - xy.mean(axis=0)
        along = centred @ _principal_axes(xy)[0]
        reversals = count_reversals(along, 0.25 * float(np.ptp(along)))
        angle = np.unwrap(np.arctan2(centred[:, 1], centred[:, 0]))
        return reversals, abs(float(angle[-1] - angle[0])) / (2 * np.pi)
    return 0, 0.0


def _held_rotation(rotvec: np.ndarray) -> float:
    """Rotation, rad, between the hand's mean orientations over the first and the last quarter of the
    grasp (``rotvec`` (T, 3)).

    Means, not single frames: a single palm frame is off by tens of degrees, and the largest angle
    would be one bad frame's.
    """
    quarter = max(1, len(rotvec) // 4)
    held = Rotation.from_rotvec(rotvec)
    return float((held[-quarter:].mean() * held[:quarter].mean().inv()).magnitude())


def describe(tr: ContactTrajectory) -> dict[str, float]:
    """The :data:`DESCRIPTORS` of one manipulation, in their own units.

    The image path is first smoothed over a twelfth of its samples: landmark jitter of a few pixels
    per frame otherwise adds path length enough to make a straight pull look curved.
    """
    window = max(1, int(round(len(tr.image_path) / 12))) | 1
    xy = uniform_filter1d(tr.image_path[:, :2], window, axis=0, mode="nearest")
    direction = median_filter(tr.image_path[:, 2], size=5, mode="nearest")
    roll = direction - direction[0]
    steps = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    length = float(steps.sum())
    chord = xy[-1] - xy[0]
    net = float(np.linalg.norm(chord))
    extent = float(np.linalg.norm(xy - xy[0], axis=1).max())
    arc = _arc(xy, chord, net)
    reversals, turns = _reversals_and_turns(xy, extent)
    rotation = _held_rotation(tr.rotvec)
    known_fingers = bool(np.any(tr.image_path[:, 2]))
    # The first quarter's median, not the grasp's first frame: one misread hand flips a single frame.
    fingers = float(np.median(np.sin(direction[: max(1, len(direction) // 4)]))) if known_fingers else 0.0
    top = float(np.clip((-fingers - 0.5) / 0.4, 0.0, 1.0))
    up = xy[:, 1] - xy[0, 1]
    approach = tr.approach
    if not np.isfinite(approach):  # hand-made trajectories: the contact x is signed by the approach already
        approach = float(tr.position_m[-1, 0] / (np.linalg.norm(tr.position_m[-1]) + 1e-9))
    return {
        "approach": float(approach),
        "straightness": net / length if length > 1e-6 else 1.0,
        # Capped just above a quarter-turn swing seen square-on (0.21): beyond it a path is simply not
        # straight, and how far it wanders (a stir, a carry, a real clip's drift) is noise that an
        # uncapped arc turned into clusters of its own.
        "arc": min(arc, 0.25),
        "reversals": float(min(reversals, 4)),
        "turns": min(turns, 4.0),
        "rotation": min(rotation, np.pi),
        "image_roll": min(float(np.abs(roll).max()), np.pi),
        "top": top,
        "lift": top * max(float(up[-1]) / extent, 0.0) if extent > 1e-6 else 0.0,
        "lower": top * float(up.max() - up[-1]) / extent if extent > 1e-6 else 0.0,
        "rise": float(chord[1] / net) if net > 1e-6 else 0.0,
        # Grasps cut to a few frames or smeared over a whole clip stay within reach of the rest.
        "log_duration": float(np.clip(np.log(max(tr.duration_s, 1e-2)), np.log(0.3), np.log(20.0))),
        "log_extent": float(np.clip(np.log(max(extent, 1e-2)), np.log(0.3), np.log(20.0))),
    }


def descriptor_features(trajs: list[ContactTrajectory], weights: dict[str, float]) -> np.ndarray:
    """(N, D) descriptors divided by their scales and multiplied by ``weights`` (a descriptor left
    out of ``weights`` or weighted 0 is not used)."""
    unknown = sorted(set(weights) - set(DESCRIPTORS))
    if unknown:
        raise ConfigError(
            f"cluster.descriptor_weights: unknown descriptor(s) {unknown}; known: {sorted(DESCRIPTORS)}"
        )
    negative = sorted(k for k, w in weights.items() if float(w) < 0.0)
    if negative:
        raise ConfigError(
            f"cluster.descriptor_weights: {negative} < 0; weights are >= 0 (0 leaves a descriptor out)"
        )
    used = [k for k in DESCRIPTORS if float(weights.get(k, 0.0)) > 0.0]
    if not used:
        raise ConfigError(
            "cluster.descriptor_weights: every weight is 0; give at least one descriptor a weight"
        )
    rows = [describe(tr) for tr in trajs]
    return np.array([[r[k] / DESCRIPTORS[k][1] * float(weights[k]) for k in used] for r in rows]).reshape(
        len(trajs), len(used)
    )


def features(trajs: list[ContactTrajectory], cfg) -> np.ndarray:
    """The clustering features ``cfg.features`` names (``descriptors`` or ``path``)."""
    kind = str(cfg.features)
    if kind == "descriptors":
        return descriptor_features(trajs, dict(cfg.descriptor_weights))
    if kind == "path":
        return trajectory_features(trajs, cfg.feature_points, cfg.feature_rotation_m_per_rad)
    raise ConfigError(
        f"cluster.features={kind!r}: use descriptors (motion descriptors) or path (the resampled path)"
    )
