"""A procedural human hand and forearm for synthetic demonstrations.

The hand is a kinematic skeleton with MediaPipe's 21-landmark layout. Each bone is a tapered
capsule; the capsules are blended into one smooth surface with a smooth-minimum signed distance
field and meshed by marching cubes. MediaPipe detects such a blended surface far more reliably
than separate capsules once the fingers curl, where separate capsules are mostly missed.

Hand frame (``T_world_hand`` places it): origin at the wrist, +x towards the middle-finger MCP,
+z out of the palm (volar side), +y = z cross x. For a right hand the thumb lies on the -y side.
All lengths are metres for a hand of scale 1.0 (an average adult hand, ~0.19 m wrist to middle tip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.measure import marching_cubes

# Finger name -> (MCP position xy, segment lengths prox/mid/dist, radius, splay angle deg).
_FINGERS = {
    "index": ((0.088, -0.024), (0.040, 0.024, 0.020), 0.0088, -5.0),
    "middle": ((0.093, -0.003), (0.045, 0.028, 0.021), 0.0091, 0.0),
    "ring": ((0.088, 0.017), (0.042, 0.026, 0.020), 0.0085, 5.0),
    "pinky": ((0.078, 0.035), (0.033, 0.020, 0.018), 0.0075, 11.0),
}
# Flexion (deg) of MCP, PIP, DIP at rest and added at full curl (a power grasp round a bar).
_FLEX_REST = np.array([6.0, 10.0, 6.0])
_FLEX_CURL = np.array([48.0, 64.0, 38.0])
_THUMB_CMC = np.array([0.026, -0.022, 0.008])
_THUMB_LENGTHS = (0.042, 0.033, 0.027)
_THUMB_RADII = (0.012, 0.0098, 0.0088)
_FOREARM_LENGTH = 0.16


def _rotate(v: np.ndarray, axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rodrigues rotation of vector ``v`` about unit ``axis``."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return v * c + np.cross(axis, v) * s + axis * np.dot(axis, v) * (1.0 - c)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def hand_keypoints(curl: float, scale: float = 1.0) -> np.ndarray:
    """21 MediaPipe-ordered landmarks of a right hand in the hand frame.

    Args:
        curl: 0 = relaxed open hand, 1 = fingers closed round a ~2 cm bar.
        scale: uniform hand size factor.

    Returns:
        (21, 3) float64, metres, hand frame.
    """
    curl = float(np.clip(curl, 0.0, 1.0))
    kp = np.zeros((21, 3))
    # Thumb: the metacarpal swings from the palm plane towards opposition as the hand closes.
    d = _unit((1 - curl) * np.array([0.55, -0.80, 0.20]) + curl * np.array([0.62, -0.30, 0.72]))
    bend_to = _unit(np.array([0.45, 0.35, 0.80]))
    axis = _unit(np.cross(d, bend_to))
    flex = np.radians([8.0 + 22.0 * curl, 10.0 + 30.0 * curl])
    p = _THUMB_CMC.copy()
    kp[1] = p
    for j, length in enumerate(_THUMB_LENGTHS):
        if j > 0:
            d = _rotate(d, axis, flex[j - 1])
        p = p + d * length
        kp[2 + j] = p
    for f_i, (mcp_xy, lengths, _r, splay) in enumerate(_FINGERS.values()):
        base = 5 + 4 * f_i
        splay_rad = np.radians(splay * (1.0 - 0.7 * curl))
        d = np.array([np.cos(splay_rad), np.sin(splay_rad), 0.0])
        lateral = np.array([-np.sin(splay_rad), np.cos(splay_rad), 0.0])
        # Rotating about -lateral turns +x towards +z: the finger curls to the palm side.
        axis = -lateral
        p = np.array([mcp_xy[0], mcp_xy[1], 0.0])
        kp[base] = p
        angles = np.radians(_FLEX_REST + curl * _FLEX_CURL)
        for j, length in enumerate(lengths):
            d = _rotate(d, axis, angles[j])
            p = p + d * length
            kp[base + 1 + j] = p
    return kp * scale


def _capsules(curl: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Capsule endpoints a, b (N, 3) and radii ra, rb (N,) of the unit-scale hand and forearm."""
    kp = hand_keypoints(curl)
    segs: list[tuple[np.ndarray, np.ndarray, float, float]] = []
    # Forearm and wrist.
    segs.append((np.array([-_FOREARM_LENGTH, 0.0, -0.004]), np.array([-0.005, 0.0, 0.0]), 0.030, 0.024))
    # Palm: rays from the carpus to each MCP plus a band joining the MCPs (a thick slab once blended).
    for f_i, (_name, (_xy, _l, radius, _s)) in enumerate(_FINGERS.items()):
        mcp = kp[5 + 4 * f_i]
        carpus = np.array([0.012, mcp[1] * 0.45, 0.0])
        segs.append((carpus, mcp, 0.017, radius * 1.25))
    for a, b in ((5, 9), (9, 13), (13, 17)):
        segs.append((kp[a], kp[b], 0.0105, 0.0105))
    # Thenar eminence, then the thumb bones.
    segs.append((np.array([0.025, -0.010, 0.004]), kp[2], 0.016, _THUMB_RADII[0]))
    for j in range(3):
        segs.append(
            (kp[1 + j], kp[2 + j], _THUMB_RADII[j], _THUMB_RADII[min(j + 1, 2)] * (0.9 if j == 2 else 1.0))
        )
    for f_i, (_name, (_xy, _l, radius, _s)) in enumerate(_FINGERS.items()):
        base = 5 + 4 * f_i
        for j in range(3):
            taper = 1.0 - 0.08 * j
            segs.append((kp[base + j], kp[base + j + 1], radius * taper, radius * (taper - 0.08)))
    a = np.array([s[0] for s in segs])
    b = np.array([s[1] for s in segs])
    return a, b, np.array([s[2] for s in segs]), np.array([s[3] for s in segs])


