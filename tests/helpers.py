"""Helpers that tests in more than one folder share (fixtures live in conftest.py), imported as
``from tests.helpers import make_cfg``. They import vid2skill inside, so that importing this module
(conftest does) imports none of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vid2skill.extract.types import HandTrack
    from vid2skill.retarget.demos import RobotDemo


def make_cfg(overrides: list[str]):
    """Compose the project's config as the CLI does (without running Hydra's app)."""
    from vid2skill.config import compose

    return compose(overrides)


def make_track(
    wrist: np.ndarray,
    aperture: np.ndarray,
    landmarks_px: np.ndarray,
    clip: str = "c",
    fps: float = 30.0,
    wrist_R: np.ndarray | None = None,
    landmarks_world: np.ndarray | None = None,
) -> HandTrack:
    """A HandTrack of a right hand seen in every frame by a 640x480 camera (f = 500 px): the wrist
    path (T, 3) in the camera frame, the grasp aperture (T,) and the image landmarks (T, 21, 2);
    the palm unturned unless ``wrist_R`` (T, 3, 3) is given."""
    from vid2skill.extract.types import HandTrack

    T = len(wrist)
    return HandTrack(
        clip,
        fps,
        640,
        480,
        [500, 500, 320, 240],
        "right",
        None,
        np.arange(T),
        np.ones(T, bool),
        np.ones(T, bool),
        wrist,
        np.tile(np.eye(3), (T, 1, 1)) if wrist_R is None else wrist_R,
        aperture,
        np.ones(T),
        landmarks_px,
        landmarks_world,
    )


def pull_demo(length_m: float, steps: int, turn_rad: float) -> RobotDemo:
    """Pull ``length_m`` along x over ``steps`` steps while turning ``turn_rad`` about z, then let go
    (three still frames)."""
    from vid2skill.retarget.demos import RobotDemo

    p = np.zeros((steps + 3, 3))
    p[:steps, 0] = np.linspace(0, length_m, steps)
    p[steps:, 0] = length_m
    r = np.zeros((steps + 3, 3))
    r[:steps, 2] = np.linspace(0, turn_rad, steps)
    r[steps:, 2] = turn_rad
    closed = np.ones(steps + 3, bool)
    closed[steps:] = False
    return RobotDemo("d", p, closed, np.zeros((steps + 3, 7)), np.zeros(steps + 3), r)


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
