"""One arm-and-gripper interface for every robot, driven by a spec from ``conf/robot/*.yaml``.

Adding a robot is a YAML file naming its URDF, end-effector link, arm joints, finger joints and
rest posture; nothing here changes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pybullet as p
from scipy.linalg.lapack import dposv

from vid2skill.errors import ConfigError
from vid2skill.physics.bullet import BulletScene
from vid2skill.physics.grip import GRIP_FORCE_N, Grip
from vid2skill.physics.objects import write_urdf


@dataclass(frozen=True)
class RobotSpec:
    """What the interface needs to know about an arm (all angles radians, lengths metres).

    Attributes:
        name: registry name (``panda``).
        urdf: path relative to pybullet_data, or absolute.
        ee_link: name of the link whose frame is the grasp point (z along the approach).
        arm_joints: names of the arm's revolute joints, base to tip.
        finger_joints: names of the gripper's joints.
        finger_open / finger_closed: finger joint targets for open and closed.
        rest_pose: arm posture used as the IK null-space target.
        finger_force: N per finger joint when closing.
        arm_force_scale: multiplies the URDF's joint effort limits for position control.
        ee_R_grasp: rotation from the skill's grasp frame (z approach, y across the fingers) to the
            EE link frame, for grippers whose EE frame differs.
        gripper: for arms that ship without one, a generated parallel gripper
            (:class:`~vid2skill.physics.grippers.ParallelGripper` fields) mounted on the flange.
        grasp_links: links that touch a held object (collisions with it are switched off while
            it is attached); empty means every link after the last arm joint.
        mount_offset_m: where this arm's base stands relative to the scenes' nominal mount point
            (x ahead, z up), so that the same scenes fall inside arms of different reach.
    """

    name: str
    urdf: str
    ee_link: str
    arm_joints: list
    finger_joints: list
    finger_open: list
    finger_closed: list
    rest_pose: list
    finger_force: float = 40.0
    arm_force_scale: float = 1.0
    max_joint_speed: float = 1.5
    ee_R_grasp: list = field(default_factory=lambda: np.eye(3).tolist())
    gripper: dict | None = None
    grasp_links: list = field(default_factory=list)
    mount_offset_m: list = field(default_factory=lambda: [0.0, 0.0, 0.0])

    def urdf_path(self, visual: bool = True) -> str:
        """The URDF to load: the arm, or the arm composed with its generated gripper, with collision
        meshes reduced to their hulls (the same either way, so videos never change the physics);
        ``visual=False`` leaves out visual meshes (for headless runs that render nothing)."""
        from vid2skill.physics.grippers import ParallelGripper, compose_arm_with_gripper, portable_urdf_text

        if not self.gripper:
            return str(write_urdf(portable_urdf_text(self.urdf, visual)))
        g = dict(self.gripper)
        g["body"], g["finger"] = tuple(g["body"]), tuple(g["finger"])
        return str(compose_arm_with_gripper(self.urdf, ParallelGripper(**g), visual))

    def __post_init__(self):
        if len(self.rest_pose) != len(self.arm_joints):
            raise ConfigError(
                f"robot {self.name}: rest_pose has {len(self.rest_pose)} values but arm_joints names "
                f"{len(self.arm_joints)} joints; give one rest angle per arm joint"
            )
        if not (len(self.finger_open) == len(self.finger_closed) == len(self.finger_joints)):
            raise ConfigError(
                f"robot {self.name}: finger_open, finger_closed and finger_joints must have equal length"
            )


class Robot:
    """An arm in a :class:`BulletScene`: IK within joint limits, position control, gripper."""

    def __init__(
        self,
        scene: BulletScene,
        spec: RobotSpec,
        base_position=(0, 0, 0),
        base_R=None,
        name: str = "robot",
        visual: bool = True,
    ):
        self.scene, self.spec, self.name = scene, spec, name
        self.uid = scene.load_urdf(name, spec.urdf_path(visual), base_position, base_R, fixed=True)
        cid = scene.client
        joints = {}
        links = {}
        for j in range(p.getNumJoints(self.uid, physicsClientId=cid)):
            info = p.getJointInfo(self.uid, j, physicsClientId=cid)
            joints[info[1].decode()] = (j, info)
            links[info[12].decode()] = j
        missing = [n for n in list(spec.arm_joints) + list(spec.finger_joints) if n not in joints]
        if missing or spec.ee_link not in links:
            raise ConfigError(
                f"robot {spec.name}: {spec.urdf} has no joint(s) {missing or ''} / link '{spec.ee_link}'; "
                f"joints are {sorted(joints)}"
            )
        self.arm = [joints[n][0] for n in spec.arm_joints]
        self.fingers = [joints[n][0] for n in spec.finger_joints]
        self.ee = links[spec.ee_link]
        self.movable = [j for n, (j, info) in joints.items() if info[2] != p.JOINT_FIXED]
        self.lower = np.array([joints[n][1][8] for n in spec.arm_joints])
        self.upper = np.array([joints[n][1][9] for n in spec.arm_joints])
        self.arm_forces = np.array([joints[n][1][10] for n in spec.arm_joints]) * spec.arm_force_scale
        self.ee_R_grasp = np.asarray(spec.ee_R_grasp, dtype=np.float64)
        last_arm = max(self.arm)
        self.hand_links = (
            [links[n] for n in spec.grasp_links]
            if spec.grasp_links
            else [j for j in range(p.getNumJoints(self.uid, physicsClientId=cid)) if j > last_arm]
        )
        self._grip: Grip | None = None
        self.reset(spec.rest_pose)

    def reset(self, q) -> None:
        for j, v in zip(self.arm, q):
            p.resetJointState(self.uid, j, float(v), physicsClientId=self.scene.client)
        for j, v in zip(self.fingers, self.spec.finger_open):
            p.resetJointState(self.uid, j, float(v), physicsClientId=self.scene.client)
        self.command_arm(np.asarray(q))
        self.gripper(open_=True)

    def joint_positions(self) -> np.ndarray:
        states = p.getJointStates(self.uid, self.arm, physicsClientId=self.scene.client)
        return np.array([s[0] for s in states])

    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Grasp-frame pose (position, R) in the world (z along the approach)."""
        pos, R = self.scene.link_pose(self.name, self.ee)
        return pos, R @ self.ee_R_grasp.T

    def command_arm(self, q) -> None:
        p.setJointMotorControlArray(
            self.uid,
            self.arm,
            p.POSITION_CONTROL,
            targetPositions=list(map(float, q)),
            forces=self.arm_forces.tolist(),
            positionGains=[0.3] * len(self.arm),
            physicsClientId=self.scene.client,
        )

    def gripper(self, open_: bool) -> None:
        targets = self.spec.finger_open if open_ else self.spec.finger_closed
        p.setJointMotorControlArray(
            self.uid,
            self.fingers,
            p.POSITION_CONTROL,
            targetPositions=list(map(float, targets)),
            forces=[self.spec.finger_force] * len(self.fingers),
            physicsClientId=self.scene.client,
        )

    # --- attachment grasp (as RLBench's gripper does once an object is between the closed jaws) ---
    def attach(self, body: int, link: int = -1, max_force: float = GRIP_FORCE_N, rigid: bool = True) -> None:
        """Hold ``body``'s ``link`` at its current pose relative to the grasp frame: rigidly, or
        (``rigid=False``) at the grasp point only, free to turn in the grip like a knob in a loose hand.
        Collisions between it and the gripper's links are switched off (a detach leaves them off)."""
        cid = self.scene.client
        self.detach()
        self._grip = Grip.to_link(cid, self.uid, self.ee, body, link, rigid=rigid, max_force=max_force)
        for j in self.hand_links:
            p.setCollisionFilterPair(self.uid, body, j, link, 0, physicsClientId=cid)

    def detach(self) -> None:
        if self._grip is not None:
            self._grip.release()
            self._grip = None

    @property
    def holding(self) -> bool:
        return self._grip is not None

    def set_friction(self, lateral: float) -> None:
        for j in self.fingers:
            p.changeDynamics(self.uid, j, lateralFriction=lateral, physicsClientId=self.scene.client)


