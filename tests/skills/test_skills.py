import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.helpers import make_cfg, make_track
from vid2skill.extract.types import HandTrack
from vid2skill.skills.cluster import cluster, name_clusters, signature_of
from vid2skill.skills.features import describe, features, trajectory_features
from vid2skill.skills.library import SkillCard, SkillLibrary, latest_version
from vid2skill.skills.segment import contact_trajectories, contact_trajectory
from vid2skill.skills.stage import segment_records


def _track(direction: float, view_R: np.ndarray, fps: float = 30.0) -> HandTrack:
    """A hand that reaches forward (+a), closes, moves by direction * 0.2 m along a, opens."""
    a = np.array([0.0, 0.0, 1.0])  # approach: away from the camera
    T = 90
    p = np.zeros((T, 3))
    p[:30] = np.linspace(-0.25, 0, 30)[:, None] * a
    p[30:40] = 0
    p[40:70] = np.linspace(0, direction * 0.2, 30)[:, None] * a
    p[70:] = direction * 0.2 * a
    p = p @ view_R.T + np.array([0.0, 0.1, 0.6])
    aperture = np.full(T, 0.10)
    aperture[34:72] = 0.03
    return make_track(p, aperture, _drawn_hand(p), fps=fps)


def _drawn_hand(wrist_cam: np.ndarray, f: float = 500.0) -> np.ndarray:
    """(T, 21, 2) image landmarks of a hand whose middle knuckle is 9 cm above its wrist (pinhole
    camera of focal ``f`` at (320, 240)); only the wrist and the knuckle are used by the descriptors."""
    px = np.zeros((len(wrist_cam), 21, 2))
    for i, offset in ((0, 0.0), (9, -0.09)):
        q = wrist_cam + np.array([0.0, offset, 0.0])
        px[:, i] = f * q[:, :2] / q[:, 2:] + np.array([320.0, 240.0])
    return px


def test_contact_frame_sign_is_camera_independent():
    cfg = make_cfg([]).cluster
    for angle in (0.0, 0.6, -0.9):
        c, s = np.cos(angle), np.sin(angle)
        view = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        pull = contact_trajectory(_track(-1, view), cfg)
        push = contact_trajectory(_track(+1, view), cfg)
        assert pull.position_m[-1, 0] < -0.15 and push.position_m[-1, 0] > 0.15
        assert pull.approach < -0.9 and push.approach > 0.9  # back along the reach, and on along it
        assert abs(pull.position_m[-1, 1]) < 0.02 and pull.segments.grasp < pull.segments.release


def test_clustering_finds_two_groups_and_names_them():
    rng = np.random.default_rng(0)
    cfg = make_cfg([]).cluster
    c, s_ = (
        np.cos(1.2),
        np.sin(1.2),
    )  # seen from the side: the motion runs across the image (along the optical
    side = np.array([[c, 0, s_], [0, 1, 0], [-s_, 0, c]])  # axis it would look like a lift in the image)
    trajs = [contact_trajectory(_track(d, side), cfg) for d in [-1] * 4 + [1] * 4]
    for t in trajs:
        t.position_m[:] += rng.normal(0, 0.005, t.position_m.shape)
    for feats in (trajectory_features(trajs, 16), features(trajs, cfg)):
        labels, info = cluster(feats, 2, 5)
        assert info["k"] == 2 and len(set(labels[:4])) == 1 and labels[0] != labels[4]
    names = name_clusters(labels, ["open"] * 3 + [None] + ["close"] * 4, trajs)
    assert sorted(names.values()) == ["close", "open"]
    unnamed = name_clusters(labels, [None] * 8, trajs)
    assert sorted(unnamed.values()) == ["pull", "push"]


