import json

import numpy as np
import pytest
from conftest import make_cfg

from vid2skill.errors import ConfigError
from vid2skill.geometry import R_CONTACT_GRASP, make_T
from vid2skill.physics.robot import Kinematics, RobotSpec
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import ExpertPolicy


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


@pytest.mark.parametrize("angle", [0.0, 0.4, 2.5, np.pi])
def test_rotation_error_is_exact_up_to_a_half_turn(angle):
    """A gripper turned upside down must not look converged (the skew part alone vanishes at 180 deg)."""
    from vid2skill.geometry import axis_angle_R
    from vid2skill.physics.robot import rotation_error

    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    err = rotation_error(axis_angle_R(axis, angle))
    assert np.linalg.norm(err) == pytest.approx(angle, abs=1e-6)
    if angle > 0:
        assert abs(abs(err @ axis) - angle) < 1e-6


def test_self_collision_check_and_the_retarget_report(cfg):
    """The rest posture is free; folding the elbow shut with the wrist straight drives the hand
    into the upper arm, and the retarget report counts such steps per clip."""
    from vid2skill.retarget.demos import RobotDemo, demo_report

    kin = Kinematics(robot_spec(cfg.robot))
    try:
        assert kin.self_collisions(kin.spec.rest_pose) == []
        folded = [0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0]
        assert any("panda_hand" in pair for pair in kin.self_collisions(folded))
        q = np.array([kin.spec.rest_pose, folded, folded])
        demo = RobotDemo("c", np.zeros((3, 3)), np.ones(3, bool), q, np.zeros(3))
        (rec,) = demo_report([demo], kin.robot.lower, kin.robot.upper, 0.01, kin)["clips"]
        assert rec["self_collision_steps"] == 2 and "panda_link1/panda_hand" in rec["self_collision_links"]
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

    cfg = make_cfg(
        [f"workspace={tmp_path}", "policy=expert", "skill=place", "episodes=3", "workers=1", "sim.videos=1"]
    )
    run_stage(cfg, "evaluate")
    out = tmp_path / "eval" / "expert" / "panda"
    first = json.loads((out / "results.json").read_text())
    assert [(r["skill"], r["robot"], r["policy"], r["episodes"]) for r in first] == [
        ("place", "panda", "expert", 3)
    ]
    assert first[0]["successes"] == 3
    assert list((out / "videos").glob("*.mp4")) and list((out / "videos").glob("*.gif"))
    eps = json.loads((out / "episodes.json").read_text())["episodes"]
    assert sorted(e["seed"] for e in eps) == [100000, 100001, 100002]
    cfg.force = True
    run_stage(cfg, "evaluate")
    again = json.loads((out / "episodes.json").read_text())["episodes"]
    key = lambda e: e["seed"]  # noqa: E731
    assert [e["offset_m"] for e in sorted(eps, key=key)] == [e["offset_m"] for e in sorted(again, key=key)]


def test_reused_client_steps_exactly_as_a_fresh_one(cfg):
    """Closed DIRECT clients are reset and reused: an episode's end state must not depend on what
    the process simulated before (evaluation workers take episodes in any order)."""
    import pybullet as p

    from vid2skill.physics.bullet import BulletScene

    def final_state(skill, seed):
        states = []
        original_close = BulletScene.close

        def recording_close(self):
            if self.client is not None:
                c = self.client
                for i in range(p.getNumBodies(physicsClientId=c)):
                    uid = p.getBodyUniqueId(i, physicsClientId=c)
                    states.append(p.getBasePositionAndOrientation(uid, physicsClientId=c))
                    states.extend(
                        p.getJointState(uid, j, physicsClientId=c)[:2]
                        for j in range(p.getNumJoints(uid, physicsClientId=c))
                    )
            original_close(self)

        BulletScene.close = recording_close
        try:
            EpisodeRunner(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot)).run(ExpertPolicy(), seed)
        finally:
            BulletScene.close = original_close
        return states

    first = final_state("slide_open", 100003)
    final_state("place", 100001)  # a different scene in between, on the same reused client
    assert BulletScene._idle, "closed DIRECT clients are kept for reuse"
    assert final_state("slide_open", 100003) == first  # bit for bit


