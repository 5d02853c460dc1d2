"""The Workspace (vid2skill/workspace.py): every artifact path and stage record in one place, with the
layout existing workspaces have (checked against what the stages write)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers import make_cfg
from vid2skill.workspace import STAGE_FOLDERS, Workspace, checkpoint_dir, last_checkpoint, last_pointer


def test_the_layout_is_the_one_existing_workspaces_have():
    """Spelled out once here: a change of any of these paths strands every workspace already made."""
    from vid2skill.policy.registry import get_policy

    ws = Workspace("/w")
    expected = {
        ws.source_dir("synthetic"): "ingest/synthetic",
        ws.clips: "ingest/clips",
        ws.extract_dir: "extract",
        ws.tracks: "extract/tracks",
        ws.skills: "skills",
        ws.segmentation_failures: "skills/segmentation_failures.json",
        ws.add_dir: "add",
        ws.added_tracks: "add/tracks",
        ws.add_decisions: "add/last_decisions.json",
        ws.demos("panda"): "retarget/panda",
        ws.demos("panda", "pour"): "retarget/panda/pour",
        ws.demo_index("iiwa"): "retarget/iiwa/index.json",
        ws.policies("panda", "pour"): "policies/panda/pour",
        get_policy("bc_mlp").source("/w", "panda", "pour"): "policies/panda/pour",
        get_policy("act").source("/w", "panda", "pour"): "policies_act/panda/pour",
        get_policy("bc_mlp_dagger").source("/w", "xarm6", "pour"): "policies_dagger/xarm6/pour",
        get_policy("replay").source("/w", "panda", "pour"): "retarget/panda/pour",
        ws.eval("bc_mlp", "panda"): "eval/bc_mlp/panda",
        ws.eval_results("expert", "iiwa"): "eval/expert/iiwa/results.json",
        ws.eval_episodes("expert", "iiwa"): "eval/expert/iiwa/episodes.json",
        ws.eval_video("expert", "iiwa", "pour", 12): "eval/expert/iiwa/videos/pour_seed12.mp4",
        ws.export("lerobot", "panda"): "export/lerobot/panda",
        ws.report: "report/index.html",
        ws.real_to_robot: "real_to_robot.json",
        ws.stage_record("cluster"): "skills/_stage.json",
        ws.stage_record("train"): "policies/_stage.json",
        ws.stage_record("evaluate", "expert/panda"): "eval/expert/panda/_stage.json",
        ws.stage_record("add", "runs/0123"): "add/runs/0123/_stage.json",
        checkpoint_dir(ws.policies("panda", "pour"), 7): "policies/panda/pour/checkpoints/000007",
        last_pointer(ws.policies("panda", "pour")): "policies/panda/pour/checkpoints/last",
    }
    assert {str(p.relative_to("/w")): rel for p, rel in expected.items()} == {v: v for v in expected.values()}
    assert get_policy("expert").source("/w", "panda", "pour") is None  # the expert needs nothing


def test_the_pipeline_stages_write_the_folders_the_workspace_names():
    from vid2skill.pipeline import STAGES

    assert {name: s.folder for name, s in STAGES.items()} == STAGE_FOLDERS
    ws = Workspace("/w")
    assert [ws.stage_dir(n).name for n in STAGES] == [
        "ingest",
        "extract",
        "skills",
        "retarget",
        "policies",
        "eval",
        "export",
        "add",
    ]


def test_a_workspace_is_its_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    ws = Workspace("~/data")
    assert ws.root == tmp_path / "data" and os.fspath(ws) == str(tmp_path / "data")
    assert Workspace(ws) == ws and Workspace(Path(tmp_path / "data")) == ws and len({ws, Workspace(ws)}) == 1


def test_stage_records_read_back_and_a_damaged_one_reads_as_none(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.read_stage_record("extract") is None
    path = ws.write_stage_record("extract", {"key": "k1", "summary": {"clips": 2}})
    assert path == tmp_path / "extract" / "_stage.json"
    assert ws.read_stage_record("extract") == {"key": "k1", "summary": {"clips": 2}}
    path.write_text("{not json")
    assert ws.read_stage_record("extract") is None
    path.write_text(json.dumps({"summary": {}}))  # no key: not a finished stage's record
    assert ws.read_stage_record("extract") is None


def test_last_checkpoint_follows_the_pointer(tmp_path):
    assert last_checkpoint(tmp_path) is None
    checkpoint_dir(tmp_path, 12).mkdir(parents=True)
    last_pointer(tmp_path).write_text("000012\n")
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoints" / "000012"


def test_ingest_and_extract_write_where_the_workspace_says(synthetic_ws):
    from vid2skill.extract.types import TrackSet
    from vid2skill.ingest.types import ClipSet
    from vid2skill.pipeline import STAGES, _marker

    root, cfg = synthetic_ws
    ws = Workspace(root)
    clips = ClipSet.load(ws.clips)
    assert clips.clips and all(Path(c.path).is_relative_to(ws.source_dir("synthetic")) for c in clips.clips)
    tracks = TrackSet.load(ws.tracks)
    assert len(tracks.records) == len(clips.clips)
    assert all(Path(r["track"]).is_relative_to(ws.extract_dir / "tracks") for r in tracks.ok())
    for stage in ("ingest", "extract"):
        assert _marker(root, STAGES[stage], cfg) == ws.stage_record(stage)
        assert ws.read_stage_record(stage)["summary"]["clips"] == len(clips.clips)


def test_an_evaluation_writes_where_the_workspace_says(tmp_path):
    from vid2skill.pipeline import run_stage
    from vid2skill.sim.evaluate import eval_dir

    cfg = make_cfg(
        [
            f"workspace={tmp_path}",
            "policy=expert",
            "skill=slide_open",
            "episodes=1",
            "workers=1",
            "sim.videos=0",
        ]
    )
    summary = run_stage(cfg, "evaluate")
    ws = Workspace(tmp_path)
    assert ws.eval_runs() == [("expert", "panda")] and eval_dir(cfg, tmp_path) == ws.eval("expert", "panda")
    assert [r["skill"] for r in json.loads(ws.eval_results("expert", "panda").read_text())] == ["slide_open"]
    assert len(json.loads(ws.eval_episodes("expert", "panda").read_text())["episodes"]) == 1
    assert ws.read_stage_record("evaluate", "expert/panda")["summary"] == summary
    assert ws.read_stage_record("evaluate") is None  # one record per policy and robot


def test_a_renewed_record_keeps_its_key_and_takes_a_new_run(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.renew_stage_record("cluster", {"version": 2}) is None  # nothing downstream keys on it yet
    ws.write_stage_record("cluster", {"key": "k", "run": "r1", "summary": {"version": 1, "k": 3}})
    renewed = ws.renew_stage_record("cluster", {"version": 2})
    assert renewed == ws.read_stage_record("cluster")
    assert renewed["key"] == "k" and renewed["run"] != "r1" and renewed["summary"] == {"version": 2, "k": 3}
