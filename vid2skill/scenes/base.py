"""What every skill scene provides: its randomised scene, its contact frame, its grasp, its success
test and a scripted expert, in one class per skill (after panda-gym's ``envs/tasks``).

Frames: ``T_world_contact`` is fixed at the start of an episode and is where policies act; targets
are end-effector (grasp frame) poses in it. A scene in which the robot starts holding the object
(``in_hand``) also defines the object's pose in the grasp frame, ``T_grasp_object``.
"""

from __future__ import annotations

import numpy as np

from vid2skill.geometry import R_CONTACT_GRASP, inv_T, make_T
from vid2skill.physics.bullet import BulletScene
from vid2skill.registry import Registry

# Bump when a change to the scenes' code (their physics, randomisation, success tests or experts)
# alters what the same configuration does, so that what was trained or evaluated in the old scenes is
# done again (the train and evaluate stages' keys, each skill's training inputs and DAgger's key hold
# it; settings in the configuration are hashed already). 1: a drawer's or door's joint friction;
# 2: the joint held during the oracle reach (``SkillScene.articulation``).
SCENES_VERSION = 2

# A skill's ``task`` (conf/skill/*.yaml) names one of these: each scene module registers its class.
SCENES: Registry[type] = Registry(
    "scene", key="skill.task", hint='a new scene is a file in vid2skill/scenes/ with @register("<name>")'
)
register = SCENES.register

# A half turn about z: right-multiplied, it turns a grasp frame about its approach axis.
HALF_TURN_ABOUT_Z = np.diag([-1.0, -1.0, 1.0])


class SkillScene:
    """Base class. Subclasses set ``robot_base`` and build the scene in ``__init__``.

    Attributes:
        in_hand: the episode starts with the object already held (place, pour, stir, cut).
        R_contact_grasp: the gripper's orientation in the contact frame at the grasp.
        grasp_mode: "attach" (the object is held rigidly once the closed jaws are within
            ``attach_tolerance_m`` of the grasp point, as RLBench's gripper does) or "friction"
            (only the fingers' contact forces hold it).
        rigid_grasp: an attached object is held rigidly; False holds it at the grasp point only,
            free to turn in the grip (door handles, whose orientation changes along their arc).
        held_body, held_link: what the gripper holds once grasped (a body name and link index).
        hand_roll_deg: how a person's hand sits in this scene's grasp, in synthetic demonstrations
            (``vid2skill.ingest.synthetic.staged``): turned this far about its fingers from the hook
            grasp. A cup held from the side is held with the index on top (180).
        symmetric_grasp: the grasp holds the object as well turned half a turn about the approach
            (a parallel gripper's jaws swap over): the episode may take that one
            (:meth:`turn_grasp`) where the arm's wrist cannot reach the other.
        articulation: the (body name, joint) that the skill moves, for a drawer or a door: held
            where the scene put it while the oracle reach brings the gripper to the handle (an arm
            swinging in from its rest posture could knock an open door further open).

    Subclasses set ``self._T_wc`` (T_world_contact) and, for in-hand scenes, ``self._T_grasp_obj``.
    """

    in_hand: bool = False
    R_contact_grasp: np.ndarray = R_CONTACT_GRASP
    grasp_mode: str = "attach"
    rigid_grasp: bool = True
    held_body: str = "object"
    held_link: int = -1
    hand_roll_deg: float = 0.0
    symmetric_grasp: bool = False
    articulation: tuple[str, int] | None = None

    def __init__(self, scene: BulletScene, skill_cfg, scene_cfg, rng: np.random.Generator):
        self.scene, self.skill, self.scene_cfg, self.rng = scene, skill_cfg, scene_cfg, rng
        self.robot_base = np.zeros(3)
        self.success_cfg = skill_cfg.success
        self._T_wc = np.eye(4)
        self._T_grasp_obj = np.eye(4)

    def uniform(self, key: str) -> float:
        lo, hi = self.scene_cfg[key]
        return float(self.rng.uniform(lo, hi))

    # --- frames and grasp ----------------------------------------------------------------------
    def contact_frame(self) -> np.ndarray:
        """T_world_contact (4, 4) of this episode."""
        return self._T_wc

    def grasp_in_contact(self) -> np.ndarray:
        """T_contact_grasp: where the gripper's grasp frame goes to grasp (or starts, if in hand)."""
        return make_T(self.R_contact_grasp, np.zeros(3))

    def turn_grasp(self) -> None:
        """Hold the object with the grasp turned half a turn about its approach axis (the grasp
        frame's z). Only for scenes with ``symmetric_grasp``; in-hand scenes keep the object where it
        is, in the turned grasp (:meth:`_grasp_turned`)."""
        if not self.symmetric_grasp:
            raise ValueError(f"{type(self).__name__}'s grasp is not symmetric: it cannot be turned")
        self.R_contact_grasp = self.R_contact_grasp @ HALF_TURN_ABOUT_Z
        self._grasp_turned()

    def _grasp_turned(self) -> None:
        """Called once the grasp has been turned: in-hand scenes recompute the object in the grasp."""

    def held(self) -> tuple[str, int]:
        """(body name, link index) that the gripper holds once grasped."""
        return self.held_body, self.held_link

    def place_in_hand(self, T_world_grasp: np.ndarray) -> None:
        """For in-hand scenes: put the held object at its pose in the gripper."""
        T = T_world_grasp @ self.T_grasp_object()
        self.scene.set_pose(self.held_body, T[:3, 3], T[:3, :3])

    def T_grasp_object(self) -> np.ndarray:
        """The held object's base pose in the grasp frame (in-hand scenes)."""
        return self._T_grasp_obj

    # --- episode -------------------------------------------------------------------------------
    def on_step(self, t_s: float) -> None:
        """Called after every control step; tasks with criteria over time (hold, stir, cut) record here."""

    def is_success(self) -> bool:
        raise NotImplementedError

    def progress(self) -> dict:
        """Scalars describing how far the episode got (written to the per-episode record)."""
        return {}

    def expert(self, t_s: float, T_contact_cmd: np.ndarray) -> tuple[np.ndarray, bool]:
        """The scripted expert: next target T_contact_grasp and whether the gripper stays closed.

        Experts read the scene's true state (privileged), so DAgger can query them anywhere.
        """
        raise NotImplementedError

    def primitive(self, motion, t_s: float) -> tuple[np.ndarray, bool]:
        """A demonstration's structure (:class:`vid2skill.retarget.primitives.SkillMotion`) executed in
        this scene, open-loop: the target T_contact_grasp at ``t_s`` and whether the gripper stays
        closed. The motion's extents and timing are the human's; the scene gives only its task's
        specification (axis, hinge, target), never its state during the episode."""
        raise NotImplementedError(f"{type(self).__name__} has no motion primitive")

    def primitive_time_s(self, motion) -> float:
        """How long :meth:`primitive` takes, seconds (the human's duration plus scripted transfers and
        holds)."""
        return motion.duration_s + float(self.skill.primitive.hold_s)

    # --- helpers for experts that plan the held object's motion --------------------------------
    def grasp_target_for_object(self, T_world_object: np.ndarray) -> np.ndarray:
        """T_contact_grasp that puts the held object at T_world_object."""
        return inv_T(self.contact_frame()) @ T_world_object @ inv_T(self.T_grasp_object())


def step_towards(current: np.ndarray, goal: np.ndarray, max_step: float) -> np.ndarray:
    """Move a point (3,) at most ``max_step`` towards ``goal``."""
    d = goal - current
    n = np.linalg.norm(d)
    return goal.copy() if n <= max_step else current + d * (max_step / n)
