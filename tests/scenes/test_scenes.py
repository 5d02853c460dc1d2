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


def test_a_turned_duck_is_grasped_across_its_narrow_top_where_its_box_outgrows_the_jaws(cfg):
    """In this pick scene the duck lies turned: its world-aligned box is wider than the Panda's
    jaws open (8 cm) along either axis, and the box's centre lies over the duck's back, below its
    head. The grasp reads the duck's top with rays: the jaws close across the narrow part within
    the grasp depth of its top, and a plain 20-cm lift holds it up."""
    import pybullet as p

    from vid2skill.retarget.primitives import SkillMotion
    from vid2skill.sim.env import SkillEnv
    from vid2skill.sim.policies import MotionReplayPolicy

    seed = 100001
    env = SkillEnv(cfg.skill["pick"], cfg.sim, robot_spec(cfg.robot))
    try:
        env.reset(seed=seed)
        task = env.task
        assert task.object_path == "duck_vhacd.urdf"
        uid = env.scene.body("object")
        lo, hi = (np.array(v) for v in p.getAABB(uid, physicsClientId=env.scene.client))
        assert min(hi[:2] - lo[:2]) > 0.08  # the box's narrower side would not fit the open jaws
        jaws = task.contact_frame()[:3, 2]
        assert abs(jaws[2]) < 1e-9 and max(abs(jaws[:2])) < 0.99  # horizontal, off the world's axes
        assert env.grasp_error < 0.01
    finally:
        env.close()
    lift = SkillMotion("lift", 1.0, {"lift_m": 0.2}, {"s": np.linspace(0.0, 1.0, 30)}, "rise")
    out = EpisodeRunner(cfg.skill["pick"], cfg.sim, robot_spec(cfg.robot)).run(MotionReplayPolicy(lift), seed)
    assert out["success"] and out["max_lift_m"] > 0.15, out


def test_a_top_grasp_closes_across_a_turned_bars_short_side_at_its_middle():
    """A 12 x 4 x 6 cm bar turned 30 degrees about the vertical: its world-aligned box is 12.4 by
    9.5 cm, but the jaws close across its 4-cm side, at its middle, 2 cm below its top."""
    from vid2skill.geometry import rot_z
    from vid2skill.physics.bullet import BulletScene
    from vid2skill.scenes.pick import top_grasp

    with BulletScene() as scene:
        centre = np.array([0.5, 0.1, 0.03])
        scene.create_box("bar", [0.06, 0.02, 0.03], centre, (1, 0, 0, 1))
        scene.set_pose("bar", centre, rot_z(np.radians(30)))
        grasp, jaws = top_grasp(scene, "bar", depth_m=0.02)
        short_side = rot_z(np.radians(30)) @ np.array([0.0, 1.0, 0.0])
        assert abs(abs(jaws @ short_side) - 1.0) < 0.02 and abs(jaws[2]) < 1e-9
        assert np.allclose(grasp[:2], centre[:2], atol=0.005)
        assert abs(grasp[2] - (centre[2] + 0.03 - 0.02)) < 0.002


def test_the_stir_expert_labels_a_lagging_stirrer_along_the_circle_and_waits_for_its_turns(cfg):
    """DAgger asks the expert about the learner's states. Once the spoon is in the pot, a learner
    that stops still gets a target one step's turn on from where it is, and the expert calls for
    the lift only after the learner's own turns (a clock ran on, pointed across the circle and
    lifted after 1.4 turns of time)."""
    from vid2skill.sim.env import SkillEnv

    env = SkillEnv(cfg.skill["stir"], cfg.sim, robot_spec(cfg.robot))
    try:
        env.reset(seed=100003)
        task, T = env.task, env.T_cmd.copy()
        t = 0.0
        while task._phase != "stir":
            T, _ = task.expert(t, T)
            t += env.dt
        centre, e = task.pot_centre, cfg.skill["stir"].expert
        step = 2 * np.pi / e.period_s * env.dt

        def angle(T_cmd):
            d = task.tip_for_grasp(T_cmd) - centre
            return float(np.arctan2(d[1], d[0]))

        stuck = T
        for _ in range(200):  # a learner that no longer moves
            target, _ = task.expert(t, stuck)
            t += env.dt
            ahead = (angle(target) - angle(stuck) + np.pi) % (2 * np.pi) - np.pi
            assert abs(ahead - step) < 0.02 and task._phase == "stir"
        for _ in range(int(np.ceil(e.turns * 2 * np.pi / step)) + 2):  # one that follows
            stuck, _ = task.expert(t, stuck)
            t += env.dt
        assert task._phase == "lift"
    finally:
        env.close()


def _in_scene(cfg, skill: str, seed: int):
    from vid2skill.sim.env import SkillEnv

    env = SkillEnv(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot))
    env.reset(seed=seed)
    return env


