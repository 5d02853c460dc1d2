"""executor=ray: per-clip stages and evaluation episodes as Ray tasks on a Ray cluster started here
(``ray start --head``), giving the same artifacts as the process pool."""

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="executor=ray needs Ray (the dev extra installs it)")

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    import os

    port = _free_port()
    tmp = tmp_path_factory.mktemp("ray")
    # A throwaway local cluster: no token authentication (Ray's default keeps a token per user,
    # which a token left by another Ray run on this machine would contradict).
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    start = subprocess.run(
        [
            RAY,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            f"--temp-dir={tmp}",
            "--disable-usage-stats",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert start.returncode == 0, start.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)
        from vid2skill.parallel import use_executor

        use_executor("pool")
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


@pytest.mark.slow
def test_extract_and_evaluate_through_ray_match_the_pool(synthetic_ws, tmp_path, ray_head):
    from tests.helpers import make_cfg
    from vid2skill.extract.types import HandTrack, TrackSet
    from vid2skill.pipeline import run_stage

    ws0, _ = synthetic_ws
    runs = {}
    for executor in ("pool", "ray"):
        ws = tmp_path / executor
        ws.mkdir()
        shutil.copytree(ws0 / "ingest", ws / "ingest")
        extra = [f"executor={executor}", f"ray.address={ray_head}"] if executor == "ray" else []
        cfg = make_cfg([f"workspace={ws}", "debug=tiny", "workers=2", "source.seed=7000", *extra])
        run_stage(cfg, "extract")
        ev = make_cfg(
            [
                f"workspace={ws}",
                "debug=tiny",
                "workers=2",
                "policy=expert",
                "skill=slide_open",
                "episodes=3",
                *extra,
            ]
        )
        run_stage(ev, "evaluate")
        runs[executor] = ws
    assert ray.is_initialized()  # the ray run did go through the cluster
    tracks = {
        e: {r["clip"]: r for r in TrackSet.load(ws / "extract" / "tracks").records} for e, ws in runs.items()
    }
    assert tracks["pool"].keys() == tracks["ray"].keys() and tracks["pool"]
    for clip, rec in tracks["pool"].items():
        a, b = HandTrack.load(rec["track"]), HandTrack.load(tracks["ray"][clip]["track"])
        assert np.array_equal(a.wrist_pos_cam, b.wrist_pos_cam, equal_nan=True)
        assert np.array_equal(a.aperture_m, b.aperture_m, equal_nan=True)
    for name in ("results.json", "episodes.json"):
        pool, on_ray = (
            json.loads((ws / "eval" / "expert" / "panda" / name).read_text()) for ws in runs.values()
        )
        assert pool == on_ray and pool
