"""The camera's own rotation over a clip, from the background, so that a moving (head-worn) camera's
turns are not read as the hand's motion.

Each frame's ORB features, with the hands and arms masked out, are matched to a keyframe's and a
homography is fitted by RANSAC. A camera that turns about its centre maps image points by
``H = K R K^-1``, so ``K^-1 H K``, made a rotation, is the turn since the keyframe; turns chain
through keyframes (a new one once the matches thin out), which bounds the drift. The camera's
translation is ignored: for a head turning over a table a metre away, its rotation moves the image
far more. A frame in which a good share of the matched background has not moved at all is still,
however much moves in front of the camera; a clip whose camera turns less than
``min_rotation_deg`` in all, or whose background sits where the first frame's did in a share
``static_clip_frac`` of its frames (a still camera that a person walked in front of), is static;
so is one that films the actor's body in a share ``body_static_frac`` of its frames: a camera
set up to watch a person is seldom moved, and the background left around a moving person is too
little to tell a turn from the person's motion (on real clips it read tens of degrees of turn
into tripod shots). Head-worn and hand-held close-up cameras see hands, not a body.
"""

from __future__ import annotations

import cv2
import numpy as np


def mask_regions(
    shape: tuple, regions: list[tuple[np.ndarray, bool]], scale: float, pad_frac: float
) -> np.ndarray:
    """A uint8 mask (255: keep) with each region's box zeroed: its (K, 2) pixel points times
    ``scale``, padded by ``pad_frac`` of the box's extent, down to the image's bottom where the
    region's flag says so (a body stands below its shoulders)."""
    mask = np.full(shape, 255, np.uint8)
    for pts, to_bottom in regions:
        pts = pts[np.isfinite(pts).all(axis=1)] * scale
        if len(pts):
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            pad = pad_frac * max(float((hi - lo).max()), 1.0)
            x0, y0 = np.maximum(lo - pad, 0).astype(int)
            x1, y1 = (hi + pad).astype(int)
            mask[y0 : (shape[0] if to_bottom else y1 + 1), x0 : x1 + 1] = 0
    return mask


def rotation_from_homography(H: np.ndarray, K: np.ndarray) -> np.ndarray:
    """The rotation (3, 3) nearest to ``K^-1 H K`` (a homography of a camera turning about its centre)."""
    M = np.linalg.inv(K) @ H @ K
    U, _, Vt = np.linalg.svd(M / np.cbrt(np.linalg.det(M)))
    R = U @ Vt
    return R if np.linalg.det(R) > 0 else U @ np.diag([1.0, 1.0, -1.0]) @ Vt


