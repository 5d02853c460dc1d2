"""Shared fixtures: configs composed with Hydra, a tiny synthetic workspace, the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import make_cfg

SHARED_DATA = Path(
    os.environ.get("VID2SKILL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture
def tiny_cfg(tmp_path):
    return make_cfg([f"workspace={tmp_path / 'ws'}", "debug=tiny", "workers=1"])


@pytest.fixture(scope="session")
def hand_meshes(tmp_path_factory) -> Path:
    """One folder of synthetic hand meshes for the whole session. Meshing a finger pose takes seconds,
    and the files are named by their curl and voxel size, so every render may share them."""
    return tmp_path_factory.mktemp("hand_meshes")


@pytest.fixture(scope="session")
def synthetic_ws(tmp_path_factory, hand_meshes):
    """A workspace with tiny synthetic clips ingested and extracted (built once per test session)."""
    from vid2skill.pipeline import run_stage

    ws = tmp_path_factory.mktemp("synthetic_ws")
    (ws / "cache").symlink_to(hand_meshes, target_is_directory=True)  # the workspace's mesh cache
    cfg = make_cfg([f"workspace={ws}", "debug=tiny", "workers=2", "source.seed=7000"])
    run_stage(cfg, "ingest")
    run_stage(cfg, "extract")
    return ws, cfg


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set VID2SKILL_SHARED_DATA to point at it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pipeline_ws(synthetic_ws, tmp_path_factory):
    """A copy of ``synthetic_ws`` taken through cluster, retarget, train and evaluate (bc_mlp on the
    panda, with one rollout video per skill): every stage's artifacts, for tests that read them all."""
    import shutil

    from vid2skill.pipeline import run_stage

    ws0, _ = synthetic_ws
    ws = tmp_path_factory.mktemp("pipeline_ws") / "ws"
    shutil.copytree(ws0, ws)
    cfg = make_cfg([f"workspace={ws}", "debug=tiny", "workers=2", "source.seed=7000"])
    for stage in ("cluster", "retarget", "train", "evaluate"):
        run_stage(cfg, stage)
    return ws, cfg
