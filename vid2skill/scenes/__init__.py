"""Skill scenes, shared by the synthetic human demonstrations (ingest) and robot evaluation (sim).

Scene registry (:data:`SCENES`): a skill's ``task`` field in ``conf/skill/*.yaml`` names one of these;
the scene's randomisation ranges are ``sim.scenes.<task>``. A scene needs no robot: it is the
objects, their randomisation, the contact frame, the success test and a scripted expert that moves a
grasp frame. Each scene module registers its class with ``@register("<task>")``.
"""

from vid2skill.scenes.base import SCENES
from vid2skill.scenes.cut import CutScene
from vid2skill.scenes.door import DoorScene
from vid2skill.scenes.drawer import DrawerScene
from vid2skill.scenes.pick import PickScene
from vid2skill.scenes.place import PlaceScene
from vid2skill.scenes.pour import PourScene
from vid2skill.scenes.stir import StirScene

TASKS = SCENES  # the registry's earlier name, kept for existing imports

__all__ = [
    "SCENES",
    "TASKS",
    "CutScene",
    "DoorScene",
    "DrawerScene",
    "PickScene",
    "PlaceScene",
    "PourScene",
    "StirScene",
]
