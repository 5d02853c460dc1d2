"""Helpers that tests in more than one folder share (fixtures live in conftest.py), imported as
``from tests.helpers import make_cfg``. They import vid2skill inside, so that importing this module
(conftest does) imports none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vid2skill.retarget.demos import RobotDemo


def make_cfg(overrides: list[str]):
    """Compose the project's config as the CLI does (without running Hydra's app)."""
    from vid2skill.config import compose

    return compose(overrides)


def make_demo(
    clip: str, steps: int = 14, seed: int = 0, release_steps: int = 3, rotate: bool = True
) -> RobotDemo:
    """A wandering path with a turning gripper; the hand lets go ``release_steps`` before the end and
    keeps moving, so the release point differs from the last point."""
    from vid2skill.retarget.demos import RobotDemo

    rng = np.random.default_rng(seed)
    p = np.cumsum(rng.normal(0, 0.01, (steps, 3)), axis=0)
    p -= p[0]
    r = np.cumsum(rng.normal(0, 0.2, (steps, 3)), axis=0) if rotate else np.zeros((steps, 3))
    closed = np.ones(steps, dtype=bool)
    closed[steps - release_steps :] = False
    return RobotDemo(clip, p, closed, np.zeros((steps, 7)), np.zeros(steps), r)


class Push:
    """Moves the gripper a fixed distance along contact x, then lets go (or holds, for in-hand skills)."""

    def __init__(self, dx: float, steps: int, let_go: bool = True):
        self.dx, self.steps, self.let_go = dx, steps, let_go

    def reset(self, task, T0):
        self.T0, self.t = T0, 0

    def act(self, obs):
        self.t += 1
        if self.t > self.steps:
            return obs["T_contact_cmd"], not self.let_go
        T = self.T0.copy()
        T[0, 3] += self.dx * self.t / self.steps
        return T, True