def _open_then_close_track(fps: float = 30.0) -> HandTrack:
    """Reach, grasp, pull 0.2 m (open), let go and step back; reach again, grasp, push 0.2 m (close), let
    go."""
    a = np.array([0.0, 0.0, 1.0])
    legs = [
        (-0.25, 0.0, 30),
        (0.0, 0.0, 10),
        (0.0, -0.2, 30),
        (-0.2, -0.35, 20),
        (-0.35, -0.2, 20),
        (-0.2, -0.2, 10),
        (-0.2, 0.0, 30),
        (0.0, -0.2, 20),
    ]
    p = np.concatenate([np.linspace(s, e, n)[:, None] * a for s, e, n in legs]) + np.array([0.0, 0.1, 0.6])
    T = len(p)
    aperture = np.full(T, 0.10)
    aperture[34:72] = 0.03  # first grasp: the pull
    aperture[114:152] = 0.03  # second grasp: the push
    return make_track(p, aperture, _drawn_hand(p), fps=fps)


def test_a_clip_with_two_grasps_gives_two_manipulations_with_their_labels():
    cfg = make_cfg([]).cluster
    track = _open_then_close_track()
    first, second = contact_trajectories(track, cfg)
    assert first.segments.release < second.segments.grasp  # time order, no overlap
    assert (
        first.position_m[-1, 0] < -0.1 and second.position_m[-1, 0] > 0.1
    )  # a pull, then a push (depth median-filtered)
    assert len(contact_trajectories(track, cfg, max_segments=1)) == 1
    assert contact_trajectory(track, cfg).duration_s > 1.0
    recs = segment_records({"clip": "c", "label": "slide_open;slide_close", "track": "t"}, 2)
    assert [(r["clip"], r["label"], r["source_clip"]) for r in recs] == [
        ("c~1", "slide_open", "c"),
        ("c~2", "slide_close", "c"),
    ]
    assert [r["label"] for r in segment_records({"clip": "c", "label": "pick;pour"}, 1)] == ["pick"]
    assert [r["label"] for r in segment_records({"clip": "c", "label": "pick;pour;place"}, 2)] == [
        "pick",
        "pick",
    ]


def test_library_versions_stay_readable(tmp_path):
    card = SkillCard("s", [{"clip": "a"}], {"a": np.zeros((4, 3))}, {"a": 1.0})
    SkillLibrary(0, {"s": card}).save(tmp_path)
    card2 = SkillCard(
        "s",
        [{"clip": "a"}, {"clip": "b"}],
        {"a": np.zeros((4, 3)), "b": np.ones((4, 3))},
        {"a": 1.0, "b": 2.0},
    )
    SkillLibrary(0, {"s": card2}).save(tmp_path)
    assert latest_version(tmp_path) == 2
    assert len(SkillLibrary.load(tmp_path, 1).skills["s"].members) == 1
    latest = SkillLibrary.load(tmp_path)
    assert latest.version == 2 and np.allclose(latest.skills["s"].prototype, 0.5)


def test_grasp_interval_spans_a_detection_gap_and_flickers():
    from vid2skill.skills.segment import _max_evidence_interval

    # Open (-1) for 20 frames, closed (+1) for 40 with a 10-frame detection gap and two open
    # flickers inside, then open again. The "longest closed run" would keep only one half.
    ev = np.r_[-np.ones(20), np.ones(15), np.zeros(10), np.ones(5), [-1, -1], np.ones(8), -np.ones(20)]
    valid = np.ones(len(ev), bool)
    valid[35:45] = False
    assert _max_evidence_interval(ev, valid, max_missing=12) == (20, 59)
    # A gap longer than a hand can be assumed to hold on splits the grasp: the larger half wins.
    assert _max_evidence_interval(ev, valid, max_missing=5) == (20, 34)
    assert _max_evidence_interval(-np.ones(10), np.ones(10, bool), 3) == (-1, -1)


def test_outlier_members_on_both_sides_of_the_median():
    from vid2skill.skills.stage import outlier_members

    line = lambda reach: np.linspace(0, reach, 8)[:, None] * np.array([[1.0, 0, 0]])  # noqa: E731
    trajs = {f"c{i}": line(0.2) for i in range(5)}
    trajs["short"] = line(0.05)
    # Overshoots to 0.6 m and comes back to 0.2: its end looks normal, its peak does not.
    trajs["overshoot"] = np.vstack([line(0.6), line(0.6)[::-1][:4] * 0 + [[0.2, 0, 0]]])
    durations = {c: 1.0 for c in trajs} | {"slow": 3.0}
    trajs["slow"] = line(0.2)
    assert outlier_members(trajs, durations, 0.5) == ["overshoot", "short", "slow"]


