r"""How often `vid2skill add` puts a new clip into its own skill.

Given extracted workspaces of labelled clips (the synthetic generator labels its clips), each in
turn is held out: the others make a library grouped by their labels (`cluster.group_by=label`),
and the held-out clips are assigned one by one by `add`'s own decision rule (`skills.add.decide`),
labels hidden. Printed per held-out workspace and on average: the share assigned to their own
skill, the share proposed as a new skill, and the chance level (one over the number of skills).
Nothing is written to the workspaces.

    python benchmarks/add_assignment.py /tmp/v2s_all2 /tmp/v2s_ho9600 /tmp/v2s_ho9700 --skip cut
    python benchmarks/add_assignment.py /tmp/v2s_all2 /tmp/v2s_ho9600 /tmp/v2s_ho9700 --skip cut \
        cluster.assign_neighbours=0
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
from common import workspaces_and_cluster_cfg  # beside this script

from vid2skill.extract.types import TrackSet
from vid2skill.skills.add import decide
from vid2skill.skills.stage import build_library, segment_tracks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "items", nargs="+", help="two or more extracted workspaces, then Hydra overrides (key=value)"
    )
    ap.add_argument("--skip", default="", help="comma-separated labels to leave out")
    args = ap.parse_intermixed_args()
    workspaces, cfg = workspaces_and_cluster_cfg(args.items, ["cluster.group_by=label"])
    if len(workspaces) < 2:
        ap.error("give at least two workspaces: one is held out while the others make the library")
    logging.basicConfig(level=logging.ERROR)
    skip = {s for s in args.skip.split(",") if s}
    records = {
        ws: [
            r
            for r in TrackSet.load(ws / "extract" / "tracks").ok()
            if r.get("label") and r["label"] not in skip
        ]
        for ws in workspaces
    }
    own, new = [], []
    for held in workspaces:
        lib, _ = build_library(cfg, TrackSet([r for ws in workspaces if ws != held for r in records[ws]]))
        segments, seg_records, _ = segment_tracks(records[held], cfg)
        trajs = {r["clip"]: tr for r, tr in zip(seg_records, segments)}
        truth = {r["clip"]: r["label"] for r in seg_records}
        decisions = decide(lib, trajs, cfg, None)
        own.append(float(np.mean([d["skill"] == truth[d["clip"]] for d in decisions])))
        new.append(float(np.mean([d["novel"] for d in decisions])))
        print(
            f"held out {held.name}: {len(decisions)} clips into a library of {len(lib.skills)} skills "
            f"({sum(len(c.members) for c in lib.skills.values())} members): own skill {own[-1]:.3f}, "
            f"proposed as new {new[-1]:.3f} (chance {1 / len(lib.skills):.3f})"
        )
    print(
        f"mean over {len(workspaces)} hold-outs: own skill {np.mean(own):.3f}, proposed as new "
        f"{np.mean(new):.3f}"
    )


if __name__ == "__main__":
    main()
