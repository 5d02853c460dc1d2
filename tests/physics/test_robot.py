"""The robot model: IK, rotation error, self-collision, robot specs, other arms, the reused client
(vid2skill/physics/)."""

import numpy as np
import pytest

from tests.helpers import make_cfg
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


def test_a_tracking_solve_whose_step_the_joint_box_bends_still_makes_progress(cfg):
    """A posture met while pushing a drawer shut (seed 300004), 4 cm from the next target: the
    damped-least-squares step is large in the first and last joints, which the seed's +-0.4 rad box
    caps. Clipped joint by joint, every step turned aside and the solve never left the seed, so the
    arm froze mid-push; shortened along its direction, the step closes most of the gap."""
    from scipy.spatial.transform import Rotation

    kin = Kinematics(robot_spec(cfg.robot))
    try:
        q0 = np.array([1.8199, -0.1823, -1.5501, -1.9282, 0.3074, 3.5343, 1.8854])
        target = np.array([0.7222, 0.0792, 0.6677])
        R = Rotation.from_matrix(
            [[0.1519, 0.0, 0.9884], [-0.9884, 0.0, 0.1519], [0.0, -1.0, 0.0]]
        ).as_matrix()
        start = np.linalg.norm(kin.fk(q0)[0] - target)
        assert start > 0.04
        track = dict(q_seed=q0, restart=False, iterations=15, max_deviation_rad=0.4)
        _, err_clipped, _ = kin.ik(target, R, **track)
        q, err, rot_err = kin.ik(target, R, keep_direction=True, **track)
        assert err_clipped > 0.9 * start  # the old step: no progress
        assert err < 0.25 * start and rot_err < 0.02
        assert np.abs(q - q0).max() <= 0.4 + 1e-9
        assert np.all(q >= kin.robot.lower - 1e-9) and np.all(q <= kin.robot.upper + 1e-9)
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