def rotation_error(R_err: np.ndarray) -> np.ndarray:
    """Rotation vector (3,) of R_err (angle times axis, radians), exact up to 180 degrees.

    The skew part of R_err alone gives sin(angle) times the axis, which vanishes again at 180
    degrees: an IK that used it could "converge" on a gripper turned upside down.
    """
    # Scalar arithmetic: called on every IK iteration, where numpy's per-call overhead on 3-vectors
    # costs several times the arithmetic.
    sx, sy, sz = (
        0.5 * (R_err[2, 1] - R_err[1, 2]),
        0.5 * (R_err[0, 2] - R_err[2, 0]),
        0.5 * (R_err[1, 0] - R_err[0, 1]),
    )
    angle = math.acos(min(1.0, max(-1.0, (R_err[0, 0] + R_err[1, 1] + R_err[2, 2] - 1.0) / 2.0)))
    sin = math.sqrt(sx * sx + sy * sy + sz * sz)
    if sin > 1e-6:
        k = angle / sin
        return np.array([sx * k, sy * k, sz * k])
    if angle < 1e-3:
        return np.array([sx, sy, sz])
    B = 0.5 * (R_err + np.eye(3))  # = axis axis^T at 180 degrees
    axis = B[:, int(np.argmax(np.diag(B)))]
    return axis / np.linalg.norm(axis) * angle


