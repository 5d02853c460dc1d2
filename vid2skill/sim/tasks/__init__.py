"""Task registry: a skill's ``task`` field in ``conf/skill/*.yaml`` names one of these."""

from vid2skill.sim.tasks.drawer import DrawerTask

TASKS = {"drawer": DrawerTask}
