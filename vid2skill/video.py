"""Video decoding (decord first, OpenCV where decord cannot open a file) and mp4 writing.

Frames come out upright: a phone video's rotation tag (OpenCV reads it from the container) is
applied, and such files are decoded with OpenCV, because decord returns them rotated but with a
spurious fourth channel. Frames are decoded one at a time, so a long 1080p clip streams in a
few tens of megabytes above the libraries' own footprint.
"""

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
    height: int  # upright, after the rotation tag
    backend: str
    rotation_deg: int = 0  # clockwise display rotation from the container (0, 90, 180 or 270)


def _open_decord(path: str):
    import decord

    decord.bridge.set_bridge("native")
    return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)


def _rotation_tag(cap: cv2.VideoCapture) -> int:
    """Clockwise display rotation in degrees from an opened capture's container metadata (0 when absent)."""
    deg = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360 if cap.isOpened() else 0
    return deg if deg in (90, 180, 270) else 0


def upright(frame: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply a clockwise display rotation (the container's tag) to an (H, W, C) frame."""
    return np.ascontiguousarray(np.rot90(frame, k=-(rotation_deg // 90))) if rotation_deg else frame


def probe(path: str | os.PathLike) -> VideoInfo:
    """Frame count, rate, upright size and rotation of a video; raise VideoError naming the file if
    unreadable."""
    path = str(path)
    if not os.path.isfile(path):
        raise VideoError(f"video not found: {path}")
    if os.path.getsize(path) == 0:
        raise VideoError(f"video is empty (0 bytes): {path}")
    # One OpenCV capture reads the rotation tag and, where decord is not used, the first frame.
    cap = cv2.VideoCapture(path)
    try:
        rotation = _rotation_tag(cap)
        info, decord_error = None, None
        if not rotation:
            try:
                vr = _open_decord(path)
                first = vr[0].shape if len(vr) else (0, 0, 3)
                if len(first) != 3 or first[2] != 3:
                    # decord returns frames narrower than about 32 px with a wrong channel count
                    # (4 or 6: its row padding); OpenCV decodes them correctly.
                    raise VideoError(f"decord returned {first} for a frame")
                h, w = first[:2]
                info = VideoInfo(path, len(vr), float(vr.get_avg_fps()), w, h, "decord")
            except Exception as e:  # decord raises its own DECORDError and RuntimeErrors for many codecs
                log.debug("decord could not open %s (%s); trying OpenCV", path, e)
                decord_error = e
        if info is None:
            if cap.isOpened():
                cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)  # rotated explicitly, the same way on every build
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            if not ok:
                raise VideoError(
                    f"cannot decode video {path}: neither decord nor OpenCV could read a frame"
                ) from decord_error
            h, w = upright(frame, rotation).shape[:2]
            info = VideoInfo(
                path,
                max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1),
                float(cap.get(cv2.CAP_PROP_FPS) or 30.0),
                w,
                h,
                "opencv",
                rotation,
            )
    finally:
        cap.release()
    if info.frames == 0:
        raise VideoError(f"video has no frames: {path}")
    return info


def iter_frames(
    path: str | os.PathLike,
    stride: int = 1,
    info: VideoInfo | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, upright RGB uint8 (H, W, 3)) every ``stride`` frames of [start, stop).

    One frame is decoded at a time, so memory stays bounded whatever the clip's length.
    """
    info = info or probe(path)
    if info.backend == "decord":
        # Sequential next() with skip_frames for the stride: decord's get_batch keeps decoded
        # frames alive inside decord (several times the memory of reading sequentially;
        # benchmarks/decode_memory.py), and is slower.
        vr = _open_decord(info.path)
        end = len(vr) if stop is None else min(stop, len(vr))
        i = start
        try:
            if start > 0:
                vr.seek_accurate(start)
            while i < end:
                frame = vr.next().asnumpy()
                yield i, frame
                skip = min(stride - 1, end - i - 1)
                if skip > 0:
                    vr.skip_frames(skip)
                i += stride
        except StopIteration:
            return
        except Exception as e:  # decord raises DECORDError / RuntimeError on corrupt data
            raise VideoError(f"decoding failed in {info.path} near frame {i}: {e}") from e
        return
    cap = cv2.VideoCapture(info.path)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    i = 0
    try:
        while stop is None or i < stop:
            if i < start or (i - start) % stride:  # skipped frames are demuxed but not converted
                if not cap.grab():
                    break
                i += 1
                continue
            ok, frame = cap.read()
            if not ok:
                break
            yield i, upright(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), info.rotation_deg)
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

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def list_videos(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Files under ``folder`` with a video suffix, sorted; broken links are listed too, so that the
    caller reports them instead of silently skipping them."""
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if (p.is_file() or (p.is_symlink() and not p.exists())) and p.suffix.lower() in VIDEO_SUFFIXES
    )


def write_gif(path: str | os.PathLike, frames: list[np.ndarray], fps: float, scale: float = 0.5) -> None:
    """A small looping GIF of RGB frames (for READMEs and reports), written atomically."""
    import io

    from PIL import Image

    from vid2skill.artifacts import atomic_write_bytes

    if not frames:
        raise VideoError(f"no frames to write to {path}")
    h, w = frames[0].shape[:2]
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    images = [Image.fromarray(np.ascontiguousarray(f)).resize(size, Image.BILINEAR) for f in frames]
    buf = io.BytesIO()
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
    )
    atomic_write_bytes(path, buf.getvalue())
