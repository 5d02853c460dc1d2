"""Per-clip hand extraction: decode, MediaPipe Hands in video mode, keep the active hand, lift to metric
3-D."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vid2skill.errors import NoHandError
from vid2skill.extract.camera_motion import CameraMotion
from vid2skill.extract.filters import (
    fill_gaps,
    max_jump,
    median_depth,
    one_euro,
    reject_fast_jumps,
    reject_outliers,
    smooth_rotations,
)
from vid2skill.extract.gravity import GravityEstimator
from vid2skill.extract.metric import hand_translation, intrinsics_from_fov
from vid2skill.extract.native_log import quiet_native_stderr
from vid2skill.extract.types import HandTrack
from vid2skill.ingest.types import Clip
from vid2skill.landmarks import (
    NUM_LANDMARKS,
    WRIST,
    chirality,
    grasp_aperture_image_m,
    grasp_aperture_m,
    palm_frame,
    resolve_depth_mirror,
)
from vid2skill.video import iter_frames, probe

log = logging.getLogger(__name__)

# Bump when a change here alters the tracks a configuration produces, so that cached tracks are redone.
EXTRACTOR_VERSION = (
    11  # 9: the aperture measured on the image landmarks; 10: the camera's own rotation; 11: gravity
)


@dataclass
class Detection:
    px: np.ndarray  # (21, 2) pixels
    world: np.ndarray  # (21, 3) metres, hand-centred, camera-aligned axes
    hand: str  # the actor's hand: "right" or "left", by MediaPipe's classifier
    score: float
    arm: str | None = None  # the body side whose pose wrist this hand sits on, when the pose model sees it
    # found in a crop (pose-guided, or around a gap in the track) after the full-frame detector missed it
    from_crop: bool = False


class MediaPipeHands:
    """MediaPipe Hands (legacy solution API, models bundled in the wheel) in video (tracking) mode."""

    def __init__(self, cfg, static_image_mode: bool = False, max_hands: int | None = None):
        import mediapipe as mp

        self._hands = mp.solutions.hands.Hands(
            static_image_mode=static_image_mode,
            max_num_hands=max_hands or cfg.max_hands,
            model_complexity=cfg.model_complexity,
            min_detection_confidence=cfg.min_detection_confidence,
            min_tracking_confidence=cfg.min_tracking_confidence,
        )
        self.mirrored = bool(cfg.mirrored_input)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        res = self._hands.process(np.ascontiguousarray(rgb))
        if not res.multi_hand_landmarks:
            return []
        out = []
        for lm, wlm, cls in zip(
            res.multi_hand_landmarks, res.multi_hand_world_landmarks, res.multi_handedness
        ):
            px = np.array([[p.x * w, p.y * h] for p in lm.landmark])
            world = np.array([[p.x, p.y, p.z] for p in wlm.landmark])
            label = cls.classification[0].label.lower()
            # MediaPipe labels hands as seen in a mirror (selfie view): on ordinary video "left" is the
            # actor's right.
            hand = label if self.mirrored else {"left": "right", "right": "left"}[label]
            out.append(Detection(px, world, hand, float(cls.classification[0].score)))
        return out

    def close(self) -> None:
        self._hands.close()


class PoseGuidedHands:
    """Hands on the full frame, plus hands found in crops around the wrists that the pose model sees.

    Every frame: MediaPipe Hands (video mode) on the full frame and, when ``cfg.pose.enabled``,
    MediaPipe Pose (after a frame without a person, pose waits 1, 2, 4 ... up to
    ``cfg.pose.max_skip_frames`` frames before looking again). A hand whose wrist lies near a
    pose wrist is labelled with that body side (``Detection.arm``), which keeps left and right
    apart in tracking. With ``cfg.pose.crops``, for a visible pose wrist with no hand near it, a
    square crop around the pose's hand points is resized to ``cfg.pose.crop_px`` and searched by a
    second, static-mode Hands; a hand found there is mapped back to image pixels. Returns the
    detections and the pose arms of the frame.
    """

    def __init__(self, cfg):
        from vid2skill.extract.pose import MediaPipePose

        self.cfg = cfg
        self.pose = self.crop_hands = None
        self.hands = MediaPipeHands(cfg)
        if cfg.pose.enabled:
            self.pose = MediaPipePose(cfg.pose.min_detection_confidence, cfg.pose.min_tracking_confidence)
            if cfg.pose.crops:
                self.crop_hands = MediaPipeHands(cfg, static_image_mode=True, max_hands=1)
        self.crops_tried = self.crops_found = 0
        self._skip = self._wait = (
            0  # pose back-off: frames to skip after finding no person, and how many are left
        )

    def detect(self, rgb: np.ndarray) -> tuple[list[Detection], dict]:
        from vid2skill.extract.pose import crop_square, hand_box

        dets = self.hands.detect(rgb)
        if self.pose is None:
            return dets, {}
        pc = self.cfg.pose
        if self._wait > 0:  # no person lately: look again only every few frames
            self._wait -= 1
            return dets, {}
        arms = self.pose.detect(rgb)
        if not arms:
            self._skip = min(max(1, 2 * self._skip), pc.max_skip_frames)
            self._wait = self._skip
        else:
            self._skip = 0
        seen = {side: arm for side, arm in arms.items() if arm.wrist_visibility >= pc.min_visibility}
        for side, arm in sorted(seen.items(), key=lambda kv: -kv[1].wrist_visibility):
            centre, size = hand_box(arm, pc.crop_scale, pc.min_crop_px)
            gate = pc.match_frac * size
            other = [a.wrist_px for s, a in seen.items() if s != side]
            near = []
            for d in dets:
                dist = float(np.linalg.norm(d.px[WRIST] - arm.wrist_px))
                if dist <= gate:
                    near.append(d)
                    # Label a hand with a side only when the other wrist is clearly further away:
                    # with the hands together the pose model's sides are a guess.
                    if d.arm is None and all(
                        np.linalg.norm(d.px[WRIST] - o) >= pc.side_margin * dist for o in other
                    ):
                        d.arm = side
            if near or self.crop_hands is None:
                continue
            self.crops_tried += 1
            crop, origin, scale = crop_square(rgb, centre, size, pc.crop_px)
            for d in self.crop_hands.detect(crop):
                d.px = origin + scale * d.px
                if np.linalg.norm(d.px[WRIST] - arm.wrist_px) <= gate:
                    d.arm, d.from_crop = side, True
                    dets.append(d)
                    self.crops_found += 1
        return dets, arms

    def close(self) -> None:
        for m in (self.hands, self.pose, self.crop_hands):
            if m is not None:
                m.close()


def _sides_differ(a: str | None, b: str | None) -> bool:
    """Whether two body-side labels are both known and disagree (an unknown side matches either)."""
    return bool(a and b and a != b)


def _assign_tracks(per_frame: list[list[Detection]], gate_px: float) -> list[list[Detection | None]]:
    """Link detections into hand tracks by proximity of the wrist to each track's last position.

    MediaPipe's handedness label flips on unusual views, so identity comes from continuity: a
    detection joins the nearest track seen within ``gate_px`` (greedy, best score first), else
    starts a new track. Where the pose model has put a hand on a body side (``Detection.arm``), a
    detection never joins a track of the other side, so two hands crossing cannot swap tracks.
    Returns tracks as per-frame lists (None where the hand was not seen).
    """
    tracks: list[list[Detection | None]] = []
    last: list[np.ndarray] = []
    side: list[str | None] = []
    for t, dets in enumerate(per_frame):
        taken: set[int] = set()
        for d in sorted(dets, key=lambda d: -d.score):
            dist = [
                np.inf
                if k in taken or _sides_differ(d.arm, side[k])
                else np.linalg.norm(d.px[WRIST] - last[k])
                for k in range(len(tracks))
            ]
            k = int(np.argmin(dist)) if dist else -1
            if k < 0 or dist[k] > gate_px:
                tracks.append([None] * t)
                last.append(d.px[WRIST])
                side.append(None)
                k = len(tracks) - 1
            tracks[k].append(d)
            last[k] = d.px[WRIST]
            side[k] = side[k] or d.arm
            taken.add(k)
        for k in range(len(tracks)):
            if len(tracks[k]) == t:
                tracks[k].append(None)
    return tracks


def _stitch(
    track: list[Detection | None], others: list[list[Detection | None]], gate_px: float
) -> list[Detection | None]:
    """Fill the chosen track's empty frames from other fragments that continue it.

    A hand lost for a few frames and found again far from where it vanished starts a new
    fragment; a detection of another fragment joins the chosen track where the track is empty and
    the detection lies within ``gate_px`` of the track's nearest (in time) detection.
    """
    out = list(track)
    seen = np.array([d is not None for d in track])
    if not seen.any():
        return out
    side = _track_side(track)
    times = np.flatnonzero(seen)
    for t in np.flatnonzero(~seen):
        near = times[np.argmin(np.abs(times - t))]
        ref = track[near].px[WRIST]
        cands = [
            o[t]
            for o in others
            if o[t] is not None
            and not _sides_differ(o[t].arm, side)
            and np.linalg.norm(o[t].px[WRIST] - ref) <= gate_px * (1 + abs(int(near) - int(t)) / 10)
        ]
        if cands:
            out[t] = max(cands, key=lambda d: d.score)
    return out


def _track_side(track: list[Detection | None]) -> str | None:
    """The body side most of a track's pose-labelled detections sit on, or None if none is labelled."""
    sides = [d.arm for d in track if d is not None and d.arm]
    return max(set(sides), key=sides.count) if sides else None


