"""Training the BC MLP on episodes, with noise-injected corrective labels; the split by clip, early
stopping, resume, progress bar and TensorBoard scalars are the shared ones
(:mod:`vid2skill.policy.training`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vid2skill.dataset.episodes import Episode
from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.bc_mlp.modeling_bc_mlp import BCMLP, clip_step, last_steps, policy_inputs
from vid2skill.policy.training import (  # noqa: F401 (RESUME_FILE, SAVE_EVERY, split_by_clip: re-exported)
    RESUME_FILE,
    SAVE_EVERY,
    fit,
    perturbed,
    resolve_device,
    run_stats,
    set_normalisation,
    split_by_clip,
    start_training,
    torch_threads,
)

log = logging.getLogger(__name__)


def build_dataset(
    episodes: list[Episode], cfg: BCMLPConfig, rng: np.random.Generator, control_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (N, 14; 20 with ``prev_step``), steps (N, 6) and keep-closed labels (N,) from episodes.

    Each frame t gives the clean pair (s_t, a_t) plus ``noise_copies`` perturbed states (position
    + e, rotation exp(eta) R_t) labelled with the step from the perturbed pose to the episode's next
    pose: the step that returns to the demonstration (DART-style noise injection). A relabelled
    (DAgger) episode gives its clean pairs ``noise_copies + 1`` times instead.
    """
    X, A, G = [], [], []
    for ep in episodes:
        s, g, a = ep.state.astype(np.float64), ep.goal.astype(np.float64), ep.action.astype(np.float64)
        t_s = np.arange(len(s)) / control_hz
        # The last step is the policy's own command, so a perturbed pose keeps the clean one.
        prev = last_steps(s) if cfg.reads_last_step else None
        for c in range(cfg.noise_copies + 1):
            # An expert's labels of visited states are corrective already; a perturbed copy would
            # pull back to the visited path, so those episodes count their clean pairs as often.
            noisy = c and not ep.relabelled
            sp, step = perturbed(s, a, cfg.noise_std_m, cfg.noise_std_rad, rng) if noisy else (s, a[:, :6])
            X.append(policy_inputs(sp, g, t_s, prev))
            A.append(clip_step(step, cfg.max_step_m, cfg.max_turn_rad))
            G.append(a[:, 6])
    return np.concatenate(X), np.concatenate(A), np.concatenate(G)


def train_bc_mlp(
    episodes,
    cfg: BCMLPConfig,
    control_hz: float,
    run_dir: str | Path | None = None,
    resume_key: str | None = None,
) -> tuple[BCMLP, dict]:
    """Fit the policy to episodes at ``control_hz``; returns the model (on the CPU) and statistics.

    With ``run_dir`` and ``resume_key`` (a hash of the inputs), training saves a resume point every
    ``SAVE_EVERY`` epochs and continues from one left there by an interrupted run with the same key.
    """
    with torch_threads(cfg.threads):
        return _train(episodes, cfg, control_hz, run_dir, resume_key)


def _train(episodes, cfg: BCMLPConfig, control_hz: float, run_dir, resume_key) -> tuple[BCMLP, dict]:
    episodes, rng, train_eps, val_eps = start_training(episodes, cfg, "bc_mlp")
    obs, act, closed = build_dataset(train_eps, cfg, rng, control_hz)
    device = resolve_device(cfg.device)
    model = BCMLP(list(cfg.hidden), cfg.head, cfg.gmm_modes, cfg.gmm_min_std, obs.shape[1])
    set_normalisation(model, obs, act)
    model.to(device)

    def tensors(o, a, g):
        return (
            torch.as_tensor(o, dtype=torch.float32, device=device),
            (torch.as_tensor(a, dtype=torch.float32, device=device) - model.act_mean) / model.act_std,
            torch.as_tensor(g, dtype=torch.float32, device=device),
        )

    train = tensors(obs, act, closed)
    val = None
    if val_eps:
        val = tensors(
            *build_dataset(val_eps, BCMLPConfig(**{**cfg.__dict__, "noise_copies": 0}), rng, control_hz)
        )
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    bce = nn.BCEWithLogitsLoss()

    def loss_of(oo, aa, gg):
        out = model(oo)
        return model.step_loss(out, aa) + cfg.gripper_weight * bce(out["grip"], gg)

    r = fit(model, opt, loss_of, train, val, cfg, "bc_mlp", run_dir, resume_key)
    model.cpu().eval()
    stats = {
        **run_stats(r, len(train[0]), episodes, train_eps, val_eps, val is not None, device, control_hz),
        # per epoch, for the report's training curves (valid: empty without held-out clips)
        "loss_curve": {
            "train": [round(x, 5) for x in r.losses],
            "valid": [round(x, 5) for x in r.val_losses],
        },
    }
    log.debug("bc_mlp: %s", stats)
    return model, stats