def _dls_step(
    J: np.ndarray, e: np.ndarray, to_rest: np.ndarray, damp: np.ndarray, null_gain: float
) -> np.ndarray:
    """The damped-least-squares joint step towards task-space error ``e``, pulled towards the rest
    posture (``to_rest`` away) in the Jacobian's null space: J+ e + (I - J+ J) k to_rest, as two
    products."""
    # LAPACK's Cholesky solve called directly: numpy's multithreaded OpenBLAS spends longer in thread
    # hand-offs than a 6x6 solve takes, and SciPy's checked wrappers several times the solve itself,
    # which would make IK cost more than a physics step.
    J_pinv = dposv(J @ J.T + damp, J)[1].T
    return J_pinv @ (e - null_gain * (J @ to_rest)) + null_gain * to_rest


def _room(q: np.ndarray, dq: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_step: float) -> float:
    """The largest fraction (at most 1) of step ``dq`` from ``q`` that moves no joint more than
    ``max_step`` and keeps every joint within [``lo``, ``hi``]."""
    s = 1.0
    biggest = float(np.abs(dq).max(initial=0.0))
    if biggest > max_step:
        s = max_step / biggest
    up, down = dq > 0, dq < 0
    if up.any():
        s = min(s, float(((hi - q)[up] / dq[up]).min()))
    if down.any():
        s = min(s, float(((lo - q)[down] / dq[down]).min()))
    return max(s, 0.0)


