"""One evaluation episode of one skill with one robot, driven by any policy.

An episode: the scene is sampled from its seed. Handle-type skills (drawer, door, pick) begin with
an oracle reach and grasp of the object's known grasp pose (named as such in every report; as in
ZeroMimic, policies are judged on the post-grasp motion); in-hand skills (place, pour, stir, cut)
begin with the object already held. Then the policy commands end-effector poses in the contact
frame at the control rate until it lets go or the horizon ends; the task's success test is applied
after the scene settles.

Policies implement ``reset(task, T_contact_start)`` and ``act(obs) -> (T_contact_target (4, 4),
keep_closed)``; ``obs`` holds ``t_s`` (seconds since the grasp), ``T_contact_cmd`` (the last
commanded pose) and ``task`` (privileged state, for scripted experts only).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from scipy.spatial.transform import Rotation, Slerp

from vid2skill.geometry import look_at_R, make_T
from vid2skill.physics.bullet import BulletScene, CameraSpec
from vid2skill.physics.robot import Kinematics, Robot, RobotSpec
from vid2skill.scenes import TASKS
from vid2skill.settings import settings
from vid2skill.video import VideoWriter, write_gif

log = logging.getLogger(__name__)

_KINEMATICS: dict[str, Kinematics] = {}


def kinematics_for(spec: RobotSpec) -> Kinematics:
    """One IK twin per robot per process (building it loads the URDF)."""
    if spec.name not in _KINEMATICS:
        _KINEMATICS[spec.name] = Kinematics(spec)
    return _KINEMATICS[spec.name]


def _video_camera(video_cfg, look_at: np.ndarray, base: np.ndarray) -> CameraSpec:
    target = 0.5 * (look_at + base) + np.array([0.0, 0.0, 0.1])
    position = target + np.array(video_cfg.offset_m)
    w, h = video_cfg.width, video_cfg.height
    f = h / 2 / np.tan(np.radians(video_cfg.fov_deg) / 2)
    return CameraSpec(w, h, f, f, w / 2, h / 2, position, look_at_R(target - position, np.array([0, 0, 1.0])))


def stand_off(T_grasp_world: np.ndarray, cfg) -> np.ndarray:
    """The grasp pose moved ``cfg.pregrasp_m`` back along its approach (z) axis."""
    pre = T_grasp_world.copy()
    pre[:3, 3] -= cfg.pregrasp_m * T_grasp_world[:3, 2]
    return pre


def reach_path(ee: np.ndarray, R_ee: np.ndarray, T_grasp_world: np.ndarray, cfg, to_stand_off: bool = True) -> list[np.ndarray]:
    """Waypoints (4, 4) of the oracle reach: to the stand-off (unless ``to_stand_off`` is False),
    then along the approach to the grasp. Position and orientation are interpolated together, so
    that each waypoint's IK starts near the last posture (a full turn of the hand at the first
    waypoint lands on odd branches)."""
    approach = T_grasp_world[:3, 2]
    pre = stand_off(T_grasp_world, cfg)
    path = []
    if to_stand_off:
        turn = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([R_ee, pre[:3, :3]])))
        steps = np.linspace(0, 1, cfg.reach_waypoints)[1:]
        path = [make_T(R, ee + s * (pre[:3, 3] - ee)) for s, R in zip(steps, turn(steps).as_matrix())]
    for s in np.linspace(0, 1, cfg.approach_waypoints)[1:]:
        wp = T_grasp_world.copy()
        wp[:3, 3] -= (1 - s) * cfg.pregrasp_m * approach
        path.append(wp)
    return path


class EpisodeRunner:
    """Runs episodes of one skill (``conf/skill/<name>.yaml``) with one robot."""

    def __init__(self, skill_cfg, sim_cfg, robot_spec: RobotSpec):
        self.skill_cfg, self.sim_cfg, self.spec = settings(skill_cfg), settings(sim_cfg), robot_spec
        if skill_cfg.task not in TASKS:
            raise KeyError(f"skill {skill_cfg.name}: unknown task {skill_cfg.task!r}; known: {sorted(TASKS)}")

    def run(self, policy, seed: int, video_path: str | Path | None = None) -> dict:
        cfg, skill = self.sim_cfg, self.skill_cfg
        dt = 1.0 / cfg.control_hz
        steps_per_control = int(round(dt / cfg.timestep_s))
        horizon = int(round(skill.horizon_s * cfg.control_hz))
        with BulletScene(gui=cfg.gui, timestep_s=cfg.timestep_s) as scene:
            task = TASKS[skill.task](scene, skill, cfg.scenes[skill.task], np.random.default_rng(seed))
            task.dt = dt
            base = task.robot_base + np.asarray(self.spec.mount_offset_m, dtype=np.float64)
            # Visual meshes only when something will be rendered (they cost most of the arm's load time).
            robot = Robot(scene, self.spec, base_position=base, visual=bool(video_path) or bool(cfg.gui))
            robot.set_friction(cfg.finger_friction)
            kin = kinematics_for(self.spec)
            T_wc = task.contact_frame()
            frames: list[np.ndarray] = []
            camera = _video_camera(cfg.video, T_wc[:3, 3], base) if video_path else None
            max_joint_step = self.spec.max_joint_speed * dt

            def settle(n_steps: int, t_s: float | None = None) -> None:
                for i in range(n_steps):
                    scene.step()
                    if camera is not None and i % cfg.video.every_steps == 0:
                        frames.append(scene.render(camera))
                    if t_s is not None and (i + 1) % steps_per_control == 0:
                        task.on_step(t_s + (i + 1) * cfg.timestep_s)

            def drive(T_world: np.ndarray, n_steps: int, free_space: bool = False) -> float:
                """Track a grasp-frame pose. In free space (the oracle reach) IK may restart from the
                rest posture; holding an object it stays on its branch and the joint step is
                speed-limited, so the arm never swings across to another IK solution."""
                q_now = robot.joint_positions()
                q, err, _ = kin.ik(T_world[:3, 3] - base, T_world[:3, :3], q_seed=q_now, restart=free_space,
                                   iterations=100 if free_space else cfg.tracking_ik_iterations)
                robot.command_arm(q if free_space else q_now + np.clip(q - q_now, -max_joint_step, max_joint_step))
                settle(n_steps)
                return err

            T_cmd = task.grasp_in_contact()
            T_grasp_world = T_wc @ T_cmd
            body, link = task.held()
            if task.in_hand:
                q, _, _ = kin.ik_from_rest(T_grasp_world[:3, 3] - base, T_grasp_world[:3, :3])
                robot.reset(q)
                robot.command_arm(q)
                robot.gripper(open_=False)
                task.place_in_hand(T_grasp_world)
                robot.attach(scene.body(body), link)
                settle(cfg.grasp_settle_steps)
            else:
                # Oracle reach and grasp: to a stand-off along the approach, then along it, and close.
                if cfg.reach_in_joint_space:
                    # The stand-off posture is planned first, walking the pose out from the rest
                    # posture on the kinematic twin (as in-hand starts are found), and reached by
                    # interpolating joints: a Cartesian reach solved waypoint by waypoint could flip
                    # IK branches on the way and thrash the arm through the scene.
                    pre = stand_off(T_grasp_world, cfg)
                    q_pre, _, _ = kin.ik_from_rest(pre[:3, 3] - base, pre[:3, :3])
                    q0 = robot.joint_positions()
                    for s in np.linspace(0, 1, cfg.reach_waypoints)[1:]:
                        robot.command_arm(q0 + s * (q_pre - q0))
                        settle(steps_per_control)
                path = reach_path(*robot.ee_pose(), T_grasp_world, cfg, to_stand_off=not cfg.reach_in_joint_space)
                for wp in path:
                    drive(wp, steps_per_control, free_space=True)
                drive(T_grasp_world, steps_per_control * 3, free_space=True)
                robot.gripper(open_=False)
                settle(cfg.grasp_settle_steps)
            grasp_error = float(np.linalg.norm(robot.ee_pose()[0] - T_grasp_world[:3, 3]))
            if not task.in_hand and task.grasp_mode == "attach" and grasp_error <= cfg.attach_tolerance_m:
                robot.attach(scene.body(body), link, rigid=task.rigid_grasp)

            policy.reset(task, T_cmd.copy())
            if hasattr(policy, "horizon_s"):  # a replay of a human motion runs at the human's pace
                horizon = max(horizon, int(round(policy.horizon_s(task) * cfg.control_hz)))
            released_at, t = None, 0
            for t in range(horizon):
                T_next, keep_closed = policy.act({"t_s": t * dt, "T_contact_cmd": T_cmd, "task": task})
                if not keep_closed:
                    released_at = t
                    break
                T_cmd = np.asarray(T_next, dtype=np.float64)
                drive(T_wc @ T_cmd, steps_per_control)
                task.on_step((t + 1) * dt)
            t_end = (t + 1) * dt
            if released_at is not None or skill.release_at_end:
                # The human's timing ignores the arm's tracking lag: reach the last target first.
                drive(T_wc @ T_cmd, cfg.pre_release_settle_steps)
                robot.detach()
                robot.gripper(open_=True)
            # Scenes whose objects must come to rest (place) ask for a longer settle.
            settle(max(cfg.release_settle_steps, int(round(skill.get("settle_s", 0.0) / cfg.timestep_s))), t_end)
            success = task.is_success()
            result = {
                "seed": int(seed), "success": bool(success), "steps": t + 1, "released_at": released_at,
                "grasp_error_m": round(grasp_error, 4), "grasp": "oracle" if not task.in_hand else "in_hand",
                **task.progress(),
            }
            if video_path and frames:
                fps = cfg.control_hz * steps_per_control / cfg.video.every_steps
                with VideoWriter(video_path, fps, camera.width, camera.height) as w:
                    for f in frames:
                        w.write(f)
                gif = Path(video_path).with_suffix(".gif")
                write_gif(gif, frames[:: cfg.video.gif_every], fps / cfg.video.gif_every, cfg.video.gif_scale)
                result["video"] = str(video_path)
                result["gif"] = str(gif)
            return result
