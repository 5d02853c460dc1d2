"""Training ACT on episodes: every frame's next ``chunk_size`` actions as the target (padded past the
episode's end with its last action and masked out of the loss), optional DART-style corrective
chunks, and the shared loop (:func:`vid2skill.policy.training.fit`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from vid2skill.dataset.episodes import Episode
from vid2skill.policy.act.configuration_act import ACTConfig
from vid2skill.policy.act.modeling_act import ACT, STEP_DIM, chunk_loss
from vid2skill.policy.observation import clip_step, policy_inputs
from vid2skill.policy.training import (
    fit,
    perturbed,
    resolve_device,
    run_stats,
    set_normalisation,
    start_training,
    torch_threads,
)

log = logging.getLogger(__name__)


def chunk_targets(rows: np.ndarray, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """For per-frame rows (T, D): each frame's next ``chunk_size`` rows (T, k, D), padded past the end
    with the last row, and which of them are real (T, k) bool (False: padding)."""
    T = len(rows)
    ahead = np.arange(T)[:, None] + np.arange(chunk_size)[None, :]
    return rows[np.minimum(ahead, T - 1)], ahead < T


def build_chunks(
    episodes: list[Episode], cfg: ACTConfig, rng: np.random.Generator, control_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (N, 14), chunks (N, k, 7) (clipped step in m and rad, keep-closed) and their valid
    rows (N, k) from episodes: each frame once clean, and ``noise_copies`` times from a perturbed
    state whose chunk starts with the step back to the demonstration's next pose."""
    X, C, V = [], [], []
    for ep in episodes:
        s, g, a = ep.state.astype(np.float64), ep.goal.astype(np.float64), ep.action.astype(np.float64)
        t_s = np.arange(len(s)) / control_hz
        rows = np.column_stack([clip_step(a[:, :STEP_DIM], cfg.max_step_m, cfg.max_turn_rad), a[:, STEP_DIM]])
        chunk, valid = chunk_targets(rows, cfg.chunk_size)
        for c in range(cfg.noise_copies + 1):
            sp = s
            if c:
                sp, back = perturbed(s, a, cfg.noise_std_m, cfg.noise_std_rad, rng)
                chunk = chunk.copy()
                chunk[:, 0, :STEP_DIM] = clip_step(back, cfg.max_step_m, cfg.max_turn_rad)
            X.append(policy_inputs(sp, g, t_s))
            C.append(chunk)
            V.append(valid)
    return np.concatenate(X), np.concatenate(C), np.concatenate(V)


def train_act(
    episodes,
    cfg: ACTConfig,
    control_hz: float,
    run_dir: str | Path | None = None,
    resume_key: str | None = None,
) -> tuple[ACT, dict]:
    """Fit ACT to episodes at ``control_hz``; returns the model (on the CPU) and statistics. Resume
    points, early stopping and TensorBoard as in :func:`vid2skill.policy.training.fit`."""
    with torch_threads(cfg.threads):
        return _train(episodes, cfg, control_hz, run_dir, resume_key)


def _train(episodes, cfg: ACTConfig, control_hz: float, run_dir, resume_key) -> tuple[ACT, dict]:
    episodes, rng, train_eps, val_eps = start_training(episodes, cfg, "act")
    obs, chunks, valid = build_chunks(train_eps, cfg, rng, control_hz)
    device = resolve_device(cfg.device)
    model = ACT(cfg)
    steps = chunks[valid][:, :STEP_DIM]
    set_normalisation(model, obs, steps)
    model.to(device)

    def tensors(o, c, v):
        c = torch.as_tensor(c, dtype=torch.float32, device=device)
        c = torch.cat([(c[..., :STEP_DIM] - model.act_mean) / model.act_std, c[..., STEP_DIM:]], -1)
        return torch.as_tensor(o, dtype=torch.float32, device=device), c, torch.as_tensor(v, device=device)

    train = tensors(obs, chunks, valid)
    val = None
    if val_eps:
        clean = ACTConfig(**{**cfg.__dict__, "noise_copies": 0})
        val = tensors(*build_chunks(val_eps, clean, rng, control_hz))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def loss_of(o, c, v):
        return chunk_loss(model(o, c, ~v), c, v, cfg)

    per_epoch = -(-len(obs) // cfg.batch_size)
    epochs = max(cfg.epochs, -(-cfg.min_updates // per_epoch))
    r = fit(model, opt, loss_of, train, val, replace(cfg, epochs=epochs), "act", run_dir, resume_key)
    model.cpu().eval()
    stats = {
        **run_stats(r, len(obs), episodes, train_eps, val_eps, val is not None, device, control_hz),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    log.debug("act: %s", stats)
    return model, stats
