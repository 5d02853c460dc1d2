"""Bad inputs through the command line: does every one end in one line, with nothing lost or stale?

Each case builds its inputs in a temporary folder (damaged videos of every kind, hostile file
names, bad CSV and JSON rows, bad configuration values, the defects of issue 16), runs
``vid2skill`` on them as a user would (a fresh process per command, in a temporary workspace) and
prints, per case: the exit code of its last command, the first line of its output, whether a
Python traceback appeared, the artifacts left in the workspace and whether the case passed (a
one-line message where it failed, the batch carried on past a bad item, no half-written artifact,
no result reported from stale inputs). Totals at the end; each should read 0:

    crashes (tracebacks) | lost or duplicated artifacts | silent stale results

    python benchmarks/reliability.py                 # every case (about 5 minutes on 2 cores)
    python benchmarks/reliability.py --fast          # the cases that need no extraction (under a minute)
    python benchmarks/reliability.py --only zero_byte crashed_episodes --keep /tmp/rel
    # kill -9 and resume every stage; concurrent adds
    python benchmarks/reliability.py --only --kill-resume 5 --concurrency 20

The slow cases share one small synthetic workspace (a few rendered drawer clips, extracted and
clustered), built first; ``--base DIR`` reuses one built before.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Run:
    """One command's exit code and output."""

    args: list[str]
    code: int
    out: str

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.out

    @property
    def first_line(self) -> str:
        """The first line a user would read: an error line if there is one, else the first line."""
        lines = [line for line in self.out.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower() or "bad configuration" in line]
        return (errors or lines or [""])[0].strip()

    @property
    def error_lines(self) -> int:
        return sum(
            1 for line in self.out.splitlines() if line.startswith("vid2skill")
        )  # the CLI's messages; logs start with "["


@dataclass
class Outcome:
    """What a case found; ``problems`` empty means it passed."""

    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lost_or_duplicated: int = 0
    stale: int = 0
    skipped: str = ""

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


class Context:
    """Where a case runs: its own temporary folder, the command line, shared inputs."""

    def __init__(self, root: Path, base: Callable[[], Path], good: Callable[[], Path]):
        self.root = root
        self.ws = root / "ws"
        self._base, self._good = base, good
        self.outcome = Outcome()

    def cli(self, *args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 600) -> Run:
        cmd = [sys.executable, "-m", "vid2skill.cli", *args]
        try:
            r = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=cwd or self.root,
                env={**os.environ, **(env or {})},
            )
            run = Run(list(args), r.returncode, r.stderr + r.stdout)
        except subprocess.TimeoutExpired as e:
            run = Run(list(args), -9, f"timed out after {timeout} s: {e}")
        self.outcome.runs.append(run)
        return run

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "vid2skill.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.root,
            env={**os.environ, **(env or {})},
        )

    def base_ws(self) -> Path:
        """A copy of the shared extracted and clustered synthetic workspace, as this case's workspace."""
        shutil.copytree(self._base(), self.ws, symlinks=True)
        return self.ws

    def good_folder(self, name: str = "videos") -> tuple[Path, Path]:
        """A folder holding one good synthetic clip, and a workspace where it is ingested and extracted."""
        good_root = self._good()
        folder = self.root / name
        shutil.copytree(good_root / "videos", folder)
        shutil.copytree(good_root / "ws", self.ws, symlinks=True)
        return folder, self.ws


# --- inputs ----------------------------------------------------------------------------------------


def write_video(path: Path, side: int = 64, frames: int = 6, value: int = 180) -> Path:
    from vid2skill.video import VideoWriter

    with VideoWriter(path, 10, side, side) as w:
        for i in range(frames):
            w.write(np.full((side, side, 3), (value + 5 * i) % 255, np.uint8))
    return path


def quality(ws: Path) -> dict[str, dict]:
    try:
        return {r["clip"]: r for r in json.loads((ws / "extract" / "quality.json").read_text())}
    except (OSError, ValueError):
        return {}


def half_written(ws: Path) -> list[str]:
    """Leftovers a reader could mistake for output: temporary files, arrays without their header."""
    bad = []
    if not ws.is_dir():
        return bad
    for p in ws.rglob("*"):
        if {"logs", "cache"} & set(
            p.relative_to(ws).parts
        ) or not p.is_file():  # (cache: the hand meshes, no artifacts)
            continue
        if p.name.endswith(".tmp") or ".tmp." in p.name:
            bad.append(str(p.relative_to(ws)))
        elif p.suffix == ".npz" and not p.with_suffix(".json").exists():
            bad.append(str(p.relative_to(ws)))
    return bad


def artifacts(ws: Path) -> int:
    if not ws.is_dir():
        return 0
    return sum(1 for p in ws.rglob("*") if p.is_file() and "logs" not in p.relative_to(ws).parts)


# --- cases -----------------------------------------------------------------------------------------

CASES: dict[str, tuple[Callable[[Context], None], bool]] = {}  # name -> (function, fast)