def test_the_stir_expert_labels_a_spoon_put_straight_into_the_pot_with_stirring(cfg):
    """A learner that lowered the spoon into the pot away from the expert's ring (never over it,
    above the rim) is told to stir from where it is and sink to the stirring depth; the expert
    used to tell it, for the whole episode, to go back to the ring above the rim."""
    env = _in_scene(cfg, "stir", 100004)
    try:
        task, e = env.task, cfg.skill["stir"].expert
        centre, rho = task.pot_centre, e.radius_frac * task.pot.radius
        # the head at 0.8 of the pot's radius, just below the rim: off the ring, above the depth
        tip = centre + np.array([0.0, 0.8 * task.pot.radius, 0.9 * task.pot.height])
        T = task.grasp_for_tip(tip)
        target, keep = task.expert(0.0, T)
        nxt = task.tip_for_grasp(target) - centre
        assert keep and task._phase == "stir"
        turn = np.arctan2(nxt[1], nxt[0]) - np.pi / 2
        assert abs(turn - 2 * np.pi / e.period_s * env.dt) < 1e-6
        assert abs(np.hypot(nxt[0], nxt[1]) - rho) < 1e-6 and nxt[2] < tip[2] - centre[2]
        # the same head outside the pot, level with its middle: first up over the ring
        out = centre + np.array([0.0, 1.5 * task.pot.radius, 0.5 * task.pot.height])
        target, _ = task.expert(0.1, task.grasp_for_tip(out))
        assert task._phase == "approach" and task.tip_for_grasp(target)[2] > out[2]
    finally:
        env.close()


def test_the_cut_expert_saws_on_from_an_edge_already_in_the_block(cfg):
    """A learner whose edge is in the block off the expert's waypoint (1.5 cm along the blade,
    1 cm down) is told to saw on from there: the labels, followed, sink to the expert's depth and
    stroke both ways about the block's centre, where the expert used to send the edge back up to
    its waypoint and start its clock there."""
    env = _in_scene(cfg, "cut", 100005)
    try:
        task, e = env.task, cfg.skill["cut"].expert
        centre, axis = task.T_w_block[:3, 3], task._T_wc[:3, 0]
        tip = np.array([centre[0], centre[1], task.block_top - 0.01]) + 0.015 * axis
        T, along, zs = task.grasp_for_tip(tip), [], []
        for k in range(int(4 * e.period_s / env.dt)):
            T, keep = task.expert(k * env.dt, T)
            assert keep and task._phase == "saw"
            p = task.tip_for_grasp(T)
            along.append(float(axis[:2] @ (p - centre)[:2])), zs.append(p[2])
        assert min(zs) == pytest.approx(task.block_top - e.depth_m, abs=1e-6)
        assert all(b <= a + 1e-9 for a, b in zip(zs, zs[1:]))  # never back up
        assert max(along) > 0.9 * e.stroke_m and min(along) < -0.9 * e.stroke_m
        reversals = np.count_nonzero(np.diff(np.sign(np.diff(along))) != 0)
        assert reversals >= 6  # four strokes there and back
    finally:
        env.close()


def test_the_pour_expert_rolls_on_from_the_learners_own_tilt(cfg):
    """The pour expert reads the command's roll from its pose: a cup over the bowl already rolled
    40 degrees is rolled on from 40, and one rolled 40 degrees on the way is carried on with its
    roll kept (the expert used to keep a cup that had not passed through its upright waypoint
    moving towards it, unrolled, for the whole episode)."""
    env = _in_scene(cfg, "pour", 100006)
    try:
        task, e = env.task, cfg.skill["pour"].expert
        pre, r40 = task._prepour_cup(), np.radians(40.0)
        there = task._tilted(pre, r40)
        assert task._roll_of(there) == pytest.approx(r40, abs=1e-6)
        target, _ = task.expert(0.0, there)
        assert task._phase == "tilt"
        assert task._roll_of(target) == pytest.approx(r40 + np.radians(e.tilt_speed_deg_s) * env.dt, abs=1e-6)
        away = there.copy()
        away[:3, 3] -= np.array([0.05, 0.0, 0.0])
        target, _ = task.expert(0.1, away)
        assert task._phase == "move" and task._roll_of(target) == pytest.approx(r40, abs=1e-6)
        step = np.linalg.norm(target[:3, 3] - away[:3, 3])
        assert step == pytest.approx(e.speed_m_s * env.dt, rel=1e-6)
        assert np.linalg.norm(target[:3, 3] - there[:3, 3]) < np.linalg.norm(away[:3, 3] - there[:3, 3])
        for deg in (150.0, 200.0):  # rolled past the expert's top (200 reads as -160): poured, held
            over = task._tilted(pre, np.radians(deg))
            target, _ = task.expert(0.2, over)
            assert np.allclose(target, over)
    finally:
        env.close()