def test_outlier_members_never_leave_out_a_majority():
    """Which members failed can be told only when most agree. Two grasps cut short and one run long
    against one good one (a knife held so the hand reads closed) leave nobody out; so do three members
    whose medians of duration and of reach come from different members."""
    from vid2skill.skills.stage import outlier_members

    line = lambda reach: np.linspace(0, reach, 8)[:, None] * np.array([[1.0, 0, 0]])  # noqa: E731
    trajs = {c: line(0.2) for c in "abcd"}
    assert outlier_members(trajs, {"a": 1.3, "b": 1.0, "c": 9.1, "d": 7.5}, 0.5) == []
    three = {"a": line(0.05), "b": line(0.2), "c": line(0.5)}
    assert outlier_members(three, {"a": 1.0, "b": 4.0, "c": 2.0}, 0.5) == []
    # Three that agree and one far off in reach: the one is left out, whatever the order.
    four = {"a": line(0.2), "b": line(0.22), "c": line(0.18), "z": line(0.9)}
    assert outlier_members(four, dict.fromkeys(four, 2.0), 0.5) == ["z"]


def test_hand_rotation_since_the_grasp_in_the_contact_frame():
    """A hand that rolls 90 deg about the camera's optical axis while it moves: the contact
    trajectory holds that roll as a rotation vector in the contact frame, noise averaged out."""
    from scipy.spatial.transform import Rotation

    cfg = make_cfg([]).cluster
    track = _track(-1, np.eye(3))
    T = len(track.frame_index)
    roll = np.zeros(T)
    roll[40:70] = np.linspace(0, np.pi / 2, 30)
    roll[70:] = np.pi / 2
    rng = np.random.default_rng(1)
    noise = Rotation.from_rotvec(rng.normal(0, np.radians(8), (T, 3)))
    track.wrist_R_cam[:] = (
        noise * Rotation.from_rotvec(roll[:, None] * np.array([0.0, 0.0, 1.0]))
    ).as_matrix() @ Rotation.from_euler("x", 0.4).as_matrix()
    tr = contact_trajectory(track, cfg)
    expected_axis_contact = tr.R_cam_contact.T @ np.array([0.0, 0.0, 1.0])
    end = tr.rotvec[-1]
    assert abs(np.linalg.norm(end) - np.pi / 2) < np.radians(10)
    assert np.dot(end / np.linalg.norm(end), expected_axis_contact) > 0.97
    assert np.linalg.norm(tr.rotvec[0]) < np.radians(10)


def test_held_axis_is_the_index_side_of_the_knuckle_line_on_either_hand():
    """A hand holding a bottle upright from the side, index on top: the palm frame's y (index to
    pinky on a right hand, pinky to index on a left one) points down on the right hand and up on the
    left; either way the held axis is up. Unseen frames are skipped, too few give None."""
    from vid2skill.skills.segment import held_axis

    def frames(y):
        R = np.zeros((6, 3, 3))
        R[:, :, 0], R[:, :, 1] = [1.0, 0.0, 0.0], y
        R[:, :, 2] = np.cross([1.0, 0.0, 0.0], y)
        return R

    up, seen = np.array([0.0, -1.0, 0.0]), np.array([0, 1, 1, 1, 1, 1], bool)  # camera y grows down
    right, left = frames(-up), frames(up)
    right[0] = np.nan  # unseen
    assert np.allclose(held_axis(right, seen, True, 3), up)
    assert np.allclose(held_axis(left, seen, False, 3), up)
    assert held_axis(right, np.eye(6, dtype=bool)[0], True, 3) is None


