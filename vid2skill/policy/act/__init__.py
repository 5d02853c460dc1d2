"""An action-chunking transformer with a CVAE latent and temporal ensembling (ACT), registered as ``act``."""

from vid2skill.policy.act.configuration_act import ACTConfig
from vid2skill.policy.act.modeling_act import ACT, ACTPolicy, TemporalEnsembler
from vid2skill.policy.act.training_act import train_act

__all__ = ["ACTConfig", "ACT", "ACTPolicy", "TemporalEnsembler", "train_act"]
