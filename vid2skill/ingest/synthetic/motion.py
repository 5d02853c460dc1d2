"""The scripted hand's motion that every synthetic skill shares, the drawer script (``generator.py``)
and the staged skills (``staged.py``) alike: the phases, the reach's random starting turn, the
release (the fingers open, then the hand withdraws back and up) and the hand's wobble.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from vid2skill.geometry import min_jerk

PHASES = ("reach", "grasp", "move", "release")
REACH, GRASP, MOVE, RELEASE = range(len(PHASES))

UP = np.array([0, 0, 1.0])
REACH_TURN_DEG = 12.0  # the hand's turn at the reach's start: standard deviation about each axis
# The release phase, as shares of its length: the fingers open over the first OPEN_UNTIL, and the
# hand withdraws from WITHDRAW_FROM on, so that it lets go before it pulls away.
OPEN_UNTIL, WITHDRAW_FROM = 0.4, 0.3
WITHDRAW_BACK_M, WITHDRAW_UP_M = 0.10, 0.05  # where the hand withdraws to, from where it let go


def reach_start_R(R_grasp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The hand's orientation (3, 3) where its reach starts: the grasp's, turned at random (a person
    turns the hand into the grasp on the way)."""
    return R_grasp @ Rotation.from_rotvec(rng.normal(0, np.radians(REACH_TURN_DEG), 3)).as_matrix()


def release_profile(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(opening, withdrawal), each (T,) rising 0 to 1 with minimum jerk, at progress ``s`` (T,) in
    [0, 1] through the release phase: how far the fingers have opened and the hand has withdrawn."""
    opening = min_jerk(np.clip(s / OPEN_UNTIL, 0, 1))
    withdrawal = min_jerk(np.clip((s - WITHDRAW_FROM) / (1.0 - WITHDRAW_FROM), 0, 1))
    return opening, withdrawal


def blend_curl(from_curl: float, to_curl: float, progress: np.ndarray) -> np.ndarray:
    """The fingers' curl (T,) on their way from ``from_curl`` to ``to_curl`` (closing in the grasp
    phase, opening in the release), ``progress`` (T,) 0 to 1."""
    return from_curl + progress * (to_curl - from_curl)


def withdrawn(position: np.ndarray, away: np.ndarray) -> np.ndarray:
    """Where the hand withdraws to from ``position`` (3,): back along ``away`` (3,), a unit vector
    from the grasped object towards the person, and up."""
    return position + away * WITHDRAW_BACK_M + UP * WITHDRAW_UP_M


def smooth_noise(rng: np.random.Generator, t: np.ndarray, amplitude_m: float) -> np.ndarray:
    """(T, 3) band-limited wobble of the rendered hand: a few random sinusoids per axis (0.3-1.5 Hz)."""
    f = rng.uniform(0.3, 1.5, size=(3, 3))
    phi = rng.uniform(0, 2 * np.pi, size=(3, 3))
    a = rng.normal(0, amplitude_m / np.sqrt(3), size=(3, 3))
    return np.einsum("ak,tak->ta", a, np.sin(2 * np.pi * f[None] * t[:, None, None] + phi[None]))
