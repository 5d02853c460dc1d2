"""Weak labels from a labels CSV beside a folder of videos (vid2skill/ingest/labels.py, the folder source)."""

import pytest

from tests.helpers import make_cfg
from vid2skill.errors import ConfigError
from vid2skill.ingest.labels import read_labels
from vid2skill.ingest.sources import folder_source


def test_a_labels_file_reports_bad_rows_and_keeps_the_rest(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "a.mp4").write_bytes(b"x")
    (tmp_path / "videos" / "b.mp4").write_bytes(b"x")
    (tmp_path / "labels.csv").write_text(
        "file,skills,view\nvideos/a.mp4,Pick; place,ego\nvideos/missing.mp4,pick,ego\n"
        "videos/b.mp4,,ego\nvideos/b.mp4,none,ego\n",
        encoding="utf-8",
    )
    rows, problems = read_labels(tmp_path / "labels.csv")
    assert [(r.video.name, r.skills) for r in rows] == [("a.mp4", ["pick", "place"]), ("b.mp4", [])]
    assert [p["row"] for p in problems] == [3, 4] and "missing.mp4" in problems[0]["error"]
    # A header without the columns: every row is reported (with the fix) and skipped, nothing raised.
    (tmp_path / "bad.csv").write_text("video,label\na.mp4,pick\nb.mp4,place\n")
    rows, problems = read_labels(tmp_path / "bad.csv")
    assert rows == [] and [p["row"] for p in problems] == [2, 3]
    assert all(
        "missing column(s) file, skills" in p["error"] and "file,skills" in p["error"] for p in problems
    )


