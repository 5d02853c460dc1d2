"""Hand detection on real clips, counted over the frames in which a hand can be seen.

The issue's target is a hand found in >= 90% of the frames in which a person can see one, and no
jump over 10 cm between consecutive valid frames after filtering. "Found" counts MediaPipe's
detections of the tracked hand; "valid" what is left after outlier rejection and gap filling. Which
frames show no hand was judged by eye and is kept in ``annotations/real_no_hand_frames.json``
(frame ranges per clip, with how they were judged); every other frame counts as showing one.
Reads the tracks and quality table of a workspace that has run ``extract`` on the clips:

    vid2skill ingest  workspace=/tmp/v2s_real source=folder source.path=../shared/data/videos
    vid2skill extract workspace=/tmp/v2s_real source=folder source.path=../shared/data/videos
    python benchmarks/real_detection.py /tmp/v2s_real
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vid2skill.extract.types import HandTrack

ANNOTATIONS = Path(__file__).parent / "annotations" / "real_no_hand_frames.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace")
    ap.add_argument("--annotations", default=str(ANNOTATIONS))
    args = ap.parse_args()
    notes = json.loads(Path(args.annotations).read_text())["clips"]
    quality = {
        q["clip"]: q for q in json.loads((Path(args.workspace) / "extract" / "quality.json").read_text())
    }
    tracks = sorted((Path(args.workspace) / "extract" / "tracks").glob("*.json"))
    print(
        "| clip | frames | no hand in view | found / visible | rate "
        "| valid after filtering / visible | max jump (m) |"
    )
    print("|---|---|---|---|---|---|---|")
    tot_found = tot_visible = tot_kept = 0
    rates = []
    for path in tracks:
        tr = HandTrack.load(path.with_suffix(""))
        name = tr.clip_id.rsplit("_", 1)[0]  # folder clips carry a short content hash
        hidden = np.zeros(len(tr.frame_index), bool)
        for a, b in notes.get(name, {}).get("no_hand", []):
            hidden |= (tr.frame_index >= a) & (tr.frame_index <= b)
        visible = ~hidden
        found = int((tr.detected & visible).sum())
        rate = found / max(int(visible.sum()), 1)
        rates.append(rate)
        tot_found += found
        tot_visible += int(visible.sum())
        kept = int((tr.valid & visible).sum())
        tot_kept += kept
        jump = quality.get(tr.clip_id, {}).get("max_jump_m")
        print(
            f"| {name} | {len(hidden)} | {int(hidden.sum())} | {found} / {int(visible.sum())} | {rate:.2f} | "
            f"{kept / max(int(visible.sum()), 1):.2f} | {jump} |"
        )
    print(
        f"| all | | | {tot_found} / {tot_visible} | **{tot_found / max(tot_visible, 1):.3f}** | "
        f"{tot_kept / max(tot_visible, 1):.3f} | |"
    )
    print(f"\nclips at >= 0.90: {sum(r >= 0.9 for r in rates)} of {len(rates)}")


if __name__ == "__main__":
    main()
