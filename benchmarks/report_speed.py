"""Time and size of ``vid2skill report`` on a workspace, against a baseline measured in the same
run: the same page without rollout GIFs (``report.gifs_per_run=0``), which leaves the plots, tables
and thumbnails. Prints seconds and MB for each, and the ratio of the full page's time to the
baseline's. Issue 19's bound: <= 30 s and <= 20 MB for the demo workspace.

    vid2skill demo workspace=/tmp/demo_ws
    python benchmarks/report_speed.py /tmp/demo_ws
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_report(ws: Path, overrides: list[str], repeats: int) -> tuple[float, float]:
    """(best seconds over ``repeats`` runs of the command, the page's size in MB)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vid2skill.cli", "report", f"workspace={ws}", *overrides],
            check=True,
            capture_output=True,
            text=True,
        )
        best = min(best, time.perf_counter() - t0)
    return best, (ws / "report" / "index.html").stat().st_size / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path, help="a workspace the stages have run in (vid2skill demo's)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:  # the report writes into the workspace: time a copy
        ws = Path(tmp) / "ws"
        shutil.copytree(args.workspace, ws, symlinks=True, ignore=shutil.ignore_patterns("report"))
        base_s, base_mb = timed_report(ws, ["report.gifs_per_run=0"], args.repeats)
        full_s, full_mb = timed_report(ws, [], args.repeats)
    print(f"report without GIFs (baseline): {base_s:6.1f} s, {base_mb:5.1f} MB")
    print(f"report (default):               {full_s:6.1f} s, {full_mb:5.1f} MB")
    print(
        f"ratio, full over baseline: {full_s / base_s:.2f}x time, bound 30 s and 20 MB: "
        f"{'met' if full_s <= 30 and full_mb <= 20 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
