"""Cutting labelled clips into their skills in order (vid2skill/skills/sequence.py)."""

from dataclasses import replace

import numpy as np

from tests.helpers import make_cfg, make_track
from tests.skills.test_skills import _drawn_hand, _open_then_close_track
from vid2skill.extract.types import HandTrack
from vid2skill.ingest.labels import split_skills
from vid2skill.skills.sequence import grasp_chains, hand_scaled_path, segment_sequence

IN_HAND = {"place", "pour", "stir", "cut"}


def test_labels_split_into_grasp_chains():
    assert split_skills(" pick; Pour ;;place") == ["pick", "pour", "place"]
    assert split_skills(None) == [] and split_skills("none") == []
    assert grasp_chains(["pick", "pour", "place"], IN_HAND) == [["pick", "pour", "place"]]
    assert grasp_chains(["slide_open", "slide_close"], IN_HAND) == [["slide_open"], ["slide_close"]]
    assert grasp_chains(["pour"], IN_HAND) == [["pour"]]  # a clip may begin with the object in hand


def test_open_then_close_gives_one_segment_per_labelled_skill_in_order():
    cfg = make_cfg([]).cluster
    segs = segment_sequence(_open_then_close_track(), ["slide_open", "slide_close"], cfg, IN_HAND)
    assert [s.skill for s in segs] == ["slide_open", "slide_close"]
    assert all(s.how == "grasp" and s.trajectory is not None for s in segs)
    assert segs[0].end_s <= segs[1].start_s
    # the pull runs out of the object (-x), the push into it
    assert segs[0].trajectory.position_m[-1, 0] < -0.1 < 0.1 < segs[1].trajectory.position_m[-1, 0]


def _pick_place_track(
    fps: float = 30.0, closed_from: int = 24, lift_frames: int = 25, carry_frames: int = 30
) -> HandTrack:
    """Reach, close on an object, lift 0.2 m, carry 0.3 m sideways, lower 0.2 m, open: one grasp
    (the aperture reads closed from frame ``closed_from`` until the lowering ends; the lift begins
    at frame 30 and takes ``lift_frames``, the carry ``carry_frames``)."""
    legs = [
        ((0, 0.1, 0.6), (0, 0.3, 0.6), 20),
        ((0, 0.3, 0.6), (0, 0.3, 0.6), 10),
        ((0, 0.3, 0.6), (0, 0.1, 0.6), lift_frames),
        ((0, 0.1, 0.6), (0.3, 0.1, 0.6), carry_frames),
        ((0.3, 0.1, 0.6), (0.3, 0.3, 0.6), 25),
        ((0.3, 0.3, 0.6), (0.3, 0.3, 0.6), 20),
    ]
    p = np.concatenate([np.linspace(a, b, n) for a, b, n in legs])
    aperture = np.full(len(p), 0.10)
    aperture[closed_from : 30 + lift_frames + carry_frames + 27] = 0.03
    return make_track(p, aperture, _drawn_hand(p), fps=fps)


def test_a_pick_and_place_in_one_grasp_is_split_at_the_top_of_the_lift():
    cfg = make_cfg([]).cluster
    pick, place = segment_sequence(_pick_place_track(), ["pick", "place"], cfg, IN_HAND)
    assert (pick.how, place.how) == ("split", "split")
    assert pick.end_s == place.start_s
    # the lift ends 30 + 25 frames in (1.8 s); the cut lands within a few frames of it
    assert abs(pick.end_s - 55 / 30) < 0.15
    rise = pick.trajectory.position_m @ pick.up_contact
    assert rise.max() > 0.15  # the pick holds the lift


def test_where_a_skill_ends_inside_a_shared_grasp_is_config_not_code():
    """``cluster.skill_ends`` says where a skill ends inside its grasp: without the entry for pick,
    the grasp is shared evenly; a value that names no rule is a one-line config error."""
    import pytest

    from vid2skill.errors import ConfigError

    # a quick lift (10 frames, ending at frame 40) before a long carry and lowering
    track = _pick_place_track(lift_frames=10, carry_frames=60)
    cfg = make_cfg([]).cluster
    pick, _ = segment_sequence(track, ["pick", "place"], cfg, IN_HAND)
    assert abs(pick.end_s - 40 / 30) < 0.15  # at the top of the lift
    plain = cfg.copy()
    plain.skill_ends = {"pour": "tilt_end"}  # a merge would keep pick's entry
    pick, place = segment_sequence(track, ["pick", "place"], plain, IN_HAND)
    assert pick.end_s - 40 / 30 > 0.5  # without the rule, not at the top of the lift ...
    assert abs((pick.end_s - pick.start_s) - (place.end_s - place.start_s)) < 0.2  # ... but halfway
    bad = cfg.copy()
    bad.skill_ends = {"pick": "top"}
    with pytest.raises(ConfigError, match="cluster.skill_ends=.*lift_top, tilt_end"):
        segment_sequence(_pick_place_track(), ["pick", "place"], bad, IN_HAND)


