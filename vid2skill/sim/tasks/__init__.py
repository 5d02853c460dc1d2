"""Task registry: a skill's ``task`` field in ``conf/skill/*.yaml`` names one of these; the scene's
randomisation ranges are ``sim.scenes.<task>``."""

from vid2skill.sim.tasks.cut import CutTask
from vid2skill.sim.tasks.door import DoorTask
from vid2skill.sim.tasks.drawer import DrawerTask
from vid2skill.sim.tasks.pick import PickTask
from vid2skill.sim.tasks.place import PlaceTask
from vid2skill.sim.tasks.pour import PourTask
from vid2skill.sim.tasks.stir import StirTask

TASKS = {"drawer": DrawerTask, "door": DoorTask, "pick": PickTask, "place": PlaceTask, "pour": PourTask,
         "stir": StirTask, "cut": CutTask}
