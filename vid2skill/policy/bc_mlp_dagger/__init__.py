"""``bc_mlp`` after DAgger, registered as ``bc_mlp_dagger``: the same network, trained further on
states its own rollouts visited, labelled by the scripted expert (which reads the scene: the
simulator's expert). Made by ``vid2skill train policy=bc_mlp dagger.iterations=N`` beside the
plain ``bc_mlp`` (``policies_dagger/<robot>/<skill>/``), so it is evaluated and reported as its own
column (``vid2skill evaluate policy=bc_mlp_dagger``)."""

from vid2skill.policy.bc_mlp import BCMLPPolicy
from vid2skill.policy.registry import register


@register("bc_mlp_dagger")
class BCMLPDaggerPolicy(BCMLPPolicy):
    train_args = " policy=bc_mlp dagger.iterations=N"  # what evaluation says makes it
    workspace_folder = "policies_dagger"


__all__ = ["BCMLPDaggerPolicy"]
