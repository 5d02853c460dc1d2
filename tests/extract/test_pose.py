"""Pose-guided hand crops and side-aware hand tracking."""

import numpy as np
import pytest

from vid2skill.extract.hands import Detection, _assign_tracks, _stitch, _track_side
from vid2skill.extract.pose import ArmPose, crop_square, hand_box
from vid2skill.landmarks import WRIST


def _arm(side, wrist, elbow, fingers, visibility=0.9):
    wrist = np.asarray(wrist, float)
    return ArmPose(
        side,
        np.array([wrist + [0, -120], elbow, wrist]),
        np.zeros((3, 3)),
        np.full(3, visibility),
        np.array(fingers, float),
    )


def test_crop_maps_back_to_image_pixels():
    img = np.zeros((240, 320, 3), np.uint8)
    img[100:104, 200:204] = 255  # a 4x4 px square whose centre is at continuous (202, 102)
    centre, side = np.array([190.0, 110.0]), 40.0
    crop, origin, s = crop_square(img, centre, side, 200)
    assert crop.shape == (200, 200, 3)
    ys, xs = np.nonzero(crop[..., 0] > 127)
    found = origin + s * np.array([xs.mean() + 0.5, ys.mean() + 0.5])  # continuous crop centre -> image
    assert np.allclose(found, [202.0, 102.0], atol=0.3)


def test_crop_beyond_the_image_is_padded_black():
    img = np.full((100, 100, 3), 200, np.uint8)
    crop, origin, s = crop_square(img, np.array([0.0, 50.0]), 40.0, 64)
    assert crop[:, :20].max() == 0 and crop[:, 40:].min() == 200
    assert np.allclose(origin, [-20.0, 30.0]) and np.isclose(s, 40 / 64)


def test_hand_box_grows_with_the_hand_and_has_a_floor():
    small = _arm("right", [100, 100], [100, 130], [[100, 92], [104, 92], [96, 95]])
    big = _arm("right", [100, 100], [100, 260], [[100, 40], [130, 45], [75, 70]])
    c_small, s_small = hand_box(small, 2.5, 48)
    c_big, s_big = hand_box(big, 2.5, 48)
    assert s_small == 48  # the floor
    assert np.isclose(s_big, 2.5 * 80)  # half the 160 px forearm beats the 61 px finger reach
    assert c_big[1] < 100  # the centre sits towards the fingers, not on the wrist


def _det(x, y, arm=None, score=0.9):
    px = np.zeros((21, 2))
    px[:] = [x, y]
    return Detection(px, np.zeros((21, 3)), "right", score, arm=arm)


def test_pose_sides_keep_crossing_hands_apart():
    # Left hand moves right and right hand moves left along the same line; between t = 5 and 6 they
    # jump past each other (200 -> 220 and 210 -> 190), where proximity alone swaps them.
    xs = np.linspace(100, 300, 11)
    frames = [[_det(x, 100, "left"), _det(410 - x, 100, "right", 0.8)] for x in xs]
    tracks = _assign_tracks(frames, gate_px=150)
    sides = [{d.arm for d in tr if d is not None} for tr in tracks]
    assert all(len(s) == 1 for s in sides)
    assert sorted(next(iter(s)) for s in sides) == ["left", "right"]
    # Without sides, the same detections are linked by proximity only and do mix.
    unlabelled = [[_det(d.px[WRIST, 0], 100, None, d.score) for d in f] for f in frames]
    mixed = _assign_tracks(unlabelled, gate_px=150)
    paths = [np.array([d.px[WRIST, 0] for d in tr if d is not None]) for tr in mixed]
    assert any(not (np.all(np.diff(p) >= 0) or np.all(np.diff(p) <= 0)) for p in paths if len(p) > 2)


def test_stitching_never_takes_the_other_arm():
    track = [_det(100, 100, "right"), None, _det(104, 100, "right")]
    other = [None, _det(102, 100, "left"), None]
    assert _track_side(track) == "right"
    assert _stitch(track, [other], gate_px=50)[1] is None
    same_side = [None, _det(102, 100, "right"), None]
    assert _stitch(track, [same_side], gate_px=50)[1] is same_side[1]


def test_native_start_up_lines_are_dropped_and_the_rest_kept(capfd):
    import os

    from vid2skill.extract.native_log import quiet_native_stderr

    with quiet_native_stderr():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(
            2,
            b"W0000 inference_feedback_manager.cc:114] Feedback manager requires a model with a single "
            b"signature\n",
        )
        os.write(2, b"E0000 calculator_graph.cc:887] real trouble: cannot open model\n")
    err = capfd.readouterr().err
    assert "real trouble" in err and "XNNPACK" not in err and "Feedback manager" not in err


