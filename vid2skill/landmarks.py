"""Hand landmark conventions shared by the synthetic generator and the extractor (MediaPipe's 21 points)."""

from __future__ import annotations

import numpy as np

WRIST, THUMB_TIP, INDEX_MCP, INDEX_TIP, MIDDLE_MCP, PINKY_MCP = 0, 4, 5, 8, 9, 17
NUM_LANDMARKS = 21


def palm_frame(landmarks: np.ndarray, right: bool = True) -> np.ndarray:
    """Rotation of the palm frame from 21 landmarks (any frame); the same convention as the hand frame.

    x points from the wrist to the middle-finger MCP, z out of the palm, y = z cross x. A left hand
    is the mirror image of a right one, so its across-the-palm vector is reversed to keep z volar.

    Args:
        landmarks: (..., 21, 3).
        right: whether these are a right hand's landmarks.

    Returns:
        (..., 3, 3) rotation matrices whose columns are the palm x, y, z axes.
    """
    wrist = landmarks[..., WRIST, :]
    x = landmarks[..., MIDDLE_MCP, :] - wrist
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    across = landmarks[..., PINKY_MCP, :] - landmarks[..., INDEX_MCP, :]  # towards +y on a right hand
    if not right:
        across = -across
    z = np.cross(x, across)
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def grasp_aperture_m(landmarks: np.ndarray) -> np.ndarray:
    """Thumb-tip to index-tip distance, (...,) from (..., 21, 3) metric landmarks."""
    return np.linalg.norm(landmarks[..., THUMB_TIP, :] - landmarks[..., INDEX_TIP, :], axis=-1)


def chirality(landmarks: np.ndarray) -> str:
    """"right" or "left" from the 3-D shape of a hand's landmarks (N, 21, 3) over many frames.

    Fingers flex towards the palm. With x from the wrist to the middle MCP and ``a`` from the index
    MCP to the pinky MCP, x cross a points out of the palm of a right hand and out of the back of a
    left one, so the fingertips' (and the opposed thumb's) side of the palm plane gives the hand.
    MediaPipe's handedness classifier errs on unusual views; this geometric vote does not need it.
    """
    wrist = landmarks[..., WRIST, :]
    x = landmarks[..., MIDDLE_MCP, :] - wrist
    a = landmarks[..., PINKY_MCP, :] - landmarks[..., INDEX_MCP, :]
    n = np.cross(x, a)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    tips = landmarks[..., [THUMB_TIP, 8, 12, 16, 20], :] - landmarks[..., [2, 5, 9, 13, 17], :]
    side = np.einsum("...kj,...j->...k", tips, n).sum(axis=-1)
    return "right" if np.median(side) > 0 else "left"
