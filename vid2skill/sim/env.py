"""One skill's scene, one robot and the oracle grasp as a Gymnasium environment.

``reset(seed=...)`` samples the scene from the seed and starts the episode as every evaluation
does: handle-type skills (drawer, door, pick) begin with an oracle reach and grasp of the object's
known grasp pose (as in ZeroMimic, policies are judged on the post-grasp motion); in-hand skills
(place, pour, stir, cut) begin with the object already held. Each ``step`` then commands the
end-effector (grasp frame) pose in the contact frame for one control step. When the action opens
the gripper, or the horizon ends, the arm reaches its last target, lets go if the skill ends with
a release, the scene settles and the task's success test is applied: ``reward`` is 1.0 for a
success on that last step and 0.0 otherwise; ``terminated`` means the policy let go,
``truncated`` that the horizon ended.

Observation (keys and units from :mod:`vid2skill.dataset.features`):

* ``observation.state`` (8,) float32: the commanded grasp pose as its displacement from the start
  grasp (x, y, z, m, contact frame) and its rotation since the grasp (rotation vector, rad,
  left-applied: R = exp(r) @ R_contact_grasp), the gripper (1 closed, 0 open) and the phase
  (control step / (horizon - 1), in [0, 1]). The command, not the measured pose: the arm's
  tracking lag neither stalls a policy nor makes it let go early.
* ``observation.goal`` (4,) float32: the task's target in the same frame and a valid flag
  (:mod:`vid2skill.sim.goals`, defined as the dataset's hindsight goal).
* ``timestamp`` (1,) float32: seconds since the grasp.
* ``observation.images.<camera>`` (H, W, 3) uint8 for each camera in ``cameras`` (``front``: the
  video camera at ``sim.video`` size).

Action (7,) (``features.ACTION``): the step of the commanded pose (dx, dy, dz m; drx, dry, drz rad,
left-applied in the contact frame) and the gripper command (>= 0.5: stay closed; below: let go).
Scripted policies, whose output is a target pose, command it exactly with :meth:`SkillEnv.step_to`.

Privileged state is never in the observation: ``info`` holds the scene (``task``, for scripted
experts; unless ``privileged_info=False``), the exact commanded and start poses
(``T_contact_cmd``, ``T_contact_start``, (4, 4) float64) and ``t_s``; the last step's ``info``
adds ``is_success`` and ``result`` (the episode's record). ``import vid2skill.sim.env`` registers
``vid2skill/SlideOpen-v0`` ... ``vid2skill/Cut-v0``.
"""

from __future__ import annotations

import logging

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scipy.spatial.transform import Rotation, Slerp

from vid2skill.config import SKILLS
from vid2skill.dataset.features import ACTION, GOAL, STATE, TIMESTAMP, image_feature
from vid2skill.geometry import look_at_R, make_T
from vid2skill.physics.bullet import BulletScene, CameraSpec
from vid2skill.physics.robot import Kinematics, Robot, RobotSpec
from vid2skill.scenes import SCENES
from vid2skill.scenes.base import HALF_TURN_ABOUT_Z
from vid2skill.settings import settings
from vid2skill.sim.goals import scene_goal

log = logging.getLogger(__name__)

_KINEMATICS: dict[str, Kinematics] = {}

# Action bounds declared by the action space (one control step); larger steps are executed as given.
MAX_STEP_M = 0.05
MAX_TURN_RAD = 0.5
# Observation bounds: offsets from the start grasp (m; every arm here reaches < 1 m) and time (s).
MAX_OFFSET_M = 3.0
MAX_TIME_S = 3600.0


def kinematics_for(spec: RobotSpec) -> Kinematics:
    """One IK twin per robot per process (building it loads the URDF)."""
    if spec.name not in _KINEMATICS:
        _KINEMATICS[spec.name] = Kinematics(spec)
    return _KINEMATICS[spec.name]