def test_handtrack_round_trips_arm_and_landmarks_and_rejects_bad_shapes(tmp_path):
    import pytest

    from vid2skill.extract.types import HandTrack

    T = 4
    args = dict(
        clip_id="c",
        fps=10.0,
        width=64,
        height=48,
        intrinsics=[50, 50, 32, 24],
        handedness="right",
        label=None,
        frame_index=np.arange(T),
        detected=np.ones(T, bool),
        valid=np.ones(T, bool),
        wrist_pos_cam=np.zeros((T, 3)),
        wrist_R_cam=np.tile(np.eye(3), (T, 1, 1)),
        aperture_m=np.zeros(T),
        confidence=np.ones(T),
        landmarks_px=np.zeros((T, 21, 2)),
    )
    arm = np.arange(T * 9, dtype=float).reshape(T, 3, 3)
    track = HandTrack(**args, landmarks_world=np.ones((T, 21, 3)), arm_pos_cam=arm)
    assert np.isnan(track.arm_px).all() and (track.arm_visibility == 0).all()  # defaults: nothing seen
    track.save(tmp_path / "t")
    back = HandTrack.load(tmp_path / "t")
    assert np.array_equal(back.arm_pos_cam, arm) and np.array_equal(back.landmarks_world, np.ones((T, 21, 3)))
    with pytest.raises(ValueError, match="arm arrays"):
        HandTrack(**args, arm_pos_cam=np.zeros((T, 2, 3)))


def _det_at(x: float, size: float = 40.0) -> Detection:
    px = np.full((21, 2), 100.0)
    px[:, 0] = x + np.linspace(0, size, 21)  # the wrist (landmark 0) at x
    return Detection(px, np.zeros((21, 3)), "right", 0.9)


def test_gap_predictions_interpolate_short_gaps_and_extend_track_ends():
    from vid2skill.extract.hands import _gap_predictions

    track = [_det_at(10.0 * t) if t in (2, 3, 4, 8, 9, 20) else None for t in range(24)]
    pred = _gap_predictions(track, max_gap=3, edge_frames=2)
    assert [t for t in range(5, 8)] == [t for t in sorted(pred) if 5 <= t <= 7]
    assert pred[6][0][0] == pytest.approx(60.0) and pred[6][1] == pytest.approx(40.0)
    assert 0 in pred and 1 in pred  # before the first detection
    assert 10 in pred and 11 in pred and 12 not in pred  # after a stretch ends (the gap to 20 is too long)
    assert 18 in pred and 21 in pred and 17 not in pred
    assert pred[10][0][0] == pytest.approx(90.0)  # the last detection's wrist


def test_recovery_finds_the_hand_again_where_the_track_lost_it(synthetic_ws):
    """Detections taken out of synthetic clips' tracks are found again in crops around where the
    hand should be, at the same place (not all: a crop that shows a partial hand is refused)."""
    from vid2skill.extract.hands import _assign_tracks, _detect_frames, _recover_gaps, frame_stride
    from vid2skill.ingest.types import ClipSet
    from vid2skill.video import probe

    ws, cfg = synthetic_ws
    removed_total, found_total = 0, 0
    for clip in ClipSet.load(ws / "ingest" / "clips").clips[:3]:
        info = probe(clip.path)
        stride = frame_stride(info.fps, cfg.extract.stride, cfg.extract.target_fps)
        frames, per_frame, _, _ = _detect_frames(clip, cfg.extract, info, stride, 0, None, 1.0)
        track = max(_assign_tracks(per_frame, 200.0), key=lambda tr: sum(d is not None for d in tr))
        seen = [t for t, d in enumerate(track) if d is not None]
        removed = seen[len(seen) // 2 : len(seen) // 2 + 3]
        truth = {t: track[t].px[0].copy() for t in removed}
        for t in removed:
            track[t] = None
        assert _recover_gaps(clip, cfg.extract, info, stride, 0, None, frames, track) >= 0
        back = [t for t in removed if track[t] is not None]
        removed_total, found_total = removed_total + len(removed), found_total + len(back)
        assert all(track[t].from_crop and np.linalg.norm(track[t].px[0] - truth[t]) < 8.0 for t in back)
    assert found_total >= 2  # 4 of 9 on the development machine