def _capsule_sdf(
    points: np.ndarray, a: np.ndarray, b: np.ndarray, ra: np.ndarray, rb: np.ndarray
) -> np.ndarray:
    """Signed distance (N_caps, N_points) from points (N_points, 3) to tapered capsules."""
    ba = b - a  # (C, 3)
    pa = points[None, :, :] - a[:, None, :]  # (C, P, 3)
    t = np.clip(np.einsum("cpk,ck->cp", pa, ba) / np.einsum("ck,ck->c", ba, ba)[:, None], 0.0, 1.0)
    closest = pa - t[..., None] * ba[:, None, :]
    radius = ra[:, None] + t * (rb - ra)[:, None]
    return np.linalg.norm(closest, axis=-1) - radius


@dataclass(frozen=True)
class HandMesh:
    """A triangle mesh of the blended hand surface in the hand frame (unit scale)."""

    vertices: np.ndarray  # (V, 3) float32, metres
    normals: np.ndarray  # (V, 3) float32, unit, outward
    indices: np.ndarray  # (F*3,) int32, counter-clockwise seen from outside


def build_hand_mesh(curl: float, voxel_m: float = 0.0025, blend_m: float = 0.0045) -> HandMesh:
    """Blend the capsules of a hand pose with an exponential smooth minimum and mesh it.

    Args:
        curl: finger curl in [0, 1] (see :func:`hand_keypoints`).
        voxel_m: marching-cubes grid spacing.
        blend_m: smooth-minimum radius; larger gives webbing between fingers.
    """
    a, b, ra, rb = _capsules(curl)
    margin = 0.04
    lo = np.minimum(a.min(0), b.min(0)) - margin
    hi = np.maximum(a.max(0), b.max(0)) + margin
    axes = [np.arange(lo[k], hi[k], voxel_m) for k in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    sdf = np.empty(len(grid), dtype=np.float64)
    for start in range(0, len(grid), 200_000):
        d = _capsule_sdf(grid[start : start + 200_000], a, b, ra, rb)
        # Exponential smooth minimum: -k log sum exp(-d / k), stable form.
        dmin = d.min(axis=0)
        sdf[start : start + 200_000] = dmin - blend_m * np.log(np.exp(-(d - dmin) / blend_m).sum(axis=0))
    volume = sdf.reshape([len(ax) for ax in axes])
    verts, faces, normals, _ = marching_cubes(volume, level=0.0, spacing=(voxel_m,) * 3)
    verts = verts + lo
    # With an SDF (negative inside) skimage's triangles already wind counter-clockwise seen from
    # outside, but its vertex normals follow the descending field, i.e. point inwards: flip them.
    normals = -normals
    return HandMesh(verts.astype(np.float32), normals.astype(np.float32), faces.reshape(-1).astype(np.int32))
