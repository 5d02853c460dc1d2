"""Stir: a spoon starts in the gripper (held top-down, hanging below it) beside a pot; stir the pot.

Success (``conf/skill/stir.yaml``): in one uninterrupted stretch with the spoon's head inside the
pot (within its inner radius less ``wall_margin_m``, below its rim), the head either sweeps at
least ``min_turns`` full circles about the pot's axis (counted while it is at least
``min_radius_frac`` of the pot's radius from the axis), or pushes back and forth: it travels at least
``min_path_radii`` pot radii and turns back at least ``min_reversals`` times, each time after a
stroke of at least ``min_stroke_radii`` pot radii. People stir food in a pan with a spatula that way
(both real stirs of ``../shared/data``); a circle of half the pot's radius is 3.14 radii long.
"""

from __future__ import annotations

import numpy as np

from vid2skill.geometry import apply_T, make_T
from vid2skill.physics.objects import write_urdf
from vid2skill.physics.props import ContainerSpec, ToolSpec, container_urdf, tool_urdf
from vid2skill.scenes.base import register, step_towards
from vid2skill.scenes.tabletop import R_CONTACT_TOPDOWN, TabletopScene

# A tool held top-down hangs along the grasp frame's approach: its frame (tool along -z, blade in
# x-z) in the grasp frame of R_CONTACT_TOPDOWN, with the tool's x along the contact x.
R_GRASP_TOOL = np.array([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])


class ToolScene(TabletopScene):
    """In-hand tool scenes: the tool's grip point is the grasp point."""

    in_hand = True
    R_contact_grasp = R_CONTACT_TOPDOWN
    held_body = "tool"

    def T_grasp_object(self):
        return make_T(R_GRASP_TOOL, np.zeros(3))

    def tool_tip(self) -> np.ndarray:
        pos, R = self.scene.base_pose("tool")
        return pos + R @ self.tool.tip()

    def transfer(
        self, goals: list[np.ndarray], t_s: float, speed_m_s: float
    ) -> tuple[np.ndarray | None, float]:
        """A scripted transfer of the tool's tip from its start through ``goals`` (world points) at
        ``speed_m_s``: (the tip at ``t_s``, or None once the transfer is over; its total time)."""
        points = [self.tip_for_grasp(self.grasp_in_contact())] + list(goals)
        times = np.cumsum([0.0] + [np.linalg.norm(b - a) / speed_m_s for a, b in zip(points, points[1:])])
        if t_s >= times[-1]:
            return None, float(times[-1])
        i = int(np.searchsorted(times, t_s, side="right")) - 1
        s = (t_s - times[i]) / max(times[i + 1] - times[i], 1e-9)
        return points[i] + s * (points[i + 1] - points[i]), float(times[-1])

    def primitive_goals(self, motion) -> list[np.ndarray]:
        """World points (3,) the tool's tip passes through before the human's motion begins."""
        raise NotImplementedError

    def primitive_time_s(self, motion) -> float:
        transfer = self.transfer(
            self.primitive_goals(motion), float("inf"), self.skill.primitive.transfer_speed_m_s
        )[1]
        return transfer + super().primitive_time_s(motion)

    def grasp_for_tip(self, tip_world: np.ndarray) -> np.ndarray:
        """T_contact_grasp (4, 4) that puts the tool's tip at ``tip_world``, the tool upright."""
        T_w_tool = make_T(self._T_wc[:3, :3], tip_world - self._T_wc[:3, :3] @ self.tool.tip())
        return self.grasp_target_for_object(T_w_tool)

    def tip_for_grasp(self, T_contact_grasp: np.ndarray) -> np.ndarray:
        """Where the tool's tip (3,) is, world frame, with the grasp frame at T_contact_grasp."""
        return apply_T(self._T_wc @ T_contact_grasp @ self.T_grasp_object(), self.tool.tip())


