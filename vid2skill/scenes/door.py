"""Cabinet-door scenes for hinge_open and hinge_close: scene, randomisation, success test, expert.

Success (``conf/skill/hinge_*.yaml``, measured on the hinge joint):
  * hinge_open: the door ends opened by at least ``min_angle_deg`` (60 deg).
  * hinge_close: starts open; ends within ``max_angle_deg`` (5 deg) of closed.
Contact frame: origin at the handle bar's centre, x into the door's face, z up (the hinge axis).
"""

from __future__ import annotations

import numpy as np

from vid2skill.geometry import inv_T, make_T, rot_z
from vid2skill.physics.objects import DoorSpec, door_urdf, write_urdf
from vid2skill.scenes.base import SkillScene, register

# The handle's contact frame in the door link frame: x into the door (the link's -x), z up.
_R_DOOR_CONTACT = np.diag([-1.0, -1.0, 1.0])


@register("door")
class DoorScene(SkillScene):
    """A cabinet with a hinged door in front of the robot, hinge on a random side.

    The handle turns in the grip (``rigid_grasp = False``), as a bar does in a loose human hand, so
    the gripper need not turn through the door's whole swing.
    """

    rigid_grasp = False
    held_body, held_link = "cabinet", 0
    articulation = ("cabinet", 0)

    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        u = self.uniform
        self.spec = DoorSpec(
            width=u("width_m"),
            height=u("height_m"),
            depth=u("depth_m"),
            bottom=u("bottom_m"),
            hinge_side=int(rng.choice([-1, 1])),
        )
        start = np.radians(rng.uniform(*skill_cfg.start_angle_deg)) if skill_cfg.start_angle_deg else 0.0
        self.start_angle = float(start)
        # Centre the door's handle roughly in front of the robot: shift the cabinet towards the hinge side.
        lateral = u("lateral_m") + self.spec.hinge_side * self.spec.width * 0.35
        self.cabinet_position = np.array([u("distance_m"), lateral, 0.0])
        self.cabinet_yaw = np.pi + np.radians(u("yaw_deg"))
        self.robot_base = np.array([u("robot_base_offset_m"), u("robot_base_offset_m"), 0.0])
        scene.load_urdf(
            "cabinet", write_urdf(door_urdf(self.spec)), self.cabinet_position, rot_z(self.cabinet_yaw)
        )
        scene.free_joint(*self.articulation)
        scene.set_joint_position("cabinet", 0, self.start_angle)
        scene.load_urdf("floor", "plane.urdf")
        self._T_w_door0 = make_T(rot_z(self.cabinet_yaw), self.cabinet_position) @ make_T(
            np.eye(3), self.spec.hinge_in_cabinet()
        )
        self._T_wc = self.handle_frame(self.start_angle)
        # The handle's arc in the contact frame (fixed for the scene), for ``angle_of``: the hinge's
        # point, the handle's shut bearing from it, and which way opening turns that bearing.
        T_cw = inv_T(self._T_wc)
        self._hinge_xy = (T_cw @ self._T_w_door0)[:2, 3]
        self._shut_xy = (T_cw @ self.handle_frame(0.0))[:2, 3] - self._hinge_xy
        ajar = (T_cw @ self.handle_frame(0.1))[:2, 3] - self._hinge_xy
        self._opening_turn = float(np.sign(self._shut_xy[0] * ajar[1] - self._shut_xy[1] * ajar[0]))

    def angle(self) -> float:
        return self.scene.joint_position("cabinet", 0)

    def handle_frame(self, angle: float) -> np.ndarray:
        """T_world_handle with the door at ``angle`` (rad): x into the door, z up."""
        axis = 1.0 if self.spec.hinge_side > 0 else -1.0
        return (
            self._T_w_door0
            @ make_T(rot_z(axis * angle), np.zeros(3))
            @ make_T(_R_DOOR_CONTACT, self.spec.handle_in_door())
        )

    def is_success(self) -> bool:
        a = np.degrees(self.angle())
        if self.skill.sense == "open":
            return a >= self.success_cfg.min_angle_deg
        return a <= self.success_cfg.max_angle_deg

    def progress(self) -> dict:
        return {
            "angle_deg": round(float(np.degrees(self.angle())), 2),
            "start_angle_deg": round(float(np.degrees(self.start_angle)), 2),
        }

    def expert(self, t_s, T_contact_cmd):
        """Swing the handle along its arc about the hinge at ``expert.speed_deg_s``, never more than
        ``expert.lead_deg`` ahead of the door, turning the gripper with it; let go at the goal.

        The label is read from where the command is (its angle on the handle's arc), not from a
        record of the expert's own progress: DAgger asks it about a learner's states, whose command
        may run ahead of the door or lag it. A command further ahead than the lead waits there for
        the door, and one past the goal stays there (neither is pulled back); one behind is brought
        on at the expert's pace."""
        e = self.skill.expert
        goal = np.radians(e.goal_angle_deg if self.skill.sense == "open" else -e.overshoot_deg)
        now = self.angle()
        step = np.radians(e.speed_deg_s) * self.dt
        lead = np.radians(e.lead_deg)
        here = self.angle_of(T_contact_cmd[:3, 3])
        # A command swung as far as the goal or past it is held where it is, not swung back.
        sense = 1.0 if self.skill.sense == "open" else -1.0
        on = here + np.clip(goal - here, -step, step) if sense * (goal - here) > 0 else here
        target = float(np.clip(on, min(now - lead, here), max(now + lead, here)))
        done = sense * (now - max(goal, 0.0)) > -np.radians(e.tolerance_deg)  # there, or past it
        return self.grasp_at_angle(target), not done

    def angle_of(self, p_contact: np.ndarray) -> float:
        """The door angle (rad) at which the handle would stand nearest the point ``p_contact``
        (contact frame): its bearing about the vertical hinge axis, from the handle's shut bearing."""
        shut = self._shut_xy
        v = np.asarray(p_contact, dtype=np.float64)[:2] - self._hinge_xy
        return float(self._opening_turn * np.arctan2(shut[0] * v[1] - shut[1] * v[0], shut @ v))

    def grasp_at_angle(self, angle: float) -> np.ndarray:
        """T_contact_grasp holding the handle with the door at ``angle`` (rad; 0: shut), the gripper
        turned by ``expert.wrist_follow`` of the swing since the start (the rest of it the handle
        turns in the grip)."""
        T = inv_T(self._T_wc) @ self.handle_frame(angle)
        axis = 1.0 if self.spec.hinge_side > 0 else -1.0
        follow = self.skill.expert.wrist_follow
        turn = rot_z(-axis * (1.0 - follow) * (angle - self.start_angle))  # about contact z = up
        T[:3, :3] = turn @ T[:3, :3]
        return T @ make_T(self.R_contact_grasp, np.zeros(3))

    def primitive(self, motion, t_s):
        """Swing the handle about this door's hinge at the human's pace, then let go. Opening swings
        the human's angle; closing swings to shut (``primitive.past_stop_deg`` past it, where the
        cabinet's face stops the door), the task's one end state, whatever angle the human's door
        stood open at."""
        u = t_s / motion.duration_s
        s = motion.at("s", u)
        if self.skill.sense == "open":
            angle = self.start_angle + motion.values["angle_rad"] * s
        else:
            shut = -np.radians(self.skill.primitive.past_stop_deg)
            angle = self.start_angle + (shut - self.start_angle) * s
        return self.grasp_at_angle(angle), u < 1.0