@pytest.mark.parametrize("seed", [100007, 100008])  # hinge on either side across seeds
def test_the_door_expert_swings_on_from_the_learners_own_angle(cfg, seed):
    """The door expert reads the command's angle on the handle's arc: a command 20 degrees ahead of
    a shut door waits there (it used to be pulled back to the expert's own record of the swing,
    which taught a learner that ran ahead to stop), and one 10 degrees behind an open door is
    brought on from there at the expert's pace."""
    env = _in_scene(cfg, "hinge_open", seed)
    try:
        task, e = env.task, cfg.skill["hinge_open"].expert
        for deg in (-5.0, 0.0, 30.0, 75.0):
            a = np.radians(deg)
            assert task.angle_of(task.grasp_at_angle(a)[:3, 3]) == pytest.approx(a, abs=1e-6)
        assert task.angle() == pytest.approx(0.0, abs=1e-3)
        ahead = task.grasp_at_angle(np.radians(20.0))
        target, keep = task.expert(0.0, ahead)
        assert keep and np.allclose(target, ahead, atol=1e-9)
        task.scene.set_joint_position("cabinet", 0, np.radians(30.0))
        behind = task.grasp_at_angle(np.radians(20.0))
        target, keep = task.expert(0.1, behind)
        step = np.radians(e.speed_deg_s) * env.dt
        assert keep and task.angle_of(target[:3, 3]) == pytest.approx(np.radians(20.0) + step, abs=1e-6)
        task.scene.set_joint_position("cabinet", 0, np.radians(e.goal_angle_deg))
        assert not task.expert(0.2, task.grasp_at_angle(np.radians(e.goal_angle_deg)))[1]  # there: let go
        past = task.grasp_at_angle(np.radians(e.goal_angle_deg + 10.0))  # swung past the goal: held
        assert np.allclose(task.expert(0.3, past)[0], past, atol=1e-9)
    finally:
        env.close()


def test_the_knife_starts_on_the_near_side_of_the_block_where_the_xarm6_reaches_it():
    """In these four scenes the knife used to start beyond the block (straight away from the
    robot), out of the xArm6's top-down reach: its grasp ended 6-14 cm off and no stroke was
    sawn. The start now lies on a side or the near side, and the arm holds the knife there."""
    from vid2skill.sim.env import SkillEnv

    cfg = make_cfg(["workers=1", "robot=xarm6"])
    lo, _ = cfg.sim.scenes.cut.start_heading_deg
    for seed in (3700002, 3700004, 3700006, 3700012):  # four of the old draw's unreachable starts
        env = SkillEnv(cfg.skill["cut"], cfg.sim, robot_spec(cfg.robot))
        try:
            env.reset(seed=seed)
            away = env.task._T_wc[:2, 3] - env.task.T_w_block[:2, 3]
            assert np.degrees(abs(np.arctan2(away[1], away[0]))) >= lo - 1e-6
            assert env.grasp_error < 0.01, (seed, env.grasp_error)
        finally:
            env.close()


def test_a_drawer_pushed_past_its_stop_stays_shut_when_let_go(cfg):
    """An arm that pushes a drawer shut presses it a fraction of a millimetre past its stop; the
    stop's correction then knocks it outwards. The joint's dry friction (declared in its URDF,
    applied by ``Scene.free_joint``) stops it where it is: without it, the drawer glided 7 mm in the
    half second before success is judged (11 mm in the demo episode that failed, seed 100027), and
    one knocked at 3 cm/s glided 9 mm."""
    import pybullet as p

    env = _in_scene(cfg, "slide_close", 100027)
    try:
        env.robot.detach()
        env.robot.gripper(open_=True)
        scene = env.task.scene
        cabinet = scene.body("cabinet")
        for start, speed, most in ((-0.0005, 0.0, 0.001), (0.05, 0.03, 0.052)):
            p.resetJointState(cabinet, 0, start, targetVelocity=speed, physicsClientId=scene.client)
            scene.step(cfg.sim.release_settle_steps)
            assert scene.joint_position("cabinet", 0) < most, (start, speed)
        assert env.task.spec.travel > 0.06  # the glide above stayed inside the drawer's travel
    finally:
        env.close()


def test_the_oracle_reach_leaves_the_door_where_the_scene_put_it(cfg):
    """In this scene the Panda's reach from its rest posture swung into the door and knocked it from
    51 to 100 degrees open before the grasp; the gripper closed on the air where the handle had been,
    and even the expert, whose command was then 50 degrees ahead of the door, waited out the
    episode. The door's joint is held during the oracle reach (``SkillScene.articulation``)."""
    from vid2skill.sim.policies import ExpertPolicy

    env = _in_scene(cfg, "hinge_close", 300005)
    try:
        assert env.task.angle() == pytest.approx(env.task.start_angle, abs=np.radians(0.5))
        assert env.grasp_error < 0.01
    finally:
        env.close()
    runner = EpisodeRunner(cfg.skill["hinge_close"], cfg.sim, robot_spec(cfg.robot))
    assert runner.run(ExpertPolicy(), 300005)["success"]
