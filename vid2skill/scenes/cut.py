"""Cut: a knife starts in the gripper (held top-down, blade hanging below it) beside a block on a
board; saw into the block.

Success is a geometric proxy (``conf/skill/cut.yaml``; PyBullet cannot split bodies, so the blade
passes through the block without colliding with it): while the blade's edge is inside the block's
footprint (any part of it) and below its top face, the edge reaches ``min_depth_m`` under the top
face and the blade reverses direction along its length at least ``min_reversals`` times, each
stroke at least ``min_stroke_m`` long (a downward sawing motion).
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vid2skill.geometry import inv_T, make_T, rot_z
from vid2skill.physics.objects import write_urdf
from vid2skill.physics.props import ToolSpec, slab_urdf, tool_urdf
from vid2skill.scenes.base import register, step_towards
from vid2skill.scenes.stir import ToolScene


@register("cut")
class CutScene(ToolScene):
    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        u = self.uniform
        self.tool = ToolSpec("knife", length=u("tool_length_m"), head=0.012)
        self.board_top = self.table_top + 0.02
        centre = self.sample_on_table()
        # The knife starts on a side of the block (heading 0 is straight away from the robot, where
        # the xArm6's top-down reach ends: starts there were out of its reach).
        heading = float(np.radians(self.uniform("start_heading_deg")))
        away = self.uniform("start_distance_m")
        self.block_size = np.array([u("block_width_m"), u("block_length_m"), u("block_height_m")])
        tip = centre + np.array(
            [away * np.cos(heading), away * np.sin(heading), 0.02 + self.block_size[2] + u("start_height_m")]
        )
        start = tip + np.array([0.0, 0.0, self.tool.length])
        self._T_wc = self.in_hand_frame(start, centre)
        # The blade saws along contact x; the block lies across it (its length along contact y).
        yaw = float(np.arctan2(self._T_wc[1, 0], self._T_wc[0, 0]))
        self.T_w_block = make_T(rot_z(yaw), centre + np.array([0, 0, 0.02]))
        scene.load_urdf(
            "board",
            write_urdf(slab_urdf((0.3, 0.22, 0.02), (0.75, 0.6, 0.4, 1.0), name="board")),
            centre,
            rot_z(yaw),
        )
        scene.load_urdf(
            "block",
            write_urdf(slab_urdf(tuple(self.block_size), (0.95, 0.85, 0.4, 1.0), name="block")),
            self.T_w_block[:3, 3],
            self.T_w_block[:3, :3],
        )
        scene.load_urdf("tool", write_urdf(tool_urdf(self.tool)), [0, 0, -5], fixed=False)
        p.setCollisionFilterPair(
            scene.body("tool"), scene.body("block"), -1, -1, 0, physicsClientId=scene.client
        )
        self.block_top = float(self.T_w_block[2, 3] + self.block_size[2])
        self.max_depth_m, self.reversals = 0.0, 0
        self._last_s, self._dir, self._stroke_start = None, 0, None
        self._phase, self._saw_phase = "approach", None

    def _edge_in_block(self) -> tuple[bool, float, float]:
        """(edge inside the footprint and below the top, depth below the top, position along the blade)."""
        tip = self.tool_tip()
        local = inv_T(self.T_w_block)[:3, :3] @ (tip - self.T_w_block[:3, 3])
        # The edge is a segment along the blade (local x): it is in the block while it overlaps the footprint.
        half_edge = self.tool.blade_length() / 2
        inside = (
            abs(local[0]) <= self.block_size[0] / 2 + half_edge
            and abs(local[1]) <= self.block_size[1] / 2
            and tip[2] < self.block_top
        )
        along = float(self._T_wc[:3, 0] @ tip)
        return inside, self.block_top - float(tip[2]), along

    def on_step(self, t_s):
        inside, depth, s = self._edge_in_block()
        if not inside:
            self._last_s, self._dir, self._stroke_start = None, 0, None
            return
        self.max_depth_m = max(self.max_depth_m, depth)
        if self._last_s is not None and abs(s - self._last_s) > 1e-4:
            d = int(np.sign(s - self._last_s))
            if (
                self._dir
                and d != self._dir
                and abs(self._last_s - self._stroke_start) >= self.success_cfg.min_stroke_m
            ):
                self.reversals += 1
            if d != self._dir:
                self._stroke_start = self._last_s if self._dir else s
                self._dir = d
        self._last_s = s

    def is_success(self):
        s = self.success_cfg
        return self.max_depth_m >= s.min_depth_m and self.reversals >= s.min_reversals

    def progress(self):
        return {"depth_m": round(self.max_depth_m, 4), "reversals": self.reversals}

    def primitive_goals(self, motion) -> list[np.ndarray]:
        """The edge just over the block's centre, where the human's sawing begins."""
        centre = self.T_w_block[:3, 3]
        return [np.array([centre[0], centre[1], self.block_top + self.skill.primitive.clearance_m])]

    def primitive(self, motion, t_s):
        """Bring the blade over the block (a scripted transfer, as the oracle grasp is), then saw as
        the human's hand sawed: their strokes along the blade and their sinking, at their pace, the
        board stopping the blade; keep holding."""
        goals = self.primitive_goals(motion)
        tip, t0 = self.transfer(goals, t_s, self.skill.primitive.transfer_speed_m_s)
        if tip is None:
            u = (t_s - t0) / motion.duration_s
            sink = min(
                motion.values["sink_m"] * motion.at("sink", u),
                self.skill.primitive.clearance_m + self.block_size[2],
            )
            tip = goals[-1] + motion.at("stroke", u) * self._T_wc[:3, 0] - np.array([0.0, 0.0, sink])
        return self.grasp_for_tip(tip), True

    def expert(self, t_s, T_contact_cmd):
        """Bring the edge over the block's centre, then saw (``expert.stroke_m`` amplitude,
        ``expert.period_s``) while sinking at ``expert.sink_m_s`` to ``expert.depth_m`` below the top.

        Every label is read from where the command is, not from a clock started at the expert's
        own waypoint: DAgger asks it about a learner's states, which need not pass through it. An
        edge in line with the block, no higher than the waypoint, saws on from its own place in the
        stroke (the way it was going) and sinks from its own depth, drawn to the block's centre line
        and back within the stroke; an edge elsewhere goes to the waypoint."""
        e = self.skill.expert
        centre = self.T_w_block[:3, 3]
        above = np.array([centre[0], centre[1], self.block_top + e.clearance_m])
        tip = self.tip_for_grasp(T_contact_cmd)
        step = e.speed_m_s * self.dt
        local = inv_T(self.T_w_block)[:3, :3] @ (tip - centre)
        # In line with the block (within its width across the blade) and at most a little above the
        # waypoint: a person's strokes run the edge off the block's ends and lift it a little.
        if abs(local[1]) > self.block_size[1] / 2 or tip[2] > above[2] + 0.25 * step:
            self._phase, self._saw_phase = "approach", None
            return self.grasp_for_tip(step_towards(tip, above, step)), True
        self._phase = "saw"
        axis = self._T_wc[:3, 0]
        s = float(axis[:2] @ (tip - centre)[:2])
        # Two places in the stroke have this offset, going out and coming back: the one nearer the
        # phase last asked for (the way the edge was going), then one step on from there.
        a = float(np.arcsin(np.clip(s / e.stroke_m, -1.0, 1.0)))
        phase = a
        if self._saw_phase is not None:
            phase = min((a, np.pi - a), key=lambda c: abs(np.angle(np.exp(1j * (c - self._saw_phase)))))
        self._saw_phase = phase + 2 * np.pi * self.dt / e.period_s
        nxt = e.stroke_m * np.sin(self._saw_phase)
        z = max(self.block_top - e.depth_m, min(tip[2], above[2]) - e.sink_m_s * self.dt)
        target = np.array([centre[0], centre[1], z]) + nxt * axis
        # An edge off the stroke (a longer human stroke) comes back at the stroke's top speed.
        reach = max(step, 2 * np.pi * e.stroke_m * self.dt / e.period_s) + e.sink_m_s * self.dt
        return self.grasp_for_tip(step_towards(tip, target, reach)), True