def case(fast: bool = False):
    def deco(fn):
        CASES[fn.__name__] = (fn, fast)
        return fn

    return deco


def _one_line_error(ctx: Context, run: Run, code: int | tuple = (1, 2), contains: str = "") -> None:
    codes = code if isinstance(code, tuple) else (code,)
    ctx.outcome.expect(run.code in codes, f"exit {run.code}, expected {codes}")
    ctx.outcome.expect(run.error_lines == 1, f"{run.error_lines} error lines, expected one")
    ctx.outcome.expect(contains.lower() in run.out.lower(), f"message lacks {contains!r}")


def _bad_config(*overrides: str, stage: str = "ingest", contains: str = ""):
    def fn(ctx: Context) -> None:
        run = ctx.cli(stage, f"workspace={ctx.ws}", *overrides)
        _one_line_error(ctx, run, contains=contains)
        ctx.outcome.expect(not (ctx.ws / stage).exists(), "a stage ran on a bad configuration")

    return fn


for _name, _overrides, _stage, _contains in [
    ("episodes_abc", ["episodes=abc"], "evaluate", "episodes='abc'"),
    ("workers_abc", ["workers=abc"], "extract", "workers='abc'"),
    ("seed_fraction", ["seed=1.5"], "evaluate", "seed=1.5"),
    ("force_maybe", ["force=maybe"], "ingest", "force='maybe'"),
    ("robot_typo", ["robot=iwa"], "retarget", "iiwa panda xarm6"),
    ("key_typo", ["extract.strid=2"], "extract", "did you mean extract.stride"),
    ("plus_debug", ["+debug=tiny"], "ingest", "debug"),
    ("folder_without_path", ["source=folder"], "ingest", "source.path is required"),
    (
        "epic_without_csv",
        ["source=epic", "source.videos=/nonexistent"],
        "ingest",
        "source.annotations is required",
    ),
    ("unknown_source", ["source=youtube"], "ingest", "Available options in 'source'"),
    ("bad_override_syntax", ["extract.stride=[1,"], "extract", "bad configuration"),
]:
    CASES[_name] = (_bad_config(*_overrides, stage=_stage, contains=_contains), True)


@case(fast=True)
def unknown_stage(ctx: Context) -> None:
    _one_line_error(ctx, ctx.cli("extrct"), contains="unknown stage")


@case(fast=True)
def episodes_zero(ctx: Context) -> None:
    _one_line_error(
        ctx, ctx.cli("evaluate", f"workspace={ctx.ws}", "policy=expert", "episodes=0"), contains="episodes=0"
    )


@case(fast=True)
def workspace_is_a_file(ctx: Context) -> None:
    ctx.root.mkdir(parents=True, exist_ok=True)
    (ctx.root / "afile").write_text("x")
    _one_line_error(ctx, ctx.cli("ingest", f"workspace={ctx.root / 'afile'}"), contains="is a file")
    _one_line_error(
        ctx, ctx.cli("ingest", f"workspace={ctx.root / 'afile' / 'sub'}"), contains="cannot be created"
    )


@case(fast=True)
def workspace_read_only(ctx: Context) -> None:
    if os.geteuid() == 0:
        ctx.outcome.skipped = "root can write into read-only folders"
        return
    ro = ctx.root / "ro"
    ro.mkdir(mode=0o555, parents=True)
    _one_line_error(ctx, ctx.cli("ingest", f"workspace={ro / 'ws'}"), contains="cannot be created")


@case(fast=True)
def tilde_paths(ctx: Context) -> None:
    home, cwd = ctx.root / "home", ctx.root / "cwd"
    (home / "videos").mkdir(parents=True)
    cwd.mkdir()
    write_video(home / "videos" / "a.mp4")
    run = ctx.cli(
        "ingest",
        "source=folder",
        "source.path=~/videos",
        'workspace="~/ws"',
        env={"HOME": str(home)},
        cwd=cwd,
    )
    ctx.outcome.expect(run.code == 0, f"exit {run.code}")
    ctx.outcome.expect(not (cwd / "~").exists(), "a literal ./~ folder was made")
    ctx.ws = home / "ws"


@case(fast=True)
def extract_runs_its_ingest(ctx: Context) -> None:
    """extract with no ingest run yet ingests first, with the same settings: an empty folder's error
    names the folder, in one line."""
    folder = ctx.root / "my videos"
    folder.mkdir(parents=True)
    run = ctx.cli("extract", "source=folder", f"source.path={folder}", f"workspace={ctx.ws}")
    _one_line_error(ctx, run, code=1, contains=f"source.path={folder}: no video files found")


@case(fast=True)
def evaluate_hint_keeps_robot(ctx: Context) -> None:
    (ctx.ws / "policies").mkdir(parents=True)
    (ctx.ws / "policies" / "_stage.json").write_text(json.dumps({"key": "k", "run": "r", "summary": {}}))
    run = ctx.cli("evaluate", "policy=bc_mlp", "robot=iiwa", f"workspace={ctx.ws}")
    _one_line_error(ctx, run, code=1, contains=f"vid2skill train policy=bc_mlp robot=iiwa workspace={ctx.ws}")


