"""Visual check of a hand track: the video with landmarks, wrist axes and trajectory drawn on, and a plot.

``vid2skill extract ... viz=true`` writes, per clip, ``extract/viz/<clip>.mp4`` (the decoded frames
with the 21 landmarks and their skeleton, the arm from the pose model, the wrist's palm frame as
x/y/z axes 5 cm long, and the wrist's path over the last two seconds, all projected with the
track's intrinsics) and ``extract/viz/<clip>.png`` (wrist position, grasp aperture and confidence
over time, with the frames where the hand was detected and where the track is valid).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vid2skill.artifacts import atomic_save_figure
from vid2skill.extract.types import HandTrack
from vid2skill.video import VideoWriter, iter_frames

# MediaPipe's hand skeleton: (from, to) landmark pairs.
HAND_EDGES = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (5, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (9, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (13, 17),
    (0, 17),
    (17, 18),
    (18, 19),
    (19, 20),
]
AXIS_COLOURS = [(230, 40, 40), (40, 200, 40), (40, 90, 240)]  # RGB for the palm frame's x, y, z
AXIS_M = 0.05
TRAIL_S = 2.0


def project(points_cam: np.ndarray, intrinsics) -> np.ndarray:
    """(..., 3) camera-frame points to (..., 2) pixels (NaN behind the camera)."""
    fx, fy, cx, cy = intrinsics
    z = np.where(points_cam[..., 2] > 1e-6, points_cam[..., 2], np.nan)
    return np.stack([fx * points_cam[..., 0] / z + cx, fy * points_cam[..., 1] / z + cy], axis=-1)


def _pt(p: np.ndarray) -> tuple[int, int] | None:
    return (int(round(p[0])), int(round(p[1]))) if np.isfinite(p).all() and np.abs(p).max() < 1e5 else None


def draw_frame(rgb: np.ndarray, track: HandTrack, t: int) -> np.ndarray:
    """One annotated frame (a copy) for track index ``t``."""
    img = rgb.copy()
    scale = max(1, round(max(img.shape[:2]) / 480))
    lm = track.landmarks_px[t]
    if track.detected[t]:
        for a, b in HAND_EDGES:
            pa, pb = _pt(lm[a]), _pt(lm[b])
            if pa and pb:
                cv2.line(img, pa, pb, (255, 255, 255), scale, cv2.LINE_AA)
        for p in lm:
            if q := _pt(p):
                cv2.circle(img, q, 2 * scale, (255, 60, 160), -1, cv2.LINE_AA)
    arm = [_pt(p) for p in track.arm_px[t]]
    for a, b in ((0, 1), (1, 2)):
        if arm[a] and arm[b]:
            cv2.line(img, arm[a], arm[b], (250, 200, 40), 2 * scale, cv2.LINE_AA)
    fps = track.fps
    lo = max(0, t - int(TRAIL_S * fps))
    trail = project(track.wrist_pos_cam[lo : t + 1], track.intrinsics)
    pts = [q for q in (_pt(p) for p in trail) if q]
    if len(pts) > 1:
        cv2.polylines(img, [np.array(pts, np.int32)], False, (40, 220, 255), scale, cv2.LINE_AA)
    if track.valid[t]:
        origin = track.wrist_pos_cam[t]
        tips = origin + AXIS_M * track.wrist_R_cam[t].T  # rows: the palm frame's axes in the camera frame
        o = _pt(project(origin, track.intrinsics))
        for k, tip in enumerate(tips):
            e = _pt(project(tip, track.intrinsics))
            if o and e:
                cv2.line(img, o, e, AXIS_COLOURS[k], 2 * scale, cv2.LINE_AA)
    text = (
        f"t={track.time_s[t]:.2f}s  aperture={track.aperture_m[t] * 100:.1f}cm  "
        f"conf={track.confidence[t]:.2f}"
    )
    cv2.putText(
        img, text, (6, 18 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * scale, (255, 255, 0), scale, cv2.LINE_AA
    )
    return img


def write_video(track: HandTrack, video_path: str, out: Path) -> None:
    """The clip's decoded frames (the track's frame indices) with the track drawn on, as mp4."""
    wanted = {int(i): t for t, i in enumerate(track.frame_index)}
    stride = int(track.frame_index[1] - track.frame_index[0]) if len(track.frame_index) > 1 else 1
    start, stop = int(track.frame_index[0]), int(track.frame_index[-1]) + 1
    with VideoWriter(out, track.fps, track.width, track.height) as w:
        for i, rgb in iter_frames(video_path, stride=stride, start=start, stop=stop):
            if i in wanted:
                if rgb.shape[1] != track.width or rgb.shape[0] != track.height:
                    rgb = cv2.resize(rgb, (track.width, track.height))
                w.write(draw_frame(rgb, track, wanted[i]))


def write_plot(track: HandTrack, out: Path) -> None:
    """Wrist position (m, camera frame), aperture (cm) and confidence over time, as PNG (written
    atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = track.time_s
    fig, ax = plt.subplots(3, 1, figsize=(8, 6.5), sharex=True)
    for k, name in enumerate("xyz"):
        ax[0].plot(t, track.wrist_pos_cam[:, k], label=f"wrist {name}")
    ax[0].set_ylabel("position (m)")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[1].plot(t, track.aperture_m * 100, color="tab:purple")
    ax[1].set_ylabel("aperture (cm)")
    ax[2].plot(t, track.confidence, color="tab:gray", label="confidence")
    ax[2].fill_between(
        t, 0, track.detected.astype(float) * 0.15, color="tab:green", alpha=0.4, label="detected"
    )
    ax[2].fill_between(
        t, 0.15, 0.15 + track.valid.astype(float) * 0.15, color="tab:blue", alpha=0.3, label="valid"
    )
    ax[2].set_ylabel("score")
    ax[2].set_xlabel("time (s)")
    ax[2].legend(loc="lower right", fontsize=8)
    fig.suptitle(
        f"{track.clip_id} ({track.handedness} hand, detected in {100 * track.detection_rate:.0f}% of frames)"
    )
    atomic_save_figure(fig, out)


def visualise(track: HandTrack, video_path: str, out_dir: Path) -> dict:
    """Write the annotated video and the plot of one track; returns their paths."""
    video, plot = out_dir / f"{track.clip_id}.mp4", out_dir / f"{track.clip_id}.png"
    write_video(track, video_path, video)
    write_plot(track, plot)
    return {"video": str(video), "plot": str(plot)}