def _arm_arrays(arms_per_frame: list[dict], side: str | None, wrist_cam: np.ndarray, min_visibility: float):
    """Shoulder, elbow and wrist of one body side per frame: pixels (T, 3, 2), camera frame (T, 3, 3) m,
    visibility (T, 3).

    The pose model's metric joints are hip-centred with camera-aligned axes, so the arm is placed
    in the camera frame by its offsets from the pose wrist, added to the hand's metric wrist.
    Joints seen with visibility below ``min_visibility``, or in frames without a valid wrist, are NaN.
    """
    T = len(arms_per_frame)
    px = np.full((T, 3, 2), np.nan)
    pos = np.full((T, 3, 3), np.nan)
    vis = np.zeros((T, 3))
    if side is None:
        return px, pos, vis
    for t, arms in enumerate(arms_per_frame):
        arm = arms.get(side)
        if arm is not None:
            px[t], vis[t] = arm.px, arm.visibility
            pos[t] = wrist_cam[t] + (arm.world - arm.world[2])
    hidden = vis < min_visibility
    px[hidden] = np.nan
    pos[hidden] = np.nan  # (frames without a valid wrist are NaN already, through wrist_cam)
    return px, pos, vis


def _activity(track: list[Detection | None], diag: float) -> float:
    """How much a hand acts in a clip: detected fraction plus wrist path length and aperture change."""
    dets = [d for d in track if d is not None]
    if len(dets) < 2:
        return float(len(dets)) / max(len(track), 1)
    wrists = np.array([d.px[WRIST] for d in dets])
    path = np.linalg.norm(np.diff(wrists, axis=0), axis=1).sum() / diag
    aperture = grasp_aperture_m(np.array([d.world for d in dets]))
    return len(dets) / len(track) + path + 10.0 * float(aperture.max() - aperture.min())


