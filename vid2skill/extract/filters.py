"""Cleaning per-frame trajectories: outlier rejection, short-gap interpolation, One-Euro smoothing."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter
from scipy.spatial.transform import Rotation


def reject_outliers(x: np.ndarray, valid: np.ndarray, window: int, max_dev: float) -> np.ndarray:
    """Drop frames whose value (T, D) strays more than ``max_dev`` from the running median of valid frames.

    Returns the new validity mask (T,) bool.
    """
    idx = np.flatnonzero(valid)
    if len(idx) < 3:
        return valid.copy()
    med = median_filter(x[idx], size=(window, 1), mode="nearest")
    dev = np.linalg.norm(x[idx] - med, axis=1)
    keep = valid.copy()
    keep[idx[dev > max_dev]] = False
    return keep


def reject_fast_jumps(
    x: np.ndarray, valid: np.ndarray, fps: float, max_speed: float, window: int, max_rounds: int = 50
) -> np.ndarray:
    """Drop frames until no two consecutive valid frames of x (T, D) imply a speed above ``max_speed``.

    Monocular depth glitches last several frames, longer than a short running median rejects.
    Of the two frames around each too-fast step, the one further from the running median (over
    ``window`` valid frames) is dropped; this repeats until every step is plausible. The speed
    limit accounts for the time between the two frames, so a hand that moved during a gap is kept.
    Returns the new validity mask (T,) bool.
    """
    keep = valid.copy()
    for _ in range(max_rounds):
        idx = np.flatnonzero(keep)
        if len(idx) < 3:
            break
        step = np.linalg.norm(np.diff(x[idx], axis=0), axis=1)
        too_fast = step > max_speed * np.diff(idx) / fps
        if not too_fast.any():
            break
        med = median_filter(x[idx], size=(window, 1), mode="nearest")
        dev = np.linalg.norm(x[idx] - med, axis=1)
        k = np.flatnonzero(too_fast)
        worse = np.where(dev[k] >= dev[k + 1], k, k + 1)
        keep[idx[np.unique(worse)]] = False
    return keep


def fill_gaps(x: np.ndarray, valid: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate (T, ...) values over invalid runs of at most ``max_gap`` frames.

    Runs at the ends and longer gaps stay invalid (NaN). Returns (values, new validity mask).
    """
    T = len(x)
    out = np.array(x, dtype=np.float64, copy=True)
    out[~valid] = np.nan
    filled = valid.copy()
    idx = np.flatnonzero(valid)
    if len(idx) < 2:
        return out, filled
    flat = out.reshape(T, -1)
    gaps = np.flatnonzero(np.diff(idx) > 1)
    for g in gaps:
        a, b = idx[g], idx[g + 1]
        if b - a - 1 <= max_gap:
            w = (np.arange(a + 1, b) - a) / (b - a)
            flat[a + 1 : b] = flat[a][None] * (1 - w[:, None]) + flat[b][None] * w[:, None]
            filled[a + 1 : b] = True
    return flat.reshape(out.shape), filled


def one_euro(
    x: np.ndarray,
    valid: np.ndarray,
    fps: float,
    min_cutoff_hz: float,
    beta: float,
    d_cutoff_hz: float = 1.0,
    zero_phase: bool = False,
) -> np.ndarray:
    """One-Euro filter (Casiez et al., CHI 2012) over each run of valid frames of x (T, D).

    Speed-adaptive low-pass: heavy smoothing when the hand is still, less lag when it moves. A
    causal first-order filter still lags by about 1 / (2 pi cutoff); offline, ``zero_phase`` runs it
    forward and then backward over the result (as filtfilt does), which cancels the lag.
    """
    if zero_phase:
        forward = one_euro(x, valid, fps, min_cutoff_hz, beta, d_cutoff_hz)
        return one_euro(forward[::-1], valid[::-1], fps, min_cutoff_hz, beta, d_cutoff_hz)[::-1].copy()
    out = np.array(x, dtype=np.float64, copy=True)
    dt = 1.0 / fps

    def alpha(cutoff):
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    a_d = alpha(d_cutoff_hz)
    prev, dprev = None, None
    for t in range(len(x)):  # recursive filter: a loop over time is inherent
        if not valid[t]:
            prev = None
            continue
        if prev is None:
            prev, dprev = x[t].astype(np.float64), np.zeros(x.shape[1:])
            out[t] = prev
            continue
        dx = (x[t] - prev) / dt
        dprev = a_d * dx + (1 - a_d) * dprev
        a = alpha(min_cutoff_hz + beta * np.linalg.norm(dprev))
        prev = a * x[t] + (1 - a) * prev
        out[t] = prev
    return out


def smooth_rotations(
    R: np.ndarray, valid: np.ndarray, fps: float, min_cutoff_hz: float, beta: float, zero_phase: bool = True
) -> np.ndarray:
    """One-Euro smoothing of rotations (T, 3, 3) through sign-aligned quaternions."""
    out = R.copy()
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        return out
    q = Rotation.from_matrix(R[idx]).as_quat()
    # Keep consecutive quaternions in one hemisphere so that averaging is meaningful.
    flips = np.cumprod(np.where(np.einsum("ij,ij->i", q[1:], q[:-1]) < 0, -1.0, 1.0))
    q[1:] *= flips[:, None]
    full = np.full((len(R), 4), np.nan)
    full[idx] = q
    sm = one_euro(full, valid, fps, min_cutoff_hz, beta, zero_phase=zero_phase)
    out[idx] = Rotation.from_quat(sm[idx] / np.linalg.norm(sm[idx], axis=1, keepdims=True)).as_matrix()
    return out


def median_depth(p: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """Camera-frame positions (T, 3) with the depth of the valid rows replaced by its running
    median over ``window`` rows within each unbroken stretch of valid rows, x and y rescaled to
    match (they come from pixels times depth).

    Monocular depth from hand size is the noisiest coordinate: MediaPipe's 3-D hand barely
    foreshortens when the palm turns edge-on, which throws the depth out by tens of centimetres
    for a fraction of a second. A running median keeps monotonic depth motion (reaching, pulling)
    and removes such excursions.
    """
    ok = valid & np.isfinite(p).all(axis=1) & (p[:, 2] > 0)
    if window < 3 or ok.sum() < window:
        return p
    out = p.copy()
    # Each unbroken stretch of valid rows on its own: across a gap the hand may be elsewhere.
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a >= 3:
            z = p[a:b, 2]
            out[a:b] = p[a:b] * (median_filter(z, size=min(window, (b - a) | 1), mode="nearest") / z)[:, None]
    return out


def max_jump(x: np.ndarray, valid: np.ndarray) -> float:
    """Largest distance between consecutive valid frames of x (T, D); 0 if fewer than two."""
    both = valid[1:] & valid[:-1]
    if not both.any():
        return 0.0
    return float(np.linalg.norm(np.diff(x, axis=0)[both], axis=1).max())
