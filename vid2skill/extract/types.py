"""Artifacts of the extract stage: one metric hand track per clip, and the batch's quality table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vid2skill.artifacts import read_artifact, resolved_path, stored_path, write_artifact

HANDTRACK_SCHEMA = 2  # 2: metric hand landmarks and arm joints from the pose model


@dataclass
class HandTrack:
    """The manipulating hand of one clip, per decoded frame (T frames).

    Arrays (all float64 unless said):
        frame_index: (T,) int, index of the frame in the video.
        detected: (T,) bool, MediaPipe found this hand in the frame.
        valid: (T,) bool, detected and kept, or filled by interpolation over a short gap.
        wrist_pos_cam: (T, 3) metres, camera frame (x right, y down, z forward); NaN where not valid.
        wrist_R_cam: (T, 3, 3) palm frame in the camera frame (x to the middle MCP, z out of the palm).
        aperture_m: (T,) thumb-tip to index-tip distance, metres.
        confidence: (T,) MediaPipe's score for the hand, 0 where not detected.
        landmarks_px: (T, 21, 2) raw image landmarks in pixels, NaN where not detected.
        landmarks_world: (T, 21, 3) MediaPipe's metric hand landmarks (hand-centred, camera-aligned
            axes), each frame's depth mirror resolved to the acting hand
            (``landmarks.resolve_depth_mirror``); NaN where not detected.
        arm_px: (T, 3, 2) shoulder, elbow, wrist of the hand's arm from the pose model, pixels; NaN where
            unseen.
        arm_pos_cam: (T, 3, 3) the same joints in metres, camera frame, placed relative to the hand's
            wrist; NaN where unseen.
        arm_visibility: (T, 3) the pose model's visibility of those joints, 0-1.
        camera_R_ref: (T, 3, 3) the camera's own turn: takes this frame's camera-frame vectors into the
            first frame's (identities for a still camera; ``extract/camera_motion.py``).

    ``meta`` holds gravity's up in the first frame's camera and how it was found (``up_cam``).
    """

    clip_id: str
    fps: float
    width: int
    height: int
    intrinsics: list  # [fx, fy, cx, cy] used for the metric lift
    handedness: str  # "right" or "left" (the actor's hand)
    label: str | None
    frame_index: np.ndarray
    detected: np.ndarray
    valid: np.ndarray
    wrist_pos_cam: np.ndarray
    wrist_R_cam: np.ndarray
    aperture_m: np.ndarray
    confidence: np.ndarray
    landmarks_px: np.ndarray
    landmarks_world: np.ndarray | None = None
    arm_px: np.ndarray | None = None
    arm_pos_cam: np.ndarray | None = None
    arm_visibility: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    camera_R_ref: np.ndarray | None = None

    def __post_init__(self):
        T = len(self.frame_index)
        for name in ("detected", "valid", "aperture_m", "confidence"):
            if len(getattr(self, name)) != T:
                raise ValueError(
                    f"HandTrack {self.clip_id}: {name} has {len(getattr(self, name))} frames, expected {T}"
                )
        if self.wrist_pos_cam.shape != (T, 3) or self.wrist_R_cam.shape != (T, 3, 3):
            raise ValueError(
                f"HandTrack {self.clip_id}: wrist arrays must be (T, 3) and (T, 3, 3) with T={T}"
            )
        if self.landmarks_world is None:
            self.landmarks_world = np.full((T, 21, 3), np.nan)
        # No arm seen (e.g. a pose model switched off): NaN joints, zero visibility.
        if self.arm_px is None:
            self.arm_px = np.full((T, 3, 2), np.nan)
        if self.arm_pos_cam is None:
            self.arm_pos_cam = np.full((T, 3, 3), np.nan)
        if self.arm_visibility is None:
            self.arm_visibility = np.zeros((T, 3))
        if (
            self.arm_px.shape != (T, 3, 2)
            or self.arm_pos_cam.shape != (T, 3, 3)
            or self.arm_visibility.shape != (T, 3)
        ):
            raise ValueError(
                f"HandTrack {self.clip_id}: arm arrays must be (T, 3, 2), (T, 3, 3) and (T, 3) with T={T}"
            )
        if (
            self.camera_R_ref is None
        ):  # a still camera (or a track extracted before the camera's turns were followed)
            self.camera_R_ref = np.tile(np.eye(3), (T, 1, 1))
        if self.camera_R_ref.shape != (T, 3, 3):
            raise ValueError(f"HandTrack {self.clip_id}: camera_R_ref must be (T, 3, 3) with T={T}")

    @property
    def time_s(self) -> np.ndarray:
        return self.frame_index / self.fps

    @property
    def up_cam(self) -> np.ndarray:
        """Gravity's up (3,) in the first frame's camera (``extract/gravity.py``; the camera's up where
        the scene's edges could not tell it, or for a track extracted before it was estimated)."""
        return np.asarray(self.meta.get("gravity_up", [0.0, -1.0, 0.0]), dtype=float)

    @property
    def detection_rate(self) -> float:
        return float(self.detected.mean()) if len(self.detected) else 0.0

    _ARRAYS = (
        "frame_index",
        "detected",
        "valid",
        "wrist_pos_cam",
        "wrist_R_cam",
        "aperture_m",
        "confidence",
        "landmarks_px",
        "landmarks_world",
        "arm_px",
        "arm_pos_cam",
        "arm_visibility",
        "camera_R_ref",
    )

    def save(self, path: str | Path) -> None:
        meta = {
            k: getattr(self, k)
            for k in ("clip_id", "fps", "width", "height", "intrinsics", "handedness", "label", "meta")
        }
        write_artifact(path, "HandTrack", HANDTRACK_SCHEMA, meta, {k: getattr(self, k) for k in self._ARRAYS})

    @classmethod
    def load(cls, path: str | Path) -> HandTrack:
        meta, arrays = read_artifact(path, "HandTrack", HANDTRACK_SCHEMA)
        meta = {k: v for k, v in meta.items() if k not in ("kind", "schema")}
        return cls(**meta, **arrays)


@dataclass
class TrackSet:
    """Index of the tracks of a batch: per clip, the track file or the error that stopped it."""

    records: list[
        dict
    ]  # clip, frames, frames_with_hand, detection_rate, mean_confidence, max_jump_m, error, track
    config_hash: str = ""

    def save(self, path: str | Path, workspace: str | Path | None = None) -> None:
        """Write the index; track paths inside ``workspace`` are kept relative to the artifact."""
        base = Path(path).parent
        records = [{**r, "track": stored_path(r.get("track"), base, workspace)} for r in self.records]
        write_artifact(path, "TrackSet", 1, {"records": records, "config_hash": self.config_hash})

    @classmethod
    def load(cls, path: str | Path) -> TrackSet:
        meta, _ = read_artifact(path, "TrackSet", 1)
        base = Path(path).parent
        return cls(
            [{**r, "track": resolved_path(r.get("track"), base)} for r in meta["records"]],
            meta.get("config_hash", ""),
        )

    def ok(self) -> list[dict]:
        return [r for r in self.records if r["error"] is None]

    def failures(self) -> list[dict]:
        return [r for r in self.records if r["error"] is not None]