def test_library_keeps_rotations_and_reads_old_versions_without_them(tmp_path):
    rot = np.tile([0.0, 0.3, 0.0], (4, 1))
    SkillLibrary(0, {"s": SkillCard("s", [{"clip": "a"}], {"a": np.zeros((4, 3))}, {"a": 1.0})}).save(
        tmp_path
    )
    SkillLibrary(
        0,
        {
            "s": SkillCard(
                "s",
                [{"clip": "a"}],
                {"a": np.zeros((4, 3))},
                {"a": 1.0},
                rotations={"a": rot},
                approaches={"a": -0.8},
                held_axes={"a": [0.0, 0.6, 0.8]},
            )
        },
    ).save(tmp_path)
    assert np.allclose(SkillLibrary.load(tmp_path).skills["s"].rotation("a"), rot)
    assert np.allclose(SkillLibrary.load(tmp_path).skills["s"].member("a").held_axis, [0.0, 0.6, 0.8])
    assert SkillLibrary.load(tmp_path, 1).skills["s"].held_axis("a") is None
    assert list(SkillLibrary.load(tmp_path).skills["s"].trajectories) == ["a"]
    assert SkillLibrary.load(tmp_path).skills["s"].approaches == {"a": -0.8}
    assert np.allclose(SkillLibrary.load(tmp_path, 1).skills["s"].rotation("a"), 0.0)
    assert SkillLibrary.load(tmp_path, 1).skills["s"].approaches == {}


def test_group_by_label_makes_one_skill_per_label_and_rejects_unknown_modes(synthetic_ws):
    import pytest

    from vid2skill.errors import ConfigError
    from vid2skill.extract.types import TrackSet
    from vid2skill.skills.stage import build_library

    ws, cfg = synthetic_ws
    tracks = TrackSet.load(ws / "extract" / "tracks")
    cluster_cfg = cfg.cluster.copy()
    cluster_cfg.group_by = "label"
    lib, failures = build_library(cluster_cfg, tracks)
    for name, card in lib.skills.items():
        assert {m["label"] for m in card.members} == {name}
        assert set(card.rotations) == set(card.trajectories)
    assert sum(len(c.members) for c in lib.skills.values()) + len(failures) == len(tracks.ok())
    cluster_cfg.group_by = "colour"
    with pytest.raises(ConfigError, match="cluster.group_by='colour'"):
        build_library(cluster_cfg, tracks)


def _hand(curl_rad: float, thumb_gap_m: float) -> np.ndarray:
    """(21, 3) metric landmarks: four fingers whose bones each bend ``curl_rad`` more than the one
    before (towards -z), and a thumb tip ``thumb_gap_m`` from the index tip."""
    L = np.zeros((21, 3))
    for k, mcp in enumerate((5, 9, 13, 17)):
        L[mcp] = [0.09, 0.03 - 0.02 * k, 0.0]
        along = L[mcp] / np.linalg.norm(L[mcp])  # a flat finger continues the wrist-to-knuckle line
        angle, point = 0.0, L[mcp].copy()
        for j in (1, 2, 3):
            angle += curl_rad
            point = point + 0.03 * (np.cos(angle) * along - np.sin(angle) * np.array([0.0, 0.0, 1.0]))
            L[mcp + j] = point
    L[1:4] = np.linspace([0.02, 0.03, 0], [0.05, 0.05, 0], 3)
    L[4] = L[8] + [0.0, thumb_gap_m, 0.0]
    return L


def test_finger_flexion_and_a_grasp_the_aperture_alone_misreads():
    from vid2skill.skills.segment import find_grasps, finger_flexion

    assert finger_flexion(_hand(0.0, 0.08)[None])[0] == pytest.approx(0.0, abs=1e-3)
    assert finger_flexion(_hand(0.8, 0.08)[None])[0] == pytest.approx(
        2.4, abs=1e-3
    )  # three joints of 0.8 rad
    # The hand reaches seen edge-on (thumb and index overlap in the image: the aperture reads
    # closed), then grasps with curled fingers while the aperture reads only half-closed.
    T = 90
    aperture = np.full(T, 0.08)
    aperture[:21] = 0.02
    aperture[30:70] = 0.05
    curl = np.zeros(T)
    curl[30:70] = 0.8
    world = np.stack([_hand(c, a) for c, a in zip(curl, aperture)])
    track = make_track(np.zeros((T, 3)), aperture, np.zeros((T, 21, 2)), landmarks_world=world)
    args = dict(closed_fraction=0.5, min_aperture_range_m=0.015, min_grasp_frames=5, method="max_evidence")
    (alone,) = find_grasps(track, **args, signal="aperture")
    assert alone.release < 21  # the edge-on reach
    (both,) = find_grasps(track, **args, signal="aperture+flexion")
    assert abs(both.grasp - 30) <= 2 and abs(both.release - 69) <= 2
    with pytest.raises(ValueError, match="grasp signal"):
        find_grasps(track, **args, signal="curl")