def test_a_pick_whose_grasp_reads_closed_only_mid_lift_starts_at_the_bottom_of_the_reach():
    """The aperture reads closed 10 frames into the lift (a loose or hidden grip): the pick still
    starts where the hand was lowest, and holds the whole 0.2 m lift, not the 0.12 m left after it."""
    cfg = make_cfg([]).cluster
    pick, _ = segment_sequence(_pick_place_track(closed_from=40), ["pick", "place"], cfg, IN_HAND)
    assert 20 / 30 - 0.01 <= pick.start_s <= 30 / 30 + 0.01
    assert (pick.trajectory.position_m @ pick.up_contact).max() > 0.18
    cfg.pick_contact_s = 0.0  # without looking back, the pick misses the lift's first part
    pick, _ = segment_sequence(_pick_place_track(closed_from=40), ["pick", "place"], cfg, IN_HAND)
    assert pick.start_s > 1.2 and (pick.trajectory.position_m @ pick.up_contact).max() < 0.15


def test_a_clip_whose_grasp_cannot_be_found_is_cut_by_its_motion_or_says_why():
    cfg = make_cfg([]).cluster
    track = _pick_place_track()
    flat = replace(track, aperture_m=np.full(len(track.valid), 0.05))
    (seg,) = segment_sequence(flat, ["pick"], cfg, IN_HAND)
    assert seg.how == "motion" and seg.trajectory is not None
    still = replace(
        flat,
        wrist_pos_cam=np.tile(track.wrist_pos_cam[:1], (len(track.valid), 1)),
        landmarks_px=np.tile(track.landmarks_px[:1], (len(track.valid), 1, 1)),
    )
    (seg,) = segment_sequence(still, ["pick"], cfg, IN_HAND)
    assert seg.trajectory is None and "barely" in seg.error


def test_in_plane_motion_is_measured_by_the_hand_size_not_a_flickering_depth():
    """A hand moving 0.2 m right at 0.6 m, its estimated depth flickering +-20%: the per-frame lift
    jumps sideways with the depth, the hand-scaled path does not."""
    T = 40
    true = np.c_[np.linspace(0.1, 0.3, T), np.zeros(T), np.full(T, 0.6)]
    px = _drawn_hand(true)
    world = np.zeros((T, 21, 3))
    world[:, 9] = [0.0, -0.09, 0.0]  # the metric hand: middle knuckle 9 cm from the wrist
    depth = 0.6 * (1 + 0.2 * np.sign(np.sin(np.arange(T))))
    lifted = np.c_[(px[:, 0, 0] - 320) * depth / 500, (px[:, 0, 1] - 240) * depth / 500, depth]
    track = make_track(lifted, np.full(T, 0.05), px, landmarks_world=world)
    path = hand_scaled_path(track, lifted, 1)
    assert np.abs(np.diff(lifted[:, 0])).max() > 0.03  # the per-frame lift jumps
    assert np.allclose(path[:, 0] - path[0, 0], true[:, 0] - true[0, 0], atol=2e-3)
    assert np.abs(path[:, 1] - path[0, 1]).max() < 2e-3


def test_a_labelled_library_has_one_member_per_labelled_skill_and_its_up(tmp_path):
    from vid2skill.extract.types import TrackSet
    from vid2skill.skills.library import SkillLibrary
    from vid2skill.skills.stage import build_library

    recs = []
    for name, track, label in (
        ("drawer", _open_then_close_track(), "slide_open;slide_close"),
        ("toy", _pick_place_track(), "pick;place"),
        ("wave", _pick_place_track(), None),
    ):
        track.save(tmp_path / name)
        recs.append({"clip": name, "label": label, "track": str(tmp_path / name), "error": None})
    lib, failures = build_library(make_cfg(["cluster.group_by=label"]).cluster, TrackSet(recs))
    assert sorted(lib.skills) == ["pick", "place", "slide_close", "slide_open"]
    assert [m["clip"] for m in lib.skills["place"].members] == ["toy~2"]
    assert lib.skills["pick"].members[0]["found_by"] == "split"
    assert failures == [{"clip": "wave", "error": "no label to group by (cluster.group_by=label)"}]
    lib.save(tmp_path / "skills")
    up = SkillLibrary.load(tmp_path / "skills").skills["pick"].up("toy~1")
    assert np.isclose(np.linalg.norm(up), 1.0) and not np.allclose(up, [0, 0, 1])  # kept, not the fallback


def test_a_pour_grasp_is_followed_on_while_the_held_object_stays_tipped():
    """A right hand holds a shaker upright (index side up), is lost for ten frames, and is seen again
    holding it upside down while its grasp reads open: the grasp that ended there goes on while the
    shaker stays tipped, and stops at the first frame it is seen upright again; a grasp that ends as
    upright as it began is left alone."""
    from vid2skill.skills.sequence import _tipped_until, held_tilt

    T, up = 60, np.array([0.0, -1.0, 0.0])  # the camera's up: image rows grow downwards
    upright = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])  # columns x, y, z; y index -> pinky
    over = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])
    R = np.stack([upright] * 30 + [np.full((3, 3), np.nan)] * 10 + [over] * 20)
    track = make_track(np.zeros((T, 3)), np.full(T, 0.05), np.zeros((T, 21, 2)), wrist_R=R)
    track = replace(track, valid=np.isfinite(R).all(axis=(1, 2)))
    tilt = np.degrees(held_tilt(track, up))
    assert np.allclose(tilt[:30], 0.0) and np.isnan(tilt[30:40]).all() and np.allclose(tilt[40:], 180.0)
    assert _tipped_until(track, 0, 40, 59, up) == 59
    assert _tipped_until(track, 0, 25, 59, up) == 25  # ends upright, as it began
    back = replace(track, wrist_R_cam=np.concatenate([R[:50], np.stack([upright] * 10)]))
    assert _tipped_until(back, 0, 40, 59, up) == 49
