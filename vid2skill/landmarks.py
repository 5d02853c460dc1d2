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


def index_side(R_palm: np.ndarray, right: bool) -> np.ndarray:
    """(..., 3) the knuckle line's index side (pinky MCP towards index MCP) from palm frames
    (..., 3, 3) of :func:`palm_frame`: their y runs from the index to the pinky on a right hand and
    the other way on a left one. A cup, bottle or handle held from the side lies along it."""
    return R_palm[..., :, 1] * (-1.0 if right else 1.0)


def grasp_aperture_m(landmarks: np.ndarray) -> np.ndarray:
    """Thumb-tip to index-tip distance, (...,) from (..., 21, 3) metric landmarks."""
    return np.linalg.norm(landmarks[..., THUMB_TIP, :] - landmarks[..., INDEX_TIP, :], axis=-1)


# Palm bones whose metric length MediaPipe's world landmarks keep (nearly) whatever the fingers do.
PALM_BONES = ((WRIST, INDEX_MCP), (WRIST, PINKY_MCP), (INDEX_MCP, PINKY_MCP), (WRIST, MIDDLE_MCP))


def grasp_aperture_image_m(world: np.ndarray, px: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Thumb-tip to index-tip distance, (...,), its in-image part measured on the image landmarks.

    MediaPipe's image landmarks place the fingertips more precisely than its metric ones, which
    shrink a spread hand's aperture. The tips' pixel distance is turned into metres by the palm's
    least foreshortened bone (the smallest metres-per-pixel ratio among :data:`PALM_BONES`: a bone
    seen obliquely only looks shorter); the part along the camera's axis comes from the metric
    landmarks, whose axes follow the camera's.

    Args:
        world: (..., 21, 3) metric landmarks, camera-aligned axes.
        px: (..., 21, 2) image landmarks, pixels.
        scale: multiplies the metric landmarks (a known hand-size correction).
    """
    ratios = [
        np.linalg.norm(world[..., i, :] - world[..., j, :], axis=-1)
        / np.maximum(np.linalg.norm(px[..., i, :] - px[..., j, :], axis=-1), 1e-6)
        for i, j in PALM_BONES
    ]
    in_image = np.linalg.norm(px[..., THUMB_TIP, :] - px[..., INDEX_TIP, :], axis=-1) * np.min(ratios, axis=0)
    along = world[..., THUMB_TIP, 2] - world[..., INDEX_TIP, 2]
    return scale * np.hypot(in_image, along)


def chirality_score(landmarks: np.ndarray) -> np.ndarray:
    """Per frame, positive for a right hand's shape and negative for a left's: (...,) from (..., 21, 3).

    Fingers flex towards the palm. With x from the wrist to the middle MCP and ``a`` from the index
    MCP to the pinky MCP, x cross a points out of the palm of a right hand and out of the back of a
    left one, so the fingertips' (and the opposed thumb's) side of the palm plane gives the hand.
    """
    wrist = landmarks[..., WRIST, :]
    x = landmarks[..., MIDDLE_MCP, :] - wrist
    a = landmarks[..., PINKY_MCP, :] - landmarks[..., INDEX_MCP, :]
    n = np.cross(x, a)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    tips = landmarks[..., [THUMB_TIP, 8, 12, 16, 20], :] - landmarks[..., [2, 5, 9, 13, 17], :]
    return np.einsum("...kj,...j->...k", tips, n).sum(axis=-1)


def chirality(landmarks: np.ndarray) -> str:
    """ "right" or "left" from the 3-D shape of a hand's landmarks (N, 21, 3) over many frames (a
    median vote)."""
    return "right" if np.median(chirality_score(landmarks)) > 0 else "left"


def resolve_depth_mirror(landmarks: np.ndarray, right: bool) -> np.ndarray:
    """Flip the depth of the frames whose 3-D shape is the other hand's: (T, 21, 3) camera-aligned landmarks.

    A monocular 3-D hand is ambiguous up to a mirror in depth: a right hand seen palm-on and a left
    hand seen from the back project to the same image. MediaPipe's metric landmarks pick either
    interpretation, frame by frame (on rendered hands about half the frames are mirrored). Knowing
    which hand it is, the mirrored frames are flipped back (z -> -z about the hand's centre).
    """
    out = np.array(landmarks, dtype=np.float64, copy=True)
    score = chirality_score(out)
    wrong = np.isfinite(score) & ((score < 0) if right else (score > 0))
    centre_z = out[wrong, :, 2].mean(axis=1, keepdims=True)
    out[wrong, :, 2] = 2 * centre_z - out[wrong, :, 2]
    return out
