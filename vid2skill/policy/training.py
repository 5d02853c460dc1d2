"""Training machinery shared by the learned policy types: where the data comes from and how it is
checked, the validation split by clip, DART-style corrective labels, and one training loop with early
stopping, resume points, a progress bar and TensorBoard scalars.

A policy type supplies its model, its tensors and its loss; :func:`fit` does the rest, so every
learned policy is trained, stopped, resumed and logged the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from scipy.spatial.transform import Rotation
from tqdm import tqdm

from vid2skill.dataset.episodes import Episode, clip_group
from vid2skill.errors import ConfigError, DatasetError

log = logging.getLogger(__name__)

RESUME_FILE = "train_state.pt"  # in the run folder while training; removed when it finishes
SAVE_EVERY = 20  # epochs between resume points
TRAIN_ON = ("auto", "demos", "motion_rollouts", "best_motion", "select")


@dataclass
class PolicyConfig:
    """Base of a learned policy's settings dataclass: the training settings every learned type
    shares (its own settings are its subclass's). The fields carry no defaults, which live in one
    place, ``conf/policy/<option>.yaml`` (``option`` names it).

    Attributes:
        epochs: most passes over the training frames.
        lr: learning rate (Adam for ``bc_mlp``, AdamW for ``act``).
        batch_size: samples per gradient step.
        weight_decay: the optimiser's weight decay.
        noise_std_m: std of the position perturbation used for corrective labels (DART-style noise
            injection): a perturbed state is labelled with the step back to the demonstration's next pose.
        noise_std_rad: std of the rotation perturbation (rotation vector, rad) likewise.
        noise_copies: perturbed copies of each frame.
        max_step_m: position steps are clipped to this displacement per control step.
        max_turn_rad: rotation steps are clipped to this angle per control step.
        gripper_weight: weight of the gripper (release) loss against the motion loss.
        valid_fraction: share of the source clips (all of a clip's episodes together) held out for
            validation and early stopping; 0, or a skill with a single clip, trains on everything.
        patience: epochs without a better validation loss before training stops (the best epoch's
            weights are kept).
        train_on: "motion_rollouts" (each demonstration's fitted motion replayed, as ``replay`` does, in
            ``rollouts`` randomised training scenes, recorded from the robot's side) or "demos" (the
            DemoSet's time-normalised arrays, with hindsight goals) or "auto": rollouts for the skills
            with a goal (``dataset.goals``: place, pour, stir, cut, the doors), and the arrays for
            the others (drawers, pick); or "best_motion": the rollouts of the one demonstration
            whose own rollouts succeeded most, replayed in every training scene (different people's
            paces and extents average into a motion none of them made); or "select" (default): a
            policy trained on each of demos, motion_rollouts and best_motion (the rollouts only
            where the demonstrations have fitted motions), each tried in ``select_episodes``
            training scenes from ``select_start_seed``, and the one that succeeds most kept (a tie:
            the one that learnt from more episodes, then the first tried): chosen on training
            scenes, never on the evaluation's.
        rollouts: rollouts per skill (demonstration ``j mod n`` in training scene ``j``).
        rollout_start_seed: scene seed of rollout 0; rollout j uses ``rollout_start_seed + j``,
            checked to be disjoint from the evaluation seeds.
        select_episodes, select_start_seed: ``train_on=select``'s trial scenes per candidate and the
            first one's seed (checked to be disjoint from the evaluation's and the rollouts' scenes).
        filter_success: keep only the rollouts that the simulator's success test passes (this reads
            the simulator's judgement: report it as its own setting).
        min_demos: fewest usable demonstrations a skill needs to be trained (fewer is an error that
            names the DemoSet and the fix).
        tensorboard: write TensorBoard scalars under ``<run>/tensorboard`` where tensorboard installs.
        threads: torch CPU threads while training (1: a small MLP gains little from more, and on
            shared cores extra threads spin against each other).
        seed: torch and numpy seed for training.
        device: "cpu", "cuda" or "auto".
    """

    option: ClassVar[str] = ""

    epochs: int
    lr: float
    batch_size: int
    weight_decay: float
    noise_std_m: float
    noise_std_rad: float
    noise_copies: int
    max_step_m: float
    max_turn_rad: float
    gripper_weight: float
    valid_fraction: float
    patience: int
    train_on: str
    rollouts: int
    rollout_start_seed: int
    select_episodes: int
    select_start_seed: int
    filter_success: bool
    min_demos: int
    tensorboard: bool
    threads: int
    seed: int
    device: str

    @classmethod
    def defaults(cls, **overrides):
        """The settings of ``conf/policy/<option>.yaml``, with ``overrides``."""
        from vid2skill.config import option_defaults

        return cls(**{**option_defaults("policy", cls.option), **overrides})


def check_data_settings(cfg) -> None:
    """Reject inconsistent data settings (``train_on``, ``rollouts``, ``filter_success``,
    ``valid_fraction``, ``device``) of any learned policy's config, naming the fields."""
    if cfg.device not in ("cpu", "cuda", "auto"):
        raise ConfigError(f"policy.device must be cpu, cuda or auto (got {cfg.device!r})")
    if cfg.train_on not in TRAIN_ON:
        raise ConfigError(f"policy.train_on={cfg.train_on!r}; choose one of {', '.join(TRAIN_ON)}")
    if not 0 <= cfg.valid_fraction < 1:
        raise ConfigError(f"policy.valid_fraction={cfg.valid_fraction} must be in [0, 1)")
    if cfg.train_on != "demos" and cfg.rollouts < 1:
        raise ConfigError(f"policy.train_on={cfg.train_on} needs policy.rollouts >= 1")
    if cfg.filter_success and cfg.train_on == "demos":
        raise ConfigError(
            "policy.filter_success=true filters rollouts: it needs "
            "policy.train_on=motion_rollouts, best_motion, auto or select"
        )
    if cfg.train_on == "select" and cfg.select_episodes < 1:
        raise ConfigError("policy.train_on=select needs policy.select_episodes >= 1")
    if cfg.noise_std_m < 0 or cfg.noise_std_rad < 0 or cfg.noise_copies < 0:
        raise ConfigError("policy.noise_std_m, policy.noise_std_rad and policy.noise_copies must be >= 0")


def start_training(
    episodes, cfg, name: str
) -> tuple[list[Episode], np.random.Generator, list[Episode], list[Episode]]:
    """(episodes, rng, training episodes, held-out episodes) of a run of policy ``name``: the
    episodes as :class:`Episode`, the seeds set from ``cfg.seed``, the split by clip."""
    episodes = as_episodes(episodes)
    if not episodes:
        raise DatasetError(f"{name}: no episodes to train on; run `vid2skill retarget` first")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    return (episodes, rng, *split_by_clip(episodes, cfg.valid_fraction, cfg.seed))


def as_episodes(items, task: str = "skill") -> list[Episode]:
    """Episodes as given; RobotDemos become episodes with no goal (their arrays as steps)."""
    from vid2skill.dataset.from_demos import episode_from_demo

    return [
        e if isinstance(e, Episode) else episode_from_demo(e, task, "none", source=f"demo {e.clip}")
        for e in items
    ]


def split_by_clip(episodes: list[Episode], fraction: float, seed: int) -> tuple[list[Episode], list[Episode]]:
    """(train, validation): whole source clips held out (every episode from one video on one side)."""
    groups = sorted({clip_group(e.clip.split("#", 1)[0]) for e in episodes})
    n_val = int(round(fraction * len(groups)))
    if fraction <= 0 or len(groups) < 2 or n_val == 0:
        return list(episodes), []
    val = set(np.random.default_rng(seed).permutation(groups)[: min(n_val, len(groups) - 1)])
    pick = lambda e: clip_group(e.clip.split("#", 1)[0]) in val  # noqa: E731
    return [e for e in episodes if not pick(e)], [e for e in episodes if pick(e)]


def perturbed(
    state: np.ndarray, action: np.ndarray, std_m: float, std_rad: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """DART-style noise injection on one episode: states (T, 8) with position + e and rotation
    exp(eta) R_t, and the steps (T, 6) that lead from each perturbed pose back to the episode's
    next pose (the corrective labels)."""
    T = len(state)
    R = Rotation.from_rotvec(state[:, 3:6])
    p_next = state[:, :3] + action[:, :3]
    R_next = Rotation.from_rotvec(action[:, 3:6]) * R
    e = rng.normal(0, std_m, size=(T, 3))
    eta = Rotation.from_rotvec(rng.normal(0, std_rad, size=(T, 3)))
    Rp = eta * R
    sp = state.copy()
    sp[:, :3] += e
    sp[:, 3:6] = Rp.as_rotvec()
    return sp, np.column_stack([p_next - sp[:, :3], (R_next * Rp.inv()).as_rotvec()])


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def set_normalisation(model: torch.nn.Module, obs: np.ndarray, steps: np.ndarray) -> None:
    """Store the training observations' and steps' mean and standard deviation (+1e-6) in the
    model's ``obs_*`` and ``act_*`` buffers, which its forward pass normalises with."""
    for name, x in (("obs", obs), ("act", steps)):
        getattr(model, f"{name}_mean").copy_(torch.as_tensor(x.mean(0), dtype=torch.float32))
        getattr(model, f"{name}_std").copy_(torch.as_tensor(x.std(0) + 1e-6, dtype=torch.float32))


def run_stats(
    r: FitResult,
    samples: int,
    episodes: list,
    train_eps: list,
    val_eps: list,
    validated: bool,
    device,
    control_hz: float,
) -> dict:
    """The figures every learned type's training reports (saved with its checkpoint)."""
    return {
        "samples": samples,
        "episodes": len(train_eps),
        "valid_episodes": len(val_eps),
        "demos": len(episodes),
        "epochs_run": r.stopped_at,
        "final_loss": round(r.losses[-1], 5),
        "first_loss": round(r.losses[0], 5),
        "best_valid_loss": round(r.best, 5) if validated else None,
        "device": str(device),
        "horizon_s": round(max(len(e.state) for e in episodes) / control_hz, 3),
    }


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch CPU threads (small networks gain nothing from more, and on shared cores
    extra threads spin against each other), then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def summary_writer(enabled: bool, run_dir: Path | None):
    """TensorBoard's writer under ``<run>/tensorboard``, or None (off, no run folder, or not installed)."""
    if not enabled or run_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional (the dev and robomimic extras bring it)
        return None
    return SummaryWriter(str(Path(run_dir) / "tensorboard"))


@dataclass
class FitResult:
    """What a training run did: the loss per epoch, the best score (validation loss, or the training
    loss without a validation set) and the epoch count it stopped at."""

    losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    best: float = float("inf")
    stopped_at: int = 0


def fit(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    loss_of: Callable[..., torch.Tensor],
    train: tuple[torch.Tensor, ...],
    val: tuple[torch.Tensor, ...] | None,
    cfg,
    name: str,
    run_dir: str | Path | None = None,
    resume_key: str | None = None,
) -> FitResult:
    """Minimise ``loss_of(*batch)`` over minibatches of the rows of ``train`` for ``cfg.epochs``
    epochs (shuffled by a generator seeded with ``cfg.seed``).

    With ``val``, training stops after ``cfg.patience`` epochs without a better validation loss and
    the best epoch's weights are kept. With ``run_dir`` and ``resume_key`` (a hash of the inputs), a
    resume point is saved every ``SAVE_EVERY`` epochs (with the global torch RNG state, which a
    sampling loss draws from) and a later run with the same key continues from it.
    """
    n = len(train[0])
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    r = FitResult(stopped_at=cfg.epochs)
    best_state, bad, start = None, 0, 0
    resume = Path(run_dir) / RESUME_FILE if run_dir is not None and resume_key else None
    saved = _load_resume(resume, resume_key, train[0].device)
    if saved is not None:
        best_state, bad, start = _restore(saved, model, opt, gen, r)
        log.info("%s: resumed at epoch %d from %s", name, start, resume)
    writer = summary_writer(cfg.tensorboard, Path(run_dir) if run_dir is not None else None)
    bar = tqdm(range(start, cfg.epochs), desc=f"train {name}", unit="epoch", leave=False, disable=None)
    for epoch in bar:
        perm = torch.randperm(n, generator=gen).to(train[0].device)
        r.losses.append(_epoch(model, opt, loss_of, train, perm, cfg.batch_size))
        score = _validate(model, loss_of, val, r)
        _report(writer, bar, epoch, r.losses[-1], score if val is not None else None)
        if score < r.best - 1e-6:
            r.best, bad = score, 0
            best_state = (
                {k: v.detach().clone() for k, v in model.state_dict().items()} if val is not None else None
            )
        else:
            bad += 1
        if val is not None and bad >= cfg.patience:
            r.stopped_at = epoch + 1
            break
        if resume is not None and (epoch + 1) % SAVE_EVERY == 0:
            _save_resume(resume, _resume_point(resume_key, model, opt, gen, r, best_state, bad, epoch + 1))
    bar.close()
    if writer is not None:
        writer.close()
    if best_state is not None:  # early stopping keeps the best validation epoch
        model.load_state_dict(best_state)
    if resume is not None and resume.exists():
        resume.unlink()
    return r


def _validate(model: torch.nn.Module, loss_of, val: tuple | None, r: FitResult) -> float:
    """The epoch's score: the validation loss (recorded in ``r``) where there is a validation set,
    else the epoch's training loss."""
    if val is None:
        return r.losses[-1]
    model.eval()
    with torch.no_grad():
        score = float(loss_of(*val))
    r.val_losses.append(score)
    return score


def _report(writer, bar, epoch: int, loss: float, valid: float | None) -> None:
    """An epoch's losses to TensorBoard (where a writer is open) and the progress bar."""
    if writer is not None:
        writer.add_scalar("loss/train", loss, epoch)
        if valid is not None:
            writer.add_scalar("loss/valid", valid, epoch)
    bar.set_postfix(loss=f"{loss:.4f}", valid=f"{valid:.4f}" if valid is not None else "-")


def _load_resume(resume: Path | None, key: str | None, device) -> dict | None:
    """The resume point saved under ``key``, or None (none, another run's, or unreadable: a run
    killed while saving one starts over rather than failing)."""
    if resume is None or not resume.exists():
        return None
    try:
        saved = torch.load(resume, map_location=device, weights_only=False)
    except Exception as e:  # a truncated or foreign file
        log.warning("%s is unreadable (%s); training starts over", resume, e)
        return None
    return saved if isinstance(saved, dict) and saved.get("key") == key else None


def _resume_point(
    key: str | None,
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    r: FitResult,
    best_state: dict | None,
    bad: int,
    epoch: int,
) -> dict:
    """The resume point of a run after ``epoch`` epochs, under ``key``: weights, optimiser, shuffling
    generator, global torch RNG state, loss history and early-stopping state."""
    return {
        "key": key,
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "gen": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "losses": r.losses,
        "val_losses": r.val_losses,
        "best": r.best,
        "best_state": best_state,
        "bad": bad,
        "epoch": epoch,
    }


def _restore(
    saved: dict, model: torch.nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator, r: FitResult
) -> tuple[dict | None, int, int]:
    """Load a :func:`_resume_point` into this run's model, optimiser, generator, RNG and ``r``;
    returns its (best weights, epochs without improvement, epochs done)."""
    model.load_state_dict(saved["model"]), opt.load_state_dict(saved["opt"]), gen.set_state(saved["gen"])
    if "torch_rng" in saved:
        torch.set_rng_state(saved["torch_rng"])
    r.losses, r.val_losses, r.best = saved["losses"], saved["val_losses"], saved["best"]
    return saved["best_state"], saved["bad"], saved["epoch"]


def _save_resume(resume: Path, state: dict) -> None:
    """Write a resume point atomically: a kill mid-write leaves the previous one intact."""
    tmp = resume.with_name(resume.name + ".tmp")
    resume.parent.mkdir(parents=True, exist_ok=True)  # a run without TensorBoard has made no folder yet
    torch.save(state, tmp)
    os.replace(tmp, resume)


def _epoch(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    loss_of: Callable[..., torch.Tensor],
    train: tuple[torch.Tensor, ...],
    perm: torch.Tensor,
    batch_size: int,
) -> float:
    """One pass over the training rows in the order ``perm``; the mean loss per row."""
    model.train()
    total = 0.0
    for s in range(0, len(perm), batch_size):
        idx = perm[s : s + batch_size]
        loss = loss_of(*(t[idx] for t in train))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(perm)
