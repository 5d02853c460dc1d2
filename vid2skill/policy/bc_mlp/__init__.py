"""Behaviour cloning with an MLP, registered as ``bc_mlp``."""

from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.bc_mlp.modeling_bc_mlp import BCMLP, BCMLPPolicy
from vid2skill.policy.bc_mlp.training_bc_mlp import train_bc_mlp

__all__ = ["BCMLPConfig", "BCMLP", "BCMLPPolicy", "train_bc_mlp"]
