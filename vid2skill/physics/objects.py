"""Articulated furniture generated as URDF (pybullet_data ships no drawers or cabinets).

A cabinet's frame: origin on the floor under the centre of its front face, +x the outward normal
of the front (towards whoever opens it), +z up. The drawer slides along +x on a prismatic joint
whose position is the opening in metres (0 = closed).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class DrawerSpec:
    """Dimensions of a cabinet with one drawer, metres.

    Attributes:
        width: drawer front width (y).
        height: drawer front height (z).
        depth: drawer box depth (x).
        plinth: height of the drawer front's bottom edge above the floor.
        travel: prismatic joint upper limit (how far it opens).
        handle_length: length of the bar handle along y.
        handle_standoff: gap between the front face and the bar's axis.
        handle_thickness: square section of the bar.
    """

    width: float = 0.40
    height: float = 0.16
    depth: float = 0.36
    plinth: float = 0.30
    travel: float = 0.28
    handle_length: float = 0.12
    handle_standoff: float = 0.035
    handle_thickness: float = 0.016
    wall: float = 0.015

    @property
    def handle_height(self) -> float:
        """Height of the handle axis above the floor."""
        return self.plinth + self.height / 2

    def handle_in_drawer(self) -> np.ndarray:
        """Handle centre (3,) in the drawer link frame (origin at the front face centre)."""
        return np.array([self.handle_standoff, 0.0, 0.0])

    @classmethod
    def sample(cls, rng: np.random.Generator, ranges: dict) -> DrawerSpec:
        """Draw a spec with each field uniform in ``ranges[field] = [lo, hi]`` (others default)."""
        values = {k: float(rng.uniform(*v)) for k, v in ranges.items()}
        return cls(**values)


def _inertial(mass: float, inertia: float) -> str:
    """A URDF inertial element (diagonal inertia, kg m^2); mass 0 makes a link fixed."""
    return (
        f'<inertial><mass value="{mass}"/><inertia ixx="{inertia}" ixy="0" ixz="0" iyy="{inertia}" iyz="0" '
        f'izz="{inertia}"/></inertial>'
    )


def _box(name: str, size: tuple, xyz: tuple, rgba: tuple, collide: bool = True, yaw: float = 0.0) -> str:
    geom = f'<geometry><box size="{size[0]:.4f} {size[1]:.4f} {size[2]:.4f}"/></geometry>'
    rpy = f' rpy="0 0 {yaw:.4f}"' if yaw else ""
    origin = f'<origin xyz="{xyz[0]:.4f} {xyz[1]:.4f} {xyz[2]:.4f}"{rpy}/>'
    color = f'<material name="{name}"><color rgba="{" ".join(f"{c:.3f}" for c in rgba)}"/></material>'
    out = f"<visual>{origin}{geom}{color}</visual>"
    if collide:
        out += f"<collision>{origin}{geom}</collision>"
    return out


def drawer_urdf(
    spec: DrawerSpec, body_rgba=(0.72, 0.60, 0.45, 1.0), handle_rgba=(0.25, 0.25, 0.28, 1.0)
) -> str:
    """URDF text of a cabinet (fixed carcass, plinth included) with one drawer on a prismatic joint."""
    w, h, d, t = spec.width, spec.height, spec.depth, spec.wall
    gap = 0.004
    z0 = spec.plinth + h / 2  # drawer centre height
    cw, ch = w + 2 * (t + gap), h + 2 * (t + gap)
    carcass = "".join(
        [
            _box(
                "plinth",
                (d + t, cw, spec.plinth - gap - t),
                (-(d + t) / 2, 0, (spec.plinth - gap - t) / 2),
                body_rgba,
            ),
            _box("top", (d + t, cw, t), (-(d + t) / 2, 0, z0 + ch / 2 - t / 2), body_rgba),
            _box("left", (d + t, t, ch), (-(d + t) / 2, cw / 2 - t / 2, z0), body_rgba),
            _box("right", (d + t, t, ch), (-(d + t) / 2, -cw / 2 + t / 2, z0), body_rgba),
            _box("back", (t, cw, ch), (-d - t / 2, 0, z0), body_rgba),
            _box("bottom", (d + t, cw, t), (-(d + t) / 2, 0, z0 - ch / 2 + t / 2), body_rgba),
        ]
    )
    front_rgba = tuple(min(1.0, c * 1.12) for c in body_rgba[:3]) + (1.0,)
    hx, hl, ht, so = spec.handle_standoff, spec.handle_length, spec.handle_thickness, spec.handle_standoff
    drawer = "".join(
        [
            _box("front", (t, w, h), (-t / 2, 0, 0), front_rgba),
            _box("dbottom", (d - t, w - 2 * t, t), (-t - (d - t) / 2, 0, -h / 2 + t / 2), body_rgba),
            _box("dleft", (d - t, t, h * 0.8), (-t - (d - t) / 2, w / 2 - t, -h * 0.1), body_rgba),
            _box("dright", (d - t, t, h * 0.8), (-t - (d - t) / 2, -w / 2 + t, -h * 0.1), body_rgba),
            _box("dback", (t, w - 2 * t, h * 0.8), (-d + t / 2, 0, -h * 0.1), body_rgba),
            _box("bar", (ht, hl, ht), (hx, 0, 0), handle_rgba),
            _box("post_l", (so, ht * 0.8, ht * 0.8), (so / 2, hl / 2 - ht / 2, 0), handle_rgba),
            _box("post_r", (so, ht * 0.8, ht * 0.8), (so / 2, -hl / 2 + ht / 2, 0), handle_rgba),
        ]
    )
    return f"""<?xml version="1.0"?>
