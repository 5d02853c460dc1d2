"""What learned policies read from an observation, and how their steps are bounded: shared by every
learned policy type so that they see the same inputs and can be compared on equal terms.

The inputs are the commanded pose since the grasp (``observation.state``), the time since the grasp
(``timestamp``) and the goal, both as given and as its offset from the current position (zeros where
the skill has none), so that a target which moves with the scene moves the motion with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vid2skill.dataset.features import GOAL, STATE, TIMESTAMP, Feature

# x, y, z (m), rx, ry, rz (rad) since the grasp; t (s); goal x, y, z (m), valid; goal - position (m)
OBS_DIM = 14
STEP_DIM = 6  # dx, dy, dz (m per control step), drx, dry, drz (rad per control step)
PREV_DIM = 6  # with ``prev_step``: the pose's change over the last control step (as a step)
# The features a learned policy reads (its ``input_features``).
LEARNED_INPUTS: dict[str, Feature] = {STATE.key: STATE, GOAL.key: GOAL, TIMESTAMP.key: TIMESTAMP}


def policy_inputs(
    state: np.ndarray, goal: np.ndarray, t_s: np.ndarray, prev: np.ndarray | None = None
) -> np.ndarray:
    """(N, OBS_DIM) float32 network inputs from (N, 8) states, (N, 4) goals and (N,) times; with
    ``prev`` (N, 6), the last steps (:func:`last_steps`) follow (N, OBS_DIM + PREV_DIM)."""
    state, goal = np.atleast_2d(state), np.atleast_2d(goal)
    t_s = np.asarray(t_s, dtype=np.float64).reshape(-1, 1)
    to_goal = (goal[:, :3] - state[:, :3]) * goal[:, 3:4]
    cols = [state[:, :6], t_s, goal, to_goal] + ([np.atleast_2d(prev)] if prev is not None else [])
    return np.column_stack(cols).astype(np.float32)


def last_steps(state: np.ndarray) -> np.ndarray:
    """(T, 6) the step (position change, left-applied rotation vector) that led to each of the
    consecutive states (T, 8) of one episode; zeros for the first."""
    from scipy.spatial.transform import Rotation

    state = np.atleast_2d(np.asarray(state, dtype=np.float64))
    out = np.zeros((len(state), PREV_DIM))
    if len(state) > 1:
        R = Rotation.from_rotvec(state[:, 3:6])
        out[1:, :3] = state[1:, :3] - state[:-1, :3]
        out[1:, 3:] = (R[1:] * R[:-1].inv()).as_rotvec()
    return out


def observation_inputs(obs: dict[str, Any]) -> np.ndarray:
    """(OBS_DIM,) float32 network inputs of one environment observation (no goal: zeros)."""
    state = np.asarray(obs[STATE.key], dtype=np.float64).reshape(-1)
    goal = np.asarray(obs.get(GOAL.key, np.zeros(GOAL.shape)), dtype=np.float64).reshape(-1)
    t_s = np.asarray(obs[TIMESTAMP.key], dtype=np.float64).reshape(-1)[:1]
    return policy_inputs(state, goal, t_s)[0]


def clip_step(step: np.ndarray, max_step_m: float, max_turn_rad: float) -> np.ndarray:
    """Steps (..., 6) with their translation and rotation norms clipped."""
    step = np.array(step, dtype=np.float64)
    for sl, cap in ((slice(0, 3), max_step_m), (slice(3, 6), max_turn_rad)):
        n = np.linalg.norm(step[..., sl], axis=-1, keepdims=True)
        step[..., sl] *= np.minimum(1.0, cap / np.maximum(n, 1e-12))
    return step
