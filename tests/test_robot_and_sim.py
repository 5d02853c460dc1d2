import numpy as np
import pytest

from vid2skill.errors import ConfigError
from vid2skill.physics.robot import Kinematics, RobotSpec
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.rollout import Rollout

from conftest import make_cfg


@pytest.fixture(scope="module")
def cfg():
    return make_cfg(["workers=1"])


def test_ik_reaches_within_limits(cfg):
    kin = Kinematics(robot_spec(cfg.robot))
    try:
        R = np.array(cfg.robot.grasp_R_contact, dtype=float)  # contact x along base +x
        # Handle positions the drawer tasks use (0.4-0.8 m ahead, 0.55-0.66 m high).
        for target in ([0.55, 0.0, 0.6], [0.4, 0.05, 0.58], [0.7, -0.1, 0.62], [0.8, 0.1, 0.6]):
            q, err, rot_err = kin.ik(np.array(target), R)
            assert err < 0.003 and rot_err < 0.03
            assert np.all(q >= kin.robot.lower - 1e-9) and np.all(q <= kin.robot.upper + 1e-9)
        # Out of reach: the best effort stays inside the joint limits and reports its error.
        q, err, _ = kin.ik(np.array([2.0, 0.0, 0.6]), R)
        assert err > 0.5 and np.all(q >= kin.robot.lower - 1e-9) and np.all(q <= kin.robot.upper + 1e-9)
    finally:
        kin.close()


def test_robot_spec_rejects_inconsistent_rest_pose():
    with pytest.raises(ConfigError, match="rest_pose"):
        RobotSpec("x", "franka_panda/panda.urdf", "panda_grasptarget", ["a", "b"], [], [], [], [0.0])


def _scripted(pull_m: float, steps: int):
    """A scripted expert in the contact frame: move pull_m along -x (or +x), then let go."""
    state = {"t": 0}

    def policy(obs):
        target_contact = obs[:3]
        state["t"] += 1
        if state["t"] > steps:
            return np.zeros(3), False
        goal = -pull_m * state["t"] / steps
        return np.array([goal - target_contact[0], -target_contact[1], -target_contact[2]]), True
    return policy


@pytest.mark.parametrize("skill,pull,expect", [
    ("slide_open", 0.26, True), ("slide_open", 0.0, False), ("slide_close", -0.28, True), ("slide_close", 0.0, False),
])
def test_drawer_success_criterion_with_scripted_expert(cfg, skill, pull, expect):
    roll = Rollout(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot), np.array(cfg.robot.grasp_R_contact, float))
    results = [roll.run(_scripted(pull, 12), seed) for seed in (11, 12)]
    assert [r["success"] for r in results] == [expect, expect], results
    assert all(r["grasp_error_m"] < 0.01 for r in results)


def test_same_seed_same_episode(cfg):
    roll = Rollout(cfg.skill["slide_open"], cfg.sim, robot_spec(cfg.robot), np.array(cfg.robot.grasp_R_contact, float))
    a, b = roll.run(_scripted(0.2, 10), 5), roll.run(_scripted(0.2, 10), 5)
    assert a["opening_m"] == b["opening_m"]