def frame_stride(source_fps: float, stride: int, target_fps: float | None) -> int:
    """Frames to step: ``stride``, or the step that brings ``source_fps`` closest to ``target_fps`` (never
    below 1)."""
    if target_fps:
        return max(1, int(round(source_fps / target_fps)))
    return max(1, int(stride))


def _rescale(dets: list[Detection], arms: dict, factor: float) -> None:
    """Scale the pixel coordinates of a frame's detections and pose arms in place (world coordinates are
    metric)."""
    for d in dets:
        d.px = d.px * factor
    for arm in arms.values():
        arm.px, arm.hand_px = arm.px * factor, arm.hand_px * factor


def _acting_hand(clip: Clip, cfg, dets: list[Detection], world: np.ndarray) -> str:
    """Which hand acts: the source's annotation, else ``cfg.hand``, else (``auto``) a vote.

    The vote is MediaPipe's image-based handedness classifier over the track's detections, with
    the 3-D landmarks' shape (``chirality``) to break a tie.
    """
    if clip.hand in ("right", "left"):
        return clip.hand
    if cfg.hand in ("right", "left"):
        return cfg.hand
    right = sum(d.hand == "right" for d in dets)
    if 2 * right != len(dets):
        return "right" if 2 * right > len(dets) else "left"
    return chirality(world)


