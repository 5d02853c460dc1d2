"""Weak labels in the cluster stage (vid2skill/skills/stage.py): read through the lexicon, open/close
decided by the motion's arc, and each skill's origin (labels and their sources, or motion) recorded."""

import numpy as np

from tests.helpers import make_cfg
from tests.skills.test_sequence import _open_then_close_track, _pick_place_track
from vid2skill.extract.types import TrackSet
from vid2skill.ingest.lexicon import default_lexicon
from vid2skill.skills.segment import ContactTrajectory, Segments
from vid2skill.skills.stage import build_library, resolve_families


def _traj(image_xy: np.ndarray) -> ContactTrajectory:
    n = len(image_xy)
    return ContactTrajectory(
        np.c_[np.linspace(0, -0.2, n), np.zeros((n, 2))],
        np.zeros(n),
        2.0,
        np.eye(3),
        Segments(0, 0, 0, 0),
        np.zeros((n, 3)),
        np.c_[image_xy, np.zeros(n)],
        -1.0,
    )


def test_open_and_close_labels_are_decided_by_the_arc_of_their_motion():
    t = np.linspace(0, 1, 40)
    straight = _traj(np.c_[3 * t, 0.05 * np.sin(7 * t)])  # a pull along a line (arc ~0.02)
    swing = _traj(
        np.c_[3 * np.sin(t * np.pi / 2), 3 * (1 - np.cos(t * np.pi / 2))]
    )  # a quarter circle (arc ~0.2)
    recs = [
        {"clip": c, "label": lab}
        for c, lab in (("a", "open"), ("b", "open"), ("c", "close"), ("d", "close"), ("e", "pick"))
    ]
    out = resolve_families([straight, swing, straight, swing, swing], recs, default_lexicon())
    assert [r["label"] for r in out] == ["slide_open", "hinge_open", "slide_close", "hinge_close", "pick"]
    assert out[0]["label_family"] == "open" and out[0]["arc"] < 0.07 <= out[1]["arc"]


def test_labelled_skills_record_their_label_sources_and_motion_ones_say_so(tmp_path):
    recs = []
    for name, track, extra in (
        ("drawer", _open_then_close_track(), {"label": "Opening the drawer; push it shut"}),
        (
            "toy",
            _pick_place_track(),
            {"label": "toy", "skills": ["pick", "place"], "label_source": "filename"},
        ),
    ):
        track.save(tmp_path / name)
        recs.append({"clip": name, "track": str(tmp_path / name), "error": None, **extra})
    lib, failures = build_library(make_cfg(["cluster.group_by=label"]).cluster, TrackSet(recs))
    assert failures == [] and sorted(lib.skills) == [
        "pick",
        "place",
        "slide_close",
        "slide_open",
    ]  # free text, read and decided
    assert lib.skills["pick"].stats["origin"] == {"from": "labels", "sources": {"filename": 1}}
    assert lib.skills["pick"].members[0]["label_source"] == "filename"
    assert lib.skills["slide_open"].stats["origin"]["from"] == "labels"
    motion, _ = build_library(make_cfg([]).cluster, TrackSet(recs))
    assert {c.stats["origin"]["from"] for c in motion.skills.values()} == {"motion"}
