"""The action-chunking transformer (ACT, Zhao et al. 2023) without images, and its policy.

The encoder reads three tokens: the CVAE latent z, the state (pose since the grasp and time) and the
goal (as given and as its offset from the pose; :mod:`vid2skill.policy.observation`). A decoder turns
``chunk_size`` learned queries into the next ``chunk_size`` actions: normalised 6-DoF steps and
keep-gripper-closed logits. In training a small CVAE encoder over (observation, true chunk) gives
z's posterior, so demonstrations that disagree (a hand that pauses or not) need not be averaged;
at inference z = 0, the prior's mean.

At inference the policy either queries every step and executes the weighted mean of every live
chunk's prediction for the current step (temporal ensembling), or executes ``n_action_steps`` of
each chunk open-loop.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch
from torch import nn

from vid2skill.dataset.features import Feature
from vid2skill.policy.act.configuration_act import ACTConfig
from vid2skill.policy.base import LearnedPolicy
from vid2skill.policy.observation import LEARNED_INPUTS, OBS_DIM, STEP_DIM, clip_step, observation_inputs
from vid2skill.policy.registry import register

STATE_INPUTS = 7  # pose (6) and time: the state token
CHUNK_DIM = STEP_DIM + 1  # a chunk's row: normalised step (6) and keep-closed (1 closed, 0 open)


def _encoder(config: ACTConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        config.d_model, config.n_heads, config.dim_feedforward, config.dropout, batch_first=True
    )
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class ACT(nn.Module):
    """The network: ``forward(obs, chunk, pad)`` -> normalised steps (B, k, 6), gripper logits (B, k)
    and the CVAE posterior (mu, logvar (B, latent_dim); None without a chunk). Input and step
    normalisation are buffers (saved with the weights)."""

    def __init__(self, config: ACTConfig):
        super().__init__()
        d, k = config.d_model, config.chunk_size
        self.chunk_size, self.latent_dim = k, config.latent_dim
        self.state_in = nn.Linear(STATE_INPUTS, d)
        self.goal_in = nn.Linear(OBS_DIM - STATE_INPUTS, d)
        self.latent_in = nn.Linear(config.latent_dim, d)
        self.encoder_pos = nn.Parameter(torch.zeros(3, d))
        self.encoder = _encoder(config, config.n_encoder_layers)
        layer = nn.TransformerDecoderLayer(
            d, config.n_heads, config.dim_feedforward, config.dropout, batch_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, config.n_decoder_layers)
        self.queries = nn.Parameter(torch.randn(k, d) * 0.02)
        self.head = nn.Linear(d, CHUNK_DIM)
        # The CVAE encoder (training only): [cls, observation, chunk rows] -> mu, logvar of z.
        self.vae_cls = nn.Parameter(torch.zeros(1, d))
        self.vae_obs_in = nn.Linear(OBS_DIM, d)
        self.vae_chunk_in = nn.Linear(CHUNK_DIM, d)
        self.vae_pos = nn.Parameter(torch.randn(k + 2, d) * 0.02)
        self.vae_encoder = _encoder(config, config.n_vae_encoder_layers)
        self.vae_out = nn.Linear(d, 2 * config.latent_dim)
        self.register_buffer("obs_mean", torch.zeros(OBS_DIM))
        self.register_buffer("obs_std", torch.ones(OBS_DIM))
        self.register_buffer("act_mean", torch.zeros(STEP_DIM))
        self.register_buffer("act_std", torch.ones(STEP_DIM))

    def posterior(
        self, x: torch.Tensor, chunk: torch.Tensor, pad: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of z from normalised inputs (B, OBS_DIM) and a chunk (B, k, 7) whose padded
        rows (``pad`` (B, k) True) are not attended to."""
        B = len(x)
        tokens = torch.cat(
            [self.vae_cls.expand(B, 1, -1), self.vae_obs_in(x)[:, None], self.vae_chunk_in(chunk)], 1
        )
        keep = torch.zeros(B, 2, dtype=torch.bool, device=x.device)
        h = self.vae_encoder(tokens + self.vae_pos, src_key_padding_mask=torch.cat([keep, pad], 1))
        mu, logvar = self.vae_out(h[:, 0]).chunk(2, dim=-1)
        return mu, logvar

    def forward(
        self, obs: torch.Tensor, chunk: torch.Tensor | None = None, pad: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor | None]:
        x = (obs - self.obs_mean) / self.obs_std
        B = len(x)
        mu = logvar = None
        if chunk is not None:
            if pad is None:
                pad = torch.zeros(chunk.shape[:2], dtype=torch.bool, device=x.device)
            mu, logvar = self.posterior(x, chunk, pad)
            z = (
                mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
            )  # reparameterised sample
        else:
            z = torch.zeros(B, self.latent_dim, device=x.device)
        tokens = torch.stack(
            [self.latent_in(z), self.state_in(x[:, :STATE_INPUTS]), self.goal_in(x[:, STATE_INPUTS:])], 1
        )
        memory = self.encoder(tokens + self.encoder_pos)
        y = self.head(self.decoder(self.queries.expand(B, -1, -1), memory))
        return {"steps": y[..., :STEP_DIM], "grip": y[..., STEP_DIM], "mu": mu, "logvar": logvar}

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For one input row (OBS_DIM,): the chunk's steps (k, 6) float64 (m, rad; unclipped) and the
        probability that the gripper stays closed at each step (k,)."""
        out = self(torch.as_tensor(x, dtype=torch.float32, device=self.obs_mean.device).reshape(1, -1))
        steps = (out["steps"][0] * self.act_std + self.act_mean).cpu().numpy().astype(np.float64)
        return steps, torch.sigmoid(out["grip"][0]).cpu().numpy().astype(np.float64)


def chunk_loss(out: dict, target: torch.Tensor, valid: torch.Tensor, config: ACTConfig) -> torch.Tensor:
    """ACT's loss: L1 (or L2) on the normalised steps plus the weighted gripper cross-entropy, both
    over the chunk's valid rows only (``valid`` (B, k); rows past an episode's end are padding), plus
    ``kl_weight`` times the KL divergence of z's posterior from N(0, I) (summed over z, mean over the
    batch)."""
    w = valid.to(target.dtype)
    diff = out["steps"] - target[..., :STEP_DIM]
    err = (diff.abs() if config.loss == "l1" else diff**2).mean(-1)
    grip = nn.functional.binary_cross_entropy_with_logits(
        out["grip"], target[..., STEP_DIM], reduction="none"
    )
    n = w.sum().clamp_min(1.0)
    loss = (err * w).sum() / n + config.gripper_weight * (grip * w).sum() / n
    if out["mu"] is not None:
        mu, logvar = out["mu"], out["logvar"]
        loss = loss + config.kl_weight * (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1)).mean()
    return loss


class TemporalEnsembler:
    """ACT's temporal ensembling: every step adds a chunk predicted now; the action for now is the mean
    of every live chunk's prediction for now, weighted exp(-coeff * i) with i = 0 for the oldest chunk.
    A chunk of k rows covers the k steps from its prediction, so at most k chunks are live."""

    def __init__(self, chunk_size: int, coeff: float):
        self.chunk_size, self.coeff = int(chunk_size), float(coeff)
        self._chunks: deque = deque(maxlen=self.chunk_size)

    def reset(self) -> None:
        self._chunks.clear()

    def update(self, chunk: np.ndarray) -> np.ndarray:
        """Add the chunk (k, D) predicted at this step; the ensembled row (D,) for this step."""
        self._chunks.append(np.asarray(chunk, dtype=np.float64))
        n = len(self._chunks)
        age = np.arange(n)[::-1]  # chunk j (0 oldest) was predicted n-1-j steps ago: its row for now
        rows = np.stack(self._chunks)[np.arange(n), age]
        w = np.exp(-self.coeff * np.arange(n))
        return (w[:, None] * rows).sum(0) / w.sum()


@register("act")
class ACTPolicy(LearnedPolicy):
    """ACT as a policy: it reads ``observation.state``, ``observation.goal`` and ``timestamp`` (as
    ``bc_mlp`` does) and steps the pose by the ensembled (or queued) action of its chunks; the
    gripper stays closed while the (ensembled) probability is at least 0.5."""

    config_cls = ACTConfig
    schema_version = 1
    inference_fields = ("temporal_ensemble", "ensemble_coeff", "n_action_steps")
    workspace_folder = "policies_act"  # beside bc_mlp's ``policies/``

    def __init__(
        self,
        config: ACTConfig,
        model: ACT | None = None,
        stats: dict | None = None,
        hold_at_end: bool = False,
    ):
        super().__init__(config, model, stats, hold_at_end)
        self.n_action_steps = 1 if config.temporal_ensemble else int(config.n_action_steps)
        self.ensembler = TemporalEnsembler(config.chunk_size, config.ensemble_coeff)

    @property
    def input_features(self) -> dict[str, Feature]:
        return dict(LEARNED_INPUTS)

    @classmethod
    def build_model(cls, config: ACTConfig) -> ACT:
        return ACT(config)

    def reset(self) -> None:
        super().reset()
        self.ensembler.reset()

    def predict_chunk(self, obs) -> np.ndarray:
        """(k, 7): clipped steps and the probability that the gripper stays closed."""
        steps, p_closed = self.model.predict(observation_inputs(obs))
        return np.column_stack([clip_step(steps, self.config.max_step_m, self.config.max_turn_rad), p_closed])

    def _gripper(self, p_closed: np.ndarray) -> np.ndarray:
        return np.where((p_closed >= 0.5) | self.hold_at_end, 1.0, 0.0)

    def predict_action_chunk(self, obs) -> np.ndarray:
        chunk = self.predict_chunk(obs)
        chunk[:, STEP_DIM] = self._gripper(chunk[:, STEP_DIM])
        return chunk

    def select_action(self, obs) -> np.ndarray:
        if not self.config.temporal_ensemble:
            return super().select_action(obs)
        self.check_observation(obs)
        action = self.ensembler.update(self.predict_chunk(obs))
        action[STEP_DIM] = self._gripper(action[STEP_DIM])
        return action

    @staticmethod
    def train(
        episodes, config: ACTConfig, control_hz: float, run_dir=None, resume_key=None
    ) -> tuple[ACT, dict]:
        """Fit to episodes (:class:`~vid2skill.dataset.episodes.Episode`, or RobotDemos, read with no
        goal)."""
        from vid2skill.policy.act.training_act import train_act

        return train_act(episodes, config, control_hz, run_dir=run_dir, resume_key=resume_key)
