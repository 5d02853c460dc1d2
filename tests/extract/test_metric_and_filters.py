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


def test_fast_jumps_are_dropped_on_the_glitch_side():
    from vid2skill.extract.filters import max_jump, reject_fast_jumps

    fps = 30.0
    t = np.arange(60) / fps
    x = np.stack([0.3 * t, np.zeros_like(t), 0.6 + 0.0 * t], axis=1)  # 0.3 m/s, smooth
    x[20:24, 2] += 0.25  # a 4-frame depth glitch: 25 cm in one frame, far beyond a hand's speed
    valid = np.ones(60, bool)
    keep = reject_fast_jumps(x, valid, fps, max_speed=2.0, window=15)
    assert not keep[20:24].any() and keep[:20].all() and keep[24:].all()
    assert max_jump(x, keep) < 0.02
    # A hand that moved during a detection gap is not a glitch: the limit scales with the time between frames.
    moved = x.copy()
    moved[45:, 0] += 0.3  # 30 cm further after a 0.5 s gap: 0.6 m/s, plausible
    gap = keep.copy()
    gap[30:45] = False
    assert np.array_equal(reject_fast_jumps(moved, gap, fps, 2.0, 15), gap)


def test_median_depth_removes_a_depth_glitch_and_keeps_a_pull():
    from vid2skill.extract.filters import median_depth

    T = 60
    p = np.zeros((T, 3))
    p[:, 0] = 0.1
    p[:, 2] = np.linspace(0.8, 0.5, T)  # pulled towards the camera
    glitch = p.copy()
    glitch[30:34, :] *= 1.4  # depth (and with it x) thrown out for four frames
    valid = np.ones(T, bool)
    valid[10] = False
    out = median_depth(glitch, valid, 15)
    assert np.allclose(
        out[20:40], p[20:40], atol=0.03
    )  # the 24 cm glitch is gone (the ramp shifts <= 2 cm near it)
    assert np.array_equal(out[10], glitch[10])  # invalid rows untouched
    assert np.allclose(out[:, 0] / out[:, 2], glitch[:, 0] / glitch[:, 2])  # pixels (x / z) unchanged
    assert median_depth(glitch, valid, 1) is glitch  # no window, no change
    # Across a gap the hand may be elsewhere: stretches are filtered on their own.
    apart = p.copy()
    apart[35:, 2] += 0.5
    gap = np.ones(T, bool)
    gap[33:35] = False
    assert np.allclose(median_depth(apart, gap, 15)[[32, 35]], apart[[32, 35]])
