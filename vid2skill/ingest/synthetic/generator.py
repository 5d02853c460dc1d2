"""Synthetic human demonstrations with exact ground truth: a scripted hand opens or closes a drawer,
or (``staged.py``) performs any skill in its evaluation scene.

Each clip is rendered by PyBullet's TinyRenderer from a randomised camera (third-person or
egocentric-like) with randomised lighting, background, skin tone, hand size, speed and small
trajectory noise, and written as an mp4 beside a ground-truth artifact (camera intrinsics and
extrinsics, per-frame wrist pose in world and camera frames, 21 landmarks, aperture, phase,
contact frame, skill label). A clip is a deterministic function of (config, skill, seed).

``source.realism`` brings the renders nearer to real video (``conf/source/synthetic_real.yaml``):
a head-worn camera that turns and bobs (the backdrop, at infinity, turned with it), motion blur,
JPEG compression and clutter around the scene. Its random draws come from a stream of their own,
so a clip without realism is the same as before it existed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from vid2skill.artifacts import atomic_save_npz, file_hash, read_artifact, stable_hash, write_artifact
from vid2skill.errors import ConfigError
from vid2skill.geometry import apply_T, axis_angle_R, inv_T, look_at_R, make_T, min_jerk
from vid2skill.ingest.synthetic.hand import HandMesh, build_hand_mesh, hand_keypoints
from vid2skill.ingest.synthetic.motion import (
    GRASP,
    MOVE,
    PHASES,
    REACH,
    RELEASE,
    blend_curl,
    reach_start_R,
    release_profile,
    smooth_noise,
    withdrawn,
)
from vid2skill.ingest.synthetic.staged import restore, stage_demo
from vid2skill.ingest.types import Clip
from vid2skill.landmarks import grasp_aperture_m
from vid2skill.physics.bullet import BulletScene, CameraSpec
from vid2skill.physics.objects import DrawerSpec, drawer_urdf, write_urdf
from vid2skill.video import VideoWriter

log = logging.getLogger(__name__)

GT_SCHEMA = 1
# The hand model (hand.py) is a right hand: palm_frame(hand_keypoints(c)) is proper for right=True.
SYNTHETIC_HAND = "right"
# Motion scripts by skill name: the sign of the drawer's motion (open pulls it out).
DRAWER_SKILLS = {"slide_open": +1, "slide_close": -1}
SKIN_TONES = np.array(
    [
        [0.98, 0.84, 0.73],
        [0.93, 0.76, 0.62],
        [0.87, 0.68, 0.55],
        [0.78, 0.58, 0.44],
        [0.64, 0.45, 0.32],
        [0.50, 0.35, 0.25],
    ]
)


class HandMeshCache:
    """Blended hand meshes per quantised curl level, cached on disk (meshing costs ~1 s a pose)."""

    def __init__(self, cache_dir: str | Path, levels: int, voxel_m: float):
        self.levels = np.linspace(0.0, 1.0, levels)
        self.voxel_m = voxel_m
        self.dir = Path(cache_dir)
        self._mem: dict[int, HandMesh] = {}

    def quantise(self, curl: np.ndarray) -> np.ndarray:
        """Index of the nearest cached level, (T,) int."""
        return np.abs(np.asarray(curl)[:, None] - self.levels[None, :]).argmin(axis=1)

    def get(self, level: int) -> HandMesh:
        if level not in self._mem:
            key = stable_hash({"curl": float(self.levels[level]), "voxel": self.voxel_m, "v": 3}, 12)
            path = self.dir / f"hand_mesh_{key}.npz"
            if path.exists():
                with np.load(path) as d:
                    mesh = HandMesh(d["vertices"], d["normals"], d["indices"])
            else:
                mesh = build_hand_mesh(float(self.levels[level]), voxel_m=self.voxel_m)
                atomic_save_npz(path, vertices=mesh.vertices, normals=mesh.normals, indices=mesh.indices)
            self._mem[level] = mesh
        return self._mem[level]


@dataclass
class _Motion:
    """Per-frame script of one demonstration (world frame, T frames)."""

    phase: np.ndarray  # (T,) int index into PHASES
    drawer_q: np.ndarray  # (T,) m
    curl: np.ndarray  # (T,)
    wrist_pos: np.ndarray  # (T, 3)
    wrist_R: np.ndarray  # (T, 3, 3)
    T_world_contact: np.ndarray  # (4, 4)


def _uniform(rng: np.random.Generator, bounds) -> float:
    lo, hi = bounds
    return float(rng.uniform(lo, hi))


def script_drawer_motion(
    cfg, skill: str, rng: np.random.Generator, spec: DrawerSpec, hand_scale: float
) -> _Motion:
    """Reach the handle, close the fingers, pull (open) or push (close) the drawer, let go, retreat."""
    direction = DRAWER_SKILLS[skill]
    opening = min(_uniform(rng, cfg.opening_m), spec.travel - 0.01)
    q0, q1 = (0.0, opening) if direction > 0 else (opening, 0.0)
    speed = _uniform(rng, cfg.speed)
    durations = np.asarray(cfg.phase_durations_s, dtype=float) / speed
    counts = np.maximum(2, np.round(durations * cfg.fps).astype(int))
    phase = np.repeat(np.arange(4), counts)
    T = len(phase)
    t = np.arange(T) / cfg.fps
    # Local progress 0..1 within each phase.
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    s = (np.arange(T) - starts[phase]) / np.maximum(counts[phase] - 1, 1)

    x_H, z_H = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])  # cabinet frame = world frame
    handle0 = np.array([q0 + spec.handle_standoff, 0.0, spec.handle_height])
    # Supinated hook grasp (fingers curl up round the bar from below, palm up), as people pull
    # drawer handles; with some pitch and roll. It also shows the palm to a camera above the hand.
    R_grasp = np.stack([-x_H, np.array([0, -1.0, 0]), z_H], axis=1)
    R_grasp = R_grasp @ axis_angle_R([0, 1, 0], -np.radians(_uniform(rng, cfg.grasp_pitch_deg)))
    R_grasp = R_grasp @ axis_angle_R([1, 0, 0], np.radians(_uniform(rng, cfg.grasp_roll_deg)))
    bar_in_hand = np.array([0.080, 0.0, 0.024]) * hand_scale
    wrist_grasp = handle0 - R_grasp @ bar_in_hand
    start_offset = x_H * _uniform(rng, cfg.reach_back_m) + np.array(
        [0, _uniform(rng, cfg.reach_side_m), _uniform(rng, cfg.reach_up_m)]
    )
    wrist_start = wrist_grasp + start_offset
    R_start = reach_start_R(R_grasp, rng)

    open_curl, closed_curl = _uniform(rng, cfg.open_curl), _uniform(rng, cfg.closed_curl)
    drawer_q = np.full(T, q0)
    curl = np.full(T, open_curl)
    wrist_pos = np.tile(wrist_grasp, (T, 1))
    wrist_R = np.tile(R_grasp, (T, 1, 1))

    m = phase == REACH
    wrist_pos[m] = wrist_start + min_jerk(s[m])[:, None] * (wrist_grasp - wrist_start)
    slerp = Slerp([0, 1], Rotation.from_matrix(np.stack([R_start, R_grasp])))
    wrist_R[m] = slerp(min_jerk(s[m])).as_matrix()
    m = phase == GRASP
    curl[m] = blend_curl(open_curl, closed_curl, min_jerk(s[m]))
    m = phase == MOVE  # the wrist rides with the handle
    drawer_q[m] = q0 + min_jerk(s[m]) * (q1 - q0)
    curl[m] = closed_curl
    wrist_pos[m] = wrist_grasp + x_H * (drawer_q[m] - q0)[:, None]
    m = phase == RELEASE  # then withdraw towards the person
    drawer_q[m] = q1
    opening, withdrawal = release_profile(s[m])
    curl[m] = blend_curl(closed_curl, open_curl, opening)
    wrist_end = wrist_grasp + x_H * (q1 - q0)
    wrist_pos[m] = wrist_end + withdrawal[:, None] * withdrawn(np.zeros(3), x_H)  # x_H: towards the person

    wrist_pos = wrist_pos + smooth_noise(rng, t, cfg.noise_m)
    # Contact frame: origin at the grasped handle, x along the approach (into the drawer), z up.
    R_contact = np.stack([-x_H, np.cross(z_H, -x_H), z_H], axis=1)
    return _Motion(phase, drawer_q, curl, wrist_pos, wrist_R, make_T(R_contact, handle0))


def _sample_camera(
    cfg,
    rng: np.random.Generator,
    look_at: np.ndarray,
    zoom_out: float,
    R_world_view: np.ndarray | None = None,
) -> tuple[CameraSpec, str]:
    """A camera looking at ``look_at``. Its placement ranges are in the view frame ``R_world_view``
    (default the world frame): x from the object towards the person (horizontal), z up."""
    if R_world_view is None:
        R_world_view = np.eye(3)
    fov = np.radians(_uniform(rng, cfg.fov_deg))
    fy = cfg.height / 2 / np.tan(fov / 2)
    if rng.uniform() < cfg.third_person_prob:
        view = "third_person"
        az, el = (
            np.radians(_uniform(rng, cfg.camera_azimuth_deg)),
            np.radians(_uniform(rng, cfg.camera_elevation_deg)),
        )
        dist = _uniform(rng, cfg.camera_distance_m) * zoom_out
        position = look_at + R_world_view @ (
            dist * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        )
    else:
        view = "egocentric"
        # Head-mounted: behind, beside and above the hand's path (the drawer front faces -x).
        position = look_at + R_world_view @ (
            zoom_out * np.array([_uniform(rng, r) for r in cfg.egocentric_offset_m])
        )
    R = look_at_R(look_at - position, np.array([0, 0, 1.0]))
    R = R @ axis_angle_R([0, 0, 1], np.radians(rng.normal(0, 4)))  # a little camera roll
    cam = CameraSpec(cfg.width, cfg.height, fy, fy, cfg.width / 2, cfg.height / 2, position, R)
    return cam, view


def painted_backdrop(rng: np.random.Generator, width: int, height: int, brightness) -> np.ndarray:
    """A room-like backdrop (H, W, 3) uint8: wall above a tilted horizon, floor below, soft texture."""
    wall, floor = rng.uniform(*brightness, 3), rng.uniform(*brightness, 3) * rng.uniform(0.8, 1.0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    horizon = height * rng.uniform(0.1, 0.6) + (xx - width / 2) * np.tan(rng.normal(0, 0.1))
    mix = 1.0 / (1.0 + np.exp(-(yy - horizon) / 3.0))
    img = (1 - mix)[..., None] * wall + mix[..., None] * floor
    shade = 1.0 + 0.08 * (yy / height - 0.5) * rng.choice([-1, 1])
    noise = cv2.GaussianBlur(
        rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), rng.uniform(1.5, 6)
    )
    img = img * shade[..., None] + 0.04 * noise[..., None] / (noise.std() + 1e-6)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def camera_path(
    camera: CameraSpec, view: str, realism, rng: np.random.Generator, T: int, fps: float
) -> list[CameraSpec]:
    """The camera of each of T frames: a head-worn (egocentric) camera turns by up to about
    ``realism.camera_turn_deg`` (pitch and yaw, less roll) and bobs by ``realism.camera_bob_m``,
    smoothly, from where it began; a third-person camera stands still."""
    turn_deg, bob_m = float(realism.camera_turn_deg), float(realism.camera_bob_m)
    if view != "egocentric" or (turn_deg <= 0 and bob_m <= 0):
        return [camera] * T
    t = np.arange(T) / fps
    turn = smooth_noise(rng, t, np.radians(turn_deg)) * np.array([1.0, 1.0, 0.3])
    bob = smooth_noise(rng, t, bob_m)
    turn, bob = turn - turn[0], bob - bob[0]
    return [
        replace(
            camera,
            position=camera.position + bob[f],
            R_world_cam=camera.R_world_cam @ Rotation.from_rotvec(turn[f]).as_matrix(),
        )
        for f in range(T)
    ]


def turned_backdrop(
    backdrop: np.ndarray, K: np.ndarray, R_world_cam0: np.ndarray, R_world_cam: np.ndarray
) -> np.ndarray:
    """The painted backdrop (at infinity) as a camera turned from ``R_world_cam0`` to ``R_world_cam`` sees
    it."""
    if np.allclose(R_world_cam0, R_world_cam):
        return backdrop
    H = K @ R_world_cam.T @ R_world_cam0 @ np.linalg.inv(K)
    h, w = backdrop.shape[:2]
    return cv2.warpPerspective(backdrop, H, (w, h), borderMode=cv2.BORDER_REFLECT)


class Degrade:
    """Motion blur (a line kernel of ``realism.blur_px`` length, one direction per clip) and JPEG
    compression (``realism.jpeg_quality``) applied to every rendered frame."""

    def __init__(self, realism, rng: np.random.Generator):
        lo, hi = realism.blur_px
        length = float(rng.uniform(lo, hi)) if hi > 0 else 0.0
        self.kernel = None
        if length >= 1.5:
            n = int(np.ceil(length)) | 1
            k = np.zeros((n, n), np.float32)
            a = rng.uniform(0, np.pi)
            c = (n - 1) / 2
            for s in np.linspace(-length / 2, length / 2, 4 * n):
                k[int(round(c + s * np.sin(a))), int(round(c + s * np.cos(a)))] = 1.0
            self.kernel = k / k.sum()
        q = realism.jpeg_quality
        self.quality = int(rng.uniform(*q)) if q else None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if self.kernel is not None:
            rgb = cv2.filter2D(rgb, -1, self.kernel)
        if self.quality is not None:
            ok, buf = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            rgb = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else rgb
        return rgb


def add_clutter(
    scene: BulletScene,
    realism,
    rng: np.random.Generator,
    cameras: list[CameraSpec],
    landmarks_world: np.ndarray,
    surface_z: float,
    cache_dir=None,
) -> int:
    """Place up to ``realism.clutter`` static boxes, cylinders and pybullet_data objects on the
    surface around the hand's path, none within ``realism.clutter_clearance_m`` of the hand nor in
    front of it in the first camera; returns how many were placed."""
    n = int(realism.clutter)
    if n <= 0:
        return 0
    centre = landmarks_world.mean(axis=(0, 1))
    wrists = landmarks_world[:, 0]
    cam = cameras[0]
    T_cw = inv_T(cam.T_world_cam)
    hand_uv = project(cam.K, apply_T(T_cw, wrists))
    placed = 0
    for i in range(8 * n):
        if placed >= n:
            break
        pos = np.array([*(centre[:2] + rng.uniform(-0.6, 0.6, 2)), surface_z])
        if np.linalg.norm(wrists[:, :2] - pos[:2], axis=1).min() < float(realism.clutter_clearance_m):
            continue
        pc = apply_T(T_cw, pos[None])[0]
        if (
            pc[2] > 0.05
            and np.linalg.norm(hand_uv - project(cam.K, pc[None])[0], axis=1).min() < 0.15 * cam.width
        ):
            continue  # it would stand in front of, or just behind, the hand
        name = f"clutter_{i}"
        colour = [*rng.uniform(0.15, 0.95, 3), 1.0]
        if rng.uniform() < 0.5:
            half = rng.uniform(0.02, 0.08, 3)
            scene.create_box(name, half, pos + np.array([0.0, 0.0, half[2]]), colour, collide=False)
            scene.set_pose(name, pos + np.array([0.0, 0.0, half[2]]), rot_z_matrix(rng.uniform(0, np.pi)))
        else:
            radius, height = rng.uniform(0.02, 0.06), rng.uniform(0.04, 0.2)
            scene.create_cylinder(name, radius, height, pos + np.array([0.0, 0.0, height / 2]), colour)
        placed += 1
    return placed


def rot_z_matrix(a: float) -> np.ndarray:
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


def project(K: np.ndarray, points_cam: np.ndarray) -> np.ndarray:
    """Pinhole projection of (..., 3) camera-frame points to (..., 2) pixels."""
    uv = np.einsum("ij,...j->...i", K, points_cam)
    return uv[..., :2] / uv[..., 2:3]


@dataclass
class _Demo:
    """One demonstration's motion as the renderer needs it, scripted or staged (T frames).

    Attributes:
        phase: (T,) int index into PHASES.
        curl: (T,) finger curl, 0 open .. 1 closed.
        wrist_pos: (T, 3) world, metres.
        wrist_R: (T, 3, 3) world.
        T_world_contact: (4, 4).
        show_objects: puts the scene's objects where they were at frame ``f``.
        meta, arrays: what this kind of demonstration adds to the ground truth.
        look_from: where the person stands (staged: cameras stand around it); None for the drawer
            script, whose cameras stand around the drawer's outward normal.
        furnish: adds to the scene what only the render needs (the drawer script's cabinet), drawing
            its colours from the clip's generator.
    """

    phase: np.ndarray
    curl: np.ndarray
    wrist_pos: np.ndarray
    wrist_R: np.ndarray
    T_world_contact: np.ndarray
    show_objects: Callable[[int], None]
    meta: dict
    arrays: dict
    look_from: np.ndarray | None = None
    furnish: Callable[[np.random.Generator], None] | None = None


def _staged_demo(scene: BulletScene, cfg, skill: str, rng: np.random.Generator, hand_scale: float) -> _Demo:
    """The skill performed in its evaluation scene (``staged.py``)."""
    staged = stage_demo(scene, cfg, skill, rng, hand_scale)
    return _Demo(
        staged.phase,
        staged.curl,
        staged.wrist_pos,
        staged.wrist_R,
        staged.T_world_contact,
        show_objects=lambda f: restore(scene.client, staged.states[f]),
        meta=dict(
            demo_success=staged.success, demo_progress=staged.progress, task=staged.task, speed=staged.speed
        ),
        arrays={},
        look_from=staged.look_from,
    )


def _drawer_demo(scene: BulletScene, cfg, skill: str, rng: np.random.Generator, hand_scale: float) -> _Demo:
    """A generated drawer opened or closed by the hand-authored script (:func:`script_drawer_motion`)."""
    handle_h, front_h = _uniform(rng, cfg.handle_height_m), _uniform(rng, [0.14, 0.22])
    spec = DrawerSpec(
        width=_uniform(rng, [0.35, 0.6]),
        height=front_h,
        depth=_uniform(rng, [0.38, 0.45]),
        plinth=handle_h - front_h / 2,
        travel=_uniform(rng, cfg.drawer_travel_m),
    )
    motion = script_drawer_motion(cfg, skill, rng, spec, hand_scale)

    def furnish(rng: np.random.Generator) -> None:
        wood = rng.uniform([0.55, 0.42, 0.3], [0.9, 0.8, 0.7])
        scene.load_urdf("cabinet", write_urdf(drawer_urdf(spec, body_rgba=(*wood, 1.0))))

    return _Demo(
        motion.phase,
        motion.curl,
        motion.wrist_pos,
        motion.wrist_R,
        motion.T_world_contact,
        show_objects=lambda f: scene.set_joint_position("cabinet", 0, motion.drawer_q[f]),
        meta={"drawer": spec.__dict__},
        arrays={"drawer_q": motion.drawer_q},
        furnish=furnish,
    )


def _aim(demo: _Demo, landmarks_world: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Where the camera looks (3,), and the frame (3, 3) its placement ranges are in (x from the
    object towards the person, horizontal; z up)."""
    if demo.look_from is None:
        # Aim at the middle of the hand's path (wrist plus half a palm), as a person filming would.
        look_at = demo.wrist_pos.mean(axis=0) + np.array([-0.04, 0.0, 0.0]) + rng.normal(0, 0.02, 3)
        return look_at, np.eye(3)
    # Aim at the middle of the hand's path; cameras stand around the person (the robot's place).
    look_at = landmarks_world.mean(axis=(0, 1)) + rng.normal(0, 0.02, 3)
    toward = demo.look_from - look_at
    toward[2] = 0.0
    x_view = toward / np.linalg.norm(toward) if np.linalg.norm(toward) > 1e-6 else np.array([1.0, 0, 0])
    return look_at, np.stack([x_view, np.cross([0, 0, 1.0], x_view), [0, 0, 1.0]], axis=1)


@dataclass
class _Shot:
    """The clip's camera and what it sees of the hand's landmarks (T frames, 21 landmarks).

    Attributes:
        camera: the first frame's camera; view: ``third_person`` or ``egocentric``.
        cams: each frame's camera (a head-worn one turns and bobs).
        T_cam_world: (T, 4, 4).
        lm_cam: (T, 21, 3) landmarks in the camera frame, m.
        uv: (T, 21, 2) their pixels.
        visible: (T,) bool, every landmark inside the image and in front of the camera.
    """

    camera: CameraSpec
    view: str
    cams: list
    T_cam_world: np.ndarray
    lm_cam: np.ndarray
    uv: np.ndarray
    visible: np.ndarray


def _frame_the_hand(
    cfg,
    rng: np.random.Generator,
    rrng: np.random.Generator,
    look_at: np.ndarray,
    R_view: np.ndarray,
    landmarks_world: np.ndarray,
    seed: int,
) -> _Shot:
    """Sample cameras until one keeps the hand in view for ``cfg.min_visible_fraction`` of the frames."""
    for attempt in range(40):
        # Step back a little after each camera that loses the hand (long motions need wider shots).
        camera, view = _sample_camera(cfg, rng, look_at, 1.0 + 0.04 * attempt, R_view)
        cams = camera_path(camera, view, cfg.realism, rrng, len(landmarks_world), cfg.fps)
        T_cam_world = np.stack([inv_T(c.T_world_cam) for c in cams])
        lm_cam = (
            np.einsum("tij,tkj->tki", T_cam_world[:, :3, :3], landmarks_world) + T_cam_world[:, None, :3, 3]
        )
        uv = project(camera.K, lm_cam)
        inside = (
            (uv[..., 0] > 4) & (uv[..., 0] < cfg.width - 4) & (uv[..., 1] > 4) & (uv[..., 1] < cfg.height - 4)
        )
        visible = inside.all(axis=1) & (lm_cam[..., 2] > 0.05).all(axis=1)
        if visible.mean() >= cfg.min_visible_fraction:
            return _Shot(camera, view, cams, T_cam_world, lm_cam, uv, visible)
    raise ConfigError(f"no camera in 40 tries keeps the hand in view for seed {seed}; widen source.fov_deg")


@dataclass
class _Look:
    """How the clip is rendered: the backdrop (H, W, 3) uint8, the degradation of each frame, where
    unseen hand meshes are parked, and the light (direction (3,), ambient and diffuse shares)."""

    backdrop: np.ndarray
    degrade: Degrade
    parked: np.ndarray
    light: np.ndarray
    ambient: float
    diffuse: float


def _dress_scene(
    scene: BulletScene,
    cfg,
    demo: _Demo,
    shot: _Shot,
    rng: np.random.Generator,
    rrng: np.random.Generator,
    meshes: HandMeshCache,
    level: np.ndarray,
    hand_scale: float,
    landmarks_world: np.ndarray,
    meta: dict,
) -> _Look:
    """Add the backdrop, what the render alone needs, clutter (``meta["clutter"]``: how much) and a hand
    mesh per finger pose (``level`` (T,)) in the clip's skin tone; choose the light."""
    realism = cfg.realism
    backdrop = painted_backdrop(rng, cfg.width, cfg.height, cfg.backdrop_brightness)
    if demo.furnish is not None:
        demo.furnish(rng)
    if realism.clutter:
        surface_z = max(0.0, float(landmarks_world[..., 2].min()) - 0.03)
        meta["clutter"] = add_clutter(scene, realism, rrng, shot.cams, landmarks_world, surface_z)
    degrade = Degrade(realism, rrng)
    skin = SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.95, 1.05)
    camera = shot.camera
    parked = camera.position - 3.0 * camera.R_world_cam[:, 2]  # behind the camera: never in view
    for lv in np.unique(level):
        mesh = meshes.get(int(lv))
        scene.create_mesh(
            f"hand_{lv}",
            mesh.vertices.tolist(),
            mesh.indices.tolist(),
            mesh.normals.tolist(),
            [*np.clip(skin, 0, 1), 1.0],
            scale=hand_scale,
        )
        scene.set_pose(f"hand_{lv}", parked, np.eye(3))
    light = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.6, 1.5)])
    ambient, diffuse = _uniform(rng, [0.5, 0.7]), _uniform(rng, [0.35, 0.6])
    return _Look(backdrop, degrade, parked, light, ambient, diffuse)