def _manipulation(
    image_xy: np.ndarray,
    end_x: float = 0.0,
    roll: np.ndarray | None = None,
    rot_rad: float = 0.0,
    duration_s: float = 2.0,
    approach: float = float("nan"),
):
    from vid2skill.skills.segment import ContactTrajectory, Segments

    n = len(image_xy)
    pos = np.zeros((n, 3))
    pos[:, 0] = np.linspace(0, end_x, n)
    pos[:, 2] = np.linspace(0, 0.05, n)
    img = np.c_[image_xy, np.zeros(n) if roll is None else roll]
    rot = np.zeros((n, 3))
    rot[:, 1] = np.linspace(0, rot_rad, n)
    return ContactTrajectory(
        pos, np.zeros(n), duration_s, np.eye(3), Segments(0, 0, n - 1, n - 1), rot, img, approach
    )


def test_motion_descriptors_and_signatures():
    s = np.linspace(0, 1, 64)
    line = _manipulation(np.c_[3 * s, 0 * s], end_x=-0.2)
    d = describe(line)
    assert (
        d["straightness"] > 0.99 and d["arc"] < 0.01 and d["reversals"] == 0 and d["approach"] < -0.9
    )  # from end_x
    assert (
        abs(d["log_extent"] - np.log(3)) < 0.03 and signature_of(d) == "pull"
    )  # extent of the smoothed path
    assert (
        describe(_manipulation(np.c_[3 * s, 0 * s], end_x=-0.2, approach=0.3))["approach"] == 0.3
    )  # kept when known
    assert signature_of({**d, "lift": 0.9}) == "lift" and signature_of({**d, "rise": -0.9}) == "pull"
    swing = describe(_manipulation(np.c_[3 * s, 0.45 * np.sin(np.pi * s)], end_x=0.2))
    assert 0.13 < swing["arc"] < 0.16 and signature_of(swing) == "swing_close"
    # A hand on a door's handle turns with the door: a straight arc with the wrist turned is a swing, not a
    # pour.
    assert (
        signature_of({**swing, "rotation": 2.0}) == "swing_close"
        and signature_of({**swing, "rotation": 2.0, "straightness": 0.4}) == "roll"
    )
    assert describe(_manipulation(np.c_[3 * s, 1.2 * np.sin(np.pi * s)]))["arc"] == 0.25  # capped
    circles = describe(_manipulation(np.c_[np.cos(4 * np.pi * s) - 1, np.sin(4 * np.pi * s)], duration_s=6))
    assert (
        1.9 < circles["turns"] < 2.1 and circles["straightness"] < 0.05 and signature_of(circles) == "circles"
    )
    saw = describe(_manipulation(np.c_[np.sin(6 * np.pi * s), 0.05 * s]))
    assert saw["reversals"] >= 4 and signature_of(saw) == "saw"
    roll = describe(
        _manipulation(
            np.c_[0.3 * s, 0.2 * s], roll=np.linspace(-np.pi / 2, -np.pi / 2 + 1.5, 64), rot_rad=2.4
        )
    )
    # Rotation runs between the mean orientations of the grasp's first and last quarters: 3/4 of a steady
    # turn.
    assert (
        abs(roll["image_roll"] - 1.5) < 0.05
        and abs(roll["rotation"] - 0.75 * 2.4) < 0.05
        and signature_of(roll) == "roll"
    )
    glitch = _manipulation(np.c_[0.3 * s, 0.2 * s])
    glitch.rotvec[-3] = [0.0, 0.0, 2.5]  # one palm frame flipped: a sixteenth of the last quarter
    assert describe(glitch)["rotation"] < 0.2
    assert (
        roll["top"] == 1.0 and abs(roll["lift"] - 0.2 / np.hypot(0.3, 0.2)) < 0.02
    )  # fingers down; the hand goes right and up
    hook = np.r_[
        np.c_[s[:32] * 2, 0 * s[:32]], np.c_[2 + 0 * s[32:], 1.5 * (s[32:] - s[32])]
    ]  # across, then up
    lift = describe(_manipulation(hook[::-1] * [1, -1] + [0, 0], end_x=0.05))
    assert signature_of({**lift, "rise": 0.9, "straightness": 0.4}) == "lift"
    assert signature_of({**lift, "rise": -0.9, "straightness": 0.4}) == "lower"
    assert lift["top"] == 0.0 and lift["lift"] == 0.0  # no finger direction known: not a grasp from above
    # Grasped from above (fingers down the image): raised straight up, or raised, carried and set down.
    down = np.full(64, -np.pi / 2)
    raised = describe(_manipulation(np.c_[0 * s, 2 * s], roll=down, approach=-1.0))
    assert raised["lift"] > 0.95 and raised["lower"] < 0.01 and signature_of(raised) == "lift"  # not a pull
    arch = np.c_[3 * s, 1.5 * np.sin(np.pi * s) + 0.3 * s]
    placed = describe(_manipulation(arch, roll=down, approach=0.1))
    assert 0.35 < placed["lower"] < 0.45 and signature_of(placed) == "lower"
    still = describe(_manipulation(np.zeros((64, 2))))
    assert still["straightness"] == 1.0 and still["turns"] == 0.0  # no motion: defined, not NaN