@register("stir")
class StirScene(ToolScene):
    def __init__(self, scene, skill_cfg, scene_cfg, rng):
        super().__init__(scene, skill_cfg, scene_cfg, rng)
        u = self.uniform
        self.pot = ContainerSpec(radius=u("pot_radius_m"), height=u("pot_height_m"), wall=0.008, segments=24)
        self.tool = ToolSpec("spoon", length=u("tool_length_m"))
        self.pot_centre = self.sample_on_table()
        scene.load_urdf(
            "pot", write_urdf(container_urdf(self.pot, (0.35, 0.35, 0.38, 1.0), "pot")), self.pot_centre
        )
        # The spoon starts on a side of the pot (heading 0 is straight away from the robot).
        heading = np.radians(self.uniform("start_heading_deg"))
        away = self.pot.radius + self.uniform("start_distance_m")
        tip = self.pot_centre + np.array(
            [away * np.cos(heading), away * np.sin(heading), self.pot.height + u("start_height_m")]
        )
        start = tip - np.array([0.0, 0.0, -self.tool.length])
        self._T_wc = self.in_hand_frame(start, self.pot_centre)
        scene.load_urdf("tool", write_urdf(tool_urdf(self.tool)), [0, 0, -5], fixed=False)
        self._phase, self._swept, self._cmd_angle = "approach", 0.0, None
        self._run_angle, self._prev_angle, self.best_turns = 0.0, None, 0.0
        self._sweep = _Sweep(self.success_cfg.min_stroke_radii * self.pot.radius)
        self.best_sweep = (0.0, 0)  # (path m, reversals) of the best stretch so far

    def _inside(self, tip: np.ndarray) -> tuple[bool, float]:
        d = tip - self.pot_centre
        r = np.hypot(d[0], d[1])
        inside = (
            r < self.pot.radius - self.success_cfg.wall_margin_m and self.pot.wall < d[2] < self.pot.height
        )
        return inside, float(np.arctan2(d[1], d[0]))

    def on_step(self, t_s):
        tip = self.tool_tip()
        inside, angle = self._inside(tip)
        if not inside:
            self._prev_angle, self._run_angle = None, 0.0
            self._sweep.reset()
            return
        # Near the pot's axis the head's angle about it swings by up to pi in a step, in no defined
        # direction (strokes through the centre would count as turns): it counts only farther out.
        off_axis = (
            np.hypot(*(tip - self.pot_centre)[:2]) >= self.success_cfg.min_radius_frac * self.pot.radius
        )
        if self._prev_angle is not None and off_axis:
            self._run_angle += (angle - self._prev_angle + np.pi) % (2 * np.pi) - np.pi
        self._prev_angle = angle
        self.best_turns = max(self.best_turns, abs(self._run_angle) / (2 * np.pi))
        self._sweep.add(tip[:2])
        here = (self._sweep.path_m, self._sweep.reversals)
        self.best_sweep = max(self.best_sweep, here, key=self._sweep_rank)

    def _sweep_rank(self, sweep: tuple[float, int]) -> tuple[bool, float]:
        """Order of stretches: those that pass the sweep test first, then by path."""
        s = self.success_cfg
        return (sweep[0] >= s.min_path_radii * self.pot.radius and sweep[1] >= s.min_reversals, sweep[0])

    def is_success(self):
        return self.best_turns >= self.success_cfg.min_turns or self._sweep_rank(self.best_sweep)[0]

    def progress(self):
        return {
            "turns": round(self.best_turns, 3),
            "sweep_path_m": round(self.best_sweep[0], 3),
            "sweep_reversals": self.best_sweep[1],
        }

    def _ring(self, angle: float, z: float, radius: float) -> np.ndarray:
        return np.array(
            [self.pot_centre[0] + radius * np.cos(angle), self.pot_centre[1] + radius * np.sin(angle), z]
        )

    def _start_angle(self) -> float:
        d = self.tip_for_grasp(self.grasp_in_contact()) - self.pot_centre
        return float(np.arctan2(d[1], d[0]))

    def _primitive_radius(self, motion) -> float:
        lo, hi = self.skill.primitive.radius_frac
        return float(np.clip(motion.values["radius_m"], lo * self.pot.radius, hi * self.pot.radius))

    def _stroke_point(self, motion, u: float, z: float) -> np.ndarray:
        """Where a back-and-forth stir puts the head at ``u`` of the human's motion: the pot's centre plus
        their stroke along their strokes' axis (turned from the contact frame into the world), kept
        within ``primitive.radius_frac``'s upper share of the pot's radius."""
        axis = self._T_wc[:3, :3] @ np.array([motion.values["axis_x"], motion.values["axis_y"], 0.0])
        axis[2] = 0.0
        axis /= max(np.linalg.norm(axis), 1e-9)
        reach = self.skill.primitive.radius_frac[1] * self.pot.radius
        s = float(np.clip(motion.at("stroke", u), -reach, reach))
        return np.array([self.pot_centre[0], self.pot_centre[1], z]) + s * axis

    def primitive_goals(self, motion) -> list[np.ndarray]:
        """Over the pot's rim, then down into it, where the loop (or the first stroke) will start."""
        pc = self.skill.primitive
        high = self.pot_centre[2] + self.pot.height + pc.clearance_m
        low = self.pot_centre[2] + self.pot.wall + pc.depth_above_bottom_m
        if motion.method == "strokes":
            return [self._stroke_point(motion, 0.0, high), self._stroke_point(motion, 0.0, low)]
        a0, rho = self._start_angle(), self._primitive_radius(motion)
        return [self._ring(a0, high, rho), self._ring(a0, low, rho)]

    def primitive(self, motion, t_s):
        """Bring the spoon into the pot (a scripted transfer, as the oracle grasp is), then stir as the
        human's hand did, at their pace: a loop about the pot's axis (their swept angle, their radius
        kept inside the pot), or their strokes back and forth through the pot's centre; keep holding."""
        goals = self.primitive_goals(motion)
        tip, t0 = self.transfer(goals, t_s, self.skill.primitive.transfer_speed_m_s)
        if tip is None:
            u = (t_s - t0) / motion.duration_s
            if motion.method == "strokes":
                tip = self._stroke_point(motion, u, goals[-1][2])
            else:
                tip = self._ring(
                    self._start_angle() + motion.at("angle", u), goals[-1][2], self._primitive_radius(motion)
                )
        return self.grasp_for_tip(tip), True

    def expert(self, t_s, T_contact_cmd):
        """Bring the spoon over the pot, lower its head to ``expert.depth_above_bottom_m``, stir
        ``expert.turns`` circles of ``expert.radius_frac`` of the pot's radius, then lift it out.

        Every label is read from where the command is, not from the expert's own waypoints: DAgger
        asks it about a learner's states, which need not pass through them (a learner that went
        straight into the pot was told to go back above it for the whole episode). A head over the
        ring goes down, one inside the pot stirs on from its own angle while it sinks to
        the stirring depth, one elsewhere goes to the ring above the rim; the turns are the
        command's own, counted inside the pot, and once they are done the spoon is lifted out."""
        e = self.skill.expert
        rho = e.radius_frac * self.pot.radius
        low = self.pot_centre[2] + self.pot.wall + e.depth_above_bottom_m
        high = self.pot_centre[2] + self.pot.height + e.clearance_m
        tip = self.tip_for_grasp(T_contact_cmd)
        step = e.speed_m_s * self.dt
        d = tip - self.pot_centre
        here, r = float(np.arctan2(d[1], d[0])), float(np.hypot(d[0], d[1]))
        inside = r < self.pot.radius - self.success_cfg.wall_margin_m
        if self._phase != "lift" and inside and tip[2] < self.pot_centre[2] + self.pot.height:
            self._phase = "stir"
            # Near the axis the angle swings by up to pi a step in no defined direction: not a turn.
            if self._cmd_angle is not None and r >= 0.5 * rho:
                self._swept += (here - self._cmd_angle + np.pi) % (2 * np.pi) - np.pi
            self._cmd_angle = here
            if self._swept >= 2 * np.pi * e.turns:
                self._phase = "lift"
            ahead = self._ring(here + 2 * np.pi / e.period_s * self.dt, max(low, tip[2] - step), rho)
            return self.grasp_for_tip(ahead), True
        if self._phase != "lift":
            # down only from over the ring: a head lowered nearer the wall catches the rim
            self._phase = "descend" if r <= rho + step else "approach"
            self._cmd_angle, self._swept = None, 0.0  # the turns count in one stay inside the pot
        goal = self._ring(here, low if self._phase == "descend" else high, rho)
        if self._phase == "lift":
            goal[:2] = tip[:2]  # straight up
        return self.grasp_for_tip(step_towards(tip, goal, step)), True


