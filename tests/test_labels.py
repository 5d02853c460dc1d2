"""Weak labels from a labels CSV beside a folder of videos (vid2skill/ingest/labels.py, the folder source)."""

import pytest

from vid2skill.errors import ConfigError
from vid2skill.ingest.labels import read_labels
from vid2skill.ingest.sources import folder_source

from conftest import make_cfg


def test_a_labels_file_reports_bad_rows_and_keeps_the_rest(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "a.mp4").write_bytes(b"x")
    (tmp_path / "videos" / "b.mp4").write_bytes(b"x")
    (tmp_path / "labels.csv").write_text("file,skills,view\nvideos/a.mp4,Pick; place,ego\nvideos/missing.mp4,pick,ego\n"
                                         "videos/b.mp4,,ego\nvideos/b.mp4,none,ego\n", encoding="utf-8")
    rows, problems = read_labels(tmp_path / "labels.csv")
    assert [(r.video.name, r.skills) for r in rows] == [("a.mp4", ["pick", "place"]), ("b.mp4", [])]
    assert [p["row"] for p in problems] == [3, 4] and "missing.mp4" in problems[0]["error"]
    (tmp_path / "bad.csv").write_text("video,label\na.mp4,pick\n")
    with pytest.raises(ConfigError, match="missing column"):
        read_labels(tmp_path / "bad.csv")



def test_the_folder_source_labels_each_video_by_its_row(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (videos / name).write_bytes(name.encode())
    (tmp_path / "labels.csv").write_text("file,skills\nvideos/a.mp4,slide_open;slide_close\nvideos/b.mp4,none\n")
    cfg = make_cfg(["source=folder", f"source.path={videos}", "source.label_from=csv"]).source
    clips = folder_source(cfg, tmp_path / "out", 1)
    labels = {c.clip_id.rsplit("_", 1)[0]: c.label for c in clips.clips}
    assert labels == {"a": "slide_open;slide_close", "b": None, "c": None}
    (tmp_path / "labels.csv").unlink()
    with pytest.raises(ConfigError, match="no labels.csv"):
        folder_source(cfg, tmp_path / "out", 1)
