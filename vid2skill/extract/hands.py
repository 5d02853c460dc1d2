"""Per-clip hand extraction: decode, MediaPipe Hands in video mode, keep the active hand, lift to metric 3-D."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from vid2skill.errors import NoHandError
from vid2skill.extract.filters import fill_gaps, max_jump, one_euro, reject_outliers, smooth_rotations
from vid2skill.extract.metric import hand_translation, intrinsics_from_fov
from vid2skill.extract.types import HandTrack
from vid2skill.ingest.types import Clip
from vid2skill.landmarks import NUM_LANDMARKS, WRIST, chirality, grasp_aperture_m, palm_frame
from vid2skill.video import iter_frames, probe

log = logging.getLogger(__name__)

# Bump when a change here alters the tracks a configuration produces, so that cached tracks are redone.
EXTRACTOR_VERSION = 2


@dataclass
class Detection:
    px: np.ndarray  # (21, 2) pixels
    world: np.ndarray  # (21, 3) metres, hand-centred, camera-aligned axes
    hand: str  # the actor's hand: "right" or "left"
    score: float


class MediaPipeHands:
    """MediaPipe Hands (legacy solution API, models bundled in the wheel) in video (tracking) mode."""

    def __init__(self, cfg):
        import mediapipe as mp

        self._hands = mp.solutions.hands.Hands(
            static_image_mode=False, max_num_hands=cfg.max_hands, model_complexity=cfg.model_complexity,
            min_detection_confidence=cfg.min_detection_confidence, min_tracking_confidence=cfg.min_tracking_confidence,
        )
        self.mirrored = bool(cfg.mirrored_input)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        res = self._hands.process(np.ascontiguousarray(rgb))
        if not res.multi_hand_landmarks:
            return []
        out = []
        for lm, wlm, cls in zip(res.multi_hand_landmarks, res.multi_hand_world_landmarks, res.multi_handedness):
            px = np.array([[p.x * w, p.y * h] for p in lm.landmark])
            world = np.array([[p.x, p.y, p.z] for p in wlm.landmark])
            label = cls.classification[0].label.lower()
            # MediaPipe labels hands as seen in a mirror (selfie view): on ordinary video "left" is the actor's right.
            hand = label if self.mirrored else {"left": "right", "right": "left"}[label]
            out.append(Detection(px, world, hand, float(cls.classification[0].score)))
        return out

    def close(self) -> None:
        self._hands.close()


def _assign_tracks(per_frame: list[list[Detection]], gate_px: float) -> list[list[Detection | None]]:
    """Link detections into hand tracks by proximity of the wrist to each track's last position.

    MediaPipe's handedness label flips on unusual views, so identity comes from continuity: a
    detection joins the nearest track seen within ``gate_px`` (greedy, best score first), else
    starts a new track. Returns tracks as per-frame lists (None where the hand was not seen).
    """
    tracks: list[list[Detection | None]] = []
    last: list[np.ndarray] = []
    for t, dets in enumerate(per_frame):
        taken: set[int] = set()
        for d in sorted(dets, key=lambda d: -d.score):
            dist = [np.linalg.norm(d.px[WRIST] - last[k]) if k not in taken else np.inf for k in range(len(tracks))]
            k = int(np.argmin(dist)) if dist else -1
            if k < 0 or dist[k] > gate_px:
                tracks.append([None] * t)
                last.append(d.px[WRIST])
                k = len(tracks) - 1
            tracks[k].append(d)
            last[k] = d.px[WRIST]
            taken.add(k)
        for k in range(len(tracks)):
            if len(tracks[k]) == t:
                tracks[k].append(None)
    return tracks


def _stitch(track: list[Detection | None], others: list[list[Detection | None]], gate_px: float) -> list[Detection | None]:
    """Fill the chosen track's empty frames from other fragments that continue it.

    A hand lost for a few frames and found again far from where it vanished starts a new
    fragment; a detection of another fragment joins the chosen track where the track is empty and
    the detection lies within ``gate_px`` of the track's nearest (in time) detection.
    """
    out = list(track)
    seen = np.array([d is not None for d in track])
    if not seen.any():
        return out
    times = np.flatnonzero(seen)
    for t in np.flatnonzero(~seen):
        near = times[np.argmin(np.abs(times - t))]
        ref = track[near].px[WRIST]
        cands = [o[t] for o in others if o[t] is not None and np.linalg.norm(o[t].px[WRIST] - ref) <= gate_px * (1 + abs(int(near) - int(t)) / 10)]
        if cands:
            out[t] = max(cands, key=lambda d: d.score)
    return out


def _activity(track: list[Detection | None], diag: float) -> float:
    """How much a hand acts in a clip: detected fraction plus wrist path length and aperture change."""
    dets = [d for d in track if d is not None]
    if len(dets) < 2:
        return float(len(dets)) / max(len(track), 1)
    wrists = np.array([d.px[WRIST] for d in dets])
    path = np.linalg.norm(np.diff(wrists, axis=0), axis=1).sum() / diag
    aperture = grasp_aperture_m(np.array([d.world for d in dets]))
    return len(dets) / len(track) + path + 10.0 * float(aperture.max() - aperture.min())


def extract_clip(clip: Clip, cfg) -> HandTrack:
    """Extract the manipulating hand's metric wrist trajectory and aperture from one clip."""
    info = probe(clip.path)
    start = int(round((clip.start_s or 0.0) * info.fps))
    stop = int(round(clip.end_s * info.fps)) if clip.end_s is not None else None
    intrinsics = list(clip.intrinsics) if clip.intrinsics else intrinsics_from_fov(info.width, info.height, cfg.default_hfov_deg)
    hands = MediaPipeHands(cfg)
    frame_index, per_frame = [], []
    try:
        for i, rgb in iter_frames(clip.path, stride=cfg.stride):
            if i < start or (stop is not None and i >= stop):
                continue
            frame_index.append(i)
            per_frame.append(hands.detect(rgb))
    finally:
        hands.close()
    if not frame_index:
        raise NoHandError(f"{clip.path}: no frames in the requested segment [{clip.start_s}, {clip.end_s}] s")
    diag = float(np.hypot(info.width, info.height))
    tracks = _assign_tracks(per_frame, cfg.track_gate_frac * diag)
    if not tracks:
        raise NoHandError(f"{clip.path}: no hand found in any of {len(frame_index)} frames; is a hand visible?")
    best = int(np.argmax([_activity(tr, diag) for tr in tracks]))
    track = _stitch(tracks[best], tracks[:best] + tracks[best + 1 :], cfg.track_gate_frac * diag)
    detected = np.array([d is not None for d in track])
    if detected.sum() < cfg.min_frames_with_hand:
        raise NoHandError(
            f"{clip.path}: a hand was found in {int(detected.sum())} of {len(track)} frames "
            f"(need {cfg.min_frames_with_hand}); is a hand visible? try a closer or better-lit clip"
        )
    T = len(track)
    px = np.full((T, NUM_LANDMARKS, 2), np.nan)
    world = np.full((T, NUM_LANDMARKS, 3), np.nan)
    score = np.zeros(T)
    for t, d in enumerate(track):
        if d is not None:
            px[t], world[t], score[t] = d.px, d.world, d.score

    hand = chirality(world[detected])
    wrist = np.full((T, 3), np.nan)
    trans = hand_translation(world[detected], px[detected], intrinsics, cfg.hand_scale)
    wrist[detected] = world[detected, WRIST] + trans
    R = np.tile(np.eye(3), (T, 1, 1))
    R[detected] = palm_frame(world[detected], right=(hand == "right"))
    aperture = np.full(T, np.nan)
    aperture[detected] = grasp_aperture_m(world[detected])

    fps = info.fps / cfg.stride
    valid = reject_outliers(wrist, detected, cfg.outlier_window, cfg.outlier_m)
    wrist, valid_f = fill_gaps(wrist, valid, cfg.max_gap_frames)
    aperture, _ = fill_gaps(aperture, valid, cfg.max_gap_frames)
    R_filled, _ = fill_gaps(R, valid, cfg.max_gap_frames)
    smooth = dict(min_cutoff_hz=cfg.one_euro_min_cutoff_hz, beta=cfg.one_euro_beta, zero_phase=cfg.zero_phase)
    wrist = one_euro(wrist, valid_f, fps, **smooth)
    aperture = one_euro(aperture[:, None], valid_f, fps, **smooth)[:, 0]
    R_filled[~valid_f] = np.eye(3)
    R_sm = smooth_rotations(R_filled, valid_f, fps, **smooth)

    return HandTrack(
        clip_id=clip.clip_id, fps=fps, width=info.width, height=info.height, intrinsics=intrinsics,
        handedness=hand, label=clip.label, frame_index=np.array(frame_index), detected=detected, valid=valid_f,
        wrist_pos_cam=wrist, wrist_R_cam=R_sm, aperture_m=aperture, confidence=score, landmarks_px=px,
        meta={"max_jump_m": max_jump(wrist, valid_f), "source_fps": info.fps, "backend": info.backend},
    )
