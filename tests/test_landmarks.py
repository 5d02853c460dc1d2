"""Hand landmarks (vid2skill/landmarks.py): apertures, the palm frame, chirality, depth mirrors."""

import numpy as np

from vid2skill.ingest.synthetic.hand import hand_keypoints
from vid2skill.landmarks import THUMB_TIP, chirality, grasp_aperture_image_m, grasp_aperture_m, palm_frame


def test_aperture_closes_with_curl():
    apertures = [grasp_aperture_m(hand_keypoints(c)) for c in (0.0, 0.4, 0.8)]
    assert apertures[0] > 0.09  # an open hand spans ~10 cm thumb to index
    assert apertures[0] > apertures[1] > apertures[2]
    assert apertures[2] < 0.035


def test_image_aperture_measures_the_tips_on_the_image_in_palm_units():
    from scipy.spatial.transform import Rotation

    f, c = 600.0, np.array([320.0, 240.0])
    for curl, turn in ((0.0, [0.0, 0.0, 0.3]), (0.4, [0.5, 0.2, 0.0]), (0.0, [0.0, 1.1, 0.0])):
        kp = hand_keypoints(curl) @ Rotation.from_rotvec(turn).as_matrix().T
        cam = kp - kp.mean(axis=0) + np.array([0.05, -0.02, 0.6])
        px = f * cam[:, :2] / cam[:, 2:] + c
        world = cam - cam.mean(axis=0)  # metric, camera-aligned, hand-centred
        truth = grasp_aperture_m(world)
        assert (
            abs(grasp_aperture_image_m(world, px) - truth) < 0.06 * truth
        )  # perspective within the hand only
        # Metric landmarks that pull the thumb tip halfway in (as MediaPipe's do on a spread hand)
        # shrink the metric aperture; the image places the tips, so the image aperture holds.
        squeezed = world.copy()
        squeezed[THUMB_TIP, :2] += 0.5 * (world[8, :2] - world[THUMB_TIP, :2])
        assert (
            abs(grasp_aperture_image_m(squeezed, px) - truth)
            < 0.1 * truth
            < abs(grasp_aperture_m(squeezed) - truth)
        )
        assert (
            abs(grasp_aperture_image_m(world, px, scale=1.1) - 1.1 * grasp_aperture_image_m(world, px)) < 1e-9
        )


def test_palm_frame_of_canonical_hand_is_identity():
    R = palm_frame(hand_keypoints(0.0))
    assert np.degrees(np.arccos((np.trace(R) - 1) / 2)) < 6.0


def test_chirality_and_mirror():
    kp = np.stack([hand_keypoints(c) for c in np.linspace(0.2, 0.9, 6)])
    assert chirality(kp) == "right"
    mirrored = kp * np.array([1.0, -1.0, 1.0])
    assert chirality(mirrored) == "left"
    # Mirroring about y keeps the palm side at +z; asked as a left hand, the palm frame's z stays volar.
    assert palm_frame(mirrored[0], right=False)[2, 2] > 0.9
    assert palm_frame(mirrored[0], right=True)[2, 2] < -0.9


def test_depth_mirrored_frames_are_flipped_back_to_the_known_hand():
    from vid2skill.landmarks import chirality_score, resolve_depth_mirror

    # A hand turned 50 deg about the camera's y axis (a flat, camera-facing palm is its own mirror).
    c, s = np.cos(np.radians(50)), np.sin(np.radians(50))
    tilt = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    kp = np.stack([hand_keypoints(k) @ tilt.T for k in (0.1, 0.5, 0.8)]) + np.array([0.0, 0.0, 0.5])
    centre = kp[..., 2].mean(axis=1, keepdims=True)
    mirrored = kp.copy()
    mirrored[..., 2] = 2 * centre - kp[..., 2]  # the same image, read as a left hand
    assert (chirality_score(kp) > 0).all() and (chirality_score(mirrored) < 0).all()
    mixed = np.stack([kp[0], mirrored[1], kp[2]])
    assert np.allclose(resolve_depth_mirror(mixed, right=True), kp)
    as_left = resolve_depth_mirror(mixed, right=False)
    assert (chirality_score(as_left) < 0).all() and np.allclose(as_left[1], mirrored[1])
    # The resolved frames give the palm frame of the true hand; the mirrored one is far off.
    R_true = palm_frame(kp[1])
    angle = lambda A, B: np.degrees(np.arccos(np.clip((np.trace(A.T @ B) - 1) / 2, -1, 1)))  # noqa: E731
    assert angle(palm_frame(resolve_depth_mirror(mixed, right=True)[1]), R_true) < 1.0
    assert angle(palm_frame(mirrored[1], right=True), R_true) > 90.0
