import shutil

import numpy as np
import pytest

from tests.helpers import make_cfg


@pytest.mark.slow
def test_extract_ground_truth_puts_the_synthetic_truth_in_the_tracks(synthetic_ws, tmp_path):
    """``extract.ground_truth=true`` writes tracks that carry the generator's ground truth on the
    frames read; a clip without ground truth fails with a one-line message."""
    from dataclasses import replace

    from vid2skill.errors import Vid2SkillError
    from vid2skill.extract.truth import track_from_ground_truth
    from vid2skill.extract.types import HandTrack, TrackSet
    from vid2skill.ingest.synthetic.generator import load_ground_truth
    from vid2skill.ingest.types import ClipSet
    from vid2skill.pipeline import run_stage
    from vid2skill.workspace import Workspace

    ws0, _ = synthetic_ws
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws)
    cfg = make_cfg(
        [f"workspace={ws}", "debug=tiny", "workers=1", "source.seed=7000", "extract.ground_truth=true"]
    )
    run_stage(cfg, "extract")
    layout = Workspace(ws)
    clips = {c.clip_id: c for c in ClipSet.load(layout.clips).clips}
    checked = 0
    for rec in TrackSet.load(layout.tracks).ok():
        track, extracted = (
            HandTrack.load(rec["track"]),
            HandTrack.load(ws0 / "extract" / rec["track"].split("extract/")[-1]),
        )
        gt = load_ground_truth(clips[rec["clip"]].ground_truth)[1]
        seen = gt["visible"][track.frame_index].astype(bool)
        assert track.meta["ground_truth"] and np.array_equal(track.detected, seen)
        assert np.allclose(track.wrist_pos_cam[seen], gt["wrist_pos_cam"][track.frame_index][seen])
        assert not np.allclose(track.wrist_pos_cam[seen], extracted.wrist_pos_cam[seen], equal_nan=True)
        checked += 1
    assert checked >= 2

    clip = replace(next(iter(clips.values())), ground_truth=None)
    with pytest.raises(Vid2SkillError, match="needs a synthetic clip with ground truth") as e:
        track_from_ground_truth(track, clip)
    assert "\n" not in str(e.value)