class CameraMotion:
    """Feeds on frames in order; ``R_ref_cam`` lists, per frame, the rotation taking camera-frame
    vectors of that frame into the first frame's camera frame (identity where it could not be told)."""

    def __init__(self, intrinsics: list, width: int, height: int, cfg):
        self.cfg = cfg
        self.scale = min(1.0, cfg.width_px / max(width, 1))
        fx, fy, cx, cy = (float(v) * self.scale for v in intrinsics)
        self.K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
        self.size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        self.orb = cv2.ORB_create(nfeatures=int(cfg.features))
        self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
        self.key: tuple | None = (
            None  # (keypoints' points (N, 2), descriptors, R_ref_key, match count at its start)
        )
        self.R_ref_cam: list[np.ndarray] = []
        self.lost = 0
        self.still_frames = 0  # frames whose background sits where the first frame's did
        self.body_frames = 0  # frames in which the pose model sees the actor's body
        self.first: tuple | None = None

    def update(self, rgb: np.ndarray, hands_px: list[np.ndarray], body_px: np.ndarray | None = None) -> None:
        """Add one frame; ``hands_px``: (K, 2) pixel points of each hand seen in it, ``body_px``: the
        pose model's arm points of the person, if any. Both are masked out, the person down to the
        image's bottom (a body stands below its shoulders)."""
        gray = cv2.cvtColor(cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        self.body_frames += body_px is not None and bool(np.isfinite(body_px).all(axis=1).any())
        boxes = [(pts, False) for pts in hands_px] + ([(body_px, True)] if body_px is not None else [])
        mask = mask_regions(gray.shape, boxes, self.scale, self.cfg.mask_pad_frac)
        kps, des = self.orb.detectAndCompute(gray, mask)
        pts = np.array([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
        if self.key is None:
            self._keyframe(pts, des, np.eye(3))
            self.first = (pts, des)
            self.R_ref_cam.append(np.eye(3))
            self.still_frames += 1
            return
        self.still_frames += self._still(*self.first, pts, des)
        turn = self._turn_since_key(pts, des)
        if turn is None:  # nothing to tell the turn by: hold the last estimate, start afresh from here
            self.lost += 1
            R_now = self.R_ref_cam[-1]
            self._keyframe(pts, des, R_now)
        else:
            R_key_cam, inliers = turn
            R_now = self.key[2] @ R_key_cam
            if inliers < self.cfg.keyframe_inlier_frac * self.key[3]:  # the view moved on: a new keyframe
                self._keyframe(pts, des, R_now)
        self.R_ref_cam.append(R_now)

    def _still(self, ref_pts, ref_des, pts, des) -> bool:
        """Whether a good share of the reference frame's matched features sit where they were."""
        if des is None or ref_des is None:
            return False
        matches = self.matcher.match(ref_des, des)
        if not matches:
            return False
        d = ref_pts[[m.queryIdx for m in matches]] - pts[[m.trainIdx for m in matches]]
        still = int((np.linalg.norm(d, axis=1) < self.cfg.still_px).sum())
        return still >= max(self.cfg.min_matches, self.cfg.still_frac * len(matches))

    def _keyframe(self, pts, des, R_ref_key) -> None:
        self.key = (pts, des, R_ref_key, len(pts))

    def _turn_since_key(self, pts, des) -> tuple[np.ndarray, int] | None:
        """(R_key_cam, RANSAC inliers) of this frame against the keyframe, or None."""
        key_pts, key_des = self.key[0], self.key[1]
        if des is None or key_des is None or len(pts) < self.cfg.min_matches:
            return None
        matches = self.matcher.match(key_des, des)
        if len(matches) < self.cfg.min_matches:
            return None
        src = key_pts[[m.queryIdx for m in matches]]
        dst = pts[[m.trainIdx for m in matches]]
        # Background that has not moved: a still camera, whatever moves in front of it (a person,
        # a door) -- RANSAC alone would take the largest moving thing for the camera's turn.
        still = int((np.linalg.norm(dst - src, axis=1) < self.cfg.still_px).sum())
        if still >= max(self.cfg.min_matches, self.cfg.still_frac * len(matches)):
            return np.eye(3), still
        H, inliers = cv2.findHomography(src, dst, cv2.RANSAC, self.cfg.ransac_px)
        if H is None or int(inliers.sum()) < self.cfg.min_matches:
            return None
        # H maps the keyframe's points into this frame: x_cam ~ K R_cam_key K^-1 x_key.
        return rotation_from_homography(H, self.K).T, int(inliers.sum())

    def rotations(self) -> np.ndarray:
        """(T, 3, 3) R_ref_cam per frame; identities for a camera that barely turned."""
        R = np.array(self.R_ref_cam) if self.R_ref_cam else np.zeros((0, 3, 3))
        if not len(R):
            return R
        angles = np.degrees(np.arccos(np.clip((np.trace(R, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)))
        if (
            angles.max() < self.cfg.min_rotation_deg
            or self.still_frames >= self.cfg.static_clip_frac * len(R)
            or self.body_frames >= self.cfg.body_static_frac * len(R)
        ):
            return np.tile(np.eye(3), (len(R), 1, 1))
        return R
