"""The export stage: the retargeted demonstrations of one robot as an episode dataset, written in the
format ``format=`` names (``lerobot`` or ``robomimic``) under ``<workspace>/export/<format>/<robot>/``.

Episodes are ordered training videos first, then validation videos (split by clip, so a video's
manipulations stay together), so that episode ``i`` is ``demo_<i>`` in robomimic and LeRobot's
``splits`` are ranges.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from vid2skill.dataset.episodes import EpisodeDataset
from vid2skill.dataset.from_demos import dataset_from_demosets
from vid2skill.errors import ArtifactError
from vid2skill.registry import Registry
from vid2skill.retarget.demos import DemoSet
from vid2skill.workspace import Workspace

log = logging.getLogger(__name__)


def load_demosets(ws: Path, robot: str) -> dict[Path, DemoSet]:
    """The DemoSets of ``robot`` that ``vid2skill retarget`` wrote (path -> DemoSet, in its index's order)."""
    layout = Workspace(ws)
    index = layout.demo_index(robot)
    if not index.exists():
        raise ArtifactError(
            f"no retargeted demos for {robot} at {index}; "
            f"run `vid2skill retarget robot={robot} workspace={ws}` first"
        )
    paths = [layout.demos(robot, s) for s in json.loads(index.read_text())]
    return {path: DemoSet.load(path) for path in paths}


def build_episodes(dataset_cfg, ws: Path, robot: str) -> tuple[EpisodeDataset, list[int], list[int]]:
    """(the dataset, ordered train first; train episode indices; valid episode indices)."""
    ds = dataset_from_demosets(load_demosets(ws, robot), dict(dataset_cfg.goals or {}))
    train, valid = ds.split_by_clip(float(dataset_cfg.valid_fraction), int(dataset_cfg.split_seed))
    ds = ds.select(train + valid)
    return ds, list(range(len(train))), list(range(len(train), len(ds.episodes)))


EXPORTERS: Registry[Callable[..., dict]] = Registry("export format", key="format")


@EXPORTERS.register("lerobot")
def export_lerobot(fmt, ds: EpisodeDataset, train: list[int], valid: list[int], out: Path) -> dict:
    from vid2skill.export.lerobot import write_lerobot

    splits = {"train": f"0:{len(train)}", **({"valid": f"{len(train)}:{len(ds.episodes)}"} if valid else {})}
    return write_lerobot(
        ds,
        out,
        splits,
        int(fmt.chunks_size),
        float(fmt.data_files_size_in_mb),
        extra_meta={"provenance": ds.provenance, "clips": [e.clip for e in ds.episodes]},
    )


@EXPORTERS.register("robomimic")
def export_robomimic(fmt, ds: EpisodeDataset, train: list[int], valid: list[int], out: Path) -> dict:
    from vid2skill.export.robomimic import write_robomimic

    return write_robomimic(ds, out / "demos.hdf5", train, valid, fmt.compression or None)


def export(cfg, ws: Path) -> dict:
    """Build the dataset of ``cfg.robot`` from ``ws`` and write it as ``cfg.format``; returns a summary."""
    name, robot = str(cfg.format.name), str(cfg.robot.name)
    write = EXPORTERS.get(name)
    ds, train, valid = build_episodes(cfg.dataset, ws, robot)
    out = Workspace(ws).export(name, robot)
    summary = write(cfg.format, ds, train, valid, out)
    log.info(
        "export: %d episodes (%d train, %d valid), %d frames of %s -> %s",
        len(ds.episodes),
        len(train),
        len(valid),
        ds.num_frames,
        ", ".join(ds.tasks),
        out,
    )
    return {**summary, "train_episodes": len(train), "valid_episodes": len(valid)}
