import json

import numpy as np
import pytest

from vid2skill.errors import ConfigError
from vid2skill.geometry import R_CONTACT_GRASP, make_T
from vid2skill.physics.robot import Kinematics, RobotSpec
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import ExpertPolicy

from conftest import make_cfg


@pytest.fixture(scope="module")
def cfg():
    return make_cfg(["workers=1"])


def test_ik_reaches_within_limits(cfg):
    kin = Kinematics(robot_spec(cfg.robot))
    try:
        R = R_CONTACT_GRASP  # contact x along base +x
        # Handle positions the drawer tasks use (0.4-0.8 m ahead, 0.55-0.66 m high).
        for target in ([0.55, 0.0, 0.6], [0.4, 0.05, 0.58], [0.7, -0.1, 0.62], [0.8, 0.1, 0.6]):
            q, err, rot_err = kin.ik(np.array(target), R)
            assert err < 0.003 and rot_err < 0.03
            assert np.all(q >= kin.robot.lower - 1e-9) and np.all(q <= kin.robot.upper + 1e-9)
        # Out of reach: the best effort stays inside the joint limits and reports its error.
        q, err, _ = kin.ik(np.array([2.0, 0.0, 0.6]), R)
        assert err > 0.5 and np.all(q >= kin.robot.lower - 1e-9) and np.all(q <= kin.robot.upper + 1e-9)
        # Tracking (no restarts) never moves a joint further than the allowed deviation from the seed.
        q0, _, _ = kin.ik(np.array([0.55, 0.0, 0.6]), R)
        q1, _, _ = kin.ik(np.array([0.55, 0.0, 0.2]), R, q_seed=q0, restart=False, max_deviation_rad=0.2)
        assert np.abs(q1 - q0).max() <= 0.2 + 1e-9
    finally:
        kin.close()


def test_robot_spec_rejects_inconsistent_rest_pose():
    with pytest.raises(ConfigError, match="rest_pose"):
        RobotSpec("x", "franka_panda/panda.urdf", "panda_grasptarget", ["a", "b"], [], [], [], [0.0])


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


@pytest.mark.parametrize("skill,dx,expect", [
    ("slide_open", -0.26, True), ("slide_open", 0.0, False), ("slide_close", 0.28, True), ("slide_close", 0.0, False),
])
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


@pytest.mark.parametrize("robot", ["iiwa", "xarm6"])
def test_other_arms_load_with_their_grippers_and_place(robot):
    """The composed arm + gripper URDFs load, IK reaches, and the place expert works on each arm."""
    c = make_cfg([f"robot={robot}"])
    spec = robot_spec(c.robot)
    kin = Kinematics(spec)
    try:
        assert len(kin.robot.fingers) == 2
        R = make_T(R_CONTACT_GRASP, np.zeros(3))[:3, :3]
        _, err, _ = kin.ik(np.array([0.65, 0.0, 0.55]), R)  # a drawer handle 0.65 m ahead
        assert err < 0.003
    finally:
        kin.close()
    assert EpisodeRunner(c.skill["place"], c.sim, spec).run(ExpertPolicy(), 100001)["success"]


def test_same_seed_same_episode(cfg):
    runner = EpisodeRunner(cfg.skill["slide_open"], cfg.sim, robot_spec(cfg.robot))
    a, b = runner.run(Push(-0.2, 10), 5), runner.run(Push(-0.2, 10), 5)
    assert a["opening_m"] == b["opening_m"]


def test_evaluate_expert_command_writes_table_and_is_deterministic(tmp_path):
    from vid2skill.pipeline import run_stage

    cfg = make_cfg([f"workspace={tmp_path}", "policy=expert", "skill=place", "episodes=3", "workers=1", "sim.videos=1"])
    run_stage(cfg, "evaluate")
    out = tmp_path / "eval" / "expert" / "panda"
    first = json.loads((out / "results.json").read_text())
    assert [(r["skill"], r["robot"], r["policy"], r["episodes"]) for r in first] == [("place", "panda", "expert", 3)]
    assert first[0]["successes"] == 3
    assert list((out / "videos").glob("*.mp4")) and list((out / "videos").glob("*.gif"))
    eps = json.loads((out / "episodes.json").read_text())["episodes"]
    assert sorted(e["seed"] for e in eps) == [100000, 100001, 100002]
    cfg.force = True
    run_stage(cfg, "evaluate")
    again = json.loads((out / "episodes.json").read_text())["episodes"]
    key = lambda e: e["seed"]  # noqa: E731
    assert [e["offset_m"] for e in sorted(eps, key=key)] == [e["offset_m"] for e in sorted(again, key=key)]
