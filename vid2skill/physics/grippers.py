"""Arms from pybullet_data composed with a generated parallel-jaw gripper.

pybullet_data ships the KUKA iiwa and the xArm6 without a usable gripper as URDF (the iiwa's
WSG-50 exists only inside an SDF assembly whose jaws are a revolute linkage; the xArm6 has none).
Both real grippers are parallel jaws on prismatic slides, so we model them that way, with each
gripper's published dimensions, and mount them on the arm's flange. The composed URDF is written
to a content-addressed file (PyBullet loads URDFs from paths only).

The generated gripper's frames: ``<prefix>_base`` on the flange, ``<prefix>_left/right_finger`` on
prismatic joints sliding along +y / -y (position = one jaw's distance from the centre line), and
``<prefix>_grasptarget`` between the fingertips with z along the approach and y across the jaws,
the same convention as the Panda's ``panda_grasptarget``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pybullet_data

from vid2skill.physics.meshes import convex_hull_file
from vid2skill.physics.objects import _box, _inertial, write_urdf


@dataclass(frozen=True)
class ParallelGripper:
    """Dimensions of a parallel-jaw gripper (metres).

    Attributes:
        mount_link: the arm link carrying the flange.
        mount_offset: flange distance from ``mount_link``'s origin along its z axis.
        body: (x, y, z) size of the gripper housing (y along the jaws' travel).
        finger: (x, y, z) size of one finger (z along the approach).
        stroke: maximum opening between the jaws.
        prefix: names of the generated links and joints start with this.
    """

    mount_link: str
    mount_offset: float
    body: tuple
    finger: tuple
    stroke: float
    prefix: str = "gripper"

    def fragment(self) -> str:
        bx, by, bz = self.body
        fx, fy, fz = self.finger
        grey, dark = (0.55, 0.56, 0.6, 1.0), (0.2, 0.2, 0.22, 1.0)
        n = self.prefix
        half = self.stroke / 2
        fingers = ""
        for side, sign in (("left", 1), ("right", -1)):
            box = _box(f"{side}_finger", (fx, fy, fz), (0, sign * fy / 2, fz / 2), dark)
            fingers += f"""
  <link name="{n}_{side}_finger">{_inertial(0.05, 1e-4)}{box}</link>
  <joint name="{n}_{side}_finger_joint" type="prismatic">
    <parent link="{n}_base"/><child link="{n}_{side}_finger"/>
    <origin xyz="0 0 {bz:.4f}"/><axis xyz="0 {sign} 0"/>
    <limit lower="0" upper="{half:.4f}" effort="100" velocity="0.2"/>
  </joint>"""
        return f"""
  <link name="{n}_base">{_inertial(0.5, 1e-4)}{_box("housing", (bx, by, bz), (0, 0, bz / 2), grey)}</link>
  <joint name="{n}_mount" type="fixed">
    <parent link="{self.mount_link}"/><child link="{n}_base"/>
    <origin xyz="0 0 {self.mount_offset:.4f}"/>
  </joint>{fingers}
  <link name="{n}_grasptarget">{_inertial(0.001, 1e-4)}</link>
  <joint name="{n}_grasptarget_joint" type="fixed">
    <parent link="{n}_base"/><child link="{n}_grasptarget"/>
    <origin xyz="0 0 {bz + fz - 0.015:.4f}"/>
  </joint>
"""


@functools.cache
def portable_urdf_text(arm_urdf: str, visual: bool = True) -> str:
    """The arm's URDF text with relative and ``package://`` mesh paths made absolute, so that a
    derived file can live anywhere, and collision meshes replaced by their convex hulls
    (:mod:`vid2skill.physics.meshes`); ``visual=False`` drops the ``<visual>`` elements (loading the
    Panda's visual meshes costs ~5x its collision meshes, and headless episodes without a video
    never render them)."""
    src = Path(arm_urdf)
    if not src.is_absolute():
        src = Path(pybullet_data.getDataPath()) / arm_urdf
    text = src.read_text()
    folder = src.parent

    def absolute(m: re.Match) -> str:
        name = m.group(1)
        if name.startswith("package://"):
            name = name[len("package://") :]
        path = Path(name) if Path(name).is_absolute() else folder / name
        return f'filename="{path}"'

    text = re.sub(r'filename="([^"]+\.(?:obj|stl|dae|STL|OBJ))"', absolute, text)

    def hull(m: re.Match) -> str:
        reduced = convex_hull_file(m.group(1))
        return f'filename="{reduced or m.group(1)}"'

    # Collision meshes as their convex hulls (the shape PyBullet collides a link with anyway):
    # half the arm's load time, and the same collision geometry with or without visuals.
    text = re.sub(
        r"<collision\b.*?</collision>",
        lambda c: re.sub(r'filename="([^"]+\.(?:obj|stl|STL|OBJ))"', hull, c.group(0)),
        text,
        flags=re.S,
    )
    if not visual:
        text = re.sub(r"<visual>.*?</visual>", "", text, flags=re.S)
    return text


def compose_arm_with_gripper(arm_urdf: str, gripper: ParallelGripper, visual: bool = True) -> Path:
    """Write the arm's URDF with the gripper mounted on its flange; returns the composed file's path."""
    text = portable_urdf_text(arm_urdf, visual)
    if f'<link name="{gripper.mount_link}"' not in text:
        raise ValueError(f"{arm_urdf} has no link {gripper.mount_link!r} to mount the gripper on")
    text = text.replace("</robot>", gripper.fragment() + "</robot>")
    return write_urdf(text)