@case(fast=True)
def ingest_notices_new_video(ctx: Context) -> None:
    folder = ctx.root / "videos"
    folder.mkdir(parents=True)
    write_video(folder / "a.mp4")
    args = ("ingest", "source=folder", f"source.path={folder}", f"workspace={ctx.ws}", "workers=1")
    ctx.cli(*args)
    write_video(folder / "b.mp4", value=40)
    run = ctx.cli(*args)
    clips = json.loads((ctx.ws / "ingest" / "clips.json").read_text())["clips"] if run.code == 0 else []
    if run.code == 0 and len(clips) != 2:
        ctx.outcome.stale += 1
        ctx.outcome.problems.append(f"{len(clips)} clips after a video was added, expected 2")


@case(fast=True)
def epic_bad_rows(ctx: Context) -> None:
    videos = ctx.root / "videos"
    videos.mkdir(parents=True)
    write_video(videos / "P01_01.mp4", frames=20)
    csv = ctx.root / "ann.csv"
    csv.write_text(
        "narration_id,video_id,start_timestamp,stop_timestamp,verb,noun\n"
        "ok,P01_01,00:00:00.00,00:00:01.00,open,drawer\n"
        "backwards,P01_01,00:00:01.50,00:00:00.50,open,drawer\n"
        "garbled,P01_01,soon,later,open,drawer\n"
        "missing_video,P99_99,00:00:00.00,00:00:01.00,open,drawer\n"
        "past_end,P01_01,01:00:00.00,01:00:01.00,open,drawer\n"
        "short_row,P01_01\n"
        ",,,,,\n"
    )
    run = ctx.cli(
        "ingest", "source=epic", f"source.annotations={csv}", f"source.videos={videos}", f"workspace={ctx.ws}"
    )
    ctx.outcome.expect(run.code == 0, f"exit {run.code}")
    meta = (
        json.loads((ctx.ws / "ingest" / "clips.json").read_text())
        if run.code == 0
        else {"clips": [], "failures": []}
    )
    ctx.outcome.expect(
        len(meta["clips"]) == 1 and len(meta["failures"]) == 6,
        f"{len(meta['clips'])} clips and {len(meta['failures'])} failures, expected 1 and 6",
    )


@case(fast=True)
def epic_not_a_csv(ctx: Context) -> None:
    videos = ctx.root / "videos"
    videos.mkdir(parents=True)
    csv = ctx.root / "ann.csv"
    csv.write_bytes(b"\xff\xfe\x00binary\x00\x81 not text")
    run = ctx.cli(
        "ingest", "source=epic", f"source.annotations={csv}", f"source.videos={videos}", f"workspace={ctx.ws}"
    )
    _one_line_error(ctx, run, code=1, contains="ann.csv")


@case(fast=True)
def epic_empty_csv(ctx: Context) -> None:
    videos = ctx.root / "videos"
    videos.mkdir(parents=True)
    (ctx.root / "ann.csv").write_text("")
    run = ctx.cli(
        "ingest",
        "source=epic",
        f"source.annotations={ctx.root / 'ann.csv'}",
        f"source.videos={videos}",
        f"workspace={ctx.ws}",
    )
    _one_line_error(ctx, run, code=1, contains="missing columns")


@case(fast=True)
def ssv2_bad_json(ctx: Context) -> None:
    videos = ctx.root / "videos"
    videos.mkdir(parents=True)
    (ctx.root / "labels.json").write_text('[{"id": "1", "template": "Opening [something]"},')
    run = ctx.cli(
        "ingest",
        "source=ssv2",
        f"source.labels={ctx.root / 'labels.json'}",
        f"source.videos={videos}",
        f"workspace={ctx.ws}",
    )
    _one_line_error(ctx, run, code=1, contains="not valid JSON")


@case(fast=True)
def ssv2_bad_entries(ctx: Context) -> None:
    videos = ctx.root / "videos"
    videos.mkdir(parents=True)
    write_video(videos / "1.mp4")  # any video suffix is found by its stem
    labels = [
        {"id": "1", "template": "Opening [something]"},
        "a string",
        {"template": "no id"},
        {"id": 2},
        {"id": "404", "template": "Closing [something]"},
        None,
        [1, 2],
    ]
    (ctx.root / "labels.json").write_text(json.dumps(labels))
    run = ctx.cli(
        "ingest",
        "source=ssv2",
        f"source.labels={ctx.root / 'labels.json'}",
        f"source.videos={videos}",
        f"workspace={ctx.ws}",
    )
    meta = (
        json.loads((ctx.ws / "ingest" / "clips.json").read_text())
        if run.code == 0
        else {"clips": [], "failures": []}
    )
    ctx.outcome.expect(
        run.code == 0 and len(meta["clips"]) == 1 and len(meta["failures"]) == 6,
        f"exit {run.code}, {len(meta['clips'])} clips, {len(meta['failures'])} failures; expected 0, 1, 6",
    )


