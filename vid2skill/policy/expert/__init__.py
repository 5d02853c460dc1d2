"""The scripted expert of each scene, registered as ``expert`` (privileged: it reads the scene's true
state)."""

from vid2skill.policy.base import ScriptedPolicy
from vid2skill.policy.registry import register


@register("expert")
class ExpertPolicy(ScriptedPolicy):
    """The task's scripted expert (``SkillScene.expert``); needs nothing upstream."""

    def reset(self, task=None, T_contact_start=None):
        super().reset(task, T_contact_start)
        self.task = task

    def act(self, obs):
        return self.task.expert(obs["t_s"], obs["T_contact_cmd"])


__all__ = ["ExpertPolicy"]
