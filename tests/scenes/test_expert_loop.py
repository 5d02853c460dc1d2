"""The expert loop (vid2skill/scenes/expert_loop.py) that robot episodes and staged human clips share."""

from __future__ import annotations

import numpy as np

from vid2skill.geometry import make_T
from vid2skill.scenes.expert_loop import follow_targets


def _controller(moving_steps: int, let_go_at: int | None = None):
    """Steps 1 cm along x for ``moving_steps`` steps, then holds still; lets go at ``let_go_at`` s."""
    asked = []

    def act(t_s, T_cmd):
        asked.append((t_s, T_cmd[0, 3]))
        k = len(asked) - 1
        x = 0.01 * min(k + 1, moving_steps)
        return make_T(np.eye(3), np.array([x, 0.0, 0.0])), let_go_at is None or t_s < let_go_at

    return act, asked


def test_targets_are_moved_to_in_turn_until_the_controller_lets_go():
    act, asked = _controller(moving_steps=100, let_go_at=0.45)
    moves = []
    out = follow_targets(act, np.eye(4), horizon=50, dt=0.1, move=lambda k, a, b: moves.append((k, a, b)))
    # Asked at 0.0 .. 0.5 s: the answer at 0.5 s lets go and is not moved to.
    assert np.allclose([t for t, _ in asked], 0.1 * np.arange(6))
    assert out.let_go and out.steps == 5 and len(moves) == 5
    assert [k for k, _, _ in moves] == list(range(5))
    for (_, a, b), (_, a2, _) in zip(moves, moves[1:]):
        assert np.isclose(b[0, 3] - a[0, 3], 0.01)
        assert a2 is b  # each step starts where the last one went
    assert [x for _, x in asked][1:] == [b[0, 3] for _, _, b in moves]  # asked from the last command
    assert out.T_contact_cmd[0, 3] == moves[-1][2][0, 3]
    assert np.isclose(out.T_contact_last[0, 3], 0.06)  # the answer it let go with


def test_the_horizon_ends_the_loop_and_holding_still_ends_it_early_when_asked():
    act, _ = _controller(moving_steps=3)
    out = follow_targets(act, np.eye(4), horizon=20, dt=0.1, move=lambda k, a, b: None)
    assert not out.let_go and out.steps == 20
    act, _ = _controller(moving_steps=3)
    moves = []
    out = follow_targets(act, np.eye(4), 20, 0.1, lambda k, a, b: moves.append(k), still_steps=4)
    # Moving for 3 steps, then 4 still ones: stopped after the 7th, having moved to it.
    assert not out.let_go and out.steps == 7 and moves == list(range(7))
    assert np.isclose(out.T_contact_cmd[0, 3], 0.03)
