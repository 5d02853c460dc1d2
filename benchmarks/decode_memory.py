"""Peak memory of streaming a long 1080p clip, against the memory of the libraries alone.

Writes a 1920x1080 clip of ``--seconds`` at 30 frames/s (moving noise, so the codec cannot shrink
it to nothing), then, each in a fresh process: imports the libraries only (the baseline), decodes
every frame with ``iter_frames``, and runs ``extract_clip`` at ``--stride``. Prints each peak
resident set size and the extra over the baseline; holding the decoded clip in memory would
need frames x 6.2 MB.

    python benchmarks/decode_memory.py --seconds 120
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys
import cv2, decord, numpy as np, mediapipe
from vid2skill.video import iter_frames
mode, path, stride = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = 0
if mode == "decode":
    for _, rgb in iter_frames(path):
        n += 1
elif mode == "extract":
    from vid2skill.config import compose
    from vid2skill.errors import NoHandError
    from vid2skill.extract.hands import extract_clip
    from vid2skill.ingest.types import Clip
    cfg = compose([f"extract.stride={stride}"]).extract
    try:
        extract_clip(Clip("long", path, "bench", "x"), cfg)
    except NoHandError:
        pass  # noise has no hand: the whole clip was still decoded and searched
print(json.dumps({"frames": n, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(mode: str, path: str, stride: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, path, str(stride)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--stride", type=int, default=10, help="frame stride of the extract run")
    args = ap.parse_args()

    from vid2skill.video import VideoWriter

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "long_1080p.mp4")
        rng = np.random.default_rng(0)
        base = rng.integers(0, 255, (1080 // 8, 1920 // 8, 3), dtype=np.uint8)
        frames = int(args.seconds * 30)
        with VideoWriter(path, 30, 1920, 1080) as w:
            for i in range(frames):
                w.write(np.kron(np.roll(base, i, axis=1), np.ones((8, 8, 1), np.uint8)))
        print(
            f"{frames} frames of 1920x1080 ({Path(path).stat().st_size / 1e6:.0f} MB file); "
            f"holding them decoded would take {frames * 1920 * 1080 * 3 / 1e6:,.0f} MB"
        )
        libs = child("libs", path, 1)["peak_mb"]
        dec = child("decode", path, 1)
        ext = child("extract", path, args.stride)
        print(f"  libraries only (baseline)          peak {libs:7.0f} MB")
        print(
            f"  iter_frames, every frame           peak {dec['peak_mb']:7.0f} MB  "
            f"(+{dec['peak_mb'] - libs:.0f} MB, {dec['frames']} frames)"
        )
        print(
            f"  extract_clip, stride {args.stride:<3d}           peak {ext['peak_mb']:7.0f} MB  "
            f"(+{ext['peak_mb'] - libs:.0f} MB)"
        )


if __name__ == "__main__":
    main()
