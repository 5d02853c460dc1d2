"""A thin PyBullet client that names its bodies (after panda-gym's ``pybullet.py``).

Tasks and generators ask for ``scene.body("drawer")`` instead of juggling raw body ids, and every
scene owns its own DIRECT client so that processes and tests never share hidden state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p
import pybullet_data

from vid2skill.geometry import R_to_quat, quat_to_R


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera: OpenCV intrinsics and the pose of the camera in the world.

    ``R_world_cam`` uses the OpenCV convention (x right, y down, z forward).
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    position: np.ndarray  # (3,) world, metres
    R_world_cam: np.ndarray  # (3, 3)

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    @property
    def T_world_cam(self) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3] = self.R_world_cam
        T[:3, 3] = self.position
        return T

    def gl_matrices(self, near: float = 0.02, far: float = 6.0) -> tuple[list, list]:
        """PyBullet (OpenGL, column-major) view and projection matrices for this camera."""
        forward = self.R_world_cam[:, 2]
        up = -self.R_world_cam[:, 1]
        view = p.computeViewMatrix(self.position.tolist(), (self.position + forward).tolist(), up.tolist())
        # Exact OpenGL projection of the OpenCV intrinsics (principal point may be off-centre).
        w, h = self.width, self.height
        proj = np.zeros((4, 4))
        proj[0, 0] = 2 * self.fx / w
        proj[1, 1] = 2 * self.fy / h
        proj[0, 2] = 1 - 2 * self.cx / w
        proj[1, 2] = 2 * self.cy / h - 1
        proj[2, 2] = -(far + near) / (far - near)
        proj[2, 3] = -2 * far * near / (far - near)
        proj[3, 2] = -1
        return view, proj.T.reshape(-1).tolist()


class BulletScene:
    """One PyBullet DIRECT (or GUI) client with named bodies.

    Closed DIRECT clients are emptied with ``resetSimulation`` and kept for the next scene of the
    process: connecting costs a noticeable share of a short episode. The reset
    rebuilds the dynamics world, so a reused client steps exactly as a fresh one (tested).
    """

    _idle: list[int] = []  # emptied DIRECT clients of this process, ready for the next scene

    def __init__(self, gui: bool = False, timestep_s: float = 1.0 / 240.0, gravity: float = -9.81):
        self.gui = gui
        self.client = (
            BulletScene._idle.pop()
            if (not gui and BulletScene._idle)
            else p.connect(p.GUI if gui else p.DIRECT)
        )
        self.timestep_s = timestep_s
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=self.client)
        p.setGravity(0, 0, gravity, physicsClientId=self.client)
        p.setTimeStep(timestep_s, physicsClientId=self.client)
        self._bodies: dict[str, int] = {}

    # --- bodies -------------------------------------------------------------------------------
    def load_urdf(
        self, name: str, path: str, position=(0, 0, 0), R=None, fixed: bool = True, scale: float = 1.0
    ) -> int:
        quat = R_to_quat(np.asarray(R)) if R is not None else (0, 0, 0, 1)
        uid = p.loadURDF(
            str(path),
            list(position),
            list(quat),
            useFixedBase=fixed,
            globalScaling=scale,
            flags=p.URDF_USE_SELF_COLLISION_EXCLUDE_PARENT if not fixed else 0,
            physicsClientId=self.client,
        )
        self._bodies[name] = uid
        return uid

    def create_box(
        self, name: str, half_extents, position, rgba, mass: float = 0.0, collide: bool = True
    ) -> int:
        kw = dict(physicsClientId=self.client)
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=list(half_extents), rgbaColor=list(rgba), **kw)
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=list(half_extents), **kw) if collide else -1
        uid = p.createMultiBody(mass, col, vis, list(position), **kw)
        self._bodies[name] = uid
        return uid

    def create_cylinder(self, name: str, radius: float, height: float, position, rgba) -> int:
        """A static, visual-only upright cylinder (scenery)."""
        kw = dict(physicsClientId=self.client)
        vis = p.createVisualShape(p.GEOM_CYLINDER, radius=radius, length=height, rgbaColor=list(rgba), **kw)
        uid = p.createMultiBody(0, -1, vis, list(position), **kw)
        self._bodies[name] = uid
        return uid

    def create_mesh(self, name: str, vertices, indices, normals, rgba, scale: float = 1.0) -> int:
        kw = dict(physicsClientId=self.client)
        vis = p.createVisualShape(
            p.GEOM_MESH,
            vertices=vertices,
            indices=indices,
            normals=normals,
            rgbaColor=list(rgba),
            meshScale=[scale] * 3,
            **kw,
        )
        uid = p.createMultiBody(0, -1, vis, [0, 0, -10], **kw)
        self._bodies[name] = uid
        return uid

    def body(self, name: str) -> int:
        return self._bodies[name]

    def set_pose(self, name: str, position, R) -> None:
        p.resetBasePositionAndOrientation(
            self._bodies[name], list(position), R_to_quat(np.asarray(R)).tolist(), physicsClientId=self.client
        )

    def base_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        pos, quat = p.getBasePositionAndOrientation(self._bodies[name], physicsClientId=self.client)
        return np.array(pos), quat_to_R(np.array(quat))

    def link_pose(self, name: str, link: int) -> tuple[np.ndarray, np.ndarray]:
        state = p.getLinkState(
            self._bodies[name], link, computeForwardKinematics=True, physicsClientId=self.client
        )
        # PyBullet's own conversion: called on every IK iteration, SciPy's costs 30x more.
        return np.array(state[4]), np.array(p.getMatrixFromQuaternion(state[5])).reshape(3, 3)

    def joint_position(self, name: str, joint: int) -> float:
        return p.getJointState(self._bodies[name], joint, physicsClientId=self.client)[0]

    def set_joint_position(self, name: str, joint: int, value: float) -> None:
        p.resetJointState(self._bodies[name], joint, value, physicsClientId=self.client)

    def hold_joint(self, name: str, joint: int, force: float = 1000.0) -> None:
        """Hold a joint where it is (a position motor of up to ``force``) until :meth:`free_joint`."""
        uid = self._bodies[name]
        p.setJointMotorControl2(
            uid,
            joint,
            p.POSITION_CONTROL,
            targetPosition=self.joint_position(name, joint),
            force=force,
            physicsClientId=self.client,
        )

    def free_joint(self, name: str, joint: int) -> None:
        """Let a joint move under the forces on it, resisted by the damping and the dry friction its
        URDF declares. PyBullet applies the URDF's damping but only reads its friction; a velocity
        motor aiming at rest with at most that force applies it (without it, a drawer knocked by the
        impulse of its own end stop as the gripper lets go glides on, damped only)."""
        uid = self._bodies[name]
        friction = p.getJointInfo(uid, joint, physicsClientId=self.client)[7]
        p.setJointMotorControl2(
            uid,
            joint,
            p.VELOCITY_CONTROL,
            targetVelocity=0.0,
            force=float(friction),
            physicsClientId=self.client,
        )

    # --- simulation ---------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        for _ in range(n):
            p.stepSimulation(physicsClientId=self.client)

    def render(
        self,
        camera: CameraSpec,
        light_direction=(0.4, 0.3, 1.0),
        ambient: float = 0.6,
        diffuse: float = 0.5,
        specular: float = 0.1,
        shadow: bool = False,
        background: np.ndarray | None = None,
        depth: bool = False,
    ):
        """RGB image (H, W, 3) uint8 from the TinyRenderer (headless, deterministic); with
        ``depth``, also the metric depth (H, W) along the camera's z of the nearest surface.

        With ``background`` (H, W, 3) uint8, pixels that show no body are taken from it: the
        TinyRenderer spends most of its time filling large floor and wall polygons, so a painted
        backdrop is several times faster than modelled walls.
        """
        near, far = 0.02, 6.0
        view, proj = camera.gl_matrices(near, far)
        img = p.getCameraImage(
            camera.width,
            camera.height,
            view,
            proj,
            renderer=p.ER_TINY_RENDERER,
            lightDirection=list(light_direction),
            lightAmbientCoeff=ambient,
            lightDiffuseCoeff=diffuse,
            lightSpecularCoeff=specular,
            shadow=int(shadow),
            physicsClientId=self.client,
        )
        rgb = np.asarray(img[2], dtype=np.uint8).reshape(camera.height, camera.width, 4)[..., :3]
        if background is not None:
            empty = np.asarray(img[4]).reshape(camera.height, camera.width) < 0
            rgb = np.where(empty[..., None], background, rgb)
        if not depth:
            return rgb
        zb = np.asarray(img[3], dtype=np.float64).reshape(camera.height, camera.width)
        return rgb, far * near / (far - (far - near) * zb)  # OpenGL's depth buffer back to metres

    def close(self) -> None:
        if self.client is not None and p.isConnected(self.client):
            if self.gui:
                p.disconnect(self.client)
            else:
                p.resetSimulation(physicsClientId=self.client)
                BulletScene._idle.append(self.client)
        self.client = None

    def __enter__(self) -> BulletScene:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