def test_the_folder_source_labels_each_video_by_its_row(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (videos / name).write_bytes(name.encode())
    (tmp_path / "labels.csv").write_text(
        "file,skills\nvideos/a.mp4,slide_open;slide_close\nvideos/b.mp4,none\n"
    )
    cfg = make_cfg(["source=folder", f"source.path={videos}", "source.label_from=csv"]).source
    clips = folder_source(cfg, tmp_path / "out", 1)
    labels = {c.clip_id.rsplit("_", 1)[0]: c.label for c in clips.clips}
    assert labels == {"a": "slide_open;slide_close", "b": None, "c": None}
    (tmp_path / "labels.csv").unlink()
    with pytest.raises(ConfigError, match="no labels.csv"):
        folder_source(cfg, tmp_path / "out", 1)


def test_bad_label_rows_are_reported_one_line_each_and_the_batch_goes_on(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("ok", "empty", "german", "odd", "short", "free"):
        (videos / f"{name}.mp4").write_bytes(name.encode())
    (tmp_path / "labels.csv").write_text(
        "file,skills\n"
        "videos/ok.mp4,pick;pour;place\n"  # 2: kept, in order
        "videos/gone.mp4,pick\n"  # 3: no such video
        "videos/empty.mp4,\n"  # 4: empty label
        "videos/german.mp4,Schublade öffnen\n"  # 5: another language
        "videos/odd.mp4,pick\u0007\n"  # 6: a control character
        "videos/short.mp4\n"  # 7: a missing cell
        "videos/free.mp4,Opening the drawer\n",  # 8: a free-text verb, read by the lexicon
        encoding="utf-8",
    )
    rows, problems = read_labels(tmp_path / "labels.csv")
    assert [(r.video.stem, r.skills) for r in rows] == [("ok", ["pick", "pour", "place"]), ("free", ["open"])]
    reasons = {p["row"]: p["error"] for p in problems}
    assert sorted(reasons) == [3, 4, 5, 6, 7] and all(
        "\n" not in e and "skipped" in e for e in reasons.values()
    )
    assert "no video" in reasons[3] and "write none" in reasons[4] and "labels.verbs" in reasons[5]
    assert "control characters" in reasons[6] and "too few fields" in reasons[7]
    cfg = make_cfg(["source=folder", f"source.path={videos}", "source.label_from=csv"]).source
    clips = folder_source(cfg, tmp_path / "out", 1)  # the batch goes on: every video is a clip
    assert len(clips.clips) == 6 and sorted(f["item"].rsplit(" ", 1)[1] for f in clips.failures) == [
        "3",
        "4",
        "5",
        "6",
        "7",
    ]
    by = {c.clip_id.rsplit("_", 1)[0]: c for c in clips.clips}
    assert by["ok"].skills == ["pick", "pour", "place"] and by["ok"].label_source == "csv"
    assert by["german"].label is None and by["german"].skills is None


def test_label_sources_in_priority_order(tmp_path):
    """csv before subfolder before file name, as source.label_from lists them; every text kept with its
    source."""
    videos = tmp_path / "videos"
    (videos / "pouring").mkdir(parents=True)
    (videos / "pouring" / "a_pick.mp4").write_bytes(
        b"a"
    )  # csv row and sub-folder and file name: the csv wins
    (videos / "pouring" / "b.mp4").write_bytes(b"b")  # sub-folder only
    (videos / "drawer_opened.mp4").write_bytes(b"c")  # file name only
    (videos / "hand_gestures.mp4").write_bytes(b"d")  # nothing the lexicon knows in its name
    (videos / "tap_open_none.mp4").write_bytes(b"e")  # an explicit none in the csv outranks the name's verb
    (tmp_path / "labels.csv").write_text(
        "file,skills\nvideos/pouring/a_pick.mp4,pick;place\nvideos/tap_open_none.mp4,none\n"
    )
    cfg = make_cfg(
        ["source=folder", f"source.path={videos}", "source.label_from=[csv,subfolder,filename]"]
    ).source
    by = {c.clip_id.rsplit("_", 1)[0]: c for c in folder_source(cfg, tmp_path / "out", 1).clips}
    a = by["a_pick"]
    assert (a.label, a.skills, a.label_source) == ("pick;place", ["pick", "place"], "csv")
    assert [t["source"] for t in a.label_texts] == ["csv", "subfolder", "filename"]
    assert (by["b"].skills, by["b"].label_source, by["b"].label) == (["pour"], "subfolder", "pouring")
    assert (by["drawer_opened"].skills, by["drawer_opened"].label_source) == (["open"], "filename")
    assert by["hand_gestures"].skills is None and by["hand_gestures"].label is None
    assert (by["tap_open_none"].skills, by["tap_open_none"].label_source, by["tap_open_none"].label) == (
        [],
        "csv",
        None,
    )
    # The file name before the sub-folder when so ordered; an unknown reader is refused with the choices.
    cfg.label_from = ["filename", "subfolder"]
    assert {
        c.clip_id.rsplit("_", 1)[0]: c.label_source for c in folder_source(cfg, tmp_path / "out", 1).clips
    }["a_pick"] == "filename"
    cfg.label_from = ["csv", "colour"]
    with pytest.raises(ConfigError, match="csv, subfolder, filename"):
        folder_source(cfg, tmp_path / "out", 1)


def test_the_shared_labels_map_every_clip_to_its_skills(shared_data):
    """Every (clip, skill) pair of ../shared/data/labels.csv whose verb the lexicon knows maps to that skill,
    in order."""
    import csv

    rows, problems = read_labels(shared_data / "labels.csv")
    assert problems == []
    with open(shared_data / "labels.csv", newline="") as f:
        written = {
            (shared_data / r["file"]).resolve(): [s for s in r["skills"].split(";") if s != "none"]
            for r in csv.DictReader(f)
        }
    assert len(rows) == len(written) and all(r.skills == written[r.video] for r in rows)


def test_an_edited_labels_file_changes_the_ingest_fingerprint(tmp_path):
    import os

    from vid2skill.ingest.sources import input_fingerprint

    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "a.mp4").write_bytes(b"a")
    labels = tmp_path / "labels.csv"
    labels.write_text("file,skills\nvideos/a.mp4,pick\n")
    cfg = make_cfg(["source=folder", f"source.path={videos}", "source.label_from=csv"]).source
    before = input_fingerprint(cfg)
    labels.write_text("file,skills\nvideos/a.mp4,pick;place\n")
    os.utime(labels, ns=(labels.stat().st_mtime_ns + 10**9,) * 2)
    assert input_fingerprint(cfg) != before  # found beside the folder
    cfg.labels = str(labels)
    given = input_fingerprint(cfg)
    labels.write_text("file,skills\nvideos/a.mp4,place\n")
    os.utime(labels, ns=(labels.stat().st_mtime_ns + 10**9,) * 2)
    assert input_fingerprint(cfg) != given  # given as source.labels
    cfg.label_from = "none"  # labels not read: their edits do not rerun ingest
    cfg.labels = None
    unlabelled = input_fingerprint(cfg)
    labels.write_text("file,skills\nvideos/a.mp4,pour\n")
    os.utime(labels, ns=(labels.stat().st_mtime_ns + 10**9,) * 2)
    assert input_fingerprint(cfg) == unlabelled