<robot name="cabinet_drawer">
  <link name="carcass">{_inertial(0, 0.02)}{carcass}</link>
  <link name="drawer">{_inertial(1.0, 0.02)}{drawer}</link>
  <joint name="drawer_slide" type="prismatic">
    <parent link="carcass"/><child link="drawer"/>
    <origin xyz="0 0 {z0:.4f}"/><axis xyz="1 0 0"/>
    <limit lower="0" upper="{spec.travel:.4f}" effort="200" velocity="1.0"/>
    <dynamics damping="2.0" friction="0.5"/>
  </joint>
</robot>
"""


_private_dir: Path | None = None


def _user_temp_dir() -> Path:
    """This user's folder for generated files in the system's temp dir (``vid2skill-<uid>``, mode
    0700). A folder of that name owned by someone else (or a link) is never used: this process then
    takes a fresh private folder of its own, so another user can neither block nor plant files."""
    global _private_dir
    if _private_dir is not None:
        return _private_dir
    folder = Path(tempfile.gettempdir()) / f"vid2skill-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
            _private_dir = folder / "urdf"
            return _private_dir
    except OSError:
        pass
    _private_dir = Path(tempfile.mkdtemp(prefix="vid2skill-urdf-"))
    return _private_dir


def generated_files_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where generated URDFs and meshes go: ``cache_dir``, or this user's folder in the system's temp
    dir (never a shared fixed name another user may own)."""
    return Path(cache_dir) if cache_dir else _user_temp_dir()


