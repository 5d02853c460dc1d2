"""Rolling out a skill policy in a randomised PyBullet scene.

An episode: the scene is sampled from its seed; an oracle reaches and grasps the object's known
handle (as in ZeroMimic, policies are judged on the post-grasp motion); then the policy drives the
end effector in the contact frame at the control rate until it lets go or the horizon ends; the
task's success test is applied after the gripper opens.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from vid2skill.geometry import apply_T, inv_T, look_at_R
from vid2skill.physics.bullet import BulletScene, CameraSpec
from vid2skill.physics.robot import Kinematics, Robot, RobotSpec
from vid2skill.sim.tasks import TASKS
from vid2skill.video import VideoWriter

log = logging.getLogger(__name__)

_KINEMATICS: dict[str, Kinematics] = {}


def kinematics_for(spec: RobotSpec) -> Kinematics:
    """One IK twin per robot per process (building it loads the URDF)."""
    if spec.name not in _KINEMATICS:
        _KINEMATICS[spec.name] = Kinematics(spec)
    return _KINEMATICS[spec.name]


def _video_camera(sim_cfg, T_wc: np.ndarray, base: np.ndarray) -> CameraSpec:
    target = 0.5 * (T_wc[:3, 3] + base) + np.array([0.0, 0.0, 0.15])
    position = target + np.array(sim_cfg.video.offset_m)
    w, h = sim_cfg.video.width, sim_cfg.video.height
    f = h / 2 / np.tan(np.radians(sim_cfg.video.fov_deg) / 2)
    return CameraSpec(w, h, f, f, w / 2, h / 2, position, look_at_R(target - position, np.array([0, 0, 1.0])))


class Rollout:
    """Runs episodes of one skill with one robot.

    ``policy(obs) -> (step (3,), keep_closed)`` where obs is the commanded end-effector position in
    the contact frame (metres) and the time since the grasp (seconds).
    """

    def __init__(self, skill_cfg, sim_cfg, robot_spec: RobotSpec, grasp_R_contact: np.ndarray):
        self.skill_cfg, self.sim_cfg, self.spec = skill_cfg, sim_cfg, robot_spec
        self.grasp_R_contact = np.asarray(grasp_R_contact, dtype=np.float64)

    def run(self, policy, seed: int, video_path: str | Path | None = None) -> dict:
        cfg = self.sim_cfg
        steps_per_control = int(round(1.0 / (cfg.control_hz * cfg.timestep_s)))
        with BulletScene(gui=cfg.gui, timestep_s=cfg.timestep_s) as scene:
            rng = np.random.default_rng(seed)
            task = TASKS[self.skill_cfg.task](scene, self.skill_cfg, cfg.randomization, rng)
            base = task.episode.robot_base
            robot = Robot(scene, self.spec, base_position=base)
            robot.set_friction(cfg.finger_friction)
            kin = kinematics_for(self.spec)
            T_wc = task.contact_frame()
            T_cw = inv_T(T_wc)
            R_grasp = T_wc[:3, :3] @ self.grasp_R_contact
            frames: list[np.ndarray] = []
            camera = _video_camera(cfg, T_wc, base) if video_path else None

            max_joint_step = self.spec.max_joint_speed / cfg.control_hz

            def drive(target_world: np.ndarray, n_steps: int, free_space: bool = False) -> float:
                """Track a target. In free space (the oracle reach) IK may restart from the rest posture;
                in contact it stays on its branch and the joint step is speed-limited, so that the
                arm never swings across to another IK solution while holding the object."""
                q_now = robot.joint_positions()
                q, err, _ = kin.ik(target_world - base, R_grasp, q_seed=q_now, restart=free_space)
                robot.command_arm(q if free_space else q_now + np.clip(q - q_now, -max_joint_step, max_joint_step))
                for i in range(n_steps):
                    scene.step()
                    if camera is not None and i % cfg.video.every_steps == 0:
                        frames.append(scene.render(camera))
                return err

            # Oracle reach and grasp (named as such in the report): pre-grasp, approach, close.
            pre = apply_T(T_wc, np.array([-cfg.pregrasp_m, 0.0, 0.0]))
            for s in np.linspace(0, 1, cfg.reach_waypoints)[1:]:
                ee, _ = robot.ee_pose()
                drive(ee + s * (pre - ee) if s < 1 else pre, steps_per_control, free_space=True)
            for s in np.linspace(0, 1, cfg.approach_waypoints)[1:]:
                drive(apply_T(T_wc, np.array([-cfg.pregrasp_m * (1 - s), 0.0, 0.0])), steps_per_control, free_space=True)
            drive(T_wc[:3, 3], steps_per_control * 3, free_space=True)
            robot.gripper(open_=False)
            scene.step(cfg.grasp_settle_steps)
            grasp_error = float(np.linalg.norm(robot.ee_pose()[0] - T_wc[:3, 3]))

            # The policy's state is its own commanded end-effector position in the contact frame
            # (as in its training data), so the arm's tracking lag cannot stall it or make it let
            # go early; the IK controller closes the loop on the arm.
            target_c = apply_T(T_cw, robot.ee_pose()[0])
            released_at = None
            for t in range(cfg.horizon_steps):
                step, keep_closed = policy(np.append(target_c, t / cfg.control_hz))
                if not keep_closed:
                    released_at = t
                    break
                target_c = target_c + step
                drive(apply_T(T_wc, target_c), steps_per_control)
            # The human's timing ignores the arm's tracking lag: let it reach the last target first.
            drive(apply_T(T_wc, target_c), cfg.pre_release_settle_steps)
            robot.gripper(open_=True)
            scene.step(cfg.release_settle_steps)
            success = task.is_success()
            result = {
                "seed": seed, "success": bool(success), "steps": t + 1, "released_at": released_at,
                "grasp_error_m": round(grasp_error, 4), **task.progress(),
            }
            if video_path and frames:
                with VideoWriter(video_path, cfg.control_hz * steps_per_control / cfg.video.every_steps,
                                 camera.width, camera.height) as w:
                    for f in frames:
                        w.write(f)
                result["video"] = str(video_path)
            return result
