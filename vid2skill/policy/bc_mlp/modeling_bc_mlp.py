"""The BC MLP: observation (end-effector pose since the grasp, time since the grasp, the goal)
-> (position step, rotation-vector step, keep-gripper-closed logit).

The pose is the policy's own command (``observation.state``), not the measured pose, so the arm's
tracking lag can neither stall it nor make it let go early. Time keeps it moving where
demonstrations disagree about the first centimetres. The inputs (:mod:`vid2skill.policy.observation`)
are shared with the other learned policies.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import nn

from vid2skill.dataset.features import STATE, Feature
from vid2skill.policy.base import LearnedPolicy
from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.observation import (  # noqa: F401 (policy_inputs re-exported)
    LEARNED_INPUTS,
    OBS_DIM,
    PREV_DIM,
    STEP_DIM,
    clip_step,
    last_steps,
    observation_inputs,
    policy_inputs,
)
from vid2skill.policy.registry import register


class BCMLP(nn.Module):
    """An MLP trunk with a deterministic or Gaussian-mixture step head and a gripper logit; input and
    output normalisation are buffers (saved with the weights)."""

    def __init__(
        self,
        hidden: list[int],
        head: str = "deterministic",
        modes: int = 5,
        min_std: float = 0.01,
        obs_dim: int = OBS_DIM,
    ):
        super().__init__()
        self.head, self.modes, self.min_std = head, int(modes), float(min_std)
        layers, width = [], int(obs_dim)
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.trunk = nn.Sequential(*layers)
        k = self.modes if head == "gmm" else 1
        self.out = nn.Linear(
            width, k * STEP_DIM * (2 if head == "gmm" else 1) + (k if head == "gmm" else 0) + 1
        )
        self.register_buffer("obs_mean", torch.zeros(int(obs_dim)))
        self.register_buffer("obs_std", torch.ones(int(obs_dim)))
        self.register_buffer("act_mean", torch.zeros(STEP_DIM))
        self.register_buffer("act_std", torch.ones(STEP_DIM))

    def forward(self, obs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Normalised step prediction: ``mean`` (B, K, 6) (K = 1 unless gmm), gmm's ``std`` (B, K, 6)
        and ``logits`` (B, K), and the gripper ``grip`` logit (B,)."""
        y = self.out(self.trunk((obs - self.obs_mean) / self.obs_std))
        B = y.shape[0]
        if self.head != "gmm":
            return {"mean": y[:, None, :STEP_DIM], "grip": y[:, STEP_DIM]}
        K, D = self.modes, STEP_DIM
        mean = y[:, : K * D].reshape(B, K, D)
        std = nn.functional.softplus(y[:, K * D : 2 * K * D].reshape(B, K, D)) + self.min_std
        return {"mean": mean, "std": std, "logits": y[:, 2 * K * D : 2 * K * D + K], "grip": y[:, -1]}

    def step_loss(self, out: dict[str, torch.Tensor], target_n: torch.Tensor) -> torch.Tensor:
        """The motion loss against normalised target steps (B, 6)."""
        if self.head != "gmm":
            return ((out["mean"][:, 0] - target_n) ** 2).mean()
        D = torch.distributions
        comp = D.Independent(D.Normal(out["mean"], out["std"]), 1)
        return (
            -D.MixtureSameFamily(D.Categorical(logits=out["logits"]), comp).log_prob(target_n).mean()
            / STEP_DIM
        )

    @torch.no_grad()
    def act(self, x: np.ndarray, max_step_m: float, max_turn_rad: float) -> tuple[np.ndarray, bool]:
        """One action for one input row (OBS_DIM,): (step (6,) m and rad, keep gripper closed)."""
        out = self(torch.as_tensor(x, dtype=torch.float32, device=self.obs_mean.device).reshape(1, -1))
        k = int(out["logits"][0].argmax()) if "logits" in out else 0
        step = (out["mean"][0, k] * self.act_std + self.act_mean).cpu().numpy().astype(np.float64)
        return clip_step(step, max_step_m, max_turn_rad), bool(out["grip"][0] > 0)


@register("bc_mlp")
class BCMLPPolicy(LearnedPolicy):
    """The BC MLP as a policy: it reads ``observation.state`` (pose since the grasp),
    ``observation.goal`` and ``timestamp`` and steps the pose. As with ``replay``, a skill judged
    while holding never lets go (``hold_at_end``, set from the skill's definition by ``with_skill``).
    A policy trained on rollouts that outlast the skill's horizon asks for their length
    (``horizon_s``, a constant of the training data, not of the scene)."""

    config_cls = BCMLPConfig
    # v1: (x, y, z, t_s) -> (dx, dy, dz, keep-closed); v2: (pose, t_s, goal) -> (6-DoF step, keep-closed)
    schema_version = 2

    @property
    def input_features(self) -> dict[str, Feature]:
        return dict(LEARNED_INPUTS)

    @classmethod
    def build_model(cls, config: BCMLPConfig) -> BCMLP:
        return BCMLP(
            list(config.hidden),
            config.head,
            config.gmm_modes,
            config.gmm_min_std,
            OBS_DIM + (PREV_DIM if config.reads_last_step else 0),
        )

    @classmethod
    def config_for_skill(cls, config: BCMLPConfig, skill_cfg) -> BCMLPConfig:
        """``config`` with ``prev_step: periodic`` resolved for one skill (its ``periodic``)."""
        if config.prev_step != "periodic":
            return config
        return replace(config, prev_step="always" if skill_cfg.periodic else "never")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not first in predict_action_chunk: a policy pickled for worker processes while
        # it acts must not grow attributes.
        self._last_state: np.ndarray | None = None

    def reset(self) -> None:
        super().reset()
        self._last_state = None

    def predict_action_chunk(self, obs) -> np.ndarray:
        x = observation_inputs(obs)
        if self.config.reads_last_step:
            state = np.asarray(obs[STATE.key], dtype=np.float64).reshape(-1)
            last = self._last_state
            prev = last_steps(np.stack([last, state]))[1] if last is not None else np.zeros(PREV_DIM)
            self._last_state = state
            x = np.concatenate([x, prev]).astype(np.float32)
        step, keep = self.model.act(x, self.config.max_step_m, self.config.max_turn_rad)
        return np.concatenate([step, [1.0 if (keep or self.hold_at_end) else 0.0]])[None]

    @staticmethod
    def train(
        episodes, config: BCMLPConfig, control_hz: float, run_dir=None, resume_key=None
    ) -> tuple[BCMLP, dict]:
        """Fit to episodes (:class:`~vid2skill.dataset.episodes.Episode`, or RobotDemos, read with no
        goal)."""
        from vid2skill.policy.bc_mlp.training_bc_mlp import train_bc_mlp

        return train_bc_mlp(episodes, config, control_hz, run_dir=run_dir, resume_key=resume_key)
