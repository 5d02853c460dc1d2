"""Where every artifact of a workspace lives: one class owns the folder layout and the stage records.

The layout (``<root>`` is ``workspace=``)::

    ingest/<source>/                 a source's own files (cut or rendered videos)
    ingest/clips.json                the ClipSet                        (stage ingest)
    extract/tracks.json, tracks/     the TrackSet and per-clip tracks    (stage extract)
    skills/v0001/ ...                the SkillLibrary's versions         (stage cluster; `add` too)
    add/tracks.json, tracks/         clips brought in by `vid2skill add`, and its last decisions
                                     (stage add; one record per target: add/runs/<target hash>/)
    retarget/<robot>/index.json      the skills retargeted to a robot, one DemoSet each (stage retarget)
    policies/<robot>/<skill>/        a training run (stage train; other learned types have their own
                                     folder, e.g. policies_act/), checkpoints in LeRobot's layout:
                                     checkpoints/<step:06d>/ and a ``last`` file naming the newest
    eval/<policy>/<robot>/           results.json, episodes.json, videos/ (stage evaluate)
    export/<format>/<robot>/         a dataset                           (stage export)
    report/index.html                `vid2skill report`
    <stage folder>[/<run>]/_stage.json   a stage's record: the key it ran under, its summary

Artifacts are named by their stem (``extract/tracks``): the artifact writes ``.json`` (and ``.npz``)
beside it. A workspace written before this class existed has the same layout.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from vid2skill.artifacts import atomic_write_json

# Each stage's folder (the stage ``cluster`` writes ``skills/``, ``train`` writes ``policies/``).
STAGE_FOLDERS = {
    "ingest": "ingest",
    "extract": "extract",
    "cluster": "skills",
    "retarget": "retarget",
    "train": "policies",
    "evaluate": "eval",
    "export": "export",
    "add": "add",
}
STAGE_RECORD = "_stage.json"


def new_run_id() -> str:
    """A fresh id for a stage's run: stages downstream key on it, so they rerun after any rerun."""
    return f"{time.time_ns():x}"


def read_record(path: Path) -> dict | None:
    """A stage record, or None where it is absent or damaged (a damaged one is as good as none)."""
    try:
        done = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return done if isinstance(done, dict) and "key" in done else None


