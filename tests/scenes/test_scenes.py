"""The skills' scenes: success criteria and their scripted experts (vid2skill/scenes/)."""

import numpy as np
import pytest

from tests.helpers import Push, make_cfg
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import ExpertPolicy


class Plunge:
    """Lowers a held tool straight down by ``dz`` (no sawing, no stirring)."""

    def __init__(self, target_fn):
        self.target_fn = target_fn

    def reset(self, task, T0):
        self.task, self.T0 = task, T0

    def act(self, obs):
        return self.target_fn(self.task, self.T0, obs["t_s"]), True


@pytest.fixture(scope="module")
def cfg():
    return make_cfg(["workers=1"])


@pytest.mark.parametrize(
    "skill,dx,expect",
    [
        ("slide_open", -0.26, True),
        ("slide_open", 0.0, False),
        ("slide_close", 0.28, True),
        ("slide_close", 0.0, False),
    ],
)
def test_drawer_success_criterion(cfg, skill, dx, expect):
    runner = EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot))
    results = [runner.run(Push(dx, 12), seed) for seed in (11, 12)]
    assert [r["success"] for r in results] == [expect, expect], results
    assert all(r["grasp_error_m"] < 0.01 for r in results)


@pytest.mark.parametrize("skill", ["slide_open", "pick", "place", "stir", "cut"])
def test_scripted_expert_succeeds_and_doing_nothing_fails(cfg, skill):
    """Each scene is solvable by its expert, and its success test is not met by standing still."""
    runner = EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot))
    assert runner.run(ExpertPolicy(), 100000)["success"]
    assert not runner.run(Push(0.0, 5, let_go=skill in ("slide_open", "place")), 100000)["success"]


def test_cut_needs_sawing_not_just_depth(cfg):
    """Pushing the blade straight down through the block reaches the depth but is not a cut."""

    def straight_down(task, T0, t_s):
        centre = task.T_w_block[:3, 3]
        z = max(task.block_top - 0.02, task.block_top + 0.02 - 0.02 * t_s)
        return task.grasp_for_tip(np.array([centre[0], centre[1], z]))

    runner = EpisodeRunner(cfg.skill["cut"], cfg.sim, robot_spec(cfg.robot))
    out = runner.run(Plunge(straight_down), 100002)
    assert out["depth_m"] >= 0.015 and out["reversals"] == 0 and not out["success"]
    assert runner.run(ExpertPolicy(), 100002)["success"]


@pytest.mark.parametrize("skill", ["hinge_open", "hinge_close", "pour"])
def test_harder_scenes_expert_mostly_succeeds_and_idle_fails(cfg, skill):
    """The door and pour experts are not yet at 95% (see docs/results.md); on four seeds they must
    still win at least two, and holding still must win none."""
    runner = EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot))
    seeds = range(100000, 100004)
    assert sum(runner.run(ExpertPolicy(), s)["success"] for s in seeds) >= 2
    assert not any(runner.run(Push(0.0, 5, let_go=False), s)["success"] for s in seeds)
