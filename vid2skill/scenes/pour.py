"""Pour: a cup holding small spheres starts in the gripper (held from the side); empty it into a bowl.

Success (``conf/skill/pour.yaml``): at the end at least ``min_fraction`` of the spheres lie inside
the bowl (centre within its inner radius, below its rim). The contact frame is the in-hand one
(origin at the start grasp, x horizontal towards the bowl, z up); pouring is a roll of the
wrist about the gripper's approach, which points away from the robot.
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vid2skill.geometry import axis_angle_R, inv_T, make_T
from vid2skill.physics.objects import write_urdf
from vid2skill.physics.props import ContainerSpec, container_urdf
from vid2skill.scenes.base import register, step_towards
from vid2skill.scenes.tabletop import TabletopScene


@register("pour")
class PourScene(TabletopScene):
    in_hand = True
    held_body = "cup"
    hand_roll_deg = 180.0  # index on top, as people hold a cup or a bottle to pour from it

    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        u = self.uniform
        self.cup = ContainerSpec(radius=u("cup_radius_m"), height=u("cup_height_m"), wall=0.005, mass=0.12)
        self.bowl = ContainerSpec(
            radius=u("bowl_radius_m"), height=u("bowl_height_m"), wall=0.006, segments=20
        )
        cup_xy = self.sample_on_table()
        # Held from the robot's side: approach horizontal and radial from the robot's base, jaws
        # horizontal across it; the bowl stands to one side, so pouring is a roll about the approach.
        radial = cup_xy[:2] - self.robot_base[:2]
        g_z = np.append(radial / np.linalg.norm(radial), 0.0)
        g_y = np.array([-g_z[1], g_z[0], 0.0])
        side = float(rng.choice([-1.0, 1.0]))
        self.bowl_centre = cup_xy + side * u("bowl_distance_m") * g_y + u("bowl_x_offset_m") * g_z
        scene.load_urdf(
            "bowl", write_urdf(container_urdf(self.bowl, (0.9, 0.75, 0.45, 1.0), "bowl")), self.bowl_centre
        )
        scene.load_urdf(
            "cup", write_urdf(container_urdf(self.cup, (0.3, 0.45, 0.8, 1.0), "cup")), [0, 0, -5], fixed=False
        )
        cup_bottom = cup_xy + np.array([0, 0, u("start_height_m")])
        T_w_cup = make_T(np.eye(3), cup_bottom)
        # The approach dips ``grasp_pitch_deg`` below horizontal (a hand reaching down to a cup):
        # level side grasps this low sit at the edge of most arms' wrist range.
        pitch = np.radians(float(scene_cfg.grasp_pitch_deg))
        g_z = np.cos(pitch) * g_z + np.sin(pitch) * np.array([0.0, 0.0, -1.0])
        R_w_grasp = np.stack([np.cross(g_y, g_z), g_y, g_z], axis=1)
        # The grasp point stands off the cup's outer wall so that the fingertips stay outside it.
        radial3 = np.append(radial / np.linalg.norm(radial), 0.0)
        grasp = (
            cup_bottom
            - (self.cup.radius + self.cup.wall + float(scene_cfg.grasp_standoff_m)) * radial3
            + np.array([0, 0, float(scene_cfg.grip_height_frac) * self.cup.height])
        )
        T_w_grasp = make_T(R_w_grasp, grasp)
        self._T_wc = self.in_hand_frame(grasp, self.bowl_centre)
        self.R_contact_grasp = self._T_wc[:3, :3].T @ R_w_grasp
        self._T_grasp_obj = inv_T(T_w_grasp) @ T_w_cup
        self.n_spheres = int(scene_cfg.spheres)
        self.sphere_radius = float(scene_cfg.sphere_radius_m)
        self._phase = "move"

    def place_in_hand(self, T_world_grasp):
        super().place_in_hand(T_world_grasp)
        T = T_world_grasp @ self._T_grasp_obj
        cid = self.scene.client
        r = self.sphere_radius
        col = p.createCollisionShape(p.GEOM_SPHERE, radius=r, physicsClientId=cid)
        vis = p.createVisualShape(p.GEOM_SPHERE, radius=r, rgbaColor=[0.9, 0.3, 0.2, 1], physicsClientId=cid)
        # A loose grid of spheres inside the cup, layer by layer from its bottom.
        pitch = 2.1 * r
        span = self.cup.radius - r - 0.002
        cells = [
            (x, y)
            for x in np.arange(-span, span + 1e-9, pitch)
            for y in np.arange(-span, span + 1e-9, pitch)
            if x * x + y * y <= span * span
        ]
        self.spheres = []
        for k in range(self.n_spheres):
            x, y = cells[k % len(cells)]
            z = self.cup.wall + r + 0.001 + (k // len(cells)) * pitch
            pos = T[:3, 3] + T[:3, :3] @ np.array([x, y, z])
            uid = p.createMultiBody(0.004, col, vis, pos.tolist(), physicsClientId=cid)
            p.changeDynamics(uid, -1, lateralFriction=0.3, rollingFriction=0.0005, physicsClientId=cid)
            self.spheres.append(uid)

    def spheres_in_bowl(self) -> int:
        cid = self.scene.client
        n = 0
        for uid in self.spheres:
            pos = np.array(p.getBasePositionAndOrientation(uid, physicsClientId=cid)[0])
            d = pos - self.bowl_centre
            if np.hypot(d[0], d[1]) < self.bowl.radius and -0.01 < d[2] < self.bowl.height + 0.01:
                n += 1
        return n

    def is_success(self):
        return self.spheres_in_bowl() >= self.success_cfg.min_fraction * self.n_spheres

    def progress(self):
        return {"spheres_in_bowl": self.spheres_in_bowl(), "spheres": self.n_spheres}

    def _prepour_cup(self) -> np.ndarray:
        """T_world_cup before tilting: its near lip inside the bowl's rim, its bottom above the rim."""
        e = self.skill.expert
        x = self._T_wc[:3, 0]
        lip = self.bowl_centre - x * (self.bowl.radius * e.lip_inside_frac)
        centre = lip - x * (self.cup.radius + self.cup.wall)
        return make_T(
            np.eye(3),
            np.array([centre[0], centre[1], self.bowl_centre[2] + self.bowl.height + e.clearance_m]),
        )

    def _roll_axis(self) -> np.ndarray:
        """The gripper's approach (3,), world frame, pointing so that a positive roll tips the cup's mouth
        towards the bowl."""
        x = self._T_wc[:3, 0]
        a = self._T_wc[:3, :3] @ self.R_contact_grasp[:, 2]
        return a * np.sign(np.dot(np.cross(a, [0.0, 0.0, 1.0]), x))

    def _tilted(self, T_world_cup: np.ndarray, roll_rad: float) -> np.ndarray:
        """T_contact_grasp that holds the cup at ``T_world_cup`` rolled by ``roll_rad`` about the approach,
        pivoting on its lip."""
        lip = (
            T_world_cup[:3, 3]
            + self._T_wc[:3, 0] * (self.cup.radius + self.cup.wall)
            + np.array([0, 0, self.cup.height])
        )
        R = axis_angle_R(self._roll_axis(), roll_rad)
        return self.grasp_target_for_object(make_T(R, lip - R @ lip) @ T_world_cup)

    def roll_for_tilt(self, tilt_rad: float) -> float:
        """The roll about the approach (rad) that tilts the upright cup's axis by ``tilt_rad`` from
        vertical: on a cone about the approach, cos(tilt) = cos^2(b) + sin^2(b) cos(roll), b the
        angle between the approach and vertical; the largest tilt reachable is 2b (roll pi)."""
        b = np.arccos(np.clip(abs(float(self._roll_axis()[2])), 0.0, 1.0))
        b = min(b, np.pi - b)
        c = (np.cos(tilt_rad) - np.cos(b) ** 2) / max(np.sin(b) ** 2, 1e-9)
        return float(np.arccos(np.clip(c, -1.0, 1.0)))

    def _transfer_s(self) -> float:
        T_w_cup0 = self._T_wc @ self.grasp_in_contact() @ self._T_grasp_obj
        return (
            float(np.linalg.norm(self._prepour_cup()[:3, 3] - T_w_cup0[:3, 3]))
            / self.skill.primitive.transfer_speed_m_s
        )

    def _tip_s(self, motion) -> float:
        """Seconds to tip the upright cup to the tilt the human's object was found at (``tilt`` at the
        manipulation's start), at ``primitive.max_tilt_speed_deg_s``."""
        roll0 = self.roll_for_tilt(motion.values["tilt_rad"] * motion.at("tilt", 0.0))
        return roll0 / np.radians(self.skill.primitive.max_tilt_speed_deg_s)

    def primitive_time_s(self, motion) -> float:
        return self._transfer_s() + self._tip_s(motion) + super().primitive_time_s(motion)

    def primitive(self, motion, t_s):
        """Carry the cup over the bowl's rim (a scripted transfer, as the oracle grasp is), tip it from
        upright to the tilt the human's object had when the manipulation began (a bottle taken already
        tipped: at the wrist's speed, not in one control step), then tilt it as the human tilted what
        they held, at their pace, pivoting on its lip; keep holding."""
        T_w_cup0 = self._T_wc @ self.grasp_in_contact() @ self._T_grasp_obj
        pre = self._prepour_cup()
        t0, tip = self._transfer_s(), self._tip_s(motion)
        T_cup = pre.copy()
        T_cup[:3, 3] = T_w_cup0[:3, 3] + min(1.0, t_s / max(t0, 1e-9)) * (pre[:3, 3] - T_w_cup0[:3, 3])
        if t_s < t0:
            roll = 0.0
        elif t_s < t0 + tip:
            roll = np.radians(self.skill.primitive.max_tilt_speed_deg_s) * (t_s - t0)
        else:
            u = (t_s - t0 - tip) / motion.duration_s
            roll = self.roll_for_tilt(motion.values["tilt_rad"] * motion.at("tilt", u))
        return self._tilted(T_cup, roll), True

    def expert(self, t_s, T_contact_cmd):
        """Carry the cup beside the bowl, then roll the wrist (pivoting on the cup's lip) to
        ``expert.tilt_deg`` and hold.

        Every label is read from where the command is, not from the expert's own record of its
        progress: DAgger asks it about a learner's states, which need not pass through its
        waypoint (a learner that began to tilt on the way was told to carry the cup on to the
        upright waypoint, never reached, for the whole episode). The command's roll is read from
        its pose; a cup away from where that roll puts it over the bowl is carried there, keeping
        the roll, one there is rolled on from it, and one rolled as far as the expert rolls (or
        farther) is held. A label moves and turns no more than the expert's own steps do."""
        e = self.skill.expert
        pre, top = self._prepour_cup(), np.radians(e.tilt_deg)
        step, turn = e.speed_m_s * self.dt, np.radians(e.tilt_speed_deg_s) * self.dt
        roll = self._roll_of(T_contact_cmd, pre)
        roll = roll + 2 * np.pi if roll < -np.pi / 2 else roll  # rolled on past half a turn
        if roll >= top:  # rolled as far as the expert rolls, or farther: poured; hold
            self._phase = "tilt"
            return T_contact_cmd.copy(), True
        here = self._tilted(pre, max(roll, 0.0))
        pos = T_contact_cmd[:3, 3]
        if np.linalg.norm(here[:3, 3] - pos) > step:
            self._phase = "move"
            return _towards(T_contact_cmd, here, step, turn), True
        self._phase = "tilt"
        nxt = self._tilted(pre, min(top, max(roll, 0.0) + turn))
        # the lip pivots as the cup rolls: the step's own motion plus what is left to close
        reach = step + float(np.linalg.norm(nxt[:3, 3] - here[:3, 3]))
        return _towards(T_contact_cmd, nxt, reach, 2 * turn), True

    def _roll_of(self, T_contact_grasp: np.ndarray, pre: np.ndarray | None = None) -> float:
        """The roll about the approach (rad, :meth:`_roll_axis`) that turns the upright pre-pour grasp
        into this one's orientation (the part of their relative rotation about that axis); ``pre``: the
        pre-pour cup pose, where the caller has it already."""
        from scipy.spatial.transform import Rotation

        R0 = self._tilted(self._prepour_cup() if pre is None else pre, 0.0)[:3, :3]
        R_wc = self._T_wc[:3, :3]
        rel = Rotation.from_matrix(R_wc @ T_contact_grasp[:3, :3] @ R0.T @ R_wc.T).as_rotvec()
        return float(rel @ self._roll_axis())


def _towards(T_from: np.ndarray, T_to: np.ndarray, max_m: float, max_rad: float) -> np.ndarray:
    """The pose (4, 4) at most ``max_m`` and ``max_rad`` from ``T_from`` towards ``T_to``."""
    from scipy.spatial.transform import Rotation

    dr = Rotation.from_matrix(T_to[:3, :3] @ T_from[:3, :3].T).as_rotvec()
    n = float(np.linalg.norm(dr))
    R = Rotation.from_rotvec(dr * min(1.0, max_rad / max(n, 1e-12))).as_matrix() @ T_from[:3, :3]
    return make_T(R, step_towards(T_from[:3, 3], T_to[:3, 3], max_m))
