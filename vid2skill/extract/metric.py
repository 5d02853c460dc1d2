"""Lifting MediaPipe landmarks to metric 3-D in the camera frame.

MediaPipe gives, per hand, image landmarks (pixels) and world landmarks: metric 3-D points around
the hand's centre whose axes follow the camera's. The hand's translation t in the camera frame is
the one that makes the pinhole projection of (world landmarks + t) land on the image landmarks;
that is linear in t (a PnP with known rotation):

    fx (X_i + tx) - (u_i - cx)(Z_i + tz) = 0,   fy (Y_i + ty) - (v_i - cy)(Z_i + tz) = 0

solved by least squares over the 21 landmarks of each frame. Depth is thus set by the hand's metric
size against its image size.
"""

from __future__ import annotations

import numpy as np


def intrinsics_from_fov(width: int, height: int, hfov_deg: float) -> list[float]:
    """[fx, fy, cx, cy] of a pinhole camera with square pixels and the given horizontal FOV."""
    f = (width / 2) / np.tan(np.radians(hfov_deg) / 2)
    return [f, f, width / 2, height / 2]


def hand_translation(world: np.ndarray, px: np.ndarray, intrinsics, scale: float = 1.0) -> np.ndarray:
    """Camera-frame translation (T, 3) of each frame's hand.

    Args:
        world: (T, 21, 3) MediaPipe world landmarks, metres.
        px: (T, 21, 2) image landmarks, pixels.
        intrinsics: [fx, fy, cx, cy].
        scale: multiplies the world landmarks (a known hand-size correction).
    """
    fx, fy, cx, cy = intrinsics
    X, Y, Z = np.moveaxis(world * scale, -1, 0)  # (T, 21) each
    du, dv = px[..., 0] - cx, px[..., 1] - cy
    T, N = X.shape
    A = np.zeros((T, 2 * N, 3))
    b = np.zeros((T, 2 * N))
    A[:, :N, 0] = fx
    A[:, :N, 2] = -du
    b[:, :N] = du * Z - fx * X
    A[:, N:, 1] = fy
    A[:, N:, 2] = -dv
    b[:, N:] = dv * Z - fy * Y
    AtA = np.einsum("tki,tkj->tij", A, A)
    Atb = np.einsum("tki,tk->ti", A, b)
    return np.linalg.solve(AtA, Atb[..., None])[..., 0]