@case(fast=True)
def skipped_evaluate_shows_table(ctx: Context) -> None:
    args = ("evaluate", "policy=expert", "skill=slide_open", "episodes=1", "workers=1", f"workspace={ctx.ws}")
    first, again = ctx.cli(*args), ctx.cli(*args)
    ctx.outcome.expect(first.code == 0 and again.code == 0, f"exits {first.code}, {again.code}")
    ctx.outcome.expect(
        "up to date" in again.out and "success_rate" in again.out, "the skipped run shows no table"
    )


@case(fast=True)
def shared_workspace_permissions(ctx: Context) -> None:
    folder = ctx.root / "videos"
    folder.mkdir(parents=True)
    write_video(folder / "a.mp4")
    run = ctx.cli("ingest", "source=folder", f"source.path={folder}", f"workspace={ctx.ws}", "workers=1")
    mode = (ctx.ws / "ingest" / "clips.json").stat().st_mode & 0o777 if run.code == 0 else 0
    ctx.outcome.expect(mode & 0o044 == 0o044, f"clips.json has mode {oct(mode)}: teammates cannot read it")


@case(fast=True)
def crashed_episodes(ctx: Context) -> None:
    """A scene setting the simulator cannot use makes every episode raise: an error, never a cached 0%."""
    args = (
        "evaluate",
        "policy=expert",
        "skill=slide_open",
        "episodes=2",
        "workers=1",
        f"workspace={ctx.ws}",
        "sim.scenes.drawer.width_m=[0.35,0.5,0.5]",  # three numbers: a range has two
    )
    first, again = ctx.cli(*args), ctx.cli(*args)
    for run in (first, again):
        _one_line_error(ctx, run, code=1, contains="episodes crashed")
    if again.code == 0 or "up to date" in again.out:
        ctx.outcome.stale += 1
    results = ctx.ws / "eval" / "expert" / "panda" / "results.json"
    rec = json.loads(results.read_text())[0] if results.exists() else {}
    ctx.outcome.expect(
        rec.get("crashed") == 2, f"results.json records crashed={rec.get('crashed')}, expected 2"
    )


# Damaged videos: each in a folder beside one good clip; ingest and extract must name the bad file
# in one message and still extract the good clip.


def _damaged(make: Callable[[Path, Path], Path | None], readable: bool = False):
    """``readable``: the file is a good video under a hostile name, so both clips must be extracted."""

    def fn(ctx: Context) -> None:
        folder, ws = ctx.good_folder()
        good = next(folder.glob("*.mp4"))
        bad = make(folder, good)
        common = ("source=folder", f"source.path={folder}", f"workspace={ws}", "workers=1")
        ingest = ctx.cli("ingest", *common)
        ctx.outcome.expect(ingest.code == 0, f"ingest exit {ingest.code}")
        run = ctx.cli("extract", *common)
        ctx.outcome.expect(run.code == 0, f"extract exit {run.code}")
        q = quality(ws)
        ok = [r for r in q.values() if r["error"] is None]
        ctx.outcome.expect(len(ok) == 1 + readable, f"{len(ok)} clips extracted, expected {1 + readable}")
        if readable:
            ctx.outcome.expect(
                all(r["clip"].replace("-", "").replace("_", "").isalnum() for r in ok),
                "a clip id (which names files) is not filesystem-safe",
            )
            return
        if bad is not None:
            clips = (
                json.loads((ws / "ingest" / "clips.json").read_text())
                if ingest.code == 0
                else {"clips": [], "failures": []}
            )
            named = [r for r in q.values() if r["error"] and bad.name in r["error"]]
            named += [f for f in clips["failures"] if bad.name in f["item"] + f["error"]]
            if len(clips["clips"]) + len(clips["failures"]) < 2:
                ctx.outcome.stale += 1  # the bad file was never looked at
            ctx.outcome.expect(
                len(named) >= 1 or len(q) == 2 and len(ok) == 2, f"no message names {bad.name}"
            )

    return fn


def _write(name: str, data: bytes | Callable[[bytes], bytes]):
    def make(folder: Path, good: Path) -> Path:
        path = folder / name
        path.write_bytes(data(good.read_bytes()) if callable(data) else data)
        return path

    return make


