"""Reliability (issue 16): changed inputs noticed, crashes never taken for results, movable
workspaces, ``~`` paths, hints that keep the user's overrides, one-line errors, shared permissions."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_cfg
from vid2skill.errors import ArtifactError, Vid2SkillError
from vid2skill.hints import set_user_overrides
from vid2skill.pipeline import run_stage
from vid2skill.video import VideoWriter


def _video(path: Path, side: int = 64, frames: int = 6, value: int = 120) -> Path:
    with VideoWriter(path, 10, side, side) as w:
        for i in range(frames):
            w.write(np.full((side, side, 3), (value + 7 * i) % 255, np.uint8))
    return path


def _clip_names(ws: Path) -> list[str]:
    return sorted(
        Path(c["path"]).name for c in json.loads((ws / "ingest" / "clips.json").read_text())["clips"]
    )


@pytest.fixture
def overrides_reset():
    yield
    set_user_overrides(None)


# --- 1. changed inputs ----------------------------------------------------------------------------


def test_ingest_reruns_when_its_folder_or_label_file_changes(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    _video(folder / "a.mp4")
    cfg = make_cfg([f"workspace={tmp_path / 'ws'}", "source=folder", f"source.path={folder}", "workers=1"])
    run_stage(cfg, "ingest")
    assert _clip_names(tmp_path / "ws") == ["a.mp4"]
    _video(folder / "b.mp4", value=30)  # a video added: no longer "inputs unchanged"
    run_stage(cfg, "ingest")
    assert _clip_names(tmp_path / "ws") == ["a.mp4", "b.mp4"]
    (folder / "a.mp4").unlink()  # and one removed
    run_stage(cfg, "ingest")
    assert _clip_names(tmp_path / "ws") == ["b.mp4"]
    marker = tmp_path / "ws" / "ingest" / "_stage.json"
    before = marker.read_text()
    run_stage(cfg, "ingest")  # nothing changed: skipped
    assert marker.read_text() == before

    # An annotation file outside the workspace (EPIC-style CSV) is an input too.
    csv = tmp_path / "ann.csv"
    header = "narration_id,video_id,start_timestamp,stop_timestamp,verb,noun\n"
    csv.write_text(header + "n1,b,00:00:00.00,00:00:00.30,open,drawer\n")
    epic = make_cfg(
        [
            f"workspace={tmp_path / 'ws2'}",
            "source=epic",
            f"source.annotations={csv}",
            f"source.videos={folder}",
        ]
    )
    run_stage(epic, "ingest")
    csv.write_text(
        header + "n1,b,00:00:00.00,00:00:00.30,open,drawer\nn2,b,00:00:00.10,00:00:00.50,close,drawer\n"
    )
    run_stage(epic, "ingest")
    clips = json.loads((tmp_path / "ws2" / "ingest" / "clips.json").read_text())["clips"]
    assert sorted(c["label"] for c in clips) == ["close", "open"]


def test_extract_notices_a_damaged_or_missing_track(synthetic_ws, tmp_path):
    from vid2skill.extract.types import HandTrack, TrackSet

    ws0, cfg = synthetic_ws
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws)
    cfg = cfg.copy()
    cfg.workspace = str(ws)
    records = TrackSet.load(ws / "extract" / "tracks").ok()
    damaged, others = Path(records[0]["track"]), [Path(r["track"]) for r in records[1:]]
    kept = {p: p.with_suffix(".npz").stat().st_mtime_ns for p in others}
    damaged.with_suffix(".npz").write_bytes(b"PK\x03\x04 not a zip any more")
    run_stage(cfg, "extract")  # not forced: the skip sees the damage, and only that clip is redone
    HandTrack.load(damaged)
    assert all(p.with_suffix(".npz").stat().st_mtime_ns == t for p, t in kept.items())
    others[0].with_suffix(".json").unlink()
    run_stage(cfg, "extract")
    assert others[0].with_suffix(".json").exists()


# --- 2. crashed episodes ---------------------------------------------------------------------------


def _crash(*args, **kwargs):
    raise PermissionError(13, "Permission denied", "/tmp/vid2skill_urdf/abc.urdf")


def test_crashed_episodes_are_counted_fail_the_run_and_are_never_cached(tmp_path, monkeypatch, caplog):
    import vid2skill.sim.evaluate as evaluate

    monkeypatch.setattr(evaluate, "_episode_job", _crash)
    cfg = make_cfg([f"workspace={tmp_path}", "policy=expert", "skill=slide_open", "episodes=2", "workers=1"])
    out = tmp_path / "eval" / "expert" / "panda"
    for _ in range(2):  # the second run is not "up to date": it runs (and crashes) again
        caplog.clear()
        with (
            caplog.at_level(logging.INFO, logger="vid2skill"),
            pytest.raises(Vid2SkillError, match="2 of 2 episodes crashed"),
        ):
            run_stage(cfg, "evaluate")
        assert "up to date" not in caplog.text and "crashed" in caplog.text  # the table has the column
        assert not (out / "_stage.json").exists()
    (record,) = json.loads((out / "results.json").read_text())
    assert (record["crashed"], record["episodes"], record["successes"]) == (2, 0, 0)


def test_generated_files_go_to_a_folder_of_this_user(tmp_path, monkeypatch):
    import tempfile

    import vid2skill.physics.objects as objects

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(objects, "_private_dir", None)
    mine = tmp_path / f"vid2skill-{os.getuid()}"
    path = objects.write_urdf("<robot name='x'/>")
    assert path.parent == mine / "urdf" and (mine.stat().st_mode & 0o777) == 0o700
    if os.geteuid() != 0:
        pytest.skip("making a folder owned by another user needs root")
    shutil.rmtree(mine)
    mine.mkdir()
    os.chown(mine, os.getuid() + 4242, -1)  # a folder of that name made by someone else is never used
    monkeypatch.setattr(objects, "_private_dir", None)
    folder = objects.generated_files_dir()
    assert mine not in folder.parents and folder.stat().st_uid == os.getuid()


# --- 3. moved workspaces ---------------------------------------------------------------------------


def test_a_moved_workspace_reads_its_own_files(synthetic_ws, tmp_path):
    from vid2skill.ingest.types import ClipSet
    from vid2skill.skills.library import SkillLibrary

    ws0, cfg = synthetic_ws
    first, moved = tmp_path / "first", tmp_path / "moved"
    shutil.copytree(ws0, first)
    cfg = cfg.copy()
    cfg.workspace, cfg.force = str(first), True
    run_stage(cfg, "extract")  # re-index the tracks in this workspace (each reused)
    shutil.copytree(first, moved)
    shutil.rmtree(first)
    cfg.workspace, cfg.force = str(moved), False
    run_stage(cfg, "cluster")
    lib = SkillLibrary.load(moved / "skills")
    tracks = [m["track"] for card in lib.skills.values() for m in card.members]
    assert tracks and all(t.startswith(str(moved)) for t in tracks)
    stored = json.loads((moved / "skills" / "v0001" / "library.json").read_text())
    assert all(not os.path.isabs(m["track"]) for card in stored["skills"].values() for m in card["members"])
    assert all(
        Path(c.path).is_file() and c.path.startswith(str(moved))
        for c in ClipSet.load(moved / "ingest" / "clips").clips
    )


def test_old_artifacts_with_absolute_paths_still_load(tmp_path):
    from vid2skill.extract.types import TrackSet

    record = {"clip": "c", "error": None, "track": "/somewhere/else/tracks/c"}
    TrackSet([record]).save(tmp_path / "tracks")  # no workspace given: kept as it was
    assert TrackSet.load(tmp_path / "tracks").records[0]["track"] == "/somewhere/else/tracks/c"
    TrackSet([{**record, "track": str(tmp_path / "tracks" / "c")}]).save(
        tmp_path / "tracks", workspace=tmp_path
    )
    assert json.loads((tmp_path / "tracks.json").read_text())["records"][0]["track"] == os.path.join(
        "tracks", "c"
    )


# --- 4. ~ in paths ---------------------------------------------------------------------------------


def test_home_in_overrides_is_expanded(monkeypatch):
    from vid2skill.cli import expand_home

    monkeypatch.setenv("HOME", "/home/me")
    assert expand_home("source.path=~/videos/kitchen") == "source.path=/home/me/videos/kitchen"
    assert expand_home("workspace='~/exp 1'") == "workspace='/home/me/exp 1'"
    assert expand_home('workspace="~"') == "workspace=/home/me"
    assert expand_home("extract.stride=2") == "extract.stride=2"
    assert expand_home("~source.path") == "~source.path"  # Hydra's delete syntax is left alone


def test_home_paths_work_on_the_command_line_and_never_make_a_tilde_folder(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    (home / "videos").mkdir(parents=True)
    cwd.mkdir()
    _video(home / "videos" / "a.mp4")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "vid2skill.cli",
            "ingest",
            "source=folder",
            "source.path=~/videos",
            "workspace='~/ws'",
        ],
        cwd=cwd,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert _clip_names(home / "ws") == ["a.mp4"]
    assert not list(cwd.iterdir())  # no ./~ (nor anything else) where the command ran


# --- 6. hints --------------------------------------------------------------------------------------


def test_hints_keep_the_users_overrides(tmp_path, overrides_reset):
    from vid2skill.hints import suggest

    ws = tmp_path / "ws"
    # train for a robot whose demos were never made (retarget ran, for another robot): the suggested
    # retarget keeps the user's overrides, quoted where they hold a space
    (ws / "retarget").mkdir(parents=True)
    (ws / "retarget" / "_stage.json").write_text(json.dumps({"key": "k", "run": "r", "summary": {}}))
    user = ["source=folder", "source.path=/data/my videos", f"workspace={ws}", "robot=xarm6"]
    set_user_overrides(user)
    with pytest.raises(ArtifactError) as e:
        run_stage(make_cfg(user), "train")
    assert (
        f"vid2skill retarget source=folder 'source.path=/data/my videos' workspace={ws} robot=xarm6`"
        in str(e.value)
    )
    # evaluate a robot that was never trained: the suggested train keeps robot=iiwa
    (ws / "policies").mkdir(parents=True)
    (ws / "policies" / "_stage.json").write_text(json.dumps({"key": "k", "run": "r", "summary": {}}))
    user = ["policy=bc_mlp", "robot=iiwa", f"workspace={ws}"]
    set_user_overrides(user)
    with pytest.raises(ArtifactError, match=f"`vid2skill train policy=bc_mlp robot=iiwa workspace={ws}`"):
        run_stage(make_cfg(user), "evaluate")
    set_user_overrides(None)  # from Python (no command line): the workspace alone
    assert suggest("ingest", make_cfg([f"workspace={ws}"])) == f"vid2skill ingest workspace={ws}"


def test_a_command_run_in_process_leaves_neither_its_overrides_nor_its_argv(tmp_path, monkeypatch, capsys):
    """The overrides the CLI records (and the argv it hands Hydra) last one command, also one that
    fails: a hint from Python afterwards names the workspace alone, not the last command's."""
    from vid2skill import cli
    from vid2skill.hints import suggest

    ws = tmp_path / "ws"
    for stage in ("retarget", "policies"):  # marked as run, so evaluate fails at once (nothing trained)
        (ws / stage).mkdir(parents=True)
        (ws / stage / "_stage.json").write_text(json.dumps({"key": "k", "run": "r", "summary": {}}))
    other = make_cfg([f"workspace={tmp_path / 'other'}"])
    for argv in (
        ["vid2skill", "report", f"workspace={ws}", f"real_to_robot={tmp_path / 'nope.json'}"],
        ["vid2skill", "evaluate", f"workspace={ws}", "policy=bc_mlp", "robot=iiwa"],
    ):
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as e:
            cli.main()
        assert e.value.code == 1
        assert sys.argv is argv
        assert suggest("train", other) == f"vid2skill train workspace={tmp_path / 'other'}"
    # the failing evaluate's own hint kept the user's robot (the overrides held while it ran)
    assert "robot=iiwa" in capsys.readouterr().err