def test_image_path_from_landmarks_in_hand_lengths():
    from vid2skill.skills.segment import image_displacement

    T = 40
    wrist = np.c_[np.linspace(100, 300, T), np.full(T, 200.0)]  # 200 px to the right
    angle = np.linspace(0, 0.5, T)  # the hand turns anticlockwise as seen
    knuckle = wrist + 50 * np.c_[np.sin(angle), -np.cos(angle)]
    px = np.zeros((T, 21, 2))
    px[:, 0], px[:, 9] = wrist, knuckle
    px[10:14] = np.nan  # unseen frames are bridged
    out = image_displacement(px, np.linspace(0, T - 1, 16))
    # 200 px / 50 px hand to the right; the fingers point up (pi/2), then turn clockwise as seen by 0.5 rad
    assert np.allclose(out[0], [0.0, 0.0, np.pi / 2]) and np.allclose(
        out[-1], [4.0, 0.0, np.pi / 2 - 0.5], atol=1e-6
    )
    assert np.all(np.isfinite(out))
    assert np.all(image_displacement(np.zeros((T, 21, 2)), np.linspace(0, T - 1, 16)) == 0)


def test_add_votes_among_the_nearest_members():
    from vid2skill.skills.add import _vote

    # Skill "a": four members 0.5 from the new clip and one badly tracked member 10 away; skill "b":
    # five members 1.5 away. The mean distance picks "b" (2.4 against 1.5); the nearest members are a's.
    ring = lambda r, n: r * np.c_[np.cos(np.arange(n)), np.sin(np.arange(n))]  # noqa: E731
    f_old = np.vstack([ring(0.5, 4), [[10.0, 0.0]], ring(1.5, 5)])
    owner = np.array(["a"] * 5 + ["b"] * 5)
    new = np.zeros(2)
    means = {n: float(np.linalg.norm(f_old[owner == n] - new, axis=1).mean()) for n in ("a", "b")}
    assert min(means, key=means.get) == "b"
    assert _vote(f_old, owner, new, 5) == "a" and _vote(f_old, owner, new, 0) is None
    # A tie (2 against 2) goes to the skill with the nearest member.
    pick = [0, 1, 5, 6]
    assert _vote(f_old[pick] * [[1.0, 1.0]] * np.r_[1, 1, 0.2, 0.2][:, None], owner[pick], new, 4) == "b"


