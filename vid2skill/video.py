"""Video decoding (decord first, OpenCV where decord cannot open a file) and mp4 writing."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vid2skill.errors import VideoError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".gif", ".m4v", ".mpg", ".mpeg", ".wmv"}


@dataclass(frozen=True)
class VideoInfo:
    path: str
    frames: int
    fps: float
    width: int
    height: int
    backend: str


def _open_decord(path: str):
    import decord

    decord.bridge.set_bridge("native")
    return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)


def probe(path: str | os.PathLike) -> VideoInfo:
    """Frame count, rate and size of a video; raise VideoError naming the file if unreadable."""
    path = str(path)
    if not os.path.isfile(path):
        raise VideoError(f"video not found: {path}")
    if os.path.getsize(path) == 0:
        raise VideoError(f"video is empty (0 bytes): {path}")
    try:
        vr = _open_decord(path)
        h, w = vr[0].shape[:2] if len(vr) else (0, 0)
        info = VideoInfo(path, len(vr), float(vr.get_avg_fps()), w, h, "decord")
    except Exception as e:  # decord raises its own DECORDError and RuntimeErrors for many codecs
        log.debug("decord could not open %s (%s); trying OpenCV", path, e)
        cap = cv2.VideoCapture(path)
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            cap.release()
            raise VideoError(f"cannot decode video {path}: neither decord nor OpenCV could read a frame") from e
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        cap.release()
        info = VideoInfo(path, max(frames, 1), float(fps), frame.shape[1], frame.shape[0], "opencv")
    if info.frames == 0:
        raise VideoError(f"video has no frames: {path}")
    return info


def iter_frames(path: str | os.PathLike, stride: int = 1, batch: int = 32) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, RGB uint8 (H, W, 3)) every ``stride`` frames, in bounded memory."""
    info = probe(path)
    if info.backend == "decord":
        vr = _open_decord(info.path)
        indices = list(range(0, len(vr), stride))
        for start in range(0, len(indices), batch):
            chunk = indices[start : start + batch]
            try:
                frames = vr.get_batch(chunk).asnumpy()
            except Exception as e:
                raise VideoError(f"decoding failed in {info.path} near frame {chunk[0]}: {e}") from e
            yield from zip(chunk, frames)
        return
    cap = cv2.VideoCapture(info.path)
    i = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % stride == 0:
                yield i, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()


class VideoWriter:
    """mp4 (MPEG-4 part 2) writer for RGB frames; writes to a temporary name and renames on close."""

    def __init__(self, path: str | os.PathLike, fps: float, width: int, height: int):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp{self.path.suffix}")
        self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not self._writer.isOpened():
            raise VideoError(f"OpenCV cannot write {self.path} (mp4v codec unavailable?)")
        self.size = (width, height)

    def write(self, rgb: np.ndarray) -> None:
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        self._writer.release()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self._writer.release()
        if self._tmp.exists():
            self._tmp.unlink()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def list_videos(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