class Plunge:
    """Lowers a held tool straight down by ``dz`` (no sawing, no stirring)."""

    def __init__(self, target_fn):
        self.target_fn = target_fn

    def reset(self, task, T0):
        self.task, self.T0 = task, T0

    def act(self, obs):
        return self.target_fn(self.task, self.T0, obs["t_s"]), True


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


def test_replay_executes_a_demo_open_loop(cfg):
    from vid2skill.retarget.demos import RobotDemo
    from vid2skill.sim.policies import ReplayPolicy

    T = 25
    pull = np.zeros((T, 3))
    pull[:, 0] = np.linspace(0, -0.26, T)  # pull the handle 26 cm out, along -x of the contact frame
    closed = np.ones(T, bool)
    closed[-3:] = False
    demo = RobotDemo("pull", pull, closed, np.zeros((T, 7)), np.zeros(T))
    runner = EpisodeRunner(cfg.skill["slide_open"], cfg.sim, robot_spec(cfg.robot))
    out = runner.run(ReplayPolicy(demo), 100003)
    assert out["success"] and out["released_at"] == T - 3
    still = RobotDemo("still", np.zeros((T, 3)), closed, np.zeros((T, 7)), np.zeros(T))
    assert not runner.run(ReplayPolicy(still), 100003)["success"]


def test_replay_of_a_pick_keeps_holding_after_the_demo_lets_go(cfg):
    """A pick is judged while holding: a demo that lifts and then opens the hand (as a person's does
    at the end of a video) is replayed holding the last pose, not dropping the object."""
    from vid2skill.retarget.demos import RobotDemo
    from vid2skill.sim.policies import ReplayPolicy

    T = 15
    lift = np.zeros((T, 3))
    lift[:, 0] = np.linspace(0, -0.15, T)  # up: -x of the pick's contact frame
    closed = np.ones(T, bool)
    closed[-2:] = False
    demo = RobotDemo("lift", lift, closed, np.zeros((T, 7)), np.zeros(T))
    out = EpisodeRunner(cfg.skill["pick"], cfg.sim, robot_spec(cfg.robot)).run(ReplayPolicy(demo), 100002)
    assert out["released_at"] is None and out["held_s"] >= 1.0 and out["success"]


def test_evaluate_replay_without_demos_says_what_to_run(tmp_path):
    from vid2skill.errors import ArtifactError
    from vid2skill.sim.evaluate import evaluate

    cfg = make_cfg([f"workspace={tmp_path}", "policy=replay", "skill=slide_open", "episodes=1", "workers=1"])
    with pytest.raises(ArtifactError, match="vid2skill retarget"):
        evaluate(cfg, tmp_path)


def test_replay_turns_the_gripper_as_the_demo_does(cfg):
    """Record the pour expert's commands as a demo (positions and rotations since the grasp): replayed
    open-loop on the same scene it pours; with the rotations dropped the cup never tips."""
    from scipy.spatial.transform import Rotation

    from vid2skill.retarget.demos import RobotDemo
    from vid2skill.sim.policies import ReplayPolicy

    class Recorder(ExpertPolicy):
        def reset(self, task, T_contact_start):
            super().reset(task, T_contact_start)
            self.T0, self.log = T_contact_start, []

        def act(self, obs):
            T, keep = super().act(obs)
            self.log.append(T)
            return T, keep

    runner = EpisodeRunner(cfg.skill["pour"], cfg.sim, robot_spec(cfg.robot))
    seed = 100001
    rec = Recorder()
    assert runner.run(rec, seed)["success"]
    Ts = np.stack(rec.log)
    pos = Ts[:, :3, 3] - rec.T0[:3, 3]
    rotvec = Rotation.from_matrix(Ts[:, :3, :3] @ rec.T0[:3, :3].T).as_rotvec()
    n = len(Ts)
    demo = RobotDemo("pour", pos, np.ones(n, bool), np.zeros((n, 7)), np.zeros(n), rotvec)
    assert np.degrees(np.linalg.norm(rotvec[-1])) > 90
    assert runner.run(ReplayPolicy(demo), seed)["success"]
    flat = RobotDemo("pour", pos, np.ones(n, bool), np.zeros((n, 7)), np.zeros(n))
    assert runner.run(ReplayPolicy(flat), seed)["spheres_in_bowl"] == 0
