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
    cut.write_bytes(good.read_bytes()[:600])
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


def _tag_rotation(path, out, degrees_cw=90):
    """Copy an mp4 with its track header's display matrix set to a clockwise rotation (as phones write it)."""
    import struct

    data = bytearray(path.read_bytes())
    i = data.index(b"tkhd")
    assert data[i + 4] == 0  # version 0 header: 32-bit times
    off = (
        i + 4 + 4 + 5 * 4 + 8 + 4 * 2
    )  # version/flags, times/id/duration, reserved, layer/group/volume/reserved
    one = 1 << 16
    a, b = {90: (0, one), 180: (-one, 0), 270: (0, -one)}[degrees_cw]
    data[off : off + 36] = struct.pack(">9i", a, b, 0, -b, a, 0, 0, 0, 1 << 30)
    out.write_bytes(bytes(data))


def test_phone_rotation_tag_is_applied(tmp_path):
    src = tmp_path / "landscape.mp4"
    with VideoWriter(src, 10, 64, 48) as vw:
        for _ in range(4):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[:10, :20] = 255  # a block in the top-left corner
            vw.write(frame)
    phone = tmp_path / "phone.mp4"
    _tag_rotation(src, phone, 90)
    info = probe(phone)
    assert info.rotation_deg == 90 and (info.width, info.height) == (48, 64)
    _, frame = next(iter_frames(phone))
    assert frame.shape == (64, 48, 3)
    ys, xs = np.nonzero(frame[..., 0] > 127)
    assert ys.mean() < 12 and xs.mean() > 36  # rotated clockwise: top-left went to top-right


def test_segments_and_strides_land_on_the_right_frames(tmp_path):
    from vid2skill.extract.hands import frame_stride

    path = tmp_path / "clip.mp4"
    _write_clip(path, n=20)
    assert [i for i, _ in iter_frames(path, stride=2, start=3, stop=10)] == [3, 5, 7, 9]
    # Skipping and seeking land on the same frames as reading every one.
    every = dict(iter_frames(path))
    assert all(np.array_equal(f, every[i]) for i, f in iter_frames(path, stride=3, start=2, stop=17))
    assert (
        frame_stride(30.0, 1, 10.0) == 3
        and frame_stride(25.0, 2, None) == 2
        and frame_stride(10.0, 1, 30.0) == 1
    )


def test_zero_frame_and_audio_only_files(tmp_path):
    import struct

    empty = tmp_path / "zero_frames.mp4"
    with VideoWriter(empty, 10, 64, 48):
        pass  # a container with no frame written
    # A RIFF/WAVE file (one second of silence) saved under a video name: audio, no video stream.
    n = 8000
    wav = (
        b"RIFF"
        + struct.pack("<I", 36 + n)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    )
    audio = tmp_path / "audio_only.mp4"
    audio.write_bytes(wav + b"data" + struct.pack("<I", n) + bytes([128]) * n)
    for path in (empty, audio):
        with pytest.raises(VideoError, match=path.name):
            probe(path)


def test_broken_link_is_listed_for_the_caller_to_report(tmp_path):
    (tmp_path / "gone.mp4").symlink_to(tmp_path / "missing_target.mp4")
    assert [p.name for p in list_videos(tmp_path)] == ["gone.mp4"]