class Workspace:
    """The folder a pipeline run reads and writes, with one typed path per artifact.

    Args:
        root: the workspace folder (``~`` is expanded); a Workspace is taken as it is.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = root.root if isinstance(root, Workspace) else Path(root).expanduser()

    def __fspath__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    # --- stages and their records ---------------------------------------------------------------

    def stage_dir(self, stage: str) -> Path:
        """The folder stage ``stage`` (a pipeline stage's name) writes."""
        return self.root / STAGE_FOLDERS[stage]

    def stage_record(self, stage: str, run: str | None = None) -> Path:
        """The record a finished stage leaves; ``run`` for stages with one record per choice
        (evaluate: ``<policy>/<robot>``, export: ``<format>/<robot>``)."""
        folder = self.stage_dir(stage) / run if run else self.stage_dir(stage)
        return folder / STAGE_RECORD

    def read_stage_record(self, stage: str, run: str | None = None) -> dict | None:
        """The stage's record, or None where it has not run (or its record is damaged)."""
        return read_record(self.stage_record(stage, run))

    def write_stage_record(self, stage: str, record: dict, run: str | None = None) -> Path:
        """Write the stage's record atomically (``record`` holds at least its ``key``)."""
        path = self.stage_record(stage, run)
        atomic_write_json(path, record)
        return path

    def renew_stage_record(self, stage: str, summary: dict) -> dict | None:
        """Record that the stage's output changed outside a run of its own (`add` writes a library
        version): its record keeps its key, takes ``summary``'s values and a new run id, so that the
        stages downstream rerun. None where the stage has no record (nothing keys on it yet)."""
        record = self.read_stage_record(stage)
        if record is None:
            return None
        record.update(run=new_run_id(), summary={**record.get("summary", {}), **summary})
        self.write_stage_record(stage, record)
        return record

    # --- ingest, extract -------------------------------------------------------------------------

    def source_dir(self, source: str) -> Path:
        """Where the source ``source`` keeps its files (rendered or cut videos)."""
        return self.stage_dir("ingest") / str(source)

    @property
    def clips(self) -> Path:
        """The ClipSet (artifact stem)."""
        return self.stage_dir("ingest") / "clips"

    @property
    def extract_dir(self) -> Path:
        """Where extraction writes its per-clip tracks (``tracks/``) and visualisations."""
        return self.stage_dir("extract")

    @property
    def tracks(self) -> Path:
        """The TrackSet of the extract stage (artifact stem)."""
        return self.extract_dir / "tracks"

    # --- the skill library and `add` ------------------------------------------------------------

    @property
    def skills(self) -> Path:
        """The SkillLibrary's root (its versions ``v0001/``, ...)."""
        return self.stage_dir("cluster")

    @property
    def segmentation_failures(self) -> Path:
        return self.skills / "segmentation_failures.json"

    @property
    def add_dir(self) -> Path:
        """Where `vid2skill add` extracts the clips it brings in."""
        return self.stage_dir("add")

    @property
    def added_tracks(self) -> Path:
        """The TrackSet of the clips `add` placed in the library (artifact stem)."""
        return self.add_dir / "tracks"

    @property
    def add_decisions(self) -> Path:
        """The last `add`'s decisions."""
        return self.add_dir / "last_decisions.json"

    # --- retarget, train ------------------------------------------------------------------------

    def demos(self, robot: str, skill: str | None = None) -> Path:
        """A robot's retargeted demonstrations; with ``skill``, that skill's DemoSet (artifact stem)."""
        folder = self.stage_dir("retarget") / str(robot)
        return folder / str(skill) if skill is not None else folder

    def demo_index(self, robot: str) -> Path:
        """The list of skills retargeted to ``robot``."""
        return self.demos(robot) / "index.json"

    def demo_indexes(self) -> dict[str, Path]:
        """Per robot with retargeted demos, its index (sorted by robot)."""
        return {p.parent.name: p for p in sorted(self.stage_dir("retarget").glob("*/index.json"))}

    def policies(self, robot: str, skill: str, folder: str = "policies") -> Path:
        """One skill's training run on one robot; ``folder`` is the policy type's
        (:attr:`vid2skill.policy.base.LearnedPolicy.workspace_folder`)."""
        return self.root / folder / str(robot) / str(skill)

    # --- evaluate, export, report ---------------------------------------------------------------

    def eval(self, policy: str, robot: str) -> Path:
        """One evaluation run: ``results.json``, ``episodes.json`` and ``videos/``."""
        return self.stage_dir("evaluate") / str(policy) / str(robot)

    def eval_results(self, policy: str, robot: str) -> Path:
        return self.eval(policy, robot) / "results.json"

    def eval_episodes(self, policy: str, robot: str) -> Path:
        return self.eval(policy, robot) / "episodes.json"

    def eval_video(self, policy: str, robot: str, skill: str, seed: int) -> Path:
        return self.eval(policy, robot) / "videos" / f"{skill}_seed{seed}.mp4"

    def eval_runs(self) -> list[tuple[str, str]]:
        """(policy, robot) of every evaluation run with results, sorted."""
        found = sorted(self.stage_dir("evaluate").glob("*/*/results.json"))
        return [(p.parent.parent.name, p.parent.name) for p in found]

    def export(self, fmt: str, robot: str) -> Path:
        """A dataset exported as ``fmt`` (``lerobot``, ``robomimic``)."""
        return self.stage_dir("export") / str(fmt) / str(robot)

    @property
    def report(self) -> Path:
        """The workspace's HTML report."""
        return self.root / "report" / "index.html"

    @property
    def real_to_robot(self) -> Path:
        """Where benchmarks/real_to_robot.py leaves its results for the report."""
        return self.root / "real_to_robot.json"


# --- checkpoints in a training run (LeRobot's layout) --------------------------------------------


def checkpoint_dir(run_dir: str | os.PathLike, step: int) -> Path:
    """Checkpoint ``step`` of a training run."""
    return Path(run_dir) / "checkpoints" / f"{step:06d}"


def last_pointer(run_dir: str | os.PathLike) -> Path:
    """The file naming a run's newest complete checkpoint."""
    return Path(run_dir) / "checkpoints" / "last"


def last_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The run's newest complete checkpoint folder, or None where it has none."""
    last = last_pointer(run_dir)
    return last.parent / last.read_text().strip() if last.exists() else None
