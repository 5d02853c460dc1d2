"""The camera's own rotation from background features (vid2skill/extract/camera_motion.py)."""

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from tests.helpers import make_cfg
from vid2skill.extract.camera_motion import CameraMotion


def _scene(rng, w=480, h=360):
    img = np.zeros((h, w, 3), np.uint8)
    for _ in range(250):  # a cluttered background: random boxes and circles
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(5, 40)), y + int(rng.integers(5, 40))), c, -1)
        else:
            cv2.circle(img, (x, y), int(rng.integers(3, 20)), c, -1)
    return img


def test_a_turning_camera_is_measured_and_a_still_one_is_static():
    cfg = make_cfg([]).extract.camera_motion
    rng = np.random.default_rng(0)
    w, h, f = 480, 360, 400.0
    K = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]])
    base = _scene(rng)
    turned = CameraMotion([f, f, w / 2, h / 2], w, h, cfg)
    still = CameraMotion([f, f, w / 2, h / 2], w, h, cfg)
    truth = []
    for t in range(20):  # the head pans 0.6 deg and tilts 0.2 deg per frame
        R_cam_ref = Rotation.from_euler("yx", [0.6 * t, 0.2 * t], degrees=True).as_matrix()
        frame = cv2.warpPerspective(base, K @ R_cam_ref @ np.linalg.inv(K), (w, h))
        hand = np.array([[200.0, 150.0], [260.0, 220.0]])  # a "hand" masked out of the features
        turned.update(frame, [hand])
        still.update(base, [hand])
        truth.append(R_cam_ref.T)
    R = turned.rotations()
    err = [np.degrees(Rotation.from_matrix(a.T @ b).magnitude()) for a, b in zip(R, truth)]
    assert max(err) < 1.0 and np.degrees(Rotation.from_matrix(R[-1]).magnitude()) > 10
    assert np.allclose(still.rotations(), np.eye(3))


def test_a_still_camera_stays_still_while_a_large_object_moves_in_front_of_it():
    cfg = make_cfg([]).extract.camera_motion
    rng = np.random.default_rng(1)
    w, h, f = 480, 360, 400.0
    base, board = _scene(rng), _scene(rng, 200, 200)  # a textured door sliding across a third of the view
    cam = CameraMotion([f, f, w / 2, h / 2], w, h, cfg)
    for t in range(20):
        frame = base.copy()
        x = 40 + 8 * t
        frame[80:280, x : x + 200] = board
        cam.update(frame, [])
    assert np.allclose(cam.rotations(), np.eye(3))