def _feed_estimators(
    rgb: np.ndarray,
    dets: list[Detection],
    arms: dict,
    cfg,
    camera: CameraMotion | None,
    gravity: GravityEstimator | None,
) -> None:
    """Give one detection frame to the camera-motion and gravity estimators (each where given),
    with the hands and arms found in it, which they mask out."""
    if camera is not None:
        h, w = rgb.shape[:2]
        # The actor's body is in view when a shoulder is seen inside the frame (a head-worn camera
        # sees forearms only).
        shoulders = [
            a.px[0]
            for a in arms.values()
            if a.visibility[0] >= cfg.pose.min_visibility and 0 <= a.px[0][0] < w and 0 <= a.px[0][1] < h
        ]
        body = np.vstack([np.vstack([a.px, a.hand_px]) for a in arms.values()]) if shoulders else None
        camera.update(rgb, [d.px for d in dets], body)
    if gravity is not None:
        gravity.update(rgb, [d.px for d in dets] + [np.vstack([a.px, a.hand_px]) for a in arms.values()])


def _detect_frames(
    clip: Clip,
    cfg,
    info,
    stride: int,
    start: int,
    stop: int | None,
    shrink: float,
    keep: dict | None = None,
    keep_bytes: int = 0,
    camera: CameraMotion | None = None,
    gravity: GravityEstimator | None = None,
):
    """Run the detector over the clip's frames: (frame indices, detections per frame, pose arms per
    frame, crop counts).

    Frames in which no hand at all is found are kept in ``keep`` ({frame index: RGB}) while they
    fit in ``keep_bytes``, so that gap recovery need not decode them again. ``camera`` (built for
    the detection frames' size) follows the camera's own turns, hands and arms masked out; ``gravity``
    collects the scene's straight edges, hands and arms masked out too."""
    size = (max(1, round(info.width * shrink)), max(1, round(info.height * shrink)))
    detector = PoseGuidedHands(cfg)
    frame_index, per_frame, arms_per_frame = [], [], []
    kept = 0
    try:
        for i, full in iter_frames(clip.path, stride=stride, info=info, start=start, stop=stop):
            rgb = cv2.resize(full, size, interpolation=cv2.INTER_AREA) if shrink < 1.0 else full
            frame_index.append(i)
            dets, arms = detector.detect(rgb)
            _feed_estimators(rgb, dets, arms, cfg, camera, gravity)
            if keep is not None and not dets and kept + full.nbytes <= keep_bytes:
                keep[i] = full
                kept += full.nbytes
            if shrink < 1.0:
                _rescale(dets, arms, 1.0 / shrink)
            per_frame.append(dets)
            arms_per_frame.append(arms)
    finally:
        detector.close()
    return (
        frame_index,
        per_frame,
        arms_per_frame,
        {"crops_tried": detector.crops_tried, "crops_found": detector.crops_found},
    )


def _hand_size_px(px: np.ndarray) -> float:
    """A hand's size in the image: the larger side of its landmarks' bounding box, pixels."""
    return float(np.ptp(px, axis=0).max())


def _gap_predictions(
    track: list[Detection | None], max_gap: int, edge_frames: int
) -> dict[int, tuple[np.ndarray, float]]:
    """Where to look again for the tracked hand: {frame: (predicted wrist (2,), hand size px)}.

    Frames inside a gap of at most ``max_gap`` frames between two detections get the wrist and the
    hand's size interpolated between them; up to ``edge_frames`` frames before the first or after
    the last detection of a stretch get the nearest detection's (a hand entering or leaving).
    """
    seen = np.flatnonzero([d is not None for d in track])
    out: dict[int, tuple[np.ndarray, float]] = {}
    if len(seen) == 0:
        return out
    wrist = {t: track[t].px[WRIST] for t in seen}
    size = {t: _hand_size_px(track[t].px) for t in seen}
    short = np.diff(seen) <= max_gap + 1
    for a, b in zip(seen[:-1][short], seen[1:][short]):
        for t in range(a + 1, b):
            w = (t - a) / (b - a)
            out[t] = ((1 - w) * wrist[a] + w * wrist[b], max(size[a], size[b]))
    starts = np.r_[seen[0], seen[1:][~short]]  # the first detection of each stretch ...
    ends = np.r_[seen[:-1][~short], seen[-1]]  # ... and the last
    for t0 in starts:
        for t in range(max(0, t0 - edge_frames), t0):
            out.setdefault(t, (wrist[t0], size[t0]))
    for t1 in ends:
        for t in range(t1 + 1, min(len(track), t1 + 1 + edge_frames)):
            out.setdefault(t, (wrist[t1], size[t1]))
    return out


