import numpy as np

from vid2skill.extract.filters import fill_gaps, max_jump, one_euro, reject_outliers
from vid2skill.extract.metric import hand_translation, intrinsics_from_fov
from vid2skill.geometry import axis_angle_R
from vid2skill.ingest.synthetic.generator import project
from vid2skill.ingest.synthetic.hand import hand_keypoints


def test_hand_translation_recovers_depth_exactly():
    K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
    rng = np.random.default_rng(1)
    world, px, truth = [], [], []
    for _ in range(5):
        kp = hand_keypoints(rng.uniform(0, 1)) @ axis_angle_R(rng.normal(size=3), rng.uniform(0, 3)).T
        centred = kp - kp.mean(axis=0)
        t = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), rng.uniform(0.3, 1.2)])
        world.append(centred)
        px.append(project(K, centred + t))
        truth.append(t)
    est = hand_translation(np.array(world), np.array(px), [500.0, 500.0, 320, 240])
    np.testing.assert_allclose(est, np.array(truth), atol=1e-9)


def test_intrinsics_from_fov():
    fx, fy, cx, cy = intrinsics_from_fov(640, 480, 90.0)
    assert np.isclose(fx, 320.0) and cx == 320 and cy == 240


def test_fill_gaps_only_short_ones():
    x = np.arange(20, dtype=float)[:, None]
    valid = np.ones(20, bool)
    valid[3:5] = False  # 2-frame gap: filled
    valid[10:17] = False  # 7-frame gap: kept invalid with max_gap=4
    out, ok = fill_gaps(x, valid, max_gap=4)
    np.testing.assert_allclose(out[3:5, 0], [3, 4])
    assert ok[3:5].all() and not ok[10:17].any() and np.isnan(out[12, 0])


def test_outlier_rejection_and_jump():
    x = np.zeros((30, 3))
    x[:, 0] = np.linspace(0, 0.3, 30)
    x[15, 2] = 0.5  # a 50 cm depth spike
    valid = np.ones(30, bool)
    keep = reject_outliers(x, valid, window=7, max_dev=0.08)
    assert not keep[15] and keep.sum() == 29
    assert max_jump(x, keep) < 0.03 < max_jump(x, valid)


def test_one_euro_smooths_noise_without_lag_bias():
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30
    clean = np.sin(t)[:, None]
    noisy = clean + rng.normal(0, 0.02, clean.shape)
    valid = np.ones(300, bool)
    causal = one_euro(noisy, valid, 30.0, 1.0, 0.5)
    offline = one_euro(noisy, valid, 30.0, 1.0, 0.5, zero_phase=True)
    # The causal filter lags (its error tracks the slope); the forward-backward pass does not.
    assert np.std(offline[10:-10] - clean[10:-10]) < 0.6 * np.std(noisy - clean)
    assert np.std(causal - clean) > np.std(offline - clean)