class Kinematics:
    """Forward kinematics, Jacobians and damped-least-squares IK on a private copy of the arm.

    PyBullet's built-in null-space IK often stalls in local minima against joint limits; this
    solver clamps to the limits at every iteration, pulls towards the rest posture in the
    Jacobian's null space, and restarts from the rest posture when it stalls.
    """

    def __init__(self, spec: RobotSpec):
        self.scene = BulletScene()
        self.robot = Robot(self.scene, spec, name="kinematic_twin", visual=False)
        self.spec = spec
        self.n = len(self.robot.arm)
        cid, uid = self.scene.client, self.robot.uid
        self._all_q = [0.0] * len(self.robot.movable)
        self._arm_idx = [self.robot.movable.index(a) for a in self.robot.arm]
        for j in self.robot.movable:
            p.resetJointState(uid, j, 0.0, physicsClientId=cid)

    @functools.cached_property
    def _checked_link_pairs(self) -> list[tuple[int, int, str, str]]:
        """The link pairs ``self_collisions`` tests, with their names (built once, at the rest posture)."""
        cid, uid = self.scene.client, self.robot.uid
        n = p.getNumJoints(uid, physicsClientId=cid)
        geometric = [j for j in range(-1, n) if p.getCollisionShapeData(uid, j, physicsClientId=cid)]
        parent = {j: p.getJointInfo(uid, j, physicsClientId=cid)[16] for j in range(n)}
        name = {
            j: "base" if j < 0 else p.getJointInfo(uid, j, physicsClientId=cid)[12].decode()
            for j in geometric
        }

        def solid_parent(j: int) -> int:
            j = parent[j]
            while j >= 0 and j not in geometric:
                j = parent[j]
            return j

        hand = set(self.robot.hand_links)
        self.fk(self.spec.rest_pose)
        pairs = []
        for i, a in enumerate(geometric):
            for b in geometric[i + 1 :]:
                adjacent = (b >= 0 and solid_parent(b) == a) or (a >= 0 and solid_parent(a) == b)
                if adjacent or (a in hand and b in hand):
                    continue
                if p.getClosestPoints(uid, uid, 0.0, a, b, physicsClientId=cid):
                    continue  # touching at rest
                pairs.append((a, b, name[a], name[b]))
        return pairs

    def self_collisions(self, q, min_penetration_m: float = 0.001) -> list[tuple[str, str]]:
        """Pairs of the arm's links (by name) that interpenetrate by more than ``min_penetration_m``
        at posture ``q``, fingers open. Links joined to each other (through links without
        geometry), the gripper's own links, and pairs already touching at the rest posture (meshes
        that overlap at their joint by design) are allowed, as in MoveIt's allowed-collision matrix."""
        cid, uid = self.scene.client, self.robot.uid
        pairs = self._checked_link_pairs
        self.fk(q)
        hits = []
        for a, b, name_a, name_b in pairs:
            pts = p.getClosestPoints(uid, uid, 0.0, a, b, physicsClientId=cid)
            if pts and min(pt[8] for pt in pts) < -min_penetration_m:
                hits.append((name_a, name_b))
        return hits

    def fk(self, q) -> tuple[np.ndarray, np.ndarray]:
        # One multi-joint reset: a PyBullet call per joint costs several times as much.
        p.resetJointStatesMultiDof(
            self.robot.uid, self.robot.arm, [[float(v)] for v in q], physicsClientId=self.scene.client
        )
        return self.robot.ee_pose()

    def _jacobian(self, q) -> np.ndarray:
        all_q = list(self._all_q)
        for i, v in zip(self._arm_idx, q):
            all_q[i] = float(v)
        zeros = [0.0] * len(all_q)
        lin, ang = p.calculateJacobian(
            self.robot.uid, self.robot.ee, [0, 0, 0], all_q, zeros, zeros, physicsClientId=self.scene.client
        )
        return np.array(lin + ang)[:, self._arm_idx]  # one conversion of the 6 rows

    def ik(
        self,
        position,
        R_grasp,
        q_seed=None,
        iterations: int = 100,
        tol_m: float = 1e-3,
        tol_rad: float = 1e-2,
        damping: float = 0.02,
        null_gain: float = 0.05,
        restart: bool = True,
        random_restarts: int = 8,
        max_deviation_rad: float = 0.4,
        stall_iterations: int = 10,
        keep_direction: bool = False,
    ) -> tuple[np.ndarray, float, float]:
        """Joint angles for a grasp-frame pose; returns (q, position error m, orientation error rad).

        With ``restart`` the solver retries from the rest posture when the seed stalls, then from
        random postures (a fixed stream, so the same target gives the same answer), keeping the
        converged solution nearest the seed (or the rest posture, without a seed). A controller
        tracking a path passes ``restart=False``: the answer then stays within ``max_deviation_rad`` of
        the seed in every joint, so the arm never wanders off to another IK branch while holding an
        object. A random restart whose error has not dropped 1% in ``stall_iterations`` iterations
        stops there (unreachable targets used to run all eight to the full iteration count); the
        seeded solves run on, since stopping them early sends more reaches to restarts on other
        branches, and a reach on another branch can fail the grasp.

        With ``keep_direction`` every iteration moves along the damped-least-squares step, shortened
        to fit the joint box, instead of clipping each joint on its own (which bends the step off its
        direction): a tracking solve near a singularity, where the step is large in a few joints,
        then still makes progress within its few iterations.
        """
        rest = np.asarray(self.spec.rest_pose, dtype=np.float64)
        target_p, target_R = np.asarray(position, dtype=np.float64), np.asarray(R_grasp, dtype=np.float64)
        solve = functools.partial(
            self._solve,
            target_p,
            target_R,
            iterations=iterations,
            tol_m=tol_m,
            tol_rad=tol_rad,
            damp=damping**2 * np.eye(6),
            null_gain=null_gain,
            keep_direction=keep_direction,
        )
        if q_seed is not None and not restart:
            q, e_p, e_r, _ = solve(np.asarray(q_seed, dtype=np.float64), max_deviation_rad)
            return q, e_p, e_r
        seeds = ([np.asarray(q_seed, dtype=np.float64)] if q_seed is not None else []) + [rest]
        best = (rest, np.inf, np.inf)
        for seed in seeds:
            q, e_p, e_r, ok = solve(seed, None)
            if ok:
                return q, e_p, e_r
            if e_p + 0.1 * e_r < best[1] + 0.1 * best[2]:
                best = (q, e_p, e_r)
        # Nearest the current posture when there is one (no needless swing across), else the rest posture.
        return self._restart_randomly(solve, seeds[0], best, random_restarts, stall_iterations)

    def _solve(
        self,
        target_p: np.ndarray,
        target_R: np.ndarray,
        seed: np.ndarray,
        bound: float | None,
        patience: int | None = None,
        *,
        iterations: int,
        tol_m: float,
        tol_rad: float,
        damp: np.ndarray,
        null_gain: float,
        keep_direction: bool = False,
    ) -> tuple[np.ndarray, float, float, bool]:
        """Damped least squares from ``seed`` towards a grasp-frame pose, within the joint limits (and
        within ``bound`` of the seed in every joint, if given), stopping early once the error has not
        dropped 1% in ``patience`` iterations; returns (q, position error, orientation error,
        converged), the best posture seen if it did not converge. With ``keep_direction`` each step
        keeps its direction (:meth:`_step_in_box`)."""
        lo, hi = self.robot.lower, self.robot.upper
        if bound is not None and keep_direction:
            lo, hi = np.maximum(lo, seed - bound), np.minimum(hi, seed + bound)
        rest = np.asarray(self.spec.rest_pose, dtype=np.float64)
        q = np.clip(seed, lo, hi)
        best, best_at = (q.copy(), np.inf, np.inf), 0
        for it in range(iterations):
            pos, R = self.fk(q)
            e_p = target_p - pos
            e_r = rotation_error(target_R @ R.T)
            err_p, err_r = math.sqrt(e_p @ e_p), math.sqrt(e_r @ e_r)
            if err_p + 0.1 * err_r < 0.99 * (best[1] + 0.1 * best[2]):
                best_at = it
            if err_p + 0.1 * err_r < best[1] + 0.1 * best[2]:
                best = (q.copy(), err_p, err_r)
            if err_p < tol_m and err_r < tol_rad:
                return q, err_p, err_r, True
            if patience is not None and it - best_at >= patience:
                break  # stalled (against joint limits, or out of reach): restarts are the way on
            J = self._jacobian(q)
            e = np.concatenate([e_p, 0.5 * e_r])
            if keep_direction:
                q = self._step_in_box(J, e, q, rest, lo, hi, damp, null_gain)
                continue
            dq = _dls_step(J, e, rest - q, damp, null_gain)
            # minimum/maximum rather than np.clip: the same result at a third of the call overhead.
            q = np.minimum(np.maximum(q + np.minimum(np.maximum(dq, -0.3), 0.3), lo), hi)
            if bound is not None:
                q = np.minimum(np.maximum(q, seed - bound), seed + bound)
        return (*best, False)

    @staticmethod
    def _step_in_box(J, e, q, rest, lo, hi, damp, null_gain, max_step: float = 0.3) -> np.ndarray:
        """One damped-least-squares step from ``q`` that keeps its direction inside the box
        [``lo``, ``hi``]: joints at a face of the box that the step would push through leave the
        solve and the free joints are solved again (so the others take up their share), then the
        step is shortened along its direction until no joint moves more than ``max_step`` or leaves
        the box (:func:`_room`)."""
        free = np.ones(len(q), dtype=bool)
        while True:
            dq = np.zeros(len(q))
            if not free.any():
                break
            dq[free] = _dls_step(J[:, free], e, (rest - q)[free], damp, null_gain)
            blocked = free & (((q <= lo) & (dq < 0)) | ((q >= hi) & (dq > 0)))
            if not blocked.any():
                break
            free &= ~blocked
        return np.minimum(np.maximum(q + _room(q, dq, lo, hi, max_step) * dq, lo), hi)

    def _restart_randomly(
        self, solve, near: np.ndarray, best: tuple, restarts: int, stall_iterations: int
    ) -> tuple[np.ndarray, float, float]:
        """``solve`` from ``restarts`` random postures (a fixed stream: the same target gives the same
        answer); returns the converged solution nearest ``near``, or else the best of ``best`` and
        theirs."""
        lo, hi = self.robot.lower, self.robot.upper
        rng = np.random.default_rng(0)
        found = []
        for _ in range(restarts):
            q, e_p, e_r, ok = solve(lo + rng.random(self.n) * (hi - lo), None, stall_iterations)
            if ok:
                found.append((float(np.abs(q - near).sum()), q, e_p, e_r))
            elif e_p + 0.1 * e_r < best[1] + 0.1 * best[2]:
                best = (q, e_p, e_r)
        if found:
            _, q, e_p, e_r = min(found, key=lambda f: f[0])
            return q, e_p, e_r
        return best

    def ik_from_rest(self, position, R_grasp, steps: int = 12) -> tuple[np.ndarray, float, float]:
        """IK by continuation: walk the pose from the rest posture's end effector to the target in
        ``steps`` (positions linear, rotations slerped), each solve seeded by the last. The answer is
        a posture the arm reaches smoothly from rest (random restarts can land on contorted
        branches); if the walk stalls, plain IK with restarts decides."""
        from scipy.spatial.transform import Rotation, Slerp

        rest = np.asarray(self.spec.rest_pose, dtype=np.float64)
        p0, R0 = self.fk(rest)
        slerp = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([R0, np.asarray(R_grasp, dtype=np.float64)])))
        q = rest
        for s in np.linspace(0.0, 1.0, steps + 1)[1:]:
            # Waypoints only guide the branch: loose tolerances on the way, the full solve at the end.
            loose = s < 1.0
            q, e_p, e_r = self.ik(
                p0 + s * (np.asarray(position) - p0),
                slerp([s]).as_matrix()[0],
                q_seed=q,
                restart=False,
                max_deviation_rad=np.pi,
                iterations=25 if loose else 100,
                tol_m=5e-3 if loose else 1e-3,
                tol_rad=5e-2 if loose else 1e-2,
            )
        if e_p < 2e-3 and e_r < 2e-2:
            return q, e_p, e_r
        return self.ik(position, R_grasp)

    def close(self) -> None:
        self.scene.close()