def _video_camera(
    video_cfg, look_at: np.ndarray, base: np.ndarray, size: tuple[int, int] | None = None
) -> CameraSpec:
    target = 0.5 * (look_at + base) + np.array([0.0, 0.0, 0.1])
    position = target + np.array(video_cfg.offset_m)
    w, h = size if size is not None else (video_cfg.width, video_cfg.height)
    f = h / 2 / np.tan(np.radians(video_cfg.fov_deg) / 2)
    return CameraSpec(w, h, f, f, w / 2, h / 2, position, look_at_R(target - position, np.array([0, 0, 1.0])))


def stand_off(T_grasp_world: np.ndarray, cfg) -> np.ndarray:
    """The grasp pose moved ``cfg.pregrasp_m`` back along its approach (z) axis."""
    pre = T_grasp_world.copy()
    pre[:3, 3] -= cfg.pregrasp_m * T_grasp_world[:3, 2]
    return pre


def reach_path(
    ee: np.ndarray, R_ee: np.ndarray, T_grasp_world: np.ndarray, cfg, to_stand_off: bool = True
) -> list[np.ndarray]:
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


def approach_plan(
    kin, T_grasp_world: np.ndarray, base: np.ndarray, cfg, tries: int = 8
) -> list[np.ndarray] | None:
    """Joint postures (stand-off first, grasp last) of the oracle approach, planned on the kinematic
    twin (``kin``) on one IK branch, each waypoint solved from the one before without restarts: in
    from the stand-off posture walked out from the rest posture (as in-hand starts are found), or,
    where that stand-off leaves no smooth way in (a wrist joint at its limit), out from a grasp
    posture walked from rest or solved from one of ``tries`` random postures (a fixed stream). A
    Cartesian approach solved from the arm's posture with restarts would flip branches there and
    miss the handle. None when no walk converges without a jump (the caller falls back to it)."""
    p, R, approach = T_grasp_world[:3, 3] - base, T_grasp_world[:3, :3], T_grasp_world[:3, 2]
    n = int(cfg.approach_waypoints)
    back = [p - (1 - s) * cfg.pregrasp_m * approach for s in np.linspace(0, 1, n)]  # stand-off first
    q, e_p, e_r = kin.ik_from_rest(back[0], R)
    if _converged(e_p, e_r) and (plan := _walk(kin, q, back[1:], R)):
        return plan
    lo, hi = kin.robot.lower, kin.robot.upper
    rng = np.random.default_rng(0)
    for attempt in range(tries + 1):
        if attempt == 0:
            q, e_p, e_r = kin.ik_from_rest(p, R)
        else:
            seed = lo + rng.random(len(lo)) * (hi - lo)
            q, e_p, e_r = kin.ik(p, R, q_seed=seed, restart=False, max_deviation_rad=np.pi)
        if _converged(e_p, e_r) and (plan := _walk(kin, q, back[-2::-1], R)):
            return plan[::-1]
    return None


def _converged(e_p: float, e_r: float) -> bool:
    """An IK answer within 2 mm and about 1 degree of its target (as ``ik_from_rest`` accepts)."""
    return e_p < 2e-3 and e_r < 2e-2


def _walk(kin, q: np.ndarray, targets: list[np.ndarray], R: np.ndarray) -> list[np.ndarray] | None:
    """Postures from ``q`` through ``targets`` (positions, orientation ``R``), each solved from the
    last without restarts; None where one fails to converge or jumps."""
    plan = [q]
    for target in targets:
        q, e_p, e_r = kin.ik(target, R, q_seed=plan[-1], restart=False)
        if not _converged(e_p, e_r) or np.abs(q - plan[-1]).max() > 0.5:
            return None
        plan.append(q)
    return plan


