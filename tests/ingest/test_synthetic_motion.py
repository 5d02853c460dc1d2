"""The hand motion shared by the drawer script and the staged skills (ingest/synthetic/motion.py)."""

from __future__ import annotations

import numpy as np

from vid2skill.ingest.synthetic.motion import (
    OPEN_UNTIL,
    WITHDRAW_BACK_M,
    WITHDRAW_FROM,
    WITHDRAW_UP_M,
    blend_curl,
    reach_start_R,
    release_profile,
    withdrawn,
)


def test_the_release_lets_go_before_the_hand_withdraws():
    s = np.linspace(0, 1, 101)
    opening, withdrawal = release_profile(s)
    assert opening[0] == 0 and withdrawal[0] == 0 and opening[-1] == 1 and withdrawal[-1] == 1
    assert np.all(np.diff(opening) >= 0) and np.all(np.diff(withdrawal) >= 0)
    assert np.all(opening[s >= OPEN_UNTIL] == 1)  # fully open ...
    assert np.all(withdrawal[s <= WITHDRAW_FROM] == 0)  # ... and still until the fingers have begun to open
    assert opening[s <= WITHDRAW_FROM].max() > 0.5
    curl = blend_curl(0.8, 0.1, opening)
    assert curl[0] == 0.8 and np.isclose(curl[-1], 0.1)


def test_the_hand_withdraws_back_towards_the_person_and_up():
    away = np.array([0.0, 1.0, 0.0])
    end = withdrawn(np.array([0.5, 0.2, 0.9]), away)
    np.testing.assert_allclose(end - [0.5, 0.2, 0.9], [0.0, WITHDRAW_BACK_M, WITHDRAW_UP_M])


def test_the_reach_starts_turned_from_the_grasp_a_little_and_reproducibly():
    R = np.eye(3)
    a, b = reach_start_R(R, np.random.default_rng(4)), reach_start_R(R, np.random.default_rng(4))
    assert np.array_equal(a, b)
    np.testing.assert_allclose(a @ a.T, np.eye(3), atol=1e-12)
    angles = [
        np.degrees(np.arccos((np.trace(reach_start_R(R, np.random.default_rng(i))) - 1) / 2))
        for i in range(200)
    ]
    assert 5 < np.median(angles) < 40  # a turn of some degrees, never the grasp itself nor a flip
