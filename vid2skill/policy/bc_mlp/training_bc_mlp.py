"""Training the BC MLP on retargeted demonstrations, with noise-injected corrective labels."""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.bc_mlp.modeling_bc_mlp import BCMLP
from vid2skill.retarget.demos import RobotDemo

log = logging.getLogger(__name__)


def build_dataset(demos: list[RobotDemo], cfg: BCMLPConfig, rng: np.random.Generator,
                  control_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observations (N, 4), EE steps (N, 3) and keep-closed labels (N,) from demonstrations.

    Each step t gives the clean pair (p_t, p_{t+1} - p_t) plus ``noise_copies`` perturbed states
    p_t + e labelled with p_{t+1} - (p_t + e): the step that returns to the demonstration.
    """
    obs, act, closed = [], [], []
    for d in demos:
        p = d.ee_contact_m
        T = len(p)
        t_s = np.arange(T - 1) / control_hz
        nxt = p[1:]
        keep = d.gripper_closed[1:].astype(np.float64)
        for c in range(cfg.noise_copies + 1):
            noise = rng.normal(0, cfg.noise_std_m, size=(T - 1, 3)) if c else np.zeros((T - 1, 3))
            state = p[:-1] + noise
            obs.append(np.column_stack([state, t_s]))
            act.append(nxt - state)
            closed.append(keep)
    act_all = np.concatenate(act)
    norms = np.linalg.norm(act_all, axis=1, keepdims=True)
    act_all = act_all * np.minimum(1.0, cfg.max_step_m / np.maximum(norms, 1e-9))
    return np.concatenate(obs), act_all, np.concatenate(closed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train_bc_mlp(demos: list[RobotDemo], cfg: BCMLPConfig, control_hz: float) -> tuple[BCMLP, dict]:
    """Fit the policy to demonstrations sampled at ``control_hz``; returns the model (on the CPU) and statistics."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    obs, act, closed = build_dataset(demos, cfg, rng, control_hz)
    device = resolve_device(cfg.device)
    model = BCMLP(list(cfg.hidden))
    model.obs_mean.copy_(torch.as_tensor(obs.mean(0), dtype=torch.float32))
    model.obs_std.copy_(torch.as_tensor(obs.std(0) + 1e-6, dtype=torch.float32))
    model.act_mean.copy_(torch.as_tensor(act.mean(0), dtype=torch.float32))
    model.act_std.copy_(torch.as_tensor(act.std(0) + 1e-6, dtype=torch.float32))
    model.to(device)
    o = torch.as_tensor(obs, dtype=torch.float32, device=device)
    a = (torch.as_tensor(act, dtype=torch.float32, device=device) - model.act_mean) / model.act_std
    g = torch.as_tensor(closed, dtype=torch.float32, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    bce = nn.BCEWithLogitsLoss()
    n = len(o)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    losses = []
    for epoch in range(cfg.epochs):
        perm = torch.randperm(n, generator=gen).to(device)
        total = 0.0
        for start in range(0, n, cfg.batch_size):
            idx = perm[start : start + cfg.batch_size]
            step, logit = model(o[idx])
            loss = ((step - a[idx]) ** 2).mean() + cfg.gripper_weight * bce(logit, g[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / n)
    model.cpu().eval()
    stats = {"samples": n, "demos": len(demos), "final_loss": round(losses[-1], 5), "first_loss": round(losses[0], 5), "device": str(device)}
    log.debug("bc_mlp: %s", stats)
    return model, stats