def test_bad_feature_settings_say_what_to_change():
    from vid2skill.errors import ConfigError

    cfg = make_cfg([]).cluster
    trajs = [contact_trajectory(_track(-1, np.eye(3)), cfg)]
    for override, message in (
        ({"features": "dtw"}, "use descriptors"),
        ({"descriptor_weights": {"rise": 1.0, "wobble": 1.0}}, "unknown descriptor"),
        ({"descriptor_weights": {"rise": -1.0}}, "weights are >= 0"),
        ({"descriptor_weights": {k: 0.0 for k in ("rise", "arc")}}, "every weight is 0"),
    ):
        bad = dict(cfg)
        bad.update(override)
        with pytest.raises(ConfigError, match=message):
            features(trajs, OmegaConf.create(bad))


def _motion_track(kind: str, rng: np.random.Generator, fps: float = 30.0) -> HandTrack:
    """A hand that reaches, closes and then pulls, pushes, stirs two circles or lifts, seen from a
    three-quarter view, with a few millimetres of landmark noise; then it opens and withdraws."""
    c, s_ = np.cos(0.9), np.sin(0.9)
    view = np.array([[c, 0, s_], [0, 1, 0], [-s_, 0, c]])
    a = view @ np.array([0.0, 0.0, 1.0])  # the approach, in the camera frame
    n_move = 90 if kind == "circles" else 40
    u = np.linspace(0, 1, n_move)[:, None]
    if kind in ("pull", "push"):
        move = (1 if kind == "push" else -1) * 0.2 * u * a
    elif kind == "lift":
        move = 0.2 * u * np.array([0.0, -1.0, 0.0])  # camera y points down
    else:  # two circles in the image plane
        th = 4 * np.pi * u[:, 0]
        move = 0.07 * np.c_[np.cos(th) - 1, np.sin(th), np.zeros(n_move)]
    reach = np.linspace(-0.25, 0, 30)[:, None] * a
    p = np.vstack(
        [
            reach,
            np.zeros((10, 3)),
            move,
            np.repeat(move[-1:], 10, axis=0),
            move[-1] - np.linspace(0, 0.1, 20)[:, None] * a,
        ]
    )
    p = p + np.array([0.0, 0.05, 0.6]) + rng.normal(0, 0.002, p.shape)
    T = len(p)
    aperture = np.full(T, 0.10)
    aperture[34 : 40 + n_move + 5] = 0.03
    return make_track(p, aperture, _drawn_hand(p), clip=kind, fps=fps)


def test_four_motions_cluster_apart_and_get_their_signatures():
    rng = np.random.default_rng(3)
    cfg = make_cfg([]).cluster
    kinds = ["pull", "push", "circles", "lift"]
    trajs = [contact_trajectory(_motion_track(k, rng), cfg) for k in kinds for _ in range(3)]
    labels, info = cluster(features(trajs, cfg), cfg.k_min, cfg.k_max, cfg.linkage, 2)
    truth = np.repeat(np.arange(4), 3)
    assert info["k"] == 4
    assert all(len(set(labels[truth == i])) == 1 for i in range(4)) and len(set(labels.tolist())) == 4
    names = name_clusters(labels, [None] * len(trajs), trajs)
    assert [names[int(labels[3 * i])] for i in range(4)] == kinds


def test_settling_on_contact_keeps_the_grasp_long_enough():
    from vid2skill.skills.segment import Segments, _settle_on_contact

    # The wrist is slowest two frames before the release: the grasp may move towards it, but not
    # so far that fewer than min_frames frames remain.
    steps = np.clip(18.0 - np.arange(30), 0.0, None)  # slowing down, still from frame 18 on
    p = np.c_[np.cumsum(steps), np.zeros(30), np.zeros(30)]
    seg = Segments(0, 10, 20, 29)
    assert _settle_on_contact(seg, p, window=15, min_frames=3).grasp == 18
    assert _settle_on_contact(seg, p, window=15, min_frames=6).grasp == 15
    assert _settle_on_contact(seg, p, window=0).grasp == 10
    # A frame without a wrist position between two with one is never the contact, though its
    # neighbours give it a speed.
    p[18] = np.nan
    assert _settle_on_contact(seg, p, window=15, min_frames=3).grasp != 18