def _middle_zeroed(b: bytes) -> bytes:
    n = len(b)
    return b[: n // 3] + bytes(n // 3) + b[2 * n // 3 :]


def _dangling(folder: Path, good: Path) -> Path:
    (folder / "moved.mp4").symlink_to(folder / "not_there.mp4")
    return folder / "moved.mp4"


def _tiny(folder: Path, good: Path) -> Path:
    return write_video(folder / "tiny16.mp4", side=16)


def _one_frame(folder: Path, good: Path) -> Path:
    return write_video(folder / "one_frame.mp4", frames=1)


def _no_hand(folder: Path, good: Path) -> Path:
    return write_video(folder / "no_hand.mp4", side=160, frames=12)


class SkipCase(Exception):
    """A case that cannot be set up here (its reason is printed)."""


def _unreadable(folder: Path, good: Path) -> Path:
    if os.geteuid() == 0:
        raise SkipCase("root reads files whatever their mode")
    path = folder / "unreadable.mp4"
    shutil.copy(good, path)
    path.chmod(0)
    return path


def _hostile(name: str):
    def make(folder: Path, good: Path) -> Path:
        path = folder / name
        shutil.copy(good, path)
        with open(path, "ab") as f:  # other content than the good clip, else it is the same clip twice
            f.write(b"\x00" * 16)
        return path

    return make


for _name, _make in [
    ("zero_byte", _write("empty.mp4", b"")),
    ("truncated", _write("truncated.mp4", lambda b: b[:2000])),
    ("random_bytes", _write("noise.mp4", np.random.default_rng(0).bytes(50_000))),
    ("text_renamed", _write("notes.mp4", b"shopping list: eggs, milk\n" * 40)),
    ("image_renamed", _write("photo.mp4", b"\x89PNG\r\n\x1a\n" + bytes(500))),
    ("header_only", _write("header.mp4", lambda b: b[:64])),
    ("middle_zeroed", _write("scratched.mp4", _middle_zeroed)),
    ("corrupt_gif", _write("broken.gif", b"GIF89a" + bytes(100))),
    ("dangling_link", _dangling),
    ("unreadable_file", _unreadable),
    ("tiny_16px", _tiny),
    ("one_frame", _one_frame),
    ("no_hand", _no_hand),
    ("name_spaces_unicode", _hostile("küche öffnen (1).mp4")),
    ("name_shell_chars", _hostile("$(touch pwned); rm 'x' \"y\".mp4")),
    ("name_leading_dash", _hostile("-rf --force.mp4")),
    ("name_very_long", _hostile("v" * 240 + ".mp4")),
    ("name_newline", _hostile("two\nlines.mp4")),
    ("name_upper_suffix", _hostile("LOUD.MP4")),
]:
    CASES[_name] = (_damaged(_make, readable=_name.startswith("name_")), False)


@case()
def damaged_track_noticed(ctx: Context) -> None:
    ws = ctx.base_ws()
    track = sorted((ws / "extract" / "tracks").glob("*.npz"))[0]
    track.write_bytes(b"PK\x03\x04 scratched")
    run = ctx.cli("extract", f"workspace={ws}", *BASE_OVERRIDES)
    ctx.outcome.expect(run.code == 0, f"extract exit {run.code}")
    if "up to date" in run.out:
        ctx.outcome.stale += 1
        ctx.outcome.problems.append("extract skipped over a damaged track")
    run = ctx.cli("cluster", f"workspace={ws}", *BASE_OVERRIDES, "force=true")
    ctx.outcome.expect(run.code == 0, f"cluster exit {run.code}")


@case()
def damaged_track_in_cluster(ctx: Context) -> None:
    """A track damaged after extraction: cluster names it and goes on with the rest."""
    ws = ctx.base_ws()
    track = sorted((ws / "extract" / "tracks").glob("*.npz"))[0]
    track.write_bytes(b"PK\x03\x04 scratched")
    run = ctx.cli("cluster", f"workspace={ws}", *BASE_OVERRIDES, "force=true")
    failures = json.loads((ws / "skills" / "segmentation_failures.json").read_text()) if run.code == 0 else []
    ctx.outcome.expect(any(track.name in f["error"] for f in failures), f"no failure names {track.name}")


@case()
def moved_workspace(ctx: Context) -> None:
    first = ctx.root / "first"
    shutil.copytree(ctx._base(), first, symlinks=True)
    ctx.cli("extract", f"workspace={first}", *BASE_OVERRIDES, "force=true")  # indexes its tracks in this copy
    shutil.move(first, ctx.ws)
    for stage in ("cluster", "retarget"):
        run = ctx.cli(stage, f"workspace={ctx.ws}", *BASE_OVERRIDES, "force=true")
        ctx.outcome.expect(run.code == 0, f"{stage} exit {run.code} on the moved workspace: {run.first_line}")


@case()
def add_same_video_at_once(ctx: Context) -> None:
    ws = ctx.base_ws()
    video = ctx.root / "new.mp4"
    shutil.copy(_new_clip(), video)
    procs = [ctx.start("add", str(video), f"workspace={ws}", *BASE_OVERRIDES, "workers=1") for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    for p, out in zip(procs, outs):
        ctx.outcome.runs.append(Run(["add", str(video)], p.returncode, out))
    from vid2skill.skills.library import SkillLibrary

    lib = SkillLibrary.load(ws / "skills")
    members = [m["clip"] for card in lib.skills.values() for m in card.members if m.get("added")]
    ctx.outcome.lost_or_duplicated += abs(len(members) - 1)
    ctx.outcome.expect(len(members) == 1, f"the video is in the library {len(members)} times")
    ctx.outcome.expect(
        sorted(p.returncode for p in procs) == [0, 1], f"exits {[p.returncode for p in procs]}"
    )


@case()
def add_two_videos_at_once(ctx: Context) -> None:
    ws = ctx.base_ws()
    videos = [ctx.root / "a.mp4", ctx.root / "b.mp4"]
    shutil.copy(_new_clip(), videos[0])
    shutil.copy(_new_clip(), videos[1])
    with open(videos[1], "ab") as f:
        f.write(b"\x00" * 8)
    from vid2skill.skills.library import SkillLibrary

    v0 = SkillLibrary.load(ws / "skills").version
    procs = [ctx.start("add", str(v), f"workspace={ws}", *BASE_OVERRIDES, "workers=1") for v in videos]
    for p in procs:
        ctx.outcome.runs.append(Run(["add"], p.wait(timeout=600), p.stdout.read()))
    lib = SkillLibrary.load(ws / "skills")
    added = [m["clip"] for card in lib.skills.values() for m in card.members if m.get("added")]
    ctx.outcome.lost_or_duplicated += abs(len(added) - 2) + (len(added) - len(set(added)))
    ctx.outcome.expect(
        len(set(added)) == 2 and lib.version == v0 + 2, f"{added}, version {lib.version} (from {v0})"
    )


@case()
def add_missing_and_corrupt(ctx: Context) -> None:
    ws = ctx.base_ws()
    _one_line_error(
        ctx,
        ctx.cli("add", str(ctx.root / "nope.mp4"), f"workspace={ws}", *BASE_OVERRIDES),
        code=1,
        contains="no such file",
    )
    bad = ctx.root / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 300)
    _one_line_error(
        ctx,
        ctx.cli("add", str(bad), f"workspace={ws}", *BASE_OVERRIDES, "workers=1"),
        code=1,
        contains="bad.mp4",
    )


# --- the shared inputs -----------------------------------------------------------------------------

BASE_OVERRIDES = ("debug=tiny", "source.seed=7000")
_shared: dict[str, Path] = {}


def _build_base(root: Path) -> Path:
    """Tiny synthetic drawer clips, ingested, extracted and clustered (the slow cases copy it)."""
    if "base" not in _shared:
        ws = root / "base"
        for stage in ("ingest", "extract", "cluster"):
            r = subprocess.run(
                [sys.executable, "-m", "vid2skill.cli", stage, f"workspace={ws}", *BASE_OVERRIDES],
                capture_output=True,
                text=True,
            )
            if r.returncode:
                raise SystemExit(f"building the base workspace failed at {stage}:\n{r.stderr[-2000:]}")
        _shared["base"] = ws
    return _shared["base"]


def _new_clip() -> Path:
    """A rendered drawer clip that the base workspace does not hold."""
    if "new" not in _shared:
        from omegaconf import OmegaConf

        from vid2skill.ingest.synthetic.generator import HandMeshCache, generate_clip

        base = _shared["base"]
        cfg = json.loads((base / "ingest" / "_stage.json").read_text())["config"]["source"]
        src = OmegaConf.create(cfg)
        meshes = HandMeshCache(base / "cache", src.curl_levels, src.mesh_voxel_m)
        _shared["new"] = Path(generate_clip(src, "slide_open", 7150, base.parent / "new", meshes).path)
    return _shared["new"]


def _build_good(root: Path) -> Path:
    """A folder with one good clip (from the base workspace) and a workspace that ingested and extracted
    it."""
    if "good" not in _shared:
        good = root / "good"
        (good / "videos").mkdir(parents=True)
        clip = sorted((_build_base(root) / "ingest" / "synthetic").glob("*.mp4"))[0]
        shutil.copy(clip, good / "videos" / "good.mp4")
        for stage in ("ingest", "extract"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "vid2skill.cli",
                    stage,
                    "source=folder",
                    f"source.path={good / 'videos'}",
                    f"workspace={good / 'ws'}",
                    "workers=1",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        _shared["good"] = good
    return _shared["good"]


# --- running ---------------------------------------------------------------------------------------


def run_case(name: str, root: Path, base_root: Path) -> Outcome:
    fn, _ = CASES[name]
    ctx = Context(root / name, lambda: _build_base(base_root), lambda: _build_good(base_root))
    ctx.root.mkdir(parents=True, exist_ok=True)
    try:
        fn(ctx)
    except SkipCase as e:
        ctx.outcome.skipped = str(e)
    out = ctx.outcome
    if any(r.traceback for r in out.runs):
        out.problems.append("a traceback was printed")
    leftovers = half_written(ctx.ws)
    if leftovers:
        out.lost_or_duplicated += len(leftovers)
        out.problems.append(f"half-written: {leftovers[:3]}")
    out.artifacts = artifacts(ctx.ws)  # type: ignore[attr-defined]
    return out


# --- kill and resume, concurrent adds ------------------------------------------------------------

# Per stage: the workspace folders holding its output, and what must be done before it runs.
KILL_STAGES = {
    "ingest": (("ingest",), ()),
    "extract": (("extract",), ("ingest",)),
    "cluster": (("skills",), ("ingest", "extract")),
    "retarget": (("retarget",), ("ingest", "extract", "cluster")),
    "train": (("policies",), ("ingest", "extract", "cluster", "retarget")),
    "evaluate": (("eval",), ("ingest", "extract", "cluster", "retarget", "train")),
    "add": (("skills", "add"), ("ingest", "extract", "cluster")),
}
KILL_OVERRIDES = (
    "debug=tiny",
    "source.seed=7000",
    "source.clips_per_skill=2",
    "episodes=2",
    "policy.epochs=20",
    "workers=1",
)


def manifest(ws: Path, folders: tuple[str, ...]) -> dict[str, str]:
    """Content hash per output file of a stage, the newest library version standing for ``vLATEST``
    (a rerun after a kill between a version and its marker may write one more, identical version).
    Markers (they hold the run's time), logs and hidden temporary files are left out."""
    from vid2skill.artifacts import file_hash
    from vid2skill.skills.library import latest_version

    out = {}
    for folder in folders:
        root = ws / folder
        if not root.is_dir():
            continue
        latest = f"v{latest_version(root):04d}" if folder == "skills" else None
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(ws)
            # Logs are not artifacts: Hydra's logs, and TensorBoard's event files (named by time, host and
            # pid).
            if (
                not p.is_file()
                or p.name.startswith(".")
                or p.name in ("_stage.json", "LATEST")
                or {"logs", "tensorboard"} & set(rel.parts)
            ):
                continue
            if latest is not None and len(rel.parts) > 2 and rel.parts[1].startswith("v"):
                if rel.parts[1] != latest:
                    continue
                rel = Path(rel.parts[0], "vLATEST", *rel.parts[2:])
            out[str(rel)] = file_hash(p)
    return out


def _stage_command(stage: str, ws: Path, video: Path | None) -> list[str]:
    args = ["add", str(video)] if stage == "add" else [stage]
    return [sys.executable, "-m", "vid2skill.cli", *args, f"workspace={ws}", *KILL_OVERRIDES]


def kill_and_resume(root: Path, points: int, stages: list[str], seed: int = 0) -> dict:
    """For each stage: a clean run's output, then ``points`` runs killed (SIGKILL) at random moments
    and run again to the end; counts the resumed runs whose output differs from the clean one."""
    import random

    rng = random.Random(seed)
    video = None
    report = {}
    for stage in stages:
        folders, before = KILL_STAGES[stage]
        pre = root / f"pre_{stage}"
        if not pre.exists():
            pre.mkdir(parents=True)
            for s in before:
                subprocess.run(_stage_command(s, pre, None), capture_output=True, text=True, check=True)
        if stage == "add" and video is None:
            _shared.setdefault("base", pre)
            video = _new_clip()
        clean = root / f"clean_{stage}"
        shutil.copytree(pre, clean, symlinks=True)
        t0 = time.time()
        subprocess.run(_stage_command(stage, clean, video), capture_output=True, text=True, check=True)
        took = time.time() - t0
        reference = manifest(clean, folders)
        differing, killed_at = [], []
        for k in range(points):
            ws = root / f"kill_{stage}_{k}"
            shutil.copytree(pre, ws, symlinks=True)
            delay = rng.uniform(0.1, 0.95) * took
            proc = subprocess.Popen(
                _stage_command(stage, ws, video),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)  # the stage and its spawned workers, at once
                proc.wait()
            killed_at.append(round(delay, 1))
            again = subprocess.run(_stage_command(stage, ws, video), capture_output=True, text=True)
            got = manifest(ws, folders)
            # (an add killed after its video landed is rightly told there is nothing new to add)
            finished = again.returncode == 0 or (stage == "add" and "nothing new" in again.stderr)
            if not finished or got != reference:
                diff = sorted(k for k in set(got) | set(reference) if got.get(k) != reference.get(k))
                differing.append({"point": k, "exit": again.returncode, "files": diff[:5]})
            shutil.rmtree(ws, ignore_errors=True)
        report[stage] = {"clean_s": round(took, 1), "killed_at_s": killed_at, "differing": differing}
        print(
            f"kill-resume {stage:9s} clean {took:5.1f} s, killed at {killed_at}: "
            f"{points - len(differing)}/{points} identical{'; ' + str(differing[:2]) if differing else ''}",
            flush=True,
        )
    return report


def concurrent_adds(root: Path, repetitions: int) -> dict:
    """Two or three adds at once (the same video twice, or different videos), ``repetitions`` times:
    members lost or duplicated, and library versions that did not go up one per landed add."""
    from vid2skill.skills.library import SkillLibrary

    base = _build_base(root / "shared")
    new = _new_clip()
    variants = []
    root.mkdir(parents=True, exist_ok=True)
    for k in range(3):  # three different videos (bytes appended: other content, same frames)
        v = root / f"video_{k}.mp4"
        v.write_bytes(new.read_bytes() + b"\x00" * (8 * k))
        variants.append(v)
    lost = duplicated = bad_versions = 0
    for rep in range(repetitions):
        videos = [variants[0], variants[0]] if rep % 2 == 0 else variants[: 2 + (rep // 2) % 2]
        ws = root / f"conc_{rep}"
        shutil.copytree(base, ws, symlinks=True)
        v0 = SkillLibrary.load(ws / "skills").version
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vid2skill.cli",
                    "add",
                    str(v),
                    f"workspace={ws}",
                    *BASE_OVERRIDES,
                    "workers=1",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for v in videos
        ]
        outs = [p.communicate()[0] for p in procs]
        landed = sum(p.returncode == 0 for p in procs)
        lib = SkillLibrary.load(ws / "skills")
        added = [m["clip"] for card in lib.skills.values() for m in card.members if m.get("added")]
        expected = len(set(videos))
        lost += max(0, expected - len(set(added)))
        duplicated += len(added) - len(set(added))
        versions = sorted(int(p.name[1:]) for p in (ws / "skills").glob("v[0-9][0-9][0-9][0-9]"))
        if lib.version != v0 + landed or versions != list(range(1, lib.version + 1)):
            bad_versions += 1
        if any(TRACEBACK in o for o in outs):
            print(f"concurrency {rep}: a traceback:\n{outs}", flush=True)
        shutil.rmtree(ws, ignore_errors=True)
    print(
        f"concurrent adds: {repetitions} repetitions, {lost} lost, {duplicated} duplicated, "
        f"{bad_versions} with versions not one per landed add",
        flush=True,
    )
    return {"lost": lost, "duplicated": duplicated, "bad_versions": bad_versions}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fast", action="store_true", help="only the cases that need no extracted workspace")
    ap.add_argument("--only", nargs="*", help="case names")
    ap.add_argument(
        "--keep", type=Path, help="work in this folder and keep it (default: a temporary folder, removed)"
    )
    ap.add_argument(
        "--base",
        type=Path,
        help=f"a base workspace built before (ingest, extract and cluster with {' '.join(BASE_OVERRIDES)})",
    )
    ap.add_argument(
        "--kill-resume",
        type=int,
        default=0,
        metavar="N",
        help=f"also kill each stage at N random moments and resume ({', '.join(KILL_STAGES)})",
    )
    ap.add_argument(
        "--kill-stages", nargs="*", default=list(KILL_STAGES), help="the stages to kill (default: all)"
    )
    ap.add_argument(
        "--concurrency", type=int, default=0, metavar="R", help="also R repetitions of 2-3 concurrent adds"
    )
    args = ap.parse_args()
    names = (
        [] if args.only == [] else args.only or [n for n, (_, fast) in CASES.items() if fast or not args.fast]
    )
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; choose from {sorted(CASES)}")
    root = args.keep or Path(tempfile.mkdtemp(prefix="vid2skill-reliability-"))
    if args.base:
        _shared["base"] = args.base
    t0 = time.time()
    rows, totals = (
        [],
        {"crashes (tracebacks)": 0, "lost or duplicated artifacts": 0, "silent stale results": 0},
    )
    try:
        for name in names:
            t = time.time()
            out = run_case(name, root / "cases", root / "shared")
            last = out.runs[-1] if out.runs else Run([], 0, "")
            status = "skip" if out.skipped else ("ok" if not out.problems else "FAIL")
            totals["crashes (tracebacks)"] += sum(r.traceback for r in out.runs)
            totals["lost or duplicated artifacts"] += out.lost_or_duplicated
            totals["silent stale results"] += out.stale
            rows.append(
                (
                    name,
                    last.code,
                    "yes" if any(r.traceback for r in out.runs) else "no",
                    out.artifacts,
                    status,
                    (out.skipped or "; ".join(out.problems) or last.first_line)[:110],
                    round(time.time() - t, 1),
                )
            )
            print(
                f"{name:28s} exit {last.code:>3}  traceback {rows[-1][2]:3s}  artifacts {out.artifacts:>4}  "
                f"{status:4s}  {rows[-1][5]}",
                flush=True,
            )
        if args.kill_resume:
            report = kill_and_resume(root / "kill", args.kill_resume, args.kill_stages)
            differing = sum(len(r["differing"]) for r in report.values())
            totals["lost or duplicated artifacts"] += (
                differing  # a resumed run whose output is not the clean run's
            )
        if args.concurrency:
            conc = concurrent_adds(root / "concurrency", args.concurrency)
            totals["lost or duplicated artifacts"] += conc["lost"] + conc["duplicated"] + conc["bad_versions"]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    failed = [r[0] for r in rows if r[4] == "FAIL"]
    print(
        f"\n{len(rows)} cases in {time.time() - t0:.0f} s: {sum(r[4] == 'ok' for r in rows)} passed, "
        f"{len(failed)} failed{' (' + ', '.join(failed) + ')' if failed else ''}, "
        f"{sum(r[4] == 'skip' for r in rows)} skipped"
    )
    for k, v in totals.items():
        print(f"{k:32s} {v}   (target 0)")
    sys.exit(1 if failed or any(totals.values()) else 0)


if __name__ == "__main__":
    main()
