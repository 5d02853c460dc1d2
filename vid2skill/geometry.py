"""Rigid transforms and motion profiles (numpy, vectorised over leading axes).

Conventions: rotations are 3x3 matrices or xyzw quaternions (PyBullet's order); a transform named
``T_a_b`` maps coordinates in frame b to frame a; positions are metres.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def make_T(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4x4 homogeneous transform(s) from rotation (..., 3, 3) and translation (..., 3)."""
    R, t = np.asarray(R), np.asarray(t)
    if R.ndim == 2 and t.ndim == 1:  # one transform: the common case in control loops, 5x cheaper
        T = np.eye(4)
        T[:3, :3] = R
        T[:3, 3] = t
        return T
    T = np.zeros(np.broadcast_shapes(R.shape[:-2], t.shape[:-1]) + (4, 4))
    T[..., :3, :3] = R
    T[..., :3, 3] = t
    T[..., 3, 3] = 1.0
    return T


def inv_T(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid transform(s) (..., 4, 4)."""
    R = np.swapaxes(T[..., :3, :3], -1, -2)
    if T.ndim == 2:
        return make_T(R, -R @ T[:3, 3])
    return make_T(R, -np.einsum("...ij,...j->...i", R, T[..., :3, 3]))


def apply_T(T: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Transform points p (..., 3) by T (4, 4) or (..., 4, 4)."""
    return np.einsum("...ij,...j->...i", T[..., :3, :3], p) + T[..., :3, 3]


def quat_to_R(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from xyzw quaternions (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 1:  # one quaternion (every pose read from PyBullet): no SciPy object, 10x cheaper
        x, y, z, w = q / np.sqrt(q @ q)
        return np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
            ]
        )
    return Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(q.shape[:-1] + (3, 3))


def R_to_quat(R: np.ndarray) -> np.ndarray:
    """xyzw quaternions (..., 4) from rotation matrices (..., 3, 3)."""
    R = np.asarray(R, dtype=np.float64)
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_quat().reshape(R.shape[:-2] + (4,))


def rotation_angle_deg(R_a: np.ndarray, R_b: np.ndarray) -> np.ndarray:
    """Geodesic angle (...,) in degrees between rotations R_a and R_b (..., 3, 3)."""
    R = np.einsum("...ji,...jk->...ik", R_a, R_b)
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def rot_z(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def axis_angle_R(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotation matrix about a unit axis (Rodrigues)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * K + (1 - np.cos(angle_rad)) * K @ K


def look_at_R(forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation whose z axis is ``forward`` and whose -y axis is as close to ``up`` as possible.

    This is the OpenCV camera convention (x right, y down, z forward).
    """
    z = forward / np.linalg.norm(forward)
    x = np.cross(z, up)
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def min_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk time scaling 10s^3 - 15s^4 + 6s^5 of s in [0, 1] (human reaching profile)."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10 - 15 * s + 6 * s * s)


def interp_rows(x_new: np.ndarray, x_old: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of each column of ``values`` (N, D), sampled at ``x_old`` (N,), at ``x_new``
    (M,)."""
    return np.stack([np.interp(x_new, x_old, values[:, k]) for k in range(values.shape[1])], axis=1)


# The gripper's grasp frame (z along the approach, y across the jaws) expressed in a contact frame
# (x into the object): approach along contact x, jaws closing along contact z. Columns are the
# grasp frame's axes in contact coordinates.
R_CONTACT_GRASP = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def frame_from_x_and_up(x: np.ndarray, origin: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """T_world_frame with x along ``x`` and z as close to ``up`` (default world z) as possible
    (y = z cross x)."""
    if up is None:
        up = np.array([0.0, 0.0, 1.0])
    x = np.asarray(x, dtype=np.float64) / np.linalg.norm(x)
    y = np.cross(up, x)
    y /= np.linalg.norm(y)
    return make_T(np.stack([x, y, np.cross(x, y)], axis=1), np.asarray(origin, dtype=np.float64))
