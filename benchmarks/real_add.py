"""`vid2skill add` on real clips it has never seen, without their labels (issue 17).

Each labelled real clip of ``labels.csv`` is held out in turn; the other labelled clips make a library
grouped by their labels (``cluster.group_by=label``: each clip cut into its labelled skills in order,
open/close decided by the arc), and the held-out clip is segmented and decided as ``add`` does
(its grasps, ``skills.add.decide``, no weak label). Clips labelled ``none`` (a wave, gestures, a wipe, ...)
are decided against the library of all labelled clips. Printed: top-1 accuracy over the held-out
grasps (each grasp's truth is its clip's label shared out in order, as the cluster stage does; an
unsegmented clip counts as wrong), the same among confident (``assigned``) decisions, the confusion
matrix (truth x decision; ``novel``, ``uncertain`` and ``unsegmented`` as columns of their own) and the
status of every distractor, and how often the arc alone decides slide or hinge on the labelled
drawer and door segments (what a label saying only "open" or "close" relies on). Tracks are read
from an extracted workspace (read-only); nothing is written.

    python benchmarks/real_add.py /tmp/real --labels ../shared/data/labels.csv [key=value ...]
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter, defaultdict

import numpy as np
from common import real_clip_arguments  # beside this script

from vid2skill.config import compose
from vid2skill.extract.types import TrackSet
from vid2skill.ingest.labels import read_labels
from vid2skill.ingest.lexicon import lexicon_of
from vid2skill.skills.add import decide
from vid2skill.skills.features import describe
from vid2skill.skills.stage import library_from_segments, segment_labelled, segment_records, segment_tracks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    real_clip_arguments(ap)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. cluster.uncertain_below=0.6")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    cfg = compose(["cluster.group_by=label", *args.overrides]).cluster
    rows, problems = read_labels(args.labels)
    truth_by_stem = {r.video.stem: r.skills for r in rows}
    tracks = TrackSet.load(args.workspace / "extract" / "tracks").ok()
    recs, distractors = [], []
    for r in tracks:
        stem = r["clip"].rsplit("_", 1)[0]
        if stem not in truth_by_stem:
            continue
        skills = truth_by_stem[stem]
        rec = {**r, "skills": skills, "label": ";".join(skills) or None, "label_source": "csv"}
        (recs if skills else distractors).append(rec)
    # Every labelled clip cut into its labelled skills once; a hold-out drops its own segments.
    trajs, seg_records, seg_failures = segment_labelled(recs, cfg)
    source = [r["source_clip"] for r in seg_records]
    present = sorted({r["label"] for r in seg_records})
    print(
        f"{len(recs)} labelled clips ({len(seg_records)} labelled segments, {len(seg_failures)} not found), "
        f"{len(distractors)} distractors; skills present: {', '.join(present)}"
    )

    def unlabelled(rec):
        return {k: v for k, v in rec.items() if k not in ("skills", "label", "label_source")}

    confusion: dict[str, Counter] = defaultdict(Counter)
    results = []
    for rec in recs:
        keep = [i for i, c in enumerate(source) if c != rec["clip"]]
        lib = library_from_segments(cfg, [trajs[i] for i in keep], [seg_records[i] for i in keep])
        segs, srecs, failed = segment_tracks([unlabelled(rec)], cfg)
        truth = (
            [r["label"] for r in segment_records({**rec, "label": ";".join(rec["skills"])}, len(segs))]
            if segs
            else []
        )
        truth = [t.split(";")[0] for t in truth]
        if failed:
            for t in rec["skills"][:1]:
                confusion[t]["unsegmented"] += 1
                results.append((rec["clip"], t, "unsegmented", "unsegmented", 0.0))
            continue
        decisions = decide(lib, {r["clip"]: tr for r, tr in zip(srecs, segs)}, cfg, None)
        for d, t in zip(decisions, truth):
            # open/close labels of a held-out clip: its truth is the labelled skill (slide_/hinge_) itself
            col = (
                d["skill"]
                if d["status"] == "assigned"
                else d["status"]
                if d["status"] != "uncertain"
                else f"?{d['skill']}"
            )
            confusion[t][col] += 1
            results.append((d["clip"], t, d["skill"], d["status"], d["confidence"]))
    correct = [s == t for _, t, s, _, _ in results]
    confident = [(s == t) for _, t, s, st, _ in results if st == "assigned"]
    print(
        f"\nleave-one-clip-out, no labels: top-1 {np.mean(correct):.3f} over {len(results)} held-out grasps "
        f"({sum(correct)} right); assigned (confident) {len(confident)}, of them right "
        f"{np.mean(confident) if confident else float('nan'):.3f}; "
        f"uncertain {sum(st == 'uncertain' for *_, st, _ in results)}, novel "
        f"{sum(st == 'novel' for *_, st, _ in results)}, "
        f"unsegmented {sum(st == 'unsegmented' for *_, st, _ in results)}"
    )
    cols = sorted({c for row in confusion.values() for c in row})
    width = max(len(c) for c in cols + present) + 1
    print("\nconfusion (rows: truth; columns: decision; ?skill = uncertain top-1)")
    print(" " * width + "".join(f"{c:>{width}}" for c in cols))
    for t in sorted(confusion):
        print(f"{t:<{width}}" + "".join(f"{confusion[t][c] or '.':>{width}}" for c in cols))
    print("\nper grasp: clip, truth, decision, status, confidence")
    for clip, t, s, st, c in results:
        print(f"  {clip:<55} {t:<12} {str(s):<16} {st:<11} {c:.2f}")
    # With labels that say only "open"/"close" (EPIC verbs, free text), the arc decides slide or hinge.
    lexicon = lexicon_of(cfg)
    family = {m: fam for fam, pair in lexicon.by_arc.items() for m in pair}
    arcs = [
        (r["label"], lexicon.resolve_by_arc(family[r["label"]], describe(tr)["arc"]), describe(tr)["arc"])
        for r, tr in zip(seg_records, trajs)
        if r["label"] in family
    ]
    print(
        f"\nopen/close decided by the arc (labels.hinge_arc {lexicon.hinge_arc}): "
        f"{sum(a == b for a, b, _ in arcs)}/{len(arcs)} "
        "labelled drawer/door segments right; "
        + ", ".join(f"{a}->{b} ({x:.3f})" for a, b, x in arcs if a != b)
    )
    full = library_from_segments(cfg, trajs, seg_records)
    print(f"\ndistractors against the library of all {len(recs)} labelled clips ({len(full.skills)} skills):")
    for rec in distractors:
        segs, srecs, failed = segment_tracks([rec], cfg)
        if failed:
            print(f"  {rec['clip']:<55} unsegmented ({failed[0]['error'][:70]})")
            continue
        for d in decide(full, {r["clip"]: tr for r, tr in zip(srecs, segs)}, cfg, None):
            print(f"  {d['clip']:<55} {d['status']:<11} {d['skill']:<16} confidence {d['confidence']:.2f}")


if __name__ == "__main__":
    main()
