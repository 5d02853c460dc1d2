"""Extraction and evaluation through Ray (``executor=ray``, a local Ray with ``--workers`` CPUs)
against the process pool with as many workers, on the same clips and episodes, in the same run.
Prints each one's wall time and the ratio pool / Ray (above 1: Ray is faster).

The clips are a workspace's ingested clips (any source), copied into two scratch workspaces so that
neither run finds the other's work; the evaluation is the scripted expert on ``--skill``.

    python benchmarks/ray_speedup.py /tmp/msyn --workers 2 --episodes 8
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from vid2skill.config import compose
from vid2skill.parallel import use_executor
from vid2skill.pipeline import run_stage


def timed(ws: Path, executor: str, workers: int, episodes: int, skill: str) -> dict:
    common = [f"workspace={ws}", f"workers={workers}", f"executor={executor}"]
    extract = compose(common)
    evaluate = compose(common + ["policy=expert", f"skill={skill}", f"episodes={episodes}"])
    out = {}
    for name, cfg in (("extract", extract), ("evaluate", evaluate)):
        t0 = time.perf_counter()
        run_stage(cfg, name)
        out[name] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path, help="a workspace whose clips are ingested")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--skill", default="slide_open")
    args = ap.parse_args()
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in ("pool", "ray"):
            ws = Path(tmp) / executor
            shutil.copytree(args.workspace / "ingest", ws / "ingest")
            times[executor] = timed(ws, executor, args.workers, args.episodes, args.skill)
    use_executor("pool")
    print(f"{'stage':<10} {'pool s':>8} {'ray s':>8} {'pool/ray':>9}   ({args.workers} workers each)")
    for stage in ("extract", "evaluate"):
        p, r = times["pool"][stage], times["ray"][stage]
        print(f"{stage:<10} {p:>8.1f} {r:>8.1f} {p / r:>9.2f}")


if __name__ == "__main__":
    main()
