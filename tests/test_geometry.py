import numpy as np

from vid2skill.geometry import (
    R_to_quat,
    apply_T,
    axis_angle_R,
    inv_T,
    look_at_R,
    make_T,
    min_jerk,
    quat_to_R,
    rotation_angle_deg,
)


def test_transform_inverse_round_trip():
    rng = np.random.default_rng(0)
    R = axis_angle_R(rng.normal(size=3), 0.7)
    T = make_T(R, np.array([0.1, -0.2, 0.3]))
    p = rng.normal(size=(5, 3))
    np.testing.assert_allclose(apply_T(inv_T(T), apply_T(T, p)), p, atol=1e-12)


def test_quaternion_round_trip_and_angle():
    R = axis_angle_R([0, 0, 1], np.radians(30))
    np.testing.assert_allclose(quat_to_R(R_to_quat(R)), R, atol=1e-12)
    assert abs(rotation_angle_deg(R, np.eye(3)) - 30.0) < 1e-6


def test_look_at_is_upright_opencv_camera():
    # Looking along +y with z up: image right is +x, image down is -z.
    R = look_at_R(np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))
    np.testing.assert_allclose(R[:, 0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(R[:, 1], [0, 0, -1], atol=1e-12)
    assert np.isclose(np.linalg.det(R), 1.0)


def test_min_jerk_profile():
    s = np.linspace(0, 1, 101)
    y = min_jerk(s)
    assert y[0] == 0 and y[-1] == 1 and np.all(np.diff(y) >= 0)
    assert abs(y[50] - 0.5) < 1e-12