# --- 7, 8. one-line errors -------------------------------------------------------------------------


def _config_message(capsys, overrides: list[str], stage: str = "ingest") -> str:
    from vid2skill.cli import _validate

    with pytest.raises(SystemExit) as e:
        _validate(overrides, stage)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["robot=iwa"], ["Available options in 'robot': iiwa panda xarm6", "did you mean robot=iiwa?"]),
        (["extract.strid=2"], ["did you mean extract.stride?"]),
        (["episodes=abc"], ["episodes='abc' is not a whole number"]),
        (["workers=abc"], ["workers='abc' is not a whole number"]),
        (["source=folder"], ["source.path is required"]),
    ],
)
def test_configuration_errors_are_one_actionable_line(capsys, overrides, expected):
    err = _config_message(capsys, overrides)
    assert all(x in err for x in expected), err


def test_a_damaged_npz_names_its_file(tmp_path):
    from vid2skill.artifacts import read_artifact, write_artifact

    write_artifact(tmp_path / "t", "HandTrack", 2, {}, {"x": np.arange(3)})
    (tmp_path / "t.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ArtifactError, match=r"t\.npz is damaged \(BadZipFile"):
        read_artifact(tmp_path / "t", "HandTrack", 2)


def test_clip_ids_from_long_names_fit_in_a_file_name():
    from vid2skill.ingest.types import SAFE_ID_MAX, safe_id

    assert len(safe_id("v" * 300)) == SAFE_ID_MAX and safe_id("küche (1)") == "küche__1_"


def test_a_workspace_that_is_a_file_or_read_only_is_one_line(tmp_path, capsys):
    from vid2skill.cli import _check_workspace

    (tmp_path / "file").write_text("x")
    for ws, why in ((tmp_path / "file", "is a file"), (tmp_path / "file" / "sub", "cannot be created")):
        with pytest.raises(SystemExit):
            _check_workspace(make_cfg([f"workspace={ws}"]), "ingest")
        assert why in capsys.readouterr().err
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the read-only case needs an ordinary user")
    (tmp_path / "ro").mkdir(mode=0o555)
    with pytest.raises(SystemExit):
        _check_workspace(make_cfg([f"workspace={tmp_path / 'ro' / 'ws'}"]), "ingest")
    assert "cannot be created (Permission denied)" in capsys.readouterr().err


# --- 9. permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_respect_the_umask(tmp_path, umask, mode):
    from vid2skill.artifacts import atomic_write_json

    old = os.umask(umask)
    try:
        atomic_write_json(tmp_path / "a.json", {"x": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == mode


# --- 10, 11. small videos, noise ------------------------------------------------------------------


@pytest.mark.parametrize("side", [16, 24])
def test_videos_under_32_px_decode_as_rgb(tmp_path, side):
    from vid2skill.video import iter_frames, probe

    path = _video(tmp_path / "tiny.mp4", side=side)
    frames = [f for _, f in iter_frames(path)]
    assert probe(path).width == side and len(frames) == 6
    assert all(f.shape == (side, side, 3) for f in frames)
    assert abs(int(frames[0].mean()) - 120) <= 6


def test_an_undecodable_file_is_probed_once(tmp_path, monkeypatch):
    import vid2skill.extract.hands as hands
    import vid2skill.extract.stage as stage
    from vid2skill.extract.stage import extract
    from vid2skill.ingest.types import Clip, ClipSet

    calls = []
    for module in (stage, hands):
        real = module.probe
        monkeypatch.setattr(module, "probe", lambda p, real=real: calls.append(p) or real(p))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 200)
    tracks = extract(
        make_cfg([]).extract, ClipSet([Clip("bad", str(bad), "folder", "h")]), tmp_path / "out", 1
    )
    assert len(calls) == 1 and "bad.mp4" in tracks.failures()[0]["error"]


def test_importing_the_simulator_prints_no_banner():
    r = subprocess.run(
        [sys.executable, "-c", "import vid2skill.physics.bullet, pybullet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "build time" not in r.stderr + r.stdout


def test_help_advertises_options_that_work(capsys):
    from vid2skill.cli import USAGE

    assert "+debug" not in USAGE and "debug=tiny" in USAGE
    assert make_cfg(["debug=tiny"]).source.clips_per_skill == 3


def test_a_skipped_evaluate_still_shows_its_table(tmp_path, caplog):
    from vid2skill.pipeline import STAGES, _marker, stage_key
    from vid2skill.stats import success_record

    cfg = make_cfg([f"workspace={tmp_path}", "policy=expert", "skill=slide_open", "episodes=3"])
    stage = STAGES["evaluate"]
    marker = _marker(tmp_path, stage, cfg)
    marker.parent.mkdir(parents=True)
    (marker.parent / "results.json").write_text(
        json.dumps([success_record("slide_open", 2, 3, robot="panda", policy="expert", crashed=0)])
    )
    marker.write_text(
        json.dumps({"key": stage_key(cfg, stage, tmp_path), "run": "r", "summary": {"slide_open": 0.6667}})
    )
    with caplog.at_level(logging.INFO, logger="vid2skill"):
        assert run_stage(cfg, "evaluate") == {"slide_open": 0.6667}
    assert "up to date" in caplog.text
    assert "slide_open  panda  expert  3" in caplog.text and "0.6667" in caplog.text


# --- the bad-input suite of benchmarks/reliability.py ----------------------------------------------


def _suite():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reliability.py"
    spec = importlib.util.spec_from_file_location("reliability_suite", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SUITE = _suite()
FAST = [
    "unknown_stage",
    "unknown_source",
    "bad_override_syntax",
    "episodes_zero",
    "workspace_is_a_file",
    "epic_bad_rows",
    "epic_not_a_csv",
    "ssv2_bad_json",
    "ssv2_bad_entries",
    "crashed_episodes",
    "shared_workspace_permissions",
]
# (the other cases, slower or repeating the tests above through the command line, run with -m slow)


def _check_case(name: str, tmp_path: Path) -> None:
    out = SUITE.run_case(name, tmp_path / "cases", tmp_path / "shared")
    if out.skipped:
        pytest.skip(out.skipped)
    assert not out.problems, (out.problems, [r.out[-800:] for r in out.runs])
    assert out.lost_or_duplicated == 0 and out.stale == 0


@pytest.mark.parametrize("name", FAST)
def test_bad_input_is_one_line_and_leaves_nothing_stale(name, tmp_path):
    _check_case(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(SUITE.CASES) - set(FAST)))
def test_bad_input_suite_slow(name, tmp_path_factory):
    # the extracted workspace the slow cases copy is built once per session
    _check_case(name, tmp_path_factory.mktemp(name))


@pytest.mark.slow
def test_every_stage_killed_and_resumed_ends_as_a_clean_run(tmp_path):
    report = SUITE.kill_and_resume(tmp_path, points=2, stages=list(SUITE.KILL_STAGES))
    assert not any(r["differing"] for r in report.values()), report


@pytest.mark.slow
def test_concurrent_adds_lose_and_duplicate_nothing(tmp_path):
    assert SUITE.concurrent_adds(tmp_path, repetitions=4) == {"lost": 0, "duplicated": 0, "bad_versions": 0}
