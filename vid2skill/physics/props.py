"""Containers, tools and tables generated as URDF (pybullet_data has no cups, bowls, pots or knives).

Every prop's frame is documented beside its builder; all lengths are metres. Round containers are
polygons of box walls (``segments`` of them) on a disc-like polygonal bottom, which PyBullet
collides exactly and cheaply, unlike concave meshes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vid2skill.physics.objects import _box, _inertial


def _one_link_urdf(name: str, mass: float, parts: list[str]) -> str:
    """A single-link robot of visual/collision parts (inertia scaled to the mass)."""
    return (
        f'<?xml version="1.0"?><robot name="{name}">'
        f'<link name="base">{_inertial(mass, max(1e-5, mass * 1e-3))}'
        f"{''.join(parts)}</link></robot>"
    )


@dataclass(frozen=True)
class ContainerSpec:
    """An open round container (cup, bowl, pot). Frame: origin at the centre of the outside bottom, z up.

    Attributes:
        radius: inner radius at the wall's inner face.
        height: outer height, bottom included.
        wall: wall and bottom thickness.
        segments: number of wall boxes around the circle.
        mass: kg (0 = fixed to the world).
    """

    radius: float
    height: float
    wall: float = 0.006
    segments: int = 16
    mass: float = 0.0

    @property
    def rim_height(self) -> float:
        return self.height


def container_urdf(spec: ContainerSpec, rgba=(0.85, 0.85, 0.9, 1.0), name: str = "container") -> str:
    r, h, t, n = spec.radius, spec.height, spec.wall, spec.segments
    side = 2 * (r + t) * np.tan(np.pi / n) + 0.002  # chord length at the wall's mid-line, slight overlap
    parts = [_box("bottom", (2 * (r + t), 2 * (r + t), t), (0, 0, t / 2), rgba)]
    for k in range(n):
        a = 2 * np.pi * k / n
        c = r + t / 2
        parts.append(
            _box(f"wall{k}", (t, side, h - t), (c * np.cos(a), c * np.sin(a), t + (h - t) / 2), rgba, yaw=a)
        )
    return _one_link_urdf(name, spec.mass, parts)


@dataclass(frozen=True)
class ToolSpec:
    """A hand tool held by its handle. Frame: origin at the grip point, the tool along -z (hanging
    below a top-down gripper), the blade (if any) in the x-z plane.

    Attributes:
        kind: "spoon" (round head) or "knife" (flat blade).
        length: grip point to tip.
        handle_width: square section of the handle.
        head: spoon head radius or knife blade height (along x).
    """

    kind: str
    length: float = 0.20
    handle_width: float = 0.014
    head: float = 0.025
    mass: float = 0.08

    def blade_length(self) -> float:
        """Length of a knife's cutting edge (along the tool's x)."""
        return 4 * self.head

    def tip(self) -> np.ndarray:
        """The working point (3,) in the tool frame: the spoon head's centre or the blade's lowest edge
        point."""
        return np.array([0.0, 0.0, -self.length])


def tool_urdf(spec: ToolSpec, rgba=(0.75, 0.75, 0.78, 1.0), handle_rgba=(0.35, 0.22, 0.12, 1.0)) -> str:
    L, w, hd = spec.length, spec.handle_width, spec.head
    grip = 0.09  # handle length above the working part
    parts = [_box("handle", (w, w, grip), (0, 0, -grip / 2 + 0.03), handle_rgba)]
    if spec.kind == "spoon":
        parts.append(
            _box(
                "shaft",
                (w * 0.6, w * 0.4, L - grip + 0.03 - hd),
                (0, 0, -(grip - 0.03) - (L - grip + 0.03 - hd) / 2),
                rgba,
            )
        )
        parts.append(_box("head", (hd * 1.6, hd * 1.2, hd), (0, 0, -L + hd / 2), rgba))
    elif spec.kind == "knife":
        blade = L - grip + 0.03
        # The blade hangs below the handle, its cutting edge at z = -length, along x.
        parts.append(
            _box("blade", (spec.blade_length(), 0.003, blade), (0, 0, -(grip - 0.03) - blade / 2), rgba)
        )
    else:
        raise ValueError(f"unknown tool kind {spec.kind!r}; expected 'spoon' or 'knife'")
    return _one_link_urdf(spec.kind, spec.mass, parts)


def table_urdf(size_x: float, size_y: float, top_z: float, rgba=(0.62, 0.50, 0.38, 1.0)) -> str:
    """A fixed table: origin on the floor under the top's centre, top surface at ``top_z``."""
    t = 0.04
    parts = [_box("top", (size_x, size_y, t), (0, 0, top_z - t / 2), rgba)]
    return _one_link_urdf("table", 0, parts)


def slab_urdf(size: tuple, rgba: tuple, mass: float = 0.0, name: str = "slab", collide: bool = True) -> str:
    """A box with its origin at the centre of its bottom face (boards, blocks, target pads)."""
    part = _box("body", size, (0, 0, size[2] / 2), rgba, collide=collide)
    return _one_link_urdf(name, mass, [part])
