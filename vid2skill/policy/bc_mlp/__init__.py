from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.bc_mlp.modeling_bc_mlp import BCMLP
from vid2skill.policy.bc_mlp.training_bc_mlp import train_bc_mlp

__all__ = ["BCMLPConfig", "BCMLP", "train_bc_mlp"]
