"""Annotated dataset sources: EPIC-KITCHENS-100 CSV segments and Something-Something-v2 labels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.helpers import make_cfg
from vid2skill.errors import ConfigError
from vid2skill.ingest.datasets import epic_source, parse_timestamp, ssv2_source
from vid2skill.ingest.types import ClipSet
from vid2skill.video import VideoWriter

HEADER = (
    "narration_id,participant_id,video_id,narration_timestamp,start_timestamp,stop_timestamp,start_frame,"
    "stop_frame,narration,verb,verb_class,noun,noun_class,all_nouns,all_noun_classes"
)


def _video(path, seconds: float, fps: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    with VideoWriter(path, fps, 64, 48) as w:
        for _ in range(int(seconds * fps)):
            w.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def _row(nid, vid, start, stop, verb, noun):
    return f"{nid},P01,{vid},{start},{start},{stop},1,2,{verb} {noun},{verb},0,{noun},0,\"['{noun}']\",[0]"


def _epic_cfg(csv, videos, **kw):
    """source=epic as composed, with ``kw`` set (lists in Hydra's syntax)."""
    overrides = [
        f"source.{k}=[{','.join(v)}]" if isinstance(v, list) else f"source.{k}={v}" for k, v in kw.items()
    ]
    return make_cfg(
        ["source=epic", f"source.annotations={csv}", f"source.videos={videos}", *overrides]
    ).source


def test_timestamps():
    assert parse_timestamp("00:01:02.50") == pytest.approx(62.5)
    assert parse_timestamp("01:00.25") == pytest.approx(60.25)
    with pytest.raises(ValueError):
        parse_timestamp("1:xx:00")


def test_epic_rows_become_segments_and_bad_rows_are_reported(tmp_path):
    videos = tmp_path / "videos" / "P01"
    videos.mkdir(parents=True)
    _video(videos / "P01_01.mp4", 4.0)
    rows = [
        _row("P01_01_0", "P01_01", "00:00:00.50", "00:00:01.50", "open", "drawer"),
        _row("P01_01_1", "P01_01", "00:00:02.00", "00:00:01.00", "close", "drawer"),  # stop before start
        _row("P01_01_2", "P01_01", "00:00:09.00", "00:00:10.00", "open", "cupboard"),  # past the video's end
        _row("P09_01_0", "P09_01", "00:00:00.00", "00:00:01.00", "pour", "water"),  # no such video
        _row("P01_01_3", "P01_01", "soon", "00:00:01.00", "take", "cup"),  # malformed timestamp
        _row("P01_01_4", "P01_01", "00:00:00.50", "00:00:01.50", "open", "drawer"),  # the same segment again
        _row(
            "P01_01_5", "P01_01", "00:00:03.00", "00:00:06.00", "close", "drawer"
        ),  # runs past the end: clipped
    ]
    csv = tmp_path / "EPIC_100_test.csv"
    csv.write_text("\n".join([HEADER, *rows]) + "\n")
    clips = epic_source(_epic_cfg(csv, tmp_path / "videos"), tmp_path, 1)
    assert [(c.label, c.start_s, c.end_s) for c in clips.clips] == [("open", 0.5, 1.5), ("close", 3.0, 4.0)]
    assert len({c.content_hash for c in clips.clips}) == 2
    errors = {f["item"].split(" ")[1]: f["error"] for f in clips.failures}
    assert "not after start" in errors["(P01_01_1)"]
    assert "past the end" in errors["(P01_01_2)"]
    assert "no video P09_01" in errors["(P09_01_0)"]
    assert "not a timestamp" in errors["(P01_01_3)"]
    # Filters and the verb_noun label.
    only = epic_source(
        _epic_cfg(csv, tmp_path / "videos", verbs=["close"], label_from="verb_noun"), tmp_path, 1
    )
    assert [c.label for c in only.clips] == ["close drawer"]
    # The verb read through the lexicon (the noun kept beside it, never read as a label).
    assert [(c.skills, c.label_source) for c in clips.clips] == [(["open"], "epic"), (["close"], "epic")]
    assert {"source": "epic", "field": "noun", "text": "drawer", "label": False} in clips.clips[0].label_texts


def test_epic_rejects_files_that_are_not_epic_annotations(tmp_path):
    csv = tmp_path / "other.csv"
    csv.write_text("a,b,c\n1,2,3\n")
    (tmp_path / "v").mkdir()
    with pytest.raises(ConfigError, match="missing columns"):
        epic_source(_epic_cfg(csv, tmp_path / "v"), tmp_path, 1)
    with pytest.raises(ConfigError, match="no such CSV"):
        epic_source(_epic_cfg(tmp_path / "nope.csv", tmp_path / "v"), tmp_path, 1)


def test_ssv2_labels_over_a_folder(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    _video(videos / "11.mp4", 1.0, seed=1)
    (videos / "11.mp4").rename(videos / "11.webm")  # SSv2 ships .webm; only its bytes matter here
    shutil.copy(videos / "11.webm", videos / "12.webm")  # the same bytes under another id: one clip
    entries = [
        {
            "id": "11",
            "label": "opening drawer",
            "template": "Opening [something]",
            "placeholders": ["drawer"],
        },
        {"id": "12", "label": "opening box", "template": "Opening [something]", "placeholders": ["box"]},
        {"id": "13", "label": "closing lid", "template": "Closing [something]", "placeholders": ["lid"]},
        {"label": "no id"},
    ]
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(entries))
    cfg = make_cfg(["source=ssv2", f"source.labels={labels}", f"source.videos={videos}"]).source
    clips = ssv2_source(cfg, tmp_path, 1)
    assert [c.label for c in clips.clips] == ["opening something"]
    assert clips.clips[0].skills == ["open"] and clips.clips[0].label_texts[0] == {
        "source": "ssv2",
        "field": "template",
        "text": "Opening [something]",
    }
    assert [f["item"] for f in clips.failures] == ["labels.json[2]", "labels.json[3]"]
    labels.write_text("[{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ssv2_source(cfg, tmp_path, 1)


@pytest.mark.real_data
def test_ssv2_source_on_the_shared_labels(shared_data, tmp_path):
    from vid2skill.pipeline import run_stage

    ws = tmp_path / "ws"
    cfg = make_cfg(
        [
            f"workspace={ws}",
            "source=ssv2",
            f"source.labels={shared_data / 'ssv2' / 'labels.json'}",
            f"source.videos={shared_data / 'ssv2'}",
            "workers=1",
        ]
    )
    run_stage(cfg, "ingest")
    clips = ClipSet.load(ws / "ingest" / "clips")
    expected = {
        str(e["id"])
        for e in json.loads((shared_data / "ssv2" / "labels.json").read_text())
        if list((shared_data / "ssv2").glob(f"{e['id']}.*"))
    }
    assert {c.clip_id.split("_")[1] for c in clips.clips} == expected
    assert all(c.label and "[" not in c.label for c in clips.clips)


def test_urls_are_fetched_with_yt_dlp_and_failures_reported(tmp_path):
    pytest.importorskip("yt_dlp", reason="yt-dlp is the optional 'urls' extra (installed with .[dev])")
    from vid2skill.ingest.datasets import urls_source

    _video(tmp_path / "a.mp4", 1.0, seed=3)
    urls = [f"file://{tmp_path / 'a.mp4'}", f"file://{tmp_path / 'missing.mp4'}"]
    cfg = make_cfg(
        ["source=urls", f"source.urls=[{','.join(urls)}]", "source.labels=[pick,pour]", "source.timeout_s=5"]
    ).source
    out = urls_source(cfg, tmp_path / "fetched", 1)
    assert [c.label for c in out.clips] == ["pick"] and out.clips[0].source == "urls"
    # yt-dlp's title kept as a weak label (a file:// URL's title is its file's name), below the given label.
    assert out.clips[0].skills == ["pick"] and out.clips[0].label_source == "urls"
    assert {"source": "url_meta", "field": "title", "text": "a"} in out.clips[0].label_texts
    assert len(out.failures) == 1 and "missing.mp4" in out.failures[0]["item"]
    fetched = list((tmp_path / "fetched").iterdir())
    again = urls_source(cfg, tmp_path / "fetched", 1)  # fetched once: nothing is downloaded again
    assert [c.content_hash for c in again.clips] == [c.content_hash for c in out.clips]
    assert sorted(fetched) == sorted((tmp_path / "fetched").iterdir())
    with pytest.raises(ConfigError, match="one per url"):
        urls_source(
            make_cfg(["source=urls", f"source.urls=[{','.join(urls)}]", "source.labels=[pick]"]).source,
            tmp_path / "fetched",
            1,
        )
