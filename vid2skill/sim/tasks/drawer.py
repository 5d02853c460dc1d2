"""Drawer scenes for slide_open and slide_close: the scene, its randomisation and its success test.

Success (thresholds from ``conf/skill/*.yaml``, measured on the drawer joint, after CALVIN's
drawer tasks and this project's issue #5):
  * slide_open: opened by at least ``min_opening_m`` or ``min_opening_frac`` of its travel.
  * slide_close: starts open; ends within ``max_opening_m`` of closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p

from vid2skill.geometry import make_T, rot_z
from vid2skill.physics.bullet import BulletScene
from vid2skill.physics.objects import DrawerSpec, drawer_urdf, write_urdf


@dataclass(frozen=True)
class DrawerEpisode:
    """The randomised parameters of one episode."""

    spec: DrawerSpec
    cabinet_position: np.ndarray  # (3,) world
    cabinet_yaw: float  # rad; the front faces -x (towards the robot) at yaw = pi
    start_opening_m: float
    robot_base: np.ndarray  # (3,)


class DrawerTask:
    """A cabinet with one drawer in front of the robot."""

    def __init__(self, scene: BulletScene, skill_cfg, rand_cfg, rng: np.random.Generator):
        self.scene = scene
        self.skill = skill_cfg
        self.episode = self._sample(rand_cfg, rng)
        self._create_scene()

    def _sample(self, r, rng) -> DrawerEpisode:
        u = lambda b: float(rng.uniform(*b))  # noqa: E731
        handle_h, front_h = u(r.handle_height_m), u(r.front_height_m)
        spec = DrawerSpec(width=u(r.width_m), height=front_h, depth=u(r.depth_m), plinth=handle_h - front_h / 2, travel=u(r.travel_m))
        start = u(self.skill.start_opening_m) if self.skill.start_opening_m else 0.0
        start = min(start, spec.travel)
        position = np.array([u(r.distance_m), u(r.lateral_m), 0.0])
        base = np.array([u(r.robot_base_offset_m), u(r.robot_base_offset_m), 0.0])
        return DrawerEpisode(spec, position, np.pi + np.radians(u(r.yaw_deg)), start, base)

    def _create_scene(self) -> None:
        e = self.episode
        self.scene.load_urdf("floor", "plane.urdf")
        cab = self.scene.load_urdf("cabinet", write_urdf(drawer_urdf(e.spec)), e.cabinet_position, rot_z(e.cabinet_yaw))
        cid = self.scene.client
        p.changeDynamics(cab, 0, lateralFriction=1.0, physicsClientId=cid)
        p.setJointMotorControl2(cab, 0, p.VELOCITY_CONTROL, force=0, physicsClientId=cid)
        self.scene.set_joint_position("cabinet", 0, e.start_opening_m)

    def opening(self) -> float:
        return self.scene.joint_position("cabinet", 0)

    def contact_frame(self) -> np.ndarray:
        """T_world_contact at the handle: origin at the bar's centre, x into the drawer, z up."""
        pos, R = self.scene.link_pose("cabinet", 0)
        handle = pos + R @ self.episode.spec.handle_in_drawer()
        x = -R[:, 0]
        z = np.array([0.0, 0.0, 1.0])
        return make_T(np.stack([x, np.cross(z, x), z], axis=1), handle)

    def is_success(self) -> bool:
        q = self.opening()
        s = self.skill.success
        if self.skill.name == "slide_open":
            return q >= min(s.min_opening_m, s.min_opening_frac * self.episode.spec.travel)
        return q <= s.max_opening_m

    def progress(self) -> dict:
        return {"opening_m": round(self.opening(), 4), "start_opening_m": round(self.episode.start_opening_m, 4)}