class _Sweep:
    """The head's path (m) in one stretch inside the pot and how often it turned back: a turn back is
    counted once the head has come ``min_stroke_m`` back from the farthest point of a stroke that was
    itself at least ``min_stroke_m`` long (a stroke runs from the last turn back, or from where the
    head came back beyond a shorter stroke's start)."""

    def __init__(self, min_stroke_m: float):
        self.min_stroke_m = min_stroke_m
        self.reset()

    def reset(self) -> None:
        self.path_m, self.reversals = 0.0, 0
        self._last = self._anchor = self._far = None

    def add(self, xy: np.ndarray) -> None:
        xy = np.asarray(xy, dtype=float)
        if self._last is None:
            self._last = self._anchor = self._far = xy
            return
        self.path_m += float(np.linalg.norm(xy - self._last))
        self._last = xy
        stroke = np.linalg.norm(self._far - self._anchor)
        back = np.linalg.norm(xy - self._far)
        if np.linalg.norm(xy - self._anchor) > stroke:
            self._far = xy
        elif stroke >= self.min_stroke_m and back >= self.min_stroke_m:
            self.reversals += 1
            self._anchor, self._far = self._far, xy
        elif back > stroke:  # back beyond where a short stroke began: the stroke starts at its far end
            self._anchor, self._far = self._far, xy
