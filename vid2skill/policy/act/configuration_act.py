"""Configuration of the action-chunking transformer policy (registered as ``act``)."""

from __future__ import annotations

from dataclasses import dataclass

from vid2skill.errors import ConfigError
from vid2skill.policy.training import PolicyConfig, check_data_settings

LOSSES = ("l1", "l2")


@dataclass
class ACTConfig(PolicyConfig):
    """An action-chunking transformer with a CVAE latent, after ACT (Zhao et al., 2023, "Learning
    Fine-Grained Bimanual Manipulation with Low-Cost Hardware"), without images: it reads the same
    inputs as ``bc_mlp`` (pose since the grasp, time, goal) and predicts the next ``chunk_size``
    actions at once.

    Attributes:
        chunk_size: actions predicted per query (k, control steps).
        d_model: width of every transformer token.
        n_heads: attention heads per layer.
        dim_feedforward: hidden width of each layer's feed-forward block.
        n_encoder_layers: layers of the encoder over [latent, state, goal] tokens.
        n_decoder_layers: layers of the decoder whose k learned queries become the chunk.
        n_vae_encoder_layers: layers of the CVAE encoder over [cls, observation, chunk] (training only).
        latent_dim: size of the CVAE latent z (0 at inference).
        dropout: dropout in every transformer layer.
        kl_weight: beta, the weight of the KL term (10 as in ACT's code).
        loss: "l1" (ACT's) or "l2" on the normalised steps of the chunk.
        temporal_ensemble: true: query every step and execute the weighted mean of every chunk's
            prediction for the current step (ACT's temporal ensembling); false: execute
            ``n_action_steps`` of each chunk open-loop, then query again.
        ensemble_coeff: m in the ensemble weights exp(-m * i), i = 0 for the oldest prediction
            (ACT's 0.01: older predictions weigh slightly more, which smooths the motion).
        n_action_steps: actions executed from each chunk when ``temporal_ensemble`` is false
            (1..chunk_size).
        The training settings shared with ``bc_mlp`` (epochs, lr, batch_size, weight_decay, the
            noise, the step limits, the data and validation settings, seed, device) are
            :class:`~vid2skill.policy.training.PolicyConfig`'s; with state noise, a perturbed
            state's chunk starts with the step back to the demonstration's next pose and continues
            with the demonstration's steps.
        min_updates: fewest gradient steps: a skill with few frames (four demonstrations' arrays)
            gets more epochs, so that every skill's transformer is trained about as long.
    """

    option = "act"

    chunk_size: int
    d_model: int
    n_heads: int
    dim_feedforward: int
    n_encoder_layers: int
    n_decoder_layers: int
    n_vae_encoder_layers: int
    latent_dim: int
    dropout: float
    kl_weight: float
    loss: str
    temporal_ensemble: bool
    ensemble_coeff: float
    n_action_steps: int
    min_updates: int

    def __post_init__(self):
        sizes = {
            "chunk_size": self.chunk_size,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "dim_feedforward": self.dim_feedforward,
            "n_encoder_layers": self.n_encoder_layers,
            "n_decoder_layers": self.n_decoder_layers,
            "n_vae_encoder_layers": self.n_vae_encoder_layers,
            "latent_dim": self.latent_dim,
        }
        bad = [k for k, v in sizes.items() if int(v) < 1]
        if bad:
            raise ConfigError(f"policy.{bad[0]} must be a positive whole number, got {sizes[bad[0]]}")
        if self.d_model % self.n_heads:
            raise ConfigError(
                f"policy.d_model={self.d_model} must be a multiple of policy.n_heads={self.n_heads} "
                "(each head takes an equal share of the width)"
            )
        if not self.temporal_ensemble and not 1 <= self.n_action_steps <= self.chunk_size:
            raise ConfigError(
                f"policy.n_action_steps={self.n_action_steps} must lie in 1..policy.chunk_size="
                f"{self.chunk_size} when policy.temporal_ensemble=false (a chunk holds no more)"
            )
        if self.loss not in LOSSES:
            raise ConfigError(f"policy.loss={self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.kl_weight < 0 or self.ensemble_coeff < 0 or not 0 <= self.dropout < 1:
            raise ConfigError(
                "policy.kl_weight and policy.ensemble_coeff must be >= 0 and policy.dropout in [0, 1)"
            )
        if (
            self.epochs <= 0
            or self.batch_size <= 0
            or self.lr <= 0
            or self.patience < 1
            or self.min_updates < 0
        ):
            raise ConfigError(
                "policy.epochs, policy.batch_size, policy.lr and policy.patience must be positive "
                "and policy.min_updates >= 0"
            )
        if self.max_step_m <= 0 or self.max_turn_rad <= 0:
            raise ConfigError("policy.max_step_m and policy.max_turn_rad must be positive")
        check_data_settings(self)