def test_a_grasp_whose_first_frame_is_unseen_still_has_a_contact_frame():
    track = _track(-1.0, np.eye(3))
    track.wrist_pos_cam[34] = (
        np.nan
    )  # the aperture closes at frame 34, the grasp's first frame: no wrist there
    tr = contact_trajectory(track, make_cfg(["cluster.contact_search_s=0"]).cluster)
    assert np.isfinite(tr.position_m).all() and np.isfinite(tr.R_cam_contact).all()
    assert tr.position_m[-1, 0] < -0.15  # pulled back towards the camera, the way the reach came


def test_add_refuses_a_library_without_image_paths_or_approaches_for_descriptors():
    from vid2skill.errors import Vid2SkillError
    from vid2skill.skills.add import decide

    cfg = make_cfg([]).cluster
    tr = contact_trajectory(_track(-1, np.eye(3)), cfg)
    old_card = SkillCard(
        "pull", [{"clip": "a"}], {"a": tr.position_m}, {"a": tr.duration_s}, rotations={"a": tr.rotvec}
    )
    lib = SkillLibrary(3, {"pull": old_card})
    with pytest.raises(Vid2SkillError, match="cluster force=true"):
        decide(lib, {"new": tr}, cfg, None)
    no_approach = SkillCard(
        "pull",
        [{"clip": "a"}],
        {"a": tr.position_m},
        {"a": tr.duration_s},
        rotations={"a": tr.rotvec},
        images={"a": tr.image_path},
    )
    with pytest.raises(Vid2SkillError, match="cluster force=true"):
        decide(SkillLibrary(4, {"pull": no_approach}), {"new": tr}, cfg, None)
    current = SkillCard(
        "pull",
        [{"clip": "a"}],
        {"a": tr.position_m},
        {"a": tr.duration_s},
        rotations={"a": tr.rotvec},
        images={"a": tr.image_path},
        approaches={"a": tr.approach},
    )
    assert decide(SkillLibrary(5, {"pull": current}), {"new": tr}, cfg, None)[0]["skill"] == "pull"
    path_cfg = OmegaConf.merge(cfg, {"features": "path"})
    assert decide(lib, {"new": tr}, path_cfg, None)[0]["skill"] == "pull"


def test_a_labelled_member_whose_motion_disagrees_is_flagged_with_the_reason():
    """Motion checks weak labels: a loop labelled slide_open among pulls, beside a skill of loops, is
    flagged (nearer stir's members), shown by `vid2skill skills`, and the pulls are not."""
    from tests.helpers import make_cfg
    from vid2skill.skills.show import card_text, library_rows
    from vid2skill.skills.stage import library_from_segments

    cfg = make_cfg(["cluster.group_by=label"]).cluster
    s = np.linspace(0, 1, 64)
    rng = np.random.default_rng(0)
    pulls = [_manipulation(np.c_[3 * s, 0 * s] + rng.normal(0, 0.02, (64, 2)), end_x=-0.2) for _ in range(4)]
    loops = [
        _manipulation(np.c_[np.cos(4 * np.pi * s) - 1, np.sin(4 * np.pi * s)] + rng.normal(0, 0.02, (64, 2)))
        for _ in range(5)
    ]
    trajs = pulls + loops
    labels = ["slide_open"] * 4 + ["stir"] * 4 + ["slide_open"]  # the last loop is mislabelled
    records = [{"clip": f"c{i}", "label": lab, "track": f"t{i}"} for i, lab in enumerate(labels)]
    lib = library_from_segments(cfg, trajs, records)
    flagged = lib.skills["slide_open"].stats["flagged"]
    assert [f["clip"] for f in flagged] == ["c8"] and flagged[0]["nearer"] == "stir"
    assert lib.skills["stir"].stats["flagged"] == []
    rows = {r["skill"]: r for r in library_rows(lib)}
    assert rows["slide_open"]["flagged"] == 1 and rows["stir"]["flagged"] == 0
    text = card_text(lib.skills["slide_open"]).splitlines()
    assert [ln for ln in text if "flagged: motion nearer stir's members" in ln][0].startswith(
        "    c8  slide_open"
    )
