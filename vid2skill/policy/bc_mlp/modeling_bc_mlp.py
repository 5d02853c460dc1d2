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
