"""Training the BC MLP on episodes, with noise-injected corrective labels, a validation split by
clip, early stopping, resume, a progress bar and TensorBoard scalars."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation
from torch import nn
from tqdm import tqdm

from vid2skill.dataset.episodes import Episode, clip_group
from vid2skill.errors import DatasetError
from vid2skill.policy.bc_mlp.configuration_bc_mlp import BCMLPConfig
from vid2skill.policy.bc_mlp.modeling_bc_mlp import BCMLP, clip_step, policy_inputs

log = logging.getLogger(__name__)

RESUME_FILE = "train_state.pt"  # in the run folder while training; removed when it finishes
SAVE_EVERY = 20  # epochs between resume points


def as_episodes(items, task: str = "skill") -> list[Episode]:
    """Episodes as given; RobotDemos become episodes with no goal (their arrays as steps)."""
    from vid2skill.dataset.from_demos import episode_from_demo

    return [e if isinstance(e, Episode) else episode_from_demo(e, task, "none", source=f"demo {e.clip}") for e in items]


def build_dataset(episodes: list[Episode], cfg: BCMLPConfig, rng: np.random.Generator,
                  control_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (N, 14), steps (N, 6) and keep-closed labels (N,) from episodes.

    Each frame t gives the clean pair (s_t, a_t) plus ``noise_copies`` perturbed states (position
    + e, rotation exp(eta) R_t) labelled with the step from the perturbed pose to the episode's next
    pose: the step that returns to the demonstration (DART-style noise injection).
    """
    X, A, G = [], [], []
    for ep in episodes:
        s, g, a = ep.state.astype(np.float64), ep.goal.astype(np.float64), ep.action.astype(np.float64)
        T = len(s)
        t_s = np.arange(T) / control_hz
        p_next = s[:, :3] + a[:, :3]
        R = Rotation.from_rotvec(s[:, 3:6])
        R_next = Rotation.from_rotvec(a[:, 3:6]) * R
        for c in range(cfg.noise_copies + 1):
            if c:
                e = rng.normal(0, cfg.noise_std_m, size=(T, 3))
                eta = Rotation.from_rotvec(rng.normal(0, cfg.noise_std_rad, size=(T, 3)))
                Rp = eta * R
                sp = s.copy()
                sp[:, :3] += e
                sp[:, 3:6] = Rp.as_rotvec()
                step = np.column_stack([p_next - sp[:, :3], (R_next * Rp.inv()).as_rotvec()])
            else:
                sp, step = s, a[:, :6]
            X.append(policy_inputs(sp, g, t_s))
            A.append(clip_step(step, cfg.max_step_m, cfg.max_turn_rad))
            G.append(a[:, 6])
    return np.concatenate(X), np.concatenate(A), np.concatenate(G)


def split_by_clip(episodes: list[Episode], fraction: float, seed: int) -> tuple[list[Episode], list[Episode]]:
    """(train, validation): whole source clips held out (every episode from one video on one side)."""
    groups = sorted({clip_group(e.clip.split("#", 1)[0]) for e in episodes})
    n_val = int(round(fraction * len(groups)))
    if fraction <= 0 or len(groups) < 2 or n_val == 0:
        return list(episodes), []
    val = set(np.random.default_rng(seed).permutation(groups)[: min(n_val, len(groups) - 1)])
    pick = lambda e: clip_group(e.clip.split("#", 1)[0]) in val  # noqa: E731
    return [e for e in episodes if not pick(e)], [e for e in episodes if pick(e)]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _summary_writer(cfg: BCMLPConfig, run_dir: Path | None):
    """TensorBoard's writer under ``<run>/tensorboard``, or None (off, no run folder, or not installed)."""
    if not cfg.tensorboard or run_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional (the dev and robomimic extras bring it)
        return None
    return SummaryWriter(str(Path(run_dir) / "tensorboard"))