def _render_video(
    scene: BulletScene, cfg, demo: _Demo, shot: _Shot, look: _Look, level: np.ndarray, video_path: Path
) -> np.ndarray:
    """Render and write every frame; returns which landmarks each frame shows, (T, 21) bool."""
    camera, T = shot.camera, len(level)
    unoccluded = np.zeros((T, shot.uv.shape[1]), bool)
    with VideoWriter(video_path, cfg.fps, cfg.width, cfg.height) as writer:
        shown = None
        for f in range(T):
            demo.show_objects(f)
            lv = int(level[f])
            if shown is not None and shown != lv:
                scene.set_pose(f"hand_{shown}", look.parked, np.eye(3))
            scene.set_pose(f"hand_{lv}", demo.wrist_pos[f], demo.wrist_R[f])
            shown = lv
            rgb, depth = scene.render(
                shot.cams[f],
                look.light,
                look.ambient,
                look.diffuse,
                depth=True,
                background=turned_backdrop(
                    look.backdrop, camera.K, camera.R_world_cam, shot.cams[f].R_world_cam
                ),
            )
            writer.write(look.degrade(rgb))
            unoccluded[f] = keypoints_unoccluded(shot.uv[f], shot.lm_cam[f, :, 2], depth)
    return unoccluded


def generate_clip(
    cfg, skill: str, seed: int, out_dir: str | Path, meshes: HandMeshCache, key: str = ""
) -> Clip:
    """Render one synthetic demonstration; returns its Clip (video + ground-truth artifact).

    The drawer skills follow the hand-authored script above (unless ``cfg.stage_drawers``); every
    other skill is staged in its evaluation scene (``staged.py``), the hand following the scene's expert.
    """
    staged_path = skill not in DRAWER_SKILLS or bool(cfg.stage_drawers)
    rng = np.random.default_rng([seed, sum(map(ord, skill))])
    out_dir = Path(out_dir)
    clip_id = f"synthetic_{skill}_{seed:05d}"
    hand_scale = _uniform(rng, cfg.hand_scale)
    with BulletScene(timestep_s=float(cfg.timestep_s)) as scene:
        demo = (_staged_demo if staged_path else _drawer_demo)(scene, cfg, skill, rng, hand_scale)
        meta = dict(demo.meta)
        # Ground-truth landmarks for the rendered (quantised) finger pose.
        level = meshes.quantise(demo.curl)
        kp_hand = np.stack([hand_keypoints(meshes.levels[i], hand_scale) for i in range(len(meshes.levels))])[
            level
        ]
        landmarks_world = np.einsum("tij,tkj->tki", demo.wrist_R, kp_hand) + demo.wrist_pos[:, None, :]
        look_at, R_view = _aim(demo, landmarks_world, rng)
        rrng = np.random.default_rng(
            [seed, sum(map(ord, skill)), 7]
        )  # realism's own stream (module docstring)
        shot = _frame_the_hand(cfg, rng, rrng, look_at, R_view, landmarks_world, seed)
        look = _dress_scene(
            scene, cfg, demo, shot, rng, rrng, meshes, level, hand_scale, landmarks_world, meta
        )
        video_path = out_dir / f"{clip_id}.mp4"
        unoccluded = _render_video(scene, cfg, demo, shot, look, level, video_path)

    gt_path = out_dir / f"{clip_id}_gt"
    header = {"clip_id": clip_id, "key": key, "skill": skill, "seed": seed, "view": shot.view, "fps": cfg.fps}
    header.update(phases=list(PHASES), hand_scale=hand_scale, **meta)
    _write_ground_truth(gt_path, header, demo, shot, kp_hand, unoccluded)
    camera = shot.camera
    return Clip(
        clip_id=clip_id,
        path=str(video_path.resolve()),
        source="synthetic",
        content_hash=file_hash(video_path),
        label=skill,
        intrinsics=[camera.fx, camera.fy, camera.cx, camera.cy],
        ground_truth=str(gt_path.with_suffix(".json").resolve()),
        hand=SYNTHETIC_HAND,
    )


