import numpy as np
import pytest

from vid2skill.errors import VideoError
from vid2skill.video import VideoWriter, iter_frames, list_videos, probe


def _write_clip(path, n=12, w=64, h=48):
    with VideoWriter(path, 10, w, h) as vw:
        for i in range(n):
            frame = np.zeros((h, w, 3), np.uint8)
            frame[:, : (i + 1) * 4] = 200
            vw.write(frame)


def test_write_probe_and_decode_with_stride(tmp_path):
    path = tmp_path / "clip.mp4"
    _write_clip(path)
    info = probe(path)
    assert info.frames == 12 and (info.width, info.height) == (64, 48)
    frames = list(iter_frames(path, stride=3))
    assert [i for i, _ in frames] == [0, 3, 6, 9]
    assert frames[0][1].shape == (48, 64, 3)
    assert frames[1][1][:, :10].mean() > 150  # content survived the codec


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_broken_files_give_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match="broken.mp4"):
        probe(path)


def test_truncated_file(tmp_path):
    good = tmp_path / "good.mp4"
    _write_clip(good, n=30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: 600])
    with pytest.raises(VideoError, match="cut.mp4"):
        list(iter_frames(cut))


def test_missing_file_and_listing(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        probe(tmp_path / "nope.mp4")
    (tmp_path / "a.MP4").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in list_videos(tmp_path)] == ["a.MP4"]


def test_writer_aborts_without_leaving_a_file(tmp_path):
    path = tmp_path / "partial.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(path, 10, 32, 32) as vw:
            vw.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
