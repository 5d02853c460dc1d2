"""Holding an object by a constraint, as RLBench's gripper does once an object is between its closed jaws.

A grip keeps a body's link where it was, relative to a grasp frame, at the moment of the grasp:
rigidly, or (``rigid=False``) at the grasp point only, free to turn in the grip like a handle in a
loose hand. The grasp frame is carried by one of two things:

* a link (:meth:`Grip.to_link`): a robot's end effector, moved by the arm's joints;
* the world (:meth:`Grip.to_world`): a synthetic human hand, which no body stands for, moved to each
  frame's pose with :meth:`Grip.move`.

Constraint frames are relative to each link's centre of mass, which is where a grip measures the
held link's pose.
"""

from __future__ import annotations

import numpy as np
import pybullet as p

from vid2skill.geometry import R_to_quat

# The most force (N) a grip's constraint applies, the robot's and the synthetic hand's alike.
GRIP_FORCE_N = 500.0
_ORIGIN, _IDENTITY = [0, 0, 0], [0, 0, 0, 1]


def link_com_pose(client: int, uid: int, link: int) -> tuple[tuple, tuple]:
    """(position, xyzw quaternion) of a link's centre of mass in the world (``link`` -1: the base)."""
    if link == -1:
        return p.getBasePositionAndOrientation(uid, physicsClientId=client)
    st = p.getLinkState(uid, link, physicsClientId=client)
    return st[0], st[1]


def _in_frame(frame: tuple, pose: tuple) -> tuple[tuple, tuple]:
    """``pose`` (position, quaternion) expressed in ``frame`` (both in the world)."""
    inv_pos, inv_quat = p.invertTransform(*frame)
    return p.multiplyTransforms(inv_pos, inv_quat, *pose)


class Grip:
    """One held link (see the module docstring); build it with :meth:`to_link` or :meth:`to_world`.

    PyBullet lets only a body be a constraint's parent (the world can be its child), so the two
    carriers lay the constraint out differently: a link carries the held link as its child, with the
    held link's pose in the carrier's frame; the world is the child of the held link, with the grasp
    frame placed on both. The two layouts hold the same pose but are different constraints for the
    solver, and each is kept as it was first written so that episodes and clips stay the same.
    """

    def __init__(self, client: int, constraint: int, rigid: bool, by_world: bool, max_force: float):
        self.client, self.constraint, self.rigid = client, constraint, rigid
        self.by_world, self.max_force = by_world, max_force
        p.changeConstraint(constraint, maxForce=max_force, physicsClientId=client)

    @classmethod
    def to_link(
        cls,
        client: int,
        carrier: int,
        carrier_link: int,
        body: int,
        link: int = -1,
        rigid: bool = True,
        max_force: float = GRIP_FORCE_N,
    ) -> Grip:
        """Hold ``body``'s ``link`` where it is now relative to ``carrier``'s ``carrier_link``, whose
        frame is the grasp frame (a robot's end effector)."""
        grasp = link_com_pose(client, carrier, carrier_link)
        held = link_com_pose(client, body, link)
        if rigid:  # the held link's frame, placed in the carrier's
            parent_pos, parent_quat = _in_frame(grasp, held)
            child_pos = _ORIGIN
        else:  # the grasp point, placed in the held link's frame
            parent_pos, parent_quat = _ORIGIN, _IDENTITY
            child_pos, _ = _in_frame(held, grasp)
        c = p.createConstraint(
            carrier,
            carrier_link,
            body,
            link,
            p.JOINT_FIXED if rigid else p.JOINT_POINT2POINT,
            _ORIGIN,
            parent_pos,
            child_pos,
            parentFrameOrientation=parent_quat,
            physicsClientId=client,
        )
        return cls(client, c, rigid, by_world=False, max_force=max_force)

    @classmethod
    def to_world(
        cls,
        client: int,
        body: int,
        link: int,
        T_world_grasp: np.ndarray,
        rigid: bool = True,
        max_force: float = GRIP_FORCE_N,
    ) -> Grip:
        """Hold ``body``'s ``link`` where it is now relative to the grasp frame ``T_world_grasp``
        (4, 4), which :meth:`move` then moves."""
        grasp_pos, grasp_quat = T_world_grasp[:3, 3].tolist(), R_to_quat(T_world_grasp[:3, :3]).tolist()
        rel_pos, rel_quat = _in_frame(link_com_pose(client, body, link), (grasp_pos, grasp_quat))
        c = p.createConstraint(
            body,
            link,
            -1,
            -1,
            p.JOINT_FIXED if rigid else p.JOINT_POINT2POINT,
            _ORIGIN,
            rel_pos,
            grasp_pos,
            parentFrameOrientation=rel_quat if rigid else _IDENTITY,
            childFrameOrientation=grasp_quat if rigid else _IDENTITY,
            physicsClientId=client,
        )
        return cls(client, c, rigid, by_world=True, max_force=max_force)

    def move(self, T_world_grasp: np.ndarray) -> None:
        """Move a world-carried grip's grasp frame to ``T_world_grasp`` (4, 4); the held link follows
        as the physics steps."""
        if not self.by_world:
            raise TypeError("a grip carried by a link moves with that link; only a world grip is moved")
        if self.constraint is None:
            raise RuntimeError("the grip was released")
        kw = {"jointChildFrameOrientation": R_to_quat(T_world_grasp[:3, :3]).tolist()} if self.rigid else {}
        p.changeConstraint(
            self.constraint,
            T_world_grasp[:3, 3].tolist(),
            maxForce=self.max_force,
            physicsClientId=self.client,
            **kw,
        )

    @property
    def holding(self) -> bool:
        return self.constraint is not None

    def release(self) -> None:
        """Let go (again: nothing)."""
        if self.constraint is not None:
            p.removeConstraint(self.constraint, physicsClientId=self.client)
            self.constraint = None