def _write_ground_truth(
    gt_path: Path, header: dict, demo: _Demo, shot: _Shot, kp_hand: np.ndarray, unoccluded: np.ndarray
) -> None:
    """The clip's ground-truth artifact: ``header`` and the per-frame arrays (see the module docstring)."""
    R_cw, t_cw = shot.T_cam_world[:, :3, :3], shot.T_cam_world[:, :3, 3]
    write_artifact(
        gt_path,
        "SyntheticGroundTruth",
        GT_SCHEMA,
        header,
        {
            "K": shot.camera.K,
            "T_world_cam": shot.camera.T_world_cam,
            "T_world_contact": demo.T_world_contact,
            "T_world_cam_frames": np.stack([c.T_world_cam for c in shot.cams]),  # the first is T_world_cam
            "wrist_pos_world": demo.wrist_pos,
            "wrist_R_world": demo.wrist_R,
            "wrist_pos_cam": np.einsum("tij,tj->ti", R_cw, demo.wrist_pos) + t_cw,
            "wrist_R_cam": np.einsum("tij,tjk->tik", R_cw, demo.wrist_R),
            "landmarks_cam": shot.lm_cam,
            "landmarks_px": shot.uv,
            "visible": shot.visible,
            "keypoints_unoccluded": unoccluded,
            "aperture_m": grasp_aperture_m(kp_hand),
            "phase": demo.phase,
            **demo.arrays,
        },
    )


def keypoints_unoccluded(
    uv: np.ndarray, z: np.ndarray, depth: np.ndarray, tolerance_m: float = 0.03
) -> np.ndarray:
    """(K,) bool: which keypoints (pixels ``uv`` (K, 2), camera depths ``z`` (K,)) the rendered
    frame shows, i.e. lie inside the image with no surface more than ``tolerance_m`` in front of
    them in the depth image (H, W). Keypoints sit inside the hand's mesh, up to ~2.5 cm behind its
    own surface at the wrist, hence the tolerance."""
    h, w = depth.shape
    col, row = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h) & (z > 0)
    out = np.zeros(len(uv), bool)
    out[inside] = depth[row[inside], col[inside]] >= z[inside] - tolerance_m
    return out


def load_ground_truth(path: str | Path) -> tuple[dict, dict]:
    """(meta, arrays) of a synthetic clip's ground truth."""
    return read_artifact(Path(path), "SyntheticGroundTruth", GT_SCHEMA)
