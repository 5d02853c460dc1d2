"""The BC MLP: observation (commanded EE position in the contact frame, time since the grasp)
-> (EE step, keep-gripper-closed logit).

The position is the policy's own command, not the measured pose, so the arm's tracking lag can
neither stall it nor make it let go early. Time keeps it moving where demonstrations disagree
about the first centimetres (a position-only flow field stalls where their steps average to zero).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vid2skill.dataset.features import STATE, TIMESTAMP, Feature
from vid2skill.policy.base import LearnedPolicy, holds_at_end
from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.registry import register

OBS_DIM = 4  # x, y, z of the commanded end effector in the contact frame (m), seconds since the grasp
ACT_DIM = 4  # dx, dy, dz (m per control step), logit of "gripper stays closed"


class BCMLP(nn.Module):
    """An MLP with input and output normalisation stored as buffers (saved with the weights)."""

    def __init__(self, hidden: list[int]):
        super().__init__()
        layers, width = [], OBS_DIM
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, ACT_DIM))
        self.net = nn.Sequential(*layers)
        self.register_buffer("obs_mean", torch.zeros(OBS_DIM))
        self.register_buffer("obs_std", torch.ones(OBS_DIM))
        self.register_buffer("act_mean", torch.zeros(3))
        self.register_buffer("act_std", torch.ones(3))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised step prediction (B, 3) and gripper logit (B,)."""
        out = self.net((obs - self.obs_mean) / self.obs_std)
        return out[:, :3], out[:, 3]

    @torch.no_grad()
    def act(self, obs: np.ndarray, max_step_m: float) -> tuple[np.ndarray, bool]:
        """One action for one observation (4,): (EE step (3,) m, keep gripper closed)."""
        o = torch.as_tensor(obs, dtype=torch.float32, device=self.obs_mean.device)[None]
        step_n, logit = self(o)
        step = (step_n * self.act_std + self.act_mean)[0].cpu().numpy().astype(np.float64)
        norm = np.linalg.norm(step)
        if norm > max_step_m:
            step *= max_step_m / norm
        return step, bool(logit[0] > 0)


@register("bc_mlp")
class BCMLPPolicy(LearnedPolicy):
    """The BC MLP as a policy: it reads the commanded position (``observation.state`` x, y, z) and
    ``timestamp`` and steps the position (no rotation). As with ``replay``, a skill judged while
    holding never lets go (``hold_at_end``, set from the skill's definition by ``with_skill``): its
    demonstrations' final opening of the hand is not the skill."""

    config_cls = BCMLPConfig
    schema_version = 1  # v1: observation (x, y, z, t_s) -> (dx, dy, dz, keep-closed logit)

    def __init__(self, config: BCMLPConfig, model: BCMLP | None = None, stats: dict | None = None,
                 hold_at_end: bool = False):
        super().__init__(config, model, stats)
        self.hold_at_end = bool(hold_at_end)

    @property
    def input_features(self) -> dict[str, Feature]:
        return {STATE.key: STATE, TIMESTAMP.key: TIMESTAMP}

    @classmethod
    def build_model(cls, config: BCMLPConfig) -> BCMLP:
        return BCMLP(list(config.hidden))

    def predict_action_chunk(self, obs) -> np.ndarray:
        rel = np.asarray(obs[STATE.key])[:3]
        t_s = np.asarray(obs[TIMESTAMP.key]).reshape(-1)[:1]
        step, keep = self.model.act(np.append(rel, t_s), self.config.max_step_m)
        return np.concatenate([step, np.zeros(3), [1.0 if (keep or self.hold_at_end) else 0.0]])[None]

    def with_skill(self, skill_cfg) -> "BCMLPPolicy":
        return BCMLPPolicy(self.config, model=self.model, stats=self.stats, hold_at_end=holds_at_end(skill_cfg))

    @staticmethod
    def train(demos, config: BCMLPConfig, control_hz: float) -> tuple[BCMLP, dict]:
        from vid2skill.policy.bc_mlp.training_bc_mlp import train_bc_mlp

        return train_bc_mlp(demos, config, control_hz)