def write_urdf(text: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Write URDF text to a content-addressed file (PyBullet loads URDFs from paths only)."""
    folder = generated_files_dir(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha1(text.encode()).hexdigest()[:16]}.urdf"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class DoorSpec:
    """A wall cabinet with one door on a vertical revolute hinge, metres.

    The door's link frame sits on the hinge axis at the door's mid-height, with +y along the
    closed door towards its free edge. ``hinge_side`` is +1 when the hinge is on the cabinet's
    +y side (the free edge towards -y) and -1 otherwise; the joint angle is the opening in radians
    (0 = closed, positive = swung outwards, towards +x).
    """

    width: float = 0.38
    height: float = 0.45
    depth: float = 0.30
    bottom: float = 0.45
    hinge_side: int = 1
    max_angle: float = 1.75
    handle_inset: float = 0.05
    handle_length: float = 0.10
    handle_standoff: float = 0.035
    handle_thickness: float = 0.016
    wall: float = 0.015

    def handle_in_door(self) -> np.ndarray:
        """Handle centre (3,) in the door link frame: near the free edge, at mid-height."""
        s = -self.hinge_side
        return np.array([self.wall + self.handle_standoff, s * (self.width - self.handle_inset), 0.0])

    def hinge_in_cabinet(self) -> np.ndarray:
        """Hinge axis point (3,) in the cabinet frame, at the door's mid-height."""
        return np.array([0.0, self.hinge_side * self.width / 2, self.bottom + self.height / 2])


def door_urdf(spec: DoorSpec, body_rgba=(0.55, 0.62, 0.70, 1.0), handle_rgba=(0.25, 0.25, 0.28, 1.0)) -> str:
    """URDF text of a cabinet (fixed carcass) with one door on a revolute hinge at its front."""
    w, h, d, t = spec.width, spec.height, spec.depth, spec.wall
    zc = spec.bottom + h / 2
    carcass = "".join(
        [
            _box("plinth", (d, w + 2 * t, spec.bottom - t), (-d / 2, 0, (spec.bottom - t) / 2), body_rgba),
            _box("bottom", (d, w + 2 * t, t), (-d / 2, 0, spec.bottom - t / 2), body_rgba),
            _box("top", (d, w + 2 * t, t), (-d / 2, 0, spec.bottom + h + t / 2), body_rgba),
            _box("left", (d, t, h), (-d / 2, w / 2 + t / 2, zc), body_rgba),
            _box("right", (d, t, h), (-d / 2, -w / 2 - t / 2, zc), body_rgba),
            _box("back", (t, w, h), (-d + t / 2, 0, zc), body_rgba),
        ]
    )
    s = -spec.hinge_side  # direction from the hinge to the free edge, along y
    hx, hy, _ = spec.handle_in_door()
    hl, ht, so = spec.handle_length, spec.handle_thickness, spec.handle_standoff
    front_rgba = tuple(min(1.0, c * 1.15) for c in body_rgba[:3]) + (1.0,)
    door = "".join(
        [
            _box("panel", (t, w - 0.004, h - 0.004), (t / 2, s * w / 2, 0), front_rgba),
            _box("bar", (ht, hl, ht), (hx, hy, 0), handle_rgba),
            _box("post_a", (so, ht * 0.8, ht * 0.8), (t + so / 2, hy + (hl / 2 - ht / 2), 0), handle_rgba),
            _box("post_b", (so, ht * 0.8, ht * 0.8), (t + so / 2, hy - (hl / 2 - ht / 2), 0), handle_rgba),
        ]
    )
    hinge = spec.hinge_in_cabinet()
    # Opening swings the free edge outwards (+x): about +z when the free edge is at -y, else -z.
    axis_z = 1.0 if spec.hinge_side > 0 else -1.0
    return f"""<?xml version="1.0"?>
<robot name="cabinet_door">
  <link name="carcass">{_inertial(0, 0.02)}{carcass}</link>
  <link name="door">{_inertial(1.0, 0.02)}{door}</link>
  <joint name="door_hinge" type="revolute">
    <parent link="carcass"/><child link="door"/>
    <origin xyz="{hinge[0]:.4f} {hinge[1]:.4f} {hinge[2]:.4f}"/><axis xyz="0 0 {axis_z:.0f}"/>
    <limit lower="0" upper="{spec.max_angle:.4f}" effort="100" velocity="2.0"/>
    <dynamics damping="0.5" friction="0.2"/>
  </joint>
</robot>
"""
