"""Arms from MediaPipe Pose, and crops around the hands that the pose model sees.

MediaPipe's palm detector runs on the whole frame resized to 192 px, so a hand a few dozen pixels
wide in a wide third-person shot is often missed. The pose model finds the person at that scale
and places each arm's wrist, elbow and the hand's index, pinky and thumb points; a square crop
around that hand, resized up to the hand landmark model's working size, puts the hand back in the
range where MediaPipe Hands works.

Only the full pose model (complexity 1) ships in the mediapipe 0.10.21 wheel; the lite and heavy
ones would be downloaded at run time, which vid2skill never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# MediaPipe Pose landmark indices, per side of the body (the person's own left and right).
POSE_ARM = {
    "left": {"shoulder": 11, "elbow": 13, "wrist": 15, "pinky": 17, "index": 19, "thumb": 21},
    "right": {"shoulder": 12, "elbow": 14, "wrist": 16, "pinky": 18, "index": 20, "thumb": 22},
}
ARM_JOINTS = ("shoulder", "elbow", "wrist")
SIDES = ("left", "right")


@dataclass
class ArmPose:
    """One arm as the pose model sees it in one frame.

    px: (3, 2) shoulder, elbow, wrist in pixels.
    world: (3, 3) the same joints in metres, hip-centred, axes along the camera's (MediaPipe's pose
        world landmarks).
    visibility: (3,) MediaPipe's visibility of each joint, 0-1.
    hand_px: (3, 2) the hand's index, pinky and thumb points in pixels (a coarse hand outline).
    """

    side: str
    px: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    hand_px: np.ndarray

    @property
    def wrist_px(self) -> np.ndarray:
        return self.px[2]

    @property
    def wrist_visibility(self) -> float:
        return float(self.visibility[2])


class MediaPipePose:
    """MediaPipe Pose (legacy solution API, full model bundled in the wheel) in video mode."""

    def __init__(self, min_detection_confidence: float, min_tracking_confidence: float):
        import mediapipe as mp

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=1,
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def detect(self, rgb: np.ndarray) -> dict[str, ArmPose]:
        """Both arms of the most prominent person, keyed by side; empty when no person is found."""
        h, w = rgb.shape[:2]
        res = self._pose.process(np.ascontiguousarray(rgb))
        if res.pose_landmarks is None:
            return {}
        lm = res.pose_landmarks.landmark
        wl = res.pose_world_landmarks.landmark
        arms = {}
        for side in SIDES:
            ids = POSE_ARM[side]
            joints = [ids[j] for j in ARM_JOINTS]
            hand = [ids["index"], ids["pinky"], ids["thumb"]]
            arms[side] = ArmPose(
                side=side,
                px=np.array([[lm[i].x * w, lm[i].y * h] for i in joints]),
                world=np.array([[wl[i].x, wl[i].y, wl[i].z] for i in joints]),
                visibility=np.array([lm[i].visibility for i in joints]),
                hand_px=np.array([[lm[i].x * w, lm[i].y * h] for i in hand]),
            )
        return arms

    def close(self) -> None:
        self._pose.close()


def hand_box(arm: ArmPose, scale: float, min_size_px: float) -> tuple[np.ndarray, float]:
    """Square box (centre (2,) px, side px) around the hand of one arm.

    The centre is the mean of the pose model's wrist, index, pinky and thumb points; the side is
    ``scale`` times the hand's extent, taken as the larger of the wrist-to-fingers distance and half
    the forearm (the hand is about as long as half a forearm, and the fingers' pose points are
    unreliable when the hand is small or curled), and at least ``min_size_px``.
    """
    pts = np.vstack([arm.wrist_px[None], arm.hand_px])
    centre = pts.mean(axis=0)
    fingers = float(np.linalg.norm(arm.hand_px - arm.wrist_px, axis=1).max())
    forearm = float(np.linalg.norm(arm.px[2] - arm.px[1]))
    side = max(scale * max(fingers, 0.5 * forearm), min_size_px)
    return centre, side


def crop_square(
    rgb: np.ndarray, centre: np.ndarray, side: float, out_px: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Cut a square (padded with black beyond the image) and resize it to ``out_px``.

    Coordinates are continuous (0 at the outer edge of the first pixel, as MediaPipe's normalised
    landmarks times the image size). Returns the crop (out_px, out_px, 3), its origin (2,) in the
    image and its scale s, so that ``image_xy = origin + s * crop_xy``.
    """
    import cv2

    s = side / out_px
    origin = np.asarray(centre, dtype=np.float64) - side / 2
    # Pixel index i of the crop has its centre at continuous crop coordinate i + 0.5, which is the
    # image's continuous origin + s (i + 0.5), i.e. image pixel index origin + s (i + 0.5) - 0.5.
    A = np.array([[s, 0.0, origin[0] + 0.5 * s - 0.5], [0.0, s, origin[1] + 0.5 * s - 0.5]])
    crop = cv2.warpAffine(
        rgb,
        cv2.invertAffineTransform(A),
        (out_px, out_px),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return crop, origin, s