def train_bc_mlp(episodes, cfg: BCMLPConfig, control_hz: float, run_dir: str | Path | None = None,
                 resume_key: str | None = None) -> tuple[BCMLP, dict]:
    """Fit the policy to episodes at ``control_hz``; returns the model (on the CPU) and statistics.

    With ``run_dir`` and ``resume_key`` (a hash of the inputs), training saves a resume point every
    ``SAVE_EVERY`` epochs and continues from one left there by an interrupted run with the same key.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, int(cfg.threads)))  # a small MLP gains nothing from more, and shared cores lose much
    try:
        return _train(episodes, cfg, control_hz, run_dir, resume_key)
    finally:
        torch.set_num_threads(threads)


def _train(episodes, cfg: BCMLPConfig, control_hz: float, run_dir, resume_key) -> tuple[BCMLP, dict]:
    episodes = as_episodes(episodes)
    if not episodes:
        raise DatasetError("bc_mlp: no episodes to train on; run `vid2skill retarget` first")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train_eps, val_eps = split_by_clip(episodes, cfg.valid_fraction, cfg.seed)
    obs, act, closed = build_dataset(train_eps, cfg, rng, control_hz)
    device = resolve_device(cfg.device)
    model = BCMLP(list(cfg.hidden), cfg.head, cfg.gmm_modes, cfg.gmm_min_std)
    model.obs_mean.copy_(torch.as_tensor(obs.mean(0), dtype=torch.float32))
    model.obs_std.copy_(torch.as_tensor(obs.std(0) + 1e-6, dtype=torch.float32))
    model.act_mean.copy_(torch.as_tensor(act.mean(0), dtype=torch.float32))
    model.act_std.copy_(torch.as_tensor(act.std(0) + 1e-6, dtype=torch.float32))
    model.to(device)

    def tensors(o, a, g):
        return (torch.as_tensor(o, dtype=torch.float32, device=device),
                (torch.as_tensor(a, dtype=torch.float32, device=device) - model.act_mean) / model.act_std,
                torch.as_tensor(g, dtype=torch.float32, device=device))

    o, a, g = tensors(obs, act, closed)
    val = None
    if val_eps:
        vo, va, vg = build_dataset(val_eps, BCMLPConfig(**{**cfg.__dict__, "noise_copies": 0}), rng, control_hz)
        val = tensors(vo, va, vg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    bce = nn.BCEWithLogitsLoss()

    def loss_of(oo, aa, gg):
        out = model(oo)
        return model.step_loss(out, aa) + cfg.gripper_weight * bce(out["grip"], gg)

    n = len(o)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    losses, val_losses, best, best_state, bad, start = [], [], float("inf"), None, 0, 0
    resume = Path(run_dir) / RESUME_FILE if run_dir is not None and resume_key else None
    if resume is not None and resume.exists():
        saved = torch.load(resume, map_location=device, weights_only=False)
        if saved.get("key") == resume_key:
            model.load_state_dict(saved["model"]), opt.load_state_dict(saved["opt"]), gen.set_state(saved["gen"])
            losses, val_losses, best, best_state, bad, start = (saved["losses"], saved["val_losses"], saved["best"],
                                                                saved["best_state"], saved["bad"], saved["epoch"])
            log.info("bc_mlp: resumed at epoch %d from %s", start, resume)
    writer = _summary_writer(cfg, Path(run_dir) if run_dir is not None else None)
    bar = tqdm(range(start, cfg.epochs), desc="train bc_mlp", unit="epoch", leave=False, disable=None)
    stopped_at = cfg.epochs
    for epoch in bar:
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        total = 0.0
        for s in range(0, n, cfg.batch_size):
            idx = perm[s : s + cfg.batch_size]
            loss = loss_of(o[idx], a[idx], g[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / n)
        score = losses[-1]
        if val is not None:
            model.eval()
            with torch.no_grad():
                score = float(loss_of(*val))
            val_losses.append(score)
        if writer is not None:
            writer.add_scalar("loss/train", losses[-1], epoch)
            if val is not None:
                writer.add_scalar("loss/valid", score, epoch)
        bar.set_postfix(loss=f"{losses[-1]:.4f}", valid=f"{score:.4f}" if val is not None else "-")
        if score < best - 1e-6:
            best, bad = score, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()} if val is not None else None
        else:
            bad += 1
        if val is not None and bad >= cfg.patience:
            stopped_at = epoch + 1
            break
        if resume is not None and (epoch + 1) % SAVE_EVERY == 0:
            torch.save({"key": resume_key, "model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                        "losses": losses, "val_losses": val_losses, "best": best, "best_state": best_state, "bad": bad,
                        "epoch": epoch + 1}, resume)
    bar.close()
    if writer is not None:
        writer.close()
    if best_state is not None:  # early stopping keeps the best validation epoch
        model.load_state_dict(best_state)
    if resume is not None and resume.exists():
        resume.unlink()
    model.cpu().eval()
    stats = {"samples": n, "episodes": len(train_eps), "valid_episodes": len(val_eps), "demos": len(episodes),
             "epochs_run": stopped_at, "final_loss": round(losses[-1], 5), "first_loss": round(losses[0], 5),
             "best_valid_loss": round(best, 5) if val is not None else None, "device": str(device),
             "horizon_s": round(max(len(e.state) for e in episodes) / control_hz, 3),
             # per epoch, for the report's training curves (valid: empty without held-out clips)
             "loss_curve": {"train": [round(x, 5) for x in losses], "valid": [round(x, 5) for x in val_losses]}}
    log.debug("bc_mlp: %s", stats)
    return model, stats