class SkillEnv(gym.Env):
    """Episodes of one skill (``conf/skill/<name>.yaml``) with one robot (see the module docstring).

    Args:
        skill_cfg, sim_cfg: ``cfg.skill.<name>`` and ``cfg.sim``.
        robot_spec: the arm (``vid2skill.retarget.stage.robot_spec(cfg.robot)``).
        cameras: camera names whose images join the observation (only ``front`` is defined).
        record_video: keep a frame every ``sim.video.every_steps`` physics steps in ``frames``.
        render_mode: None or ``rgb_array`` (``render()`` returns the front camera's image).
        privileged_info: put the scene (``task``) in ``info`` for scripted experts; False leaves
            only plain values there (a scene object compares unequal to its twin from the same seed,
            which Gymnasium's determinism check would flag).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    CAMERAS = ("front",)

    def __init__(
        self,
        skill_cfg,
        sim_cfg,
        robot_spec: RobotSpec,
        cameras: tuple[str, ...] = (),
        record_video: bool = False,
        render_mode: str | None = None,
        privileged_info: bool = True,
    ):
        self.skill_cfg, self.sim_cfg, self.robot_spec = settings(skill_cfg), settings(sim_cfg), robot_spec
        if skill_cfg.task not in SCENES:
            raise KeyError(
                f"skill {skill_cfg.name}: unknown task {skill_cfg.task!r}; known: {SCENES.names()}"
            )
        unknown = sorted(set(cameras) - set(self.CAMERAS))
        if unknown:
            raise ValueError(f"cameras {unknown} are not defined; choose from {list(self.CAMERAS)}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode={render_mode!r}; choose None or 'rgb_array'")
        cfg = self.sim_cfg
        self.cameras, self.record_video, self.render_mode = tuple(cameras), bool(record_video), render_mode
        self.privileged_info = bool(privileged_info)
        self.dt = 1.0 / cfg.control_hz
        self.metadata = {**self.metadata, "render_fps": cfg.control_hz}
        self.steps_per_control = int(round(self.dt / cfg.timestep_s))
        self.base_horizon = int(round(self.skill_cfg.horizon_s * cfg.control_hz))
        self.image_size = (int(cfg.video.height), int(cfg.video.width))
        m = MAX_OFFSET_M
        obs = {
            STATE.key: spaces.Box(
                np.array([-m] * 3 + [-np.pi] * 3 + [0, 0], np.float32),
                np.array([m] * 3 + [np.pi] * 3 + [1, 1], np.float32),
                STATE.shape,
                np.float32,
            ),
            GOAL.key: spaces.Box(
                np.array([-m] * 3 + [0], np.float32),
                np.array([m] * 3 + [1], np.float32),
                GOAL.shape,
                np.float32,
            ),
            TIMESTAMP.key: spaces.Box(0.0, MAX_TIME_S, TIMESTAMP.shape, np.float32),
        }
        for cam in self.cameras:
            obs[image_feature(cam, *self.image_size).key] = spaces.Box(
                0, 255, (*self.image_size, 3), np.uint8
            )
        self.observation_space = spaces.Dict(obs)
        hi = np.array([MAX_STEP_M] * 3 + [MAX_TURN_RAD] * 3 + [1.0], np.float32)
        self.action_space = spaces.Box(
            np.append(-hi[:6], 0.0).astype(np.float32), hi, ACTION.shape, np.float32
        )
        self.scene: BulletScene | None = None
        self.task = None
        self.frames: list[np.ndarray] = []
        self._over = True

    # --- the Gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Sample the scene from ``seed`` (an unseeded reset draws one from the environment's
        generator) and grasp: returns (observation, info)."""
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2**31 - 1))
        self.close()
        cfg, skill = self.sim_cfg, self.skill_cfg
        self.seed_, self.frames, self.horizon = int(seed), [], self.base_horizon
        self.scene = scene = BulletScene(gui=cfg.gui, timestep_s=cfg.timestep_s)
        self.task = task = SCENES.get(skill.task)(
            scene, skill, cfg.scenes[skill.task], np.random.default_rng(seed)
        )
        task.dt = self.dt
        self.base = base = task.robot_base + np.asarray(self.robot_spec.mount_offset_m, dtype=np.float64)
        # Visual meshes only when something will be rendered (they cost most of the arm's load time).
        visual = self.record_video or bool(cfg.gui) or bool(self.cameras) or self.render_mode is not None
        self.robot = robot = Robot(scene, self.robot_spec, base_position=base, visual=visual)
        robot.set_friction(cfg.finger_friction)
        self.kin = kinematics_for(self.robot_spec)
        self.T_wc = T_wc = task.contact_frame()
        self.camera = _video_camera(cfg.video, T_wc[:3, 3], base)
        self.max_joint_step = self.robot_spec.max_joint_speed * self.dt

        walked = self._choose_grasp_turn()
        T_cmd = task.grasp_in_contact()
        T_grasp_world = T_wc @ T_cmd
        body, link = task.held()
        if task.in_hand:
            q = walked if walked is not None else self._walk_from_rest(T_cmd)[0]
            robot.reset(q)
            robot.command_arm(q)
            robot.gripper(open_=False)
            task.place_in_hand(T_grasp_world)
            robot.attach(scene.body(body), link)
            self._settle(cfg.grasp_settle_steps)
        else:
            if task.articulation is not None:  # the oracle reach must not move what the skill is to move
                scene.hold_joint(*task.articulation)
            self._reach(T_grasp_world)
            if task.articulation is not None:
                scene.free_joint(*task.articulation)
            robot.gripper(open_=False)
            self._settle(cfg.grasp_settle_steps)
        self.grasp_error = float(np.linalg.norm(robot.ee_pose()[0] - T_grasp_world[:3, 3]))
        if not task.in_hand and task.grasp_mode == "attach" and self.grasp_error <= cfg.attach_tolerance_m:
            robot.attach(scene.body(body), link, rigid=task.rigid_grasp)

        self.T_cmd, self.T_start = T_cmd, T_cmd.copy()
        self.goal = scene_goal(task, skill.task)
        self.t, self.released_at, self.steps, self.success, self._over, self._opened = (
            0,
            None,
            0,
            False,
            False,
            False,
        )
        return self._observation(), self._info()

    def step(self, action):
        """Step the commanded pose by ``action`` (7,) (see the module docstring)."""
        a = np.asarray(action, dtype=np.float64).reshape(ACTION.shape)
        T = self.T_cmd.copy()
        T[:3, 3] = self.T_cmd[:3, 3] + a[:3]
        if np.any(a[3:6]):
            T[:3, :3] = Rotation.from_rotvec(a[3:6]).as_matrix() @ self.T_cmd[:3, :3]
        return self.step_to(T, bool(a[6] >= 0.5))

    def step_to(self, T_contact_target: np.ndarray, keep_closed: bool):
        """One control step towards a target grasp pose (4, 4) in the contact frame, or, with
        ``keep_closed`` False, the end of the episode: the same as ``step`` for a policy whose output is
        a pose (scripted experts and replays), with no round trip through a step's rounding."""
        if self._over:
            raise RuntimeError("the episode is over; call reset() first")
        t = self.t
        if not keep_closed:
            self.released_at = t
            return self._finish(t)
        self.T_cmd = np.asarray(T_contact_target, dtype=np.float64)
        self._drive(self.T_wc @ self.T_cmd, self.steps_per_control)
        self.task.on_step((t + 1) * self.dt)
        self.t = t + 1
        if self.t >= self.horizon:
            return self._finish(t)
        return self._observation(), 0.0, False, False, self._info()

    def render(self):
        if self.render_mode != "rgb_array" or self.scene is None:
            return None
        return self.scene.render(self.camera)

    def close(self):
        if self.scene is not None:
            self.scene.close()
            self.scene = None

    # --- beyond Gymnasium ---------------------------------------------------------------------
    def extend_horizon_s(self, horizon_s: float) -> None:
        """Let this episode run at least ``horizon_s`` seconds (a replay of a human motion runs at the human's
        pace)."""
        self.horizon = max(self.horizon, int(round(horizon_s * self.sim_cfg.control_hz)))

    def result(self) -> dict:
        """The finished episode's record: seed, success, steps, release step, grasp error and kind,
        and the task's progress figures."""
        if not self._over or self.task is None:
            raise RuntimeError("the episode is not over yet")
        return {
            "seed": self.seed_,
            "success": bool(self.success),
            "steps": self.steps,
            "released_at": self.released_at,
            "grasp_error_m": round(self.grasp_error, 4),
            "grasp": "oracle" if not self.task.in_hand else "in_hand",
            **self.task.progress(),
        }

    @property
    def video_fps(self) -> float:
        return self.sim_cfg.control_hz * self.steps_per_control / self.sim_cfg.video.every_steps

    # --- the episode's mechanics --------------------------------------------------------------
    def _settle(self, n_steps: int, t_s: float | None = None) -> None:
        cfg = self.sim_cfg
        for i in range(n_steps):
            self.scene.step()
            if self.record_video and i % cfg.video.every_steps == 0:
                self.frames.append(self.scene.render(self.camera))
            if t_s is not None and (i + 1) % self.steps_per_control == 0:
                self.task.on_step(t_s + (i + 1) * cfg.timestep_s)

    def _walk_from_rest(self, T_contact_grasp: np.ndarray) -> tuple[np.ndarray, bool]:
        """(posture, reached): the arm walked from rest to a grasp pose in the contact frame, and
        whether the walk converged (``ik_from_rest``'s own test)."""
        T = self.T_wc @ T_contact_grasp
        q, e_p, e_r = self.kin.ik_from_rest(T[:3, 3] - self.base, T[:3, :3])
        return q, bool(e_p < 2e-3 and e_r < 2e-2)

    def _choose_grasp_turn(self) -> np.ndarray | None:
        """A symmetric grasp (pick, place) is held turned half a turn about its approach where the
        arm cannot reach the scene's own one from rest (a wrist joint's limit in the way) and can
        reach the turned one: a parallel gripper holds the object the same either way. Returns the
        posture walked to the grasp kept (None for other scenes), which in-hand starts reuse."""
        task = self.task
        if not task.symmetric_grasp:
            return None
        q, reached = self._walk_from_rest(task.grasp_in_contact())
        if not reached:
            q_turned, turned = self._walk_from_rest(
                task.grasp_in_contact() @ make_T(HALF_TURN_ABOUT_Z, np.zeros(3))
            )
            if turned:
                task.turn_grasp()
                return q_turned
        return q

    def _reach(self, T_grasp_world: np.ndarray) -> None:
        """The oracle reach to a grasp: to a stand-off along the approach, then along it. With
        ``sim.reach_in_joint_space``, joints interpolated to the planned stand-off posture and the
        planned approach (:func:`approach_plan`) posture by posture; without a plan, or without
        ``reach_in_joint_space`` (Cartesian waypoints to the stand-off), the approach solved from
        the arm's posture at each waypoint."""
        cfg, robot = self.sim_cfg, self.robot
        plan = approach_plan(self.kin, T_grasp_world, self.base, cfg) if cfg.reach_in_joint_space else None
        if plan is not None:
            self._joints_to(plan[0], cfg.reach_waypoints)
            for q in plan[1:]:
                robot.command_arm(q)
                self._settle(self.steps_per_control)
            self._settle(self.steps_per_control * 2)
            return
        if cfg.reach_in_joint_space:
            pre = stand_off(T_grasp_world, cfg)
            self._joints_to(
                self.kin.ik_from_rest(pre[:3, 3] - self.base, pre[:3, :3])[0], cfg.reach_waypoints
            )
        path = reach_path(*robot.ee_pose(), T_grasp_world, cfg, to_stand_off=not cfg.reach_in_joint_space)
        for wp in path:
            self._drive(wp, self.steps_per_control, free_space=True)
        self._drive(T_grasp_world, self.steps_per_control * 3, free_space=True)

    def _joints_to(self, q: np.ndarray, waypoints: int) -> None:
        """Interpolate the arm's joints to ``q`` in ``waypoints`` - 1 control steps."""
        q0 = self.robot.joint_positions()
        for s in np.linspace(0, 1, waypoints)[1:]:
            self.robot.command_arm(q0 + s * (q - q0))
            self._settle(self.steps_per_control)

    def _drive(self, T_world: np.ndarray, n_steps: int, free_space: bool = False) -> float:
        """Track a grasp-frame pose. In free space (the oracle reach) IK may restart from the
        rest posture; holding an object it stays on its branch and the joint step is
        speed-limited, so the arm never swings across to another IK solution. The tracking solve
        keeps each iteration's step direction (``keep_direction``): clipped joint by joint, a step
        large in a few joints turned aside and the arm froze mid-push."""
        robot, base = self.robot, self.base
        q_now = robot.joint_positions()
        q, err, _ = self.kin.ik(
            T_world[:3, 3] - base,
            T_world[:3, :3],
            q_seed=q_now,
            restart=free_space,
            iterations=100 if free_space else self.sim_cfg.tracking_ik_iterations,
            keep_direction=not free_space,
        )
        robot.command_arm(
            q if free_space else q_now + np.clip(q - q_now, -self.max_joint_step, self.max_joint_step)
        )
        self._settle(n_steps)
        return err

    def _finish(self, t: int):
        """Release (if the policy let go or the skill ends with one), settle and judge."""
        cfg, skill = self.sim_cfg, self.skill_cfg
        t_end = (t + 1) * self.dt
        opened = self.released_at is not None or bool(skill.release_at_end)
        if opened:
            # The human's timing ignores the arm's tracking lag: reach the last target first, a
            # speed-limited control step at a time (one command covers one step's joint travel).
            left = cfg.pre_release_settle_steps
            while left > 0:
                self._drive(self.T_wc @ self.T_cmd, min(left, self.steps_per_control))
                left -= self.steps_per_control
            self.robot.detach()
            self.robot.gripper(open_=True)
        # Scenes whose objects must come to rest (place) ask for a longer settle.
        self._settle(max(cfg.release_settle_steps, int(round(skill.settle_s / cfg.timestep_s))), t_end)
        self.success, self.steps, self._over, self._opened = bool(self.task.is_success()), t + 1, True, opened
        info = {**self._info(), "is_success": self.success, "result": self.result()}
        terminated = self.released_at is not None
        return self._observation(), float(self.success), terminated, not terminated, info

    def _observation(self) -> dict[str, np.ndarray]:
        T, T0 = self.T_cmd, self.T_start
        rotvec = Rotation.from_matrix(T[:3, :3] @ T0[:3, :3].T).as_rotvec()
        closed = 0.0 if self._over and self._opened else 1.0
        phase = min(1.0, self.t / max(1, self.horizon - 1))
        obs = {
            STATE.key: np.concatenate([T[:3, 3] - T0[:3, 3], rotvec, [closed, phase]]).astype(np.float32),
            GOAL.key: self.goal.astype(np.float32),
            TIMESTAMP.key: np.array([self.t * self.dt], np.float32),
        }
        for cam in self.cameras:
            h, w = self.image_size
            obs[image_feature(cam, h, w).key] = self.scene.render(self.camera)
        return obs

    def _info(self) -> dict:
        info = {
            "t_s": self.t * self.dt,
            "T_contact_cmd": self.T_cmd.copy(),
            "T_contact_start": self.T_start.copy(),
        }
        if self.privileged_info:
            info["task"] = self.task
        return info


# Gymnasium ids: vid2skill/<CamelCase skill>-v0, one for each skill the configuration's schema knows.
SKILL_IDS = {s: "vid2skill/" + "".join(w.capitalize() for w in s.split("_")) + "-v0" for s in SKILLS}


def make_skill_env(skill: str, robot: str = "panda", overrides: tuple[str, ...] = (), **kwargs) -> SkillEnv:
    """A SkillEnv of ``skill`` with ``robot`` from the project's configuration (``overrides`` as on
    the command line, e.g. ``("sim.control_hz=20",)``); keyword arguments go to :class:`SkillEnv`."""
    from vid2skill.config import compose
    from vid2skill.retarget.stage import robot_spec

    cfg = compose(["skill=all", f"robot={robot}", *overrides])
    if skill not in cfg.skill:
        raise KeyError(f"no skill {skill!r}; known: {sorted(cfg.skill)}")
    return SkillEnv(cfg.skill[skill], cfg.sim, robot_spec(cfg.robot), **kwargs)


for _skill, _id in SKILL_IDS.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point="vid2skill.sim.env:make_skill_env", kwargs={"skill": _skill})
