"""Pick: an object from pybullet_data on the table; lift it and hold it.

Success (``conf/skill/pick.yaml``, after panda-gym's lift threshold): the object's height rises at
least ``lift_m`` above its resting height and stays there for ``hold_s`` without interruption.
Contact frame: origin at the top-down grasp point on the object, x down (the approach), z along
the jaws' closing direction (the object's narrower horizontal side).
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vid2skill.geometry import frame_from_x_and_up, make_T, rot_z
from vid2skill.scenes.base import register, step_towards
from vid2skill.scenes.tabletop import TabletopScene


def top_grasp(scene, name: str, depth_m: float, cells: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(grasp point (3,), jaws direction (3,)) of a top-down grasp of the body ``name``: the body's
    top surface is read by vertical rays over its bounding box; the part of it within ``depth_m``
    of its top (capped at half the body's height) is what the jaws close on, so the grasp sits at
    that part's centroid, ``depth_m`` below the top, with the jaws across that part's narrower
    principal direction. (The world-aligned box of a turned object is wider than the object, and
    its centre may lie off the object's top: a duck's is over its back, below its head.)"""
    uid, client = scene.body(name), scene.client
    lo, hi = (np.array(v) for v in p.getAABB(uid, physicsClientId=client))
    xs, ys = (np.linspace(lo[k], hi[k], cells) for k in (0, 1))
    gx, gy = (g.ravel() for g in np.meshgrid(xs, ys))
    starts = np.c_[gx, gy, np.full(gx.size, hi[2] + 0.05)]
    ends = np.c_[gx, gy, np.full(gx.size, lo[2] - 0.01)]
    hits = p.rayTestBatch(starts.tolist(), ends.tolist(), physicsClientId=client)
    top = np.array([h[3][2] if h[0] == uid else -np.inf for h in hits])
    depth = min(depth_m, (hi[2] - lo[2]) / 2)
    z = float(np.max(top)) if np.isfinite(top).any() else float(hi[2])
    held = np.c_[gx, gy][top >= z - depth]
    if len(held) < 3:  # too few rays on it: the box's centre, jaws along its narrower side
        size = hi - lo
        jaws = np.array([1.0, 0.0, 0.0]) if size[0] < size[1] else np.array([0.0, 1.0, 0.0])
        return np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2] - depth]), jaws
    centre = held.mean(axis=0)
    _, vecs = np.linalg.eigh(np.cov((held - centre).T))
    minor = vecs[:, 0]  # eigh: ascending eigenvalues
    return np.array([centre[0], centre[1], z - depth]), np.array([minor[0], minor[1], 0.0])


@register("pick")
class PickScene(TabletopScene):
    symmetric_grasp = True

    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        objects = list(scene_cfg.objects)
        choice = objects[int(rng.integers(len(objects)))]
        path, scale = choice.path, float(choice.scale)
        if "{id}" in path:  # pybullet_data's random_urdfs/NNN/NNN.urdf
            path = path.format(id=f"{int(rng.integers(choice.count)):03d}")
        self.object_path = path
        where = self.sample_on_table()
        yaw = float(rng.uniform(-np.pi, np.pi))
        scene.load_urdf("object", path, where + np.array([0, 0, 0.1]), rot_z(yaw), fixed=False, scale=scale)
        uid = scene.body("object")
        p.changeDynamics(uid, -1, lateralFriction=1.0, physicsClientId=scene.client)
        lo, hi = (np.array(v) for v in p.getAABB(uid, physicsClientId=scene.client))
        scene.set_pose(
            "object",
            scene.base_pose("object")[0] - np.array([0, 0, lo[2] - self.table_top - 0.001]),
            rot_z(yaw),
        )
        scene.step(120)  # let it come to rest
        lo, hi = (np.array(v) for v in p.getAABB(uid, physicsClientId=scene.client))
        self.rest_z = float(scene.base_pose("object")[0][2])
        grasp, jaws = top_grasp(scene, "object", float(scene_cfg.grasp_depth_m))
        self._T_wc = frame_from_x_and_up(np.array([0.0, 0.0, -1.0]), grasp, up=jaws)
        self._lifted_since: float | None = None
        self.held_s = 0.0
        self.max_lift_m = 0.0

    def lift(self) -> float:
        return float(self.scene.base_pose("object")[0][2]) - self.rest_z

    def on_step(self, t_s):
        h = self.lift()
        self.max_lift_m = max(self.max_lift_m, h)
        if h >= self.success_cfg.lift_m:
            if self._lifted_since is None:
                self._lifted_since = t_s
            self.held_s = max(self.held_s, t_s - self._lifted_since)
        else:
            self._lifted_since = None

    def is_success(self):
        return self.held_s >= self.success_cfg.hold_s

    def progress(self):
        return {
            "max_lift_m": round(self.max_lift_m, 4),
            "held_s": round(self.held_s, 2),
            "object": self.object_path,
        }

    def primitive(self, motion, t_s):
        """Lift straight up by the human's rise at the human's pace, and hold (contact x points down)."""
        lift = max(0.0, motion.values["lift_m"]) * motion.at("s", t_s / motion.duration_s)
        return make_T(self.R_contact_grasp, np.array([-lift, 0.0, 0.0])), True

    def expert(self, t_s, T_contact_cmd):
        """Lift straight up (-x in the contact frame) to ``expert.lift_m`` and hold until the horizon."""
        e = self.skill.expert
        pos = step_towards(T_contact_cmd[:3, 3], np.array([-e.lift_m, 0.0, 0.0]), e.speed_m_s * self.dt)
        return make_T(self.R_contact_grasp, pos), True