def _recover_gaps(
    clip: Clip,
    cfg,
    info,
    stride: int,
    start: int,
    stop: int | None,
    frame_index: list[int],
    track: list[Detection | None],
    kept: dict | None = None,
) -> int:
    """Search the frames where the tracked hand went missing again, in a crop around where it should be.

    MediaPipe's palm detector misses small or motion-blurred hands that it tracked a moment before
    and finds again a moment later. For each such frame (``_gap_predictions``), a square of
    ``cfg.recover.crop_scale`` times the hand's size around the predicted wrist is resized to
    ``cfg.recover.crop_px`` and searched by a static-mode Hands; the hand nearest the prediction,
    with its wrist within ``cfg.recover.gate_frac`` hand sizes of it and its size within
    ``cfg.recover.size_tolerance`` of the neighbours', fills the frame (in place). (MediaPipe's
    handedness is no help here: on crops it flips often.) Frames in ``kept`` (from the first pass)
    are not decoded again. Returns the number of frames recovered.
    """
    rc = cfg.recover
    todo = _gap_predictions(track, rc.max_gap_frames, rc.edge_frames)
    if not todo:
        return 0
    wanted = {frame_index[t]: t for t in todo}
    hands = MediaPipeHands(cfg, static_image_mode=True, max_hands=2)
    side = _track_side(track)
    found = 0
    try:
        for i, rgb in _gap_frames(clip, info, stride, stop, wanted, kept or {}):
            t = wanted[i]
            wrist, size = todo[t]
            best = _find_in_crop(hands, rgb, wrist, size, rc)
            if best is not None:
                best.from_crop, best.arm = True, side
                track[t] = best
                found += 1
    finally:
        hands.close()
    return found


def _gap_frames(clip: Clip, info, stride: int, stop: int | None, wanted: dict, kept: dict):
    """The ``wanted`` frames as (frame index, RGB): those ``kept`` from the first pass first, then
    the rest decoded from the shortest stretch of the video that holds them."""
    rest = {i for i in wanted if i not in kept}
    yield from ((i, kept[i]) for i in sorted(wanted) if i in kept)
    if rest:
        first, last = min(rest), max(rest) + 1
        frames_ = iter_frames(clip.path, stride=stride, info=info, start=first, stop=min(stop or last, last))
        yield from ((i, rgb) for i, rgb in frames_ if i in rest)


def _find_in_crop(
    hands: MediaPipeHands, rgb: np.ndarray, wrist: np.ndarray, size: float, rc
) -> Detection | None:
    """The hand found in a crop around the predicted ``wrist`` (image pixels) that is nearest it,
    within ``rc.gate_frac`` hand sizes and of about the neighbours' ``size``; None if there is none.
    Its landmarks are mapped back to the image's pixels."""
    from vid2skill.extract.pose import crop_square

    side_px = max(rc.crop_scale * size, rc.min_crop_px)
    crop, origin, scale = crop_square(rgb, wrist, side_px, rc.crop_px)
    best, best_d = None, rc.gate_frac * size
    for d in hands.detect(crop):
        d.px = origin + scale * d.px
        dist = float(np.linalg.norm(d.px[WRIST] - wrist))
        # A hand of another size than its neighbours' is a partial or wrong fit: its depth
        # (from its size) would jump by tens of centimetres.
        if abs(_hand_size_px(d.px) / size - 1.0) > rc.size_tolerance:
            continue
        if dist <= best_d:
            best, best_d = d, dist
    return best


