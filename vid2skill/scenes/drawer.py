"""Drawer scenes for slide_open and slide_close: the scene, its randomisation, its success test and
its scripted expert.

Success (thresholds in ``conf/skill/slide_*.yaml``, measured on the drawer joint, after CALVIN's
drawer tasks and issue #5):
  * slide_open: opened by at least ``min_opening_m`` or ``min_opening_frac`` of its travel.
  * slide_close: starts open; ends within ``max_opening_m`` of closed.
Contact frame: origin at the handle bar's centre, x into the drawer, z up.
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vid2skill.geometry import frame_from_x_and_up, make_T, rot_z
from vid2skill.physics.objects import DrawerSpec, drawer_urdf, write_urdf
from vid2skill.scenes.base import SkillScene, register, step_towards


@register("drawer")
class DrawerScene(SkillScene):
    """A cabinet with one drawer in front of the robot."""

    held_body, held_link = "cabinet", 0
    articulation = ("cabinet", 0)

    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        u = self.uniform
        handle_h, front_h = u("handle_height_m"), u("front_height_m")
        self.spec = DrawerSpec(
            width=u("width_m"),
            height=front_h,
            depth=u("depth_m"),
            plinth=handle_h - front_h / 2,
            travel=u("travel_m"),
        )
        start = float(rng.uniform(*skill_cfg.start_opening_m)) if skill_cfg.start_opening_m else 0.0
        self.start_opening_m = min(start, self.spec.travel)
        self.cabinet_position = np.array([u("distance_m"), u("lateral_m"), 0.0])
        self.cabinet_yaw = np.pi + np.radians(u("yaw_deg"))  # the front faces -x (the robot) at yaw = pi
        self.robot_base = np.array([u("robot_base_offset_m"), u("robot_base_offset_m"), 0.0])
        cab = scene.load_urdf(
            "cabinet", write_urdf(drawer_urdf(self.spec)), self.cabinet_position, rot_z(self.cabinet_yaw)
        )
        cid = scene.client
        p.changeDynamics(cab, 0, lateralFriction=1.0, physicsClientId=cid)
        scene.free_joint(*self.articulation)
        scene.set_joint_position("cabinet", 0, self.start_opening_m)
        scene.load_urdf("floor", "plane.urdf")
        self._T_wc = self._handle_frame()

    def _handle_frame(self) -> np.ndarray:
        pos, R = self.scene.link_pose("cabinet", 0)
        return frame_from_x_and_up(-R[:, 0], pos + R @ self.spec.handle_in_drawer())

    def opening(self) -> float:
        return self.scene.joint_position("cabinet", 0)

    def is_success(self) -> bool:
        q, s = self.opening(), self.success_cfg
        if self.skill.sense == "open":
            return q >= min(s.min_opening_m, s.min_opening_frac * self.spec.travel)
        return q <= s.max_opening_m

    def progress(self) -> dict:
        return {"opening_m": round(self.opening(), 4), "start_opening_m": round(self.start_opening_m, 4)}

    def grasp_at_opening(self, opening_m: float) -> np.ndarray:
        """T_contact_grasp holding the handle with the drawer open by ``opening_m`` (0: shut)."""
        return make_T(self.R_contact_grasp, np.array([self.start_opening_m - opening_m, 0.0, 0.0]))

    def primitive(self, motion, t_s):
        """Slide along the drawer's axis at the human's pace, then let go. Opening goes the human's
        travel (how far to open is the demonstration's choice; the drawer's outer stop bounds it);
        closing goes to shut (``primitive.past_stop_m`` past it, where the stop holds the drawer),
        the task's one end state, as a placing goes to its region: the human's travel, measured
        from a monocular path, says how far *that* drawer was open, not this one."""
        u = t_s / motion.duration_s
        s = motion.at("s", u)
        if self.skill.sense == "open":
            x = -min(motion.values["travel_m"] * s, self.spec.travel - self.start_opening_m)
        else:
            x = (self.start_opening_m + self.skill.primitive.past_stop_m) * s
        return make_T(self.R_contact_grasp, np.array([x, 0.0, 0.0])), u < 1.0

    def expert(self, t_s, T_contact_cmd):
        """Pull (or push) along the drawer's axis at ``expert.speed_m_s`` until the goal opening, then let
        go; a drawer pulled (or pushed) past the goal is let go of there, not brought back."""
        e = self.skill.expert
        goal = e.goal_opening_frac * self.spec.travel if self.skill.sense == "open" else -e.overshoot_m
        sense = 1.0 if self.skill.sense == "open" else -1.0
        done = sense * (self.opening() - max(goal, 0.0)) > -e.tolerance_m  # there, or past it
        cmd = T_contact_cmd[:3, 3]
        cmd_opening = self.start_opening_m - cmd[0]
        there = sense * (cmd_opening - goal) >= 0.0  # the command as far as the goal, or past it
        aim = self.grasp_at_opening(cmd_opening if there else goal)[:3, 3]
        pos = step_towards(cmd, aim, e.speed_m_s * self.dt)
        return make_T(self.R_contact_grasp, pos), not done
