"""The constraint grip (vid2skill/physics/grip.py): carried by a robot's end effector or by the world."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import make_cfg
from vid2skill.geometry import axis_angle_R, inv_T, make_T
from vid2skill.ingest.synthetic.staged import skill_definition
from vid2skill.physics.bullet import BulletScene
from vid2skill.physics.grip import Grip
from vid2skill.physics.robot import Robot
from vid2skill.retarget.stage import robot_spec
from vid2skill.scenes import SCENES


def _pose(scene: BulletScene, name: str) -> np.ndarray:
    return make_T(*reversed(scene.base_pose(name)))


def test_a_robot_holds_a_box_while_its_arm_moves_and_drops_it_when_it_lets_go():
    spec = robot_spec(make_cfg(["robot=panda"]).robot)
    with BulletScene() as scene:
        robot = Robot(scene, spec, visual=False)
        pos, R = robot.ee_pose()
        box = scene.create_box("box", [0.02, 0.02, 0.02], pos, [1, 0, 0, 1], mass=0.2)
        robot.attach(box)
        T_ee_box = inv_T(make_T(R, pos)) @ _pose(scene, "box")
        q = robot.joint_positions()
        robot.command_arm(q + np.array([0.6, 0.3, 0.0, -0.2, 0.0, 0.3, 0.0]))
        scene.step(480)
        pos2, R2 = robot.ee_pose()
        assert np.linalg.norm(pos2 - pos) > 0.1  # the arm did move
        # The box kept its pose in the grasp frame, against gravity.
        held = inv_T(make_T(R2, pos2)) @ _pose(scene, "box")
        assert np.linalg.norm(held[:3, 3] - T_ee_box[:3, 3]) < 0.005
        assert np.abs(held[:3, :3] - T_ee_box[:3, :3]).max() < 0.02
        assert robot.holding
        robot.detach()
        assert not robot.holding
        z = scene.base_pose("box")[0][2]
        scene.step(120)
        assert scene.base_pose("box")[0][2] < z - 0.1  # let go, it falls


def test_a_world_grip_carries_a_box_where_it_is_moved_rigidly_or_by_its_grasp_point():
    with BulletScene() as scene:
        for name, rigid, y in (("rigid", True, 0.0), ("loose", False, 0.5)):
            scene.create_box(name, [0.03, 0.03, 0.03], [0.0, y, 0.5], [0, 1, 0, 1], mass=0.2)
            T_grasp = make_T(np.eye(3), np.array([0.0, y, 0.53]))  # on the box's top face
            grip = Grip.to_world(scene.client, scene.body(name), -1, T_grasp, rigid=rigid)
            turn = axis_angle_R([0, 0, 1], 0.5)
            for k in range(1, 121):  # up 0.2 m and turned about z, over half a second
                grip.move(
                    make_T(axis_angle_R([0, 0, 1], 0.5 * k / 120), T_grasp[:3, 3] + [0, 0, 0.2 * k / 120])
                )
                scene.step(1)
            scene.step(60)
            pos, R = scene.base_pose(name)
            # The grasp point followed the grasp frame in both cases.
            grasp_point = pos + R @ np.array([0.0, 0.0, 0.03])
            assert np.linalg.norm(grasp_point - (T_grasp[:3, 3] + [0, 0, 0.2])) < 0.01
            if rigid:  # held rigidly, it turned with the hand; held loosely, it hangs below the point
                assert np.abs(R - turn).max() < 0.02
            assert grip.holding
            grip.release()
            assert not grip.holding
            with pytest.raises(RuntimeError, match="released"):
                grip.move(T_grasp)
            scene.step(120)
            assert scene.base_pose(name)[0][2] < pos[2] - 0.1


def test_a_world_grip_holds_an_in_hand_object_where_it_was_placed():
    cfg = make_cfg([])
    skill = skill_definition(cfg.source, "pour")
    with BulletScene() as scene:
        task = SCENES["pour"](scene, skill, cfg.sim.scenes.pour, np.random.default_rng(3))
        T = task.contact_frame() @ task.grasp_in_contact()
        task.place_in_hand(T)
        before_pos, before_R = scene.base_pose("cup")
        Grip.to_world(scene.client, scene.body("cup"), -1, T, rigid=True)
        scene.step(120)
        after_pos, after_R = scene.base_pose("cup")
        # Held still by the grip: neither dropped nor swung round to the world's orientation.
        assert np.linalg.norm(after_pos - before_pos) < 0.005
        assert np.abs(after_R - before_R).max() < 0.02
        assert task.spheres_in_bowl() == 0


def test_a_grip_carried_by_a_link_is_not_moved_by_hand():
    spec = robot_spec(make_cfg(["robot=panda"]).robot)
    with BulletScene() as scene:
        robot = Robot(scene, spec, visual=False)
        box = scene.create_box("box", [0.02, 0.02, 0.02], robot.ee_pose()[0], [1, 0, 0, 1], mass=0.2)
        grip = Grip.to_link(scene.client, robot.uid, robot.ee, box)
        with pytest.raises(TypeError, match="only a world grip"):
            grip.move(np.eye(4))