@dataclass
class _ClipRun:
    """What one clip's extraction reads the video with: its frame range and stride, the camera's
    intrinsics, the detection scale, and the camera-motion and gravity estimators fed as frames pass."""

    clip: Clip
    cfg: Any
    info: Any

    def __post_init__(self):
        clip, cfg, info = self.clip, self.cfg, self.info
        self.start = int(round((clip.start_s or 0.0) * info.fps))
        self.stop = int(round(clip.end_s * info.fps)) if clip.end_s is not None else None
        self.stride = frame_stride(info.fps, cfg.stride, cfg.target_fps)
        self.intrinsics = (
            list(clip.intrinsics)
            if clip.intrinsics
            else intrinsics_from_fov(info.width, info.height, cfg.default_hfov_deg)
        )
        # Very large frames are shrunk for detection (MediaPipe works at a few hundred pixels anyway);
        # landmarks are mapped back, so everything downstream is in the video's own pixels.
        self.shrink = min(1.0, cfg.max_side_px / max(info.width, info.height)) if cfg.max_side_px else 1.0
        scaled = [v * self.shrink for v in self.intrinsics]
        w, h = round(info.width * self.shrink), round(info.height * self.shrink)
        self.camera = CameraMotion(scaled, w, h, cfg.camera_motion) if cfg.camera_motion.enabled else None
        frames = max(1, ((self.stop if self.stop is not None else info.frames) - self.start) // self.stride)
        self.gravity = GravityEstimator(scaled, w, h, cfg.gravity, frames) if cfg.gravity.enabled else None


def _follow_hand(run: _ClipRun) -> tuple[list[int], list, list, dict, int]:
    """(frame indices, the acting hand's detection per frame (None where unseen), the pose arms per
    frame, crop counts, frames recovered around gaps): detect, link into tracks, keep the most active,
    stitch its fragments and recover its gaps. Raises NoHandError when too few frames show it."""
    clip, cfg, info = run.clip, run.cfg, run.info
    kept: dict[int, np.ndarray] = {}  # frames without any hand, for gap recovery
    with quiet_native_stderr():  # MediaPipe's graphs announce themselves on stderr as they start
        frame_index, per_frame, arms_per_frame, crops = _detect_frames(
            clip,
            cfg,
            info,
            run.stride,
            run.start,
            run.stop,
            run.shrink,
            kept if cfg.recover.enabled else None,
            int(cfg.recover.keep_mb * 2**20),
            run.camera,
            run.gravity,
        )
    if not frame_index:
        raise NoHandError(f"{clip.path}: no frames in the requested segment [{clip.start_s}, {clip.end_s}] s")
    diag = float(np.hypot(info.width, info.height))
    tracks = _assign_tracks(per_frame, cfg.track_gate_frac * diag)
    if not tracks:
        raise NoHandError(
            f"{clip.path}: no hand found in any of {len(frame_index)} frames; is a hand visible?"
        )
    best = int(np.argmax([_activity(tr, diag) for tr in tracks]))
    track = _stitch(tracks[best], tracks[:best] + tracks[best + 1 :], cfg.track_gate_frac * diag)
    recovered = 0
    if cfg.recover.enabled:
        with quiet_native_stderr():
            recovered = _recover_gaps(
                clip, cfg, info, run.stride, run.start, run.stop, frame_index, track, kept
            )
    kept.clear()
    seen = sum(d is not None for d in track)
    if seen < cfg.min_frames_with_hand:
        raise NoHandError(
            f"{clip.path}: a hand was found in {seen} of {len(track)} frames "
            f"(need {cfg.min_frames_with_hand}); is a hand visible? try a closer or better-lit clip"
        )
    return frame_index, track, arms_per_frame, crops, recovered


def _landmark_arrays(track: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixels (T, 21, 2), hand-centred metric landmarks (T, 21, 3), scores (T,)); NaN and 0 where
    the hand was not seen."""
    T = len(track)
    px = np.full((T, NUM_LANDMARKS, 2), np.nan)
    world = np.full((T, NUM_LANDMARKS, 3), np.nan)
    score = np.zeros(T)
    for t, d in enumerate(track):
        if d is not None:
            px[t], world[t], score[t] = d.px, d.world, d.score
    return px, world, score


def _metric_hand(
    run: _ClipRun, px: np.ndarray, world: np.ndarray, detected: np.ndarray, hand: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(wrist (T, 3) camera frame m, landmarks with their depth mirror resolved, palm orientation
    (T, 3, 3), grasp aperture (T,) m) of the seen frames, refined by the lifter where configured."""
    cfg, T = run.cfg, len(px)
    wrist = np.full((T, 3), np.nan)
    trans = hand_translation(world[detected], px[detected], run.intrinsics, cfg.hand_scale)
    wrist[detected] = world[detected, WRIST] + trans
    world = world.copy()
    world[detected] = resolve_depth_mirror(world[detected], right=(hand == "right"))
    R = np.tile(np.eye(3), (T, 1, 1))
    R[detected] = palm_frame(world[detected], right=(hand == "right"))
    if cfg.lifter.enabled and (cfg.lifter.rotation or cfg.lifter.depth):
        from vid2skill.extract.lifter import lift

        R_lift, depth_factor = lift(px, world, run.intrinsics, hand == "right", cfg.lifter.weights)
        if cfg.lifter.rotation:
            R[detected] = R_lift[detected]
        if cfg.lifter.depth:  # along each wrist's viewing ray: its image position stays
            wrist[detected] *= depth_factor[detected, None]
    aperture = np.full(T, np.nan)
    aperture[detected] = grasp_aperture_image_m(world[detected], px[detected], cfg.hand_scale)
    return wrist, world, R, aperture


def _filtered(
    cfg, wrist: np.ndarray, R: np.ndarray, aperture: np.ndarray, detected: np.ndarray, fps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(wrist, valid (T,), orientation, aperture) with outliers and impossible jumps rejected, short
    gaps filled and everything smoothed (one-euro, a running median of the depth)."""
    valid = reject_outliers(wrist, detected, cfg.outlier_window, cfg.outlier_m)
    if cfg.max_speed_m_s:
        valid = reject_fast_jumps(wrist, valid, fps, cfg.max_speed_m_s, cfg.speed_median_window)
    wrist, valid_f = fill_gaps(wrist, valid, cfg.max_gap_frames)
    aperture, _ = fill_gaps(aperture, valid, cfg.max_gap_frames)
    R_filled, _ = fill_gaps(R, valid, cfg.max_gap_frames)
    smooth = dict(min_cutoff_hz=cfg.one_euro_min_cutoff_hz, beta=cfg.one_euro_beta, zero_phase=cfg.zero_phase)
    wrist = one_euro(wrist, valid_f, fps, **smooth)
    if cfg.depth_median_s:
        wrist = median_depth(wrist, valid_f, int(round(cfg.depth_median_s * fps)) | 1)
    aperture = one_euro(aperture[:, None], valid_f, fps, **smooth)[:, 0]
    R_filled[~valid_f] = np.eye(3)
    return wrist, valid_f, smooth_rotations(R_filled, valid_f, fps, **smooth), aperture


def extract_clip(clip: Clip, cfg, info=None) -> HandTrack:
    """Extract the manipulating hand's metric wrist trajectory and aperture from one clip
    (``info``: the clip's :func:`probe`, where the caller has it already)."""
    info = info or probe(clip.path)
    run = _ClipRun(clip, cfg, info)
    frame_index, track, arms_per_frame, crops, recovered = _follow_hand(run)
    detected = np.array([d is not None for d in track])
    px, world, score = _landmark_arrays(track)
    hand = _acting_hand(clip, cfg, [d for d in track if d is not None], world[detected])
    wrist, world, R, aperture = _metric_hand(run, px, world, detected, hand)
    fps = info.fps / run.stride
    wrist, valid_f, R_sm, aperture = _filtered(cfg, wrist, R, aperture, detected, fps)
    side = _track_side(track)
    arm_px, arm_pos, arm_vis = _arm_arrays(arms_per_frame, side, wrist, cfg.pose.min_visibility)

    camera_R_ref = run.camera.rotations() if run.camera is not None else None
    up = run.gravity.estimate(camera_R_ref).to_meta() if run.gravity is not None else {}
    return HandTrack(
        clip_id=clip.clip_id,
        fps=fps,
        width=info.width,
        height=info.height,
        intrinsics=run.intrinsics,
        handedness=hand,
        label=clip.label,
        frame_index=np.array(frame_index),
        detected=detected,
        valid=valid_f,
        wrist_pos_cam=wrist,
        wrist_R_cam=R_sm,
        aperture_m=aperture,
        confidence=score,
        landmarks_px=px,
        landmarks_world=world,
        arm_px=arm_px,
        arm_pos_cam=arm_pos,
        arm_visibility=arm_vis,
        camera_R_ref=camera_R_ref,
        meta={
            **up,
            "max_jump_m": max_jump(wrist, valid_f),
            "source_fps": info.fps,
            "backend": info.backend,
            "arm_side": side,
            "frames_from_crops": int(sum(d is not None and d.from_crop for d in track)),
            "frames_recovered": recovered,
            "camera_frames_lost": run.camera.lost if run.camera is not None else None,
            **crops,
        },
    )
