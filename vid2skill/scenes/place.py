"""Place: an object starts in the gripper above the table; put it down inside a target region.

Success (``conf/skill/place.yaml``): after the gripper opens and ``settle_s`` passes, the object's
centre lies inside the square region (half-size ``region_half_m`` plus ``margin_m``), it rests on
the table (its lowest point within ``rest_tolerance_m`` of the top) and it has stopped moving.
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vid2skill.geometry import inv_T, make_T, rot_z
from vid2skill.physics.objects import write_urdf
from vid2skill.physics.props import slab_urdf
from vid2skill.scenes.base import register
from vid2skill.scenes.tabletop import R_CONTACT_TOPDOWN, TabletopScene


@register("place")
class PlaceScene(TabletopScene):
    in_hand = True
    R_contact_grasp = R_CONTACT_TOPDOWN
    symmetric_grasp = True

    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        objects = list(scene_cfg.objects)
        choice = objects[int(rng.integers(len(objects)))]
        self.object_path, self.scale = choice.path, float(choice.scale)
        self.half = self.uniform("region_half_m")
        start_xy = self.sample_on_table()
        heading = float(rng.uniform(-np.pi, np.pi))
        dist = self.uniform("target_distance_m")
        target = start_xy + dist * np.array([np.cos(heading), np.sin(heading), 0.0])
        target[:2] = np.clip(
            target[:2],
            [scene_cfg.object_x_m[0], scene_cfg.object_y_m[0] - 0.1],
            [scene_cfg.object_x_m[1] + 0.1, scene_cfg.object_y_m[1] + 0.1],
        )
        self.target = target
        self.region_yaw = float(rng.uniform(-np.pi / 4, np.pi / 4))
        pad = slab_urdf(
            (2 * self.half, 2 * self.half, 0.002), (0.2, 0.7, 0.3, 1.0), name="target", collide=False
        )
        scene.load_urdf("target", write_urdf(pad), target, rot_z(self.region_yaw))
        # The object hangs below the grasp point, its bottom ``start_height_m`` above the table.
        scene.load_urdf("object", self.object_path, [0, 0, -5], fixed=False, scale=self.scale)
        uid = scene.body("object")
        lo, hi = (np.array(v) for v in p.getAABB(uid, physicsClientId=scene.client))
        com = scene.base_pose("object")[0]
        self._bottom_below_com = float(com[2] - lo[2])
        self._top_above_com = float(hi[2] - com[2])
        grip_depth = min(float(scene_cfg.grasp_depth_m), (hi[2] - lo[2]) / 2)
        start = start_xy + np.array(
            [0, 0, self.uniform("start_height_m") + self._bottom_below_com + self._top_above_com - grip_depth]
        )
        self._T_wc = self.in_hand_frame(start, target)
        self._T_w_obj0 = make_T(np.eye(3), start - np.array([0, 0, self._top_above_com - grip_depth]))
        self._grasp_turned()

    def _grasp_turned(self) -> None:
        """The object in the grasp: upright below it, whichever way the grasp is turned."""
        self._T_grasp_obj = inv_T(self._T_wc @ make_T(self.R_contact_grasp, np.zeros(3))) @ self._T_w_obj0

    def _object_state(self):
        uid, cid = self.scene.body("object"), self.scene.client
        pos = self.scene.base_pose("object")[0]
        lo = p.getAABB(uid, physicsClientId=cid)[0]
        speed = np.linalg.norm(p.getBaseVelocity(uid, physicsClientId=cid)[0])
        return pos, float(lo[2]), float(speed)

    def in_region(self, pos: np.ndarray) -> bool:
        d = rot_z(self.region_yaw).T @ (pos - self.target)
        return bool(np.all(np.abs(d[:2]) <= self.half + self.success_cfg.margin_m))

    def is_success(self):
        pos, bottom, speed = self._object_state()
        s = self.success_cfg
        return (
            self.in_region(pos)
            and abs(bottom - self.table_top) <= s.rest_tolerance_m
            and speed <= s.max_speed_m_s
        )

    def progress(self):
        pos, bottom, speed = self._object_state()
        off = rot_z(self.region_yaw).T @ (pos - self.target)
        return {
            "offset_m": round(float(np.linalg.norm(off[:2])), 4),
            "bottom_above_table_m": round(bottom - self.table_top, 4),
            "object": self.object_path,
        }

    def _release_point(self, release_height_m: float) -> np.ndarray:
        """The grasp point (3,), contact frame, that holds the object over the region's centre with its
        bottom ``release_height_m`` above the table."""
        above = inv_T(self._T_wc) @ np.append(self.target, 1.0)
        drop = self._T_w_obj0[2, 3] - self._bottom_below_com - (self.table_top + release_height_m)
        return np.array([above[0], above[1], -drop])

    def primitive(self, motion, t_s):
        """Carry the object to the region and lower it onto the table with the human's sideways and
        downwards progress, letting go where the human did (the end of the manipulation)."""
        u = t_s / motion.duration_s
        goal = self._release_point(self.skill.expert.release_height_m)
        pos = np.array(
            [
                goal[0] * motion.at("carry", u),
                goal[1] * motion.at("carry", u),
                goal[2] * motion.at("lower", u),
            ]
        )
        return make_T(self.R_contact_grasp, pos), u < 1.0

    def expert(self, t_s, T_contact_cmd):
        """Carry the object over the region's centre at its start height, lower it until it is
        ``expert.release_height_m`` above the table, then let go."""
        e = self.skill.expert
        cmd = T_contact_cmd[:3, 3]
        goal_low = self._release_point(e.release_height_m)
        goal_high = np.array([goal_low[0], goal_low[1], 0.0])
        step = e.speed_m_s * self.dt
        if np.linalg.norm(cmd[:2] - goal_high[:2]) > e.tolerance_m:
            nxt = cmd + np.clip(goal_high - cmd, -step, step) * np.array([1, 1, 0])
            return make_T(self.R_contact_grasp, nxt), True
        pos, bottom, _ = self._object_state()
        if bottom - self.table_top <= e.release_height_m + 0.003 or np.linalg.norm(cmd - goal_low) < 1e-3:
            return make_T(self.R_contact_grasp, cmd), False
        nxt = cmd + np.clip(goal_low - cmd, -step, step)
        return make_T(self.R_contact_grasp, nxt), True
