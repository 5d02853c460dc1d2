"""End to end on tiny synthetic data: every stage, resumption, skipping, bad input."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from vid2skill.extract.accuracy import score_track, summarise
from vid2skill.extract.types import HandTrack, TrackSet
from vid2skill.ingest.synthetic.generator import PHASES, load_ground_truth
from vid2skill.pipeline import run_stage
from vid2skill.skills.library import SkillLibrary
from vid2skill.workspace import Workspace


def test_extraction_against_ground_truth(synthetic_ws):
    ws, _ = synthetic_ws
    tracks = TrackSet.load(ws / "extract" / "tracks")
    assert not tracks.failures()
    scores = []
    for r in tracks.ok():
        _, gt = load_ground_truth(ws / "ingest" / "synthetic" / f"{r['clip']}_gt.json")
        scores.append(score_track(HandTrack.load(r["track"]), gt, list(PHASES)))
    s = summarise(scores, list(PHASES))
    # Scaled-down versions of the targets (80% / 60% per phase / 5 cm on 20+ clips).
    assert s["detection_rate"] >= 0.7
    assert min(s[f"detection_{p}"] for p in PHASES) >= 0.45
    assert s["median_position_error_m"] <= 0.08


def test_whole_pipeline_then_skip_and_resume(pipeline_ws, tmp_path):
    """Every stage has run once (the session's ``pipeline_ws``); a copy of that workspace then skips
    what is up to date and recomputes only what was lost."""
    ws0, cfg = pipeline_ws
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws)
    cfg = cfg.copy()  # the session fixture's config is shared: a mutation here would leak into others
    cfg.workspace = str(ws)
    lib = SkillLibrary.load(ws / "skills")
    members = [(m["clip"], name) for name, card in lib.skills.items() for m in card.members]
    truth = [clip.split("synthetic_")[1].rsplit("_", 1)[0] for clip, _ in members]
    assert adjusted_rand_score(truth, [n for _, n in members]) >= 0.8
    # Unchanged inputs and config: every stage is skipped (the copied records still match and none
    # is rewritten).
    stages = ("ingest", "extract", "cluster", "retarget", "train", "evaluate")
    records = {s: Workspace(ws).stage_record(s, "bc_mlp/panda" if s == "evaluate" else None) for s in stages}
    before = {s: p.stat().st_mtime_ns for s, p in records.items()}
    summary = [run_stage(cfg, s) for s in stages][-1]
    assert {s: p.stat().st_mtime_ns for s, p in records.items()} == before
    results = json.loads((ws / "eval" / "bc_mlp" / "panda" / "results.json").read_text())
    assert {r["skill"] for r in results} == {"slide_open", "slide_close"}
    for r in results:
        assert set(r) >= {"skill", "episodes", "successes", "success_rate", "ci_low", "ci_high"}
        assert r["ci_low"] <= r["success_rate"] <= r["ci_high"]
    assert summary["slide_open"] >= 0.5
    assert list((ws / "eval" / "bc_mlp" / "panda" / "videos").glob("*.mp4"))
    assert list((ws / "eval" / "bc_mlp" / "panda" / "videos").glob("*.gif"))

    # A lost track (e.g. an interrupted run) is recomputed; the others are reused as they are.
    tracks = sorted((ws / "extract" / "tracks").glob("*.json"))
    kept = {p: p.stat().st_mtime_ns for p in tracks[1:]}
    tracks[0].unlink()
    cfg.force = True
    run_stage(cfg, "extract")
    assert tracks[0].exists()
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())


def test_train_keeps_checkpoints_of_unchanged_skills(pipeline_ws, tmp_path):
    ws0, cfg = pipeline_ws
    shutil.copytree(ws0, tmp_path / "ws")
    cfg = cfg.copy()
    cfg.workspace, cfg.force = str(tmp_path / "ws"), True
    first = Workspace(tmp_path / "ws").read_stage_record("train")["summary"]
    assert first and not any(v.get("kept") for v in first.values())
    again = run_stage(cfg, "train")
    assert again.keys() == first.keys() and all(v.get("kept") for v in again.values())


def test_a_change_to_the_scenes_code_trains_and_evaluates_again(pipeline_ws, monkeypatch):
    """The scenes' code is not in the configuration: ``SCENES_VERSION`` stands for it in the train
    and evaluate stages' keys and in each skill's training inputs (the drawer's joint friction
    changed what rollouts and trials do, and a train run after it kept every checkpoint)."""
    from vid2skill.pipeline import STAGES, _section, _train_inputs, stage_key
    from vid2skill.policy.registry import get_policy
    from vid2skill.retarget.demos import DemoSet
    from vid2skill.scenes import base
    from vid2skill.workspace import last_checkpoint

    ws, cfg = pipeline_ws
    layout, entry = Workspace(ws), get_policy("bc_mlp")
    recorded = layout.read_stage_record("train")["key"]
    policy_cfg = entry.config_cls(**{k: v for k, v in _section(cfg, "policy").items() if k != "name"})
    policy_cfg = entry.config_for_skill(policy_cfg, cfg.skill["slide_open"])
    assert policy_cfg.train_on != "demos"  # rollouts and trials in the scenes
    demos = DemoSet.load(layout.demos("panda", "slide_open"))
    stats = json.loads((last_checkpoint(layout.policies("panda", "slide_open")) / "stats.json").read_text())

    def keys():
        return (
            stage_key(cfg, STAGES["train"], ws),
            stage_key(cfg, STAGES["evaluate"], ws),
            _train_inputs(cfg, policy_cfg, demos, "slide_open"),
        )

    before = keys()
    assert before[0] == recorded and before[2] == stats["inputs"]  # unchanged code: kept as it is
    monkeypatch.setattr(base, "SCENES_VERSION", base.SCENES_VERSION + 1)
    after = keys()
    assert all(a != b for a, b in zip(after, before))


def test_train_with_one_skill_named_trains_that_one_and_a_skill_not_retargeted_is_one_line(
    pipeline_ws, tmp_path
):
    """Retargeted for both drawer skills, `train skill=slide_close` trains slide_close alone (it
    raised a KeyError for the skill it was not given), and a skill without demos is a ConfigError."""
    from vid2skill.errors import ConfigError
    from vid2skill.policy.checkpoint import load_checkpoint

    ws0, cfg = pipeline_ws
    shutil.copytree(ws0, tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    from tests.helpers import make_cfg
    from vid2skill.workspace import last_checkpoint

    other = last_checkpoint(ws.policies("panda", "slide_open"))
    untouched = {p: p.stat().st_mtime_ns for p in other.rglob("*") if p.is_file()}
    cfg = make_cfg(
        [f"workspace={ws.root}", "debug=tiny", "workers=2", "source.seed=7000", "skill=slide_close"]
    )
    cfg.force, cfg.policy.epochs = True, 3  # other settings: slide_close's checkpoint is trained again
    out = run_stage(cfg, "train")
    assert list(out) == ["slide_close"] and not out["slide_close"].get("kept")
    assert last_checkpoint(ws.policies("panda", "slide_open")) == other and untouched
    assert all(p.stat().st_mtime_ns == t for p, t in untouched.items())
    assert load_checkpoint(out["slide_close"]["checkpoint"])[1].epochs == 3
    pick = make_cfg([f"workspace={ws.root}", "debug=tiny", "skill=pick"])
    with pytest.raises(ConfigError, match="skill= names pick"):
        run_stage(pick, "train")


def test_batch_goes_on_past_bad_clips(tmp_path, synthetic_ws):
    from tests.helpers import make_cfg

    ws0, _ = synthetic_ws
    folder = tmp_path / "videos"
    folder.mkdir()
    good = sorted((ws0 / "ingest" / "synthetic").glob("*.mp4"))[0]
    shutil.copy(good, folder / "good.mp4")
    (folder / "corrupt.mp4").write_bytes(b"\x00garbage" * 500)
    (folder / "truncated.mp4").write_bytes(good.read_bytes()[:2000])
    (folder / "dangling.mp4").symlink_to(folder / "was_moved.mp4")
    blank = folder / "no_hand.mp4"
    from vid2skill.video import VideoWriter

    with VideoWriter(blank, 10, 160, 120) as w:
        for _ in range(10):
            w.write(np.full((120, 160, 3), 180, np.uint8))
    cfg = make_cfg([f"workspace={tmp_path / 'ws'}", "source=folder", f"source.path={folder}", "workers=1"])
    run_stage(cfg, "ingest")
    run_stage(cfg, "extract")
    quality = {
        r["clip"].rsplit("_", 1)[0]: r
        for r in json.loads((tmp_path / "ws" / "extract" / "quality.json").read_text())
    }
    assert quality["good"]["error"] is None and quality["good"]["detection_rate"] > 0.5
    assert "corrupt.mp4" in quality["corrupt"]["error"]
    assert "no_hand.mp4" in quality["no_hand"]["error"] and "hand" in quality["no_hand"]["error"]
    assert "truncated.mp4" in quality["truncated"]["error"]
    failures = json.loads((tmp_path / "ws" / "ingest" / "clips.json").read_text())["failures"]
    assert any("dangling.mp4" in f["item"] and "cannot read" in f["error"] for f in failures)
    assert set(quality["good"]) >= {
        "clip",
        "frames",
        "frames_with_hand",
        "detection_rate",
        "mean_confidence",
        "max_jump_m",
        "error",
    }


@pytest.mark.real_data
def test_extract_runs_on_real_clips(shared_data, tmp_path):
    from tests.helpers import make_cfg

    folder = tmp_path / "real"
    folder.mkdir()
    for name in ("okami_drawer_close.mp4", "dexretarget_hand_gestures.mp4"):
        (folder / name).symlink_to(shared_data / "videos" / name)
    cfg = make_cfg(
        [
            f"workspace={tmp_path / 'ws'}",
            "source=folder",
            f"source.path={folder}",
            "workers=2",
            "extract.stride=3",
        ]
    )
    run_stage(cfg, "ingest")
    run_stage(cfg, "extract")
    quality = json.loads((tmp_path / "ws" / "extract" / "quality.json").read_text())
    assert all(r["error"] is None for r in quality)
    rates = {r["clip"].rsplit("_", 1)[0]: r["detection_rate"] for r in quality}
    assert rates["dexretarget_hand_gestures"] > 0.8  # a clean single hand


def test_enormous_frames_are_shrunk_and_landmarks_stay_in_video_pixels(synthetic_ws, tmp_path):
    import cv2

    from tests.helpers import make_cfg
    from vid2skill.extract.hands import extract_clip
    from vid2skill.ingest.types import ClipSet
    from vid2skill.video import VideoWriter, iter_frames

    ws, _ = synthetic_ws
    clip = ClipSet.load(ws / "ingest" / "clips").clips[0]
    big = tmp_path / "big.mp4"
    with VideoWriter(big, 20, 1920, 1440) as w:  # 4x the synthetic clip's 480 x 360
        for _, rgb in iter_frames(clip.path, stop=20):
            w.write(cv2.resize(rgb, (1920, 1440), interpolation=cv2.INTER_CUBIC))
    cfg = make_cfg(["extract.max_side_px=640"]).extract
    small = extract_clip(replace(clip, end_s=20 / 20.0), cfg)  # the original, first 20 frames (20 fps)
    large = extract_clip(
        replace(
            clip, path=str(big), content_hash="big", end_s=None, intrinsics=[4 * v for v in clip.intrinsics]
        ),
        cfg,
    )
    assert (large.width, large.height) == (1920, 1440)
    both = small.detected & large.detected
    assert both.sum() >= 10
    # Detected at 640 px wide (1.33x the original clip), reported in the video's 1920 px.
    err = np.nanmedian(np.linalg.norm(large.landmarks_px[both] - 4 * small.landmarks_px[both], axis=-1))
    assert err < 12.0  # pixels at 1920 wide, i.e. under 3 px in the original
    assert np.nanmedian(np.abs(large.wrist_pos_cam[both] - small.wrist_pos_cam[both])) < 0.02


def test_viz_draws_the_track_on_every_frame(synthetic_ws, tmp_path):
    from vid2skill.extract.viz import project, visualise
    from vid2skill.ingest.types import ClipSet
    from vid2skill.video import iter_frames, probe

    ws, _ = synthetic_ws
    clip = ClipSet.load(ws / "ingest" / "clips").clips[0]
    rec = next(r for r in TrackSet.load(ws / "extract" / "tracks").ok() if r["clip"] == clip.clip_id)
    track = HandTrack.load(rec["track"])
    out = visualise(track, clip.path, tmp_path / "viz")
    assert probe(out["video"]).frames == len(track.frame_index)
    assert (tmp_path / "viz" / f"{clip.clip_id}.png").stat().st_size > 10_000
    # Where the wrist is valid, the annotated frame differs from the original around the wrist.
    t = int(np.flatnonzero(track.valid)[len(np.flatnonzero(track.valid)) // 2])
    u, v = project(track.wrist_pos_cam[t], track.intrinsics).round().astype(int)
    raw = dict(iter_frames(clip.path))[int(track.frame_index[t])]
    drawn = dict(iter_frames(out["video"]))[t]
    patch = (slice(max(0, v - 12), v + 12), slice(max(0, u - 12), u + 12))
    assert np.abs(drawn[patch].astype(int) - raw[patch].astype(int)).mean() > 10


def test_a_new_algorithm_version_reruns_its_stage(tmp_path):
    from tests.helpers import make_cfg
    from vid2skill.pipeline import STAGES, Stage, stage_key

    cfg = make_cfg([f"workspace={tmp_path}"])
    ingest = STAGES["ingest"]
    plain, *versioned = [
        Stage(ingest.name, ingest.folder, None, ingest.config_keys, ingest.run, code_version=lambda c, v=v: v)
        for v in (None, 8, 9)
    ]
    keys = [stage_key(cfg, s, tmp_path) for s in (plain, *versioned)]
    assert len(set(keys)) == 3  # a bumped version changes the key; no version keeps the key it had
    assert stage_key(cfg, versioned[1], tmp_path) == keys[2]
    assert STAGES["extract"].code_version(cfg) >= 9
    # Ingest depends on the renderer's version for synthetic clips only: a folder of videos keeps its key.
    assert stage_key(cfg, ingest, tmp_path) != keys[0]
    # (its key holds the folder's fingerprint, as every source reading files outside the workspace does)
    folder = make_cfg([f"workspace={tmp_path}", "source=folder", f"source.path={tmp_path}"])
    plain = Stage(
        ingest.name,
        ingest.folder,
        None,
        ingest.config_keys,
        ingest.run,
        external_inputs=ingest.external_inputs,
    )
    assert stage_key(folder, ingest, tmp_path) == stage_key(folder, plain, tmp_path)


def test_a_stage_runs_its_missing_upstream_and_never_replaces_a_finished_one(tmp_path, synthetic_ws, caplog):
    """`vid2skill extract source=folder source.path=DIR` on a fresh workspace ingests first; a later
    `cluster` under the default source uses the folder's clips as they are; `run to=cluster` skips
    what is up to date."""
    import logging

    from tests.helpers import make_cfg
    from vid2skill.pipeline import run_to

    ws0, _ = synthetic_ws
    folder = tmp_path / "videos"
    folder.mkdir()
    for v in sorted((ws0 / "ingest" / "synthetic").glob("*.mp4"))[:2]:
        shutil.copy(v, folder / v.name)
    ws = tmp_path / "ws"
    cfg = make_cfg([f"workspace={ws}", "source=folder", f"source.path={folder}", "workers=1"])
    with caplog.at_level(logging.INFO, logger="vid2skill"):
        run_stage(cfg, "extract")
    assert "needs ingest, which has not run" in caplog.text
    assert len(TrackSet.load(ws / "extract" / "tracks").ok()) == 2
    clips_before = (ws / "ingest" / "clips.json").read_bytes()

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vid2skill"):
        out = run_to(cfg, "extract")
    assert set(out) == {"ingest", "extract"} and caplog.text.count("up to date") == 2

    default_source = make_cfg([f"workspace={ws}", "workers=1"])  # synthetic clips by default
    run_stage(default_source, "extract")
    assert (ws / "ingest" / "clips.json").read_bytes() == clips_before  # a finished ingest is not replaced
