"""Configuration of the behaviour-cloning MLP policy (registered as ``bc_mlp``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vid2skill.errors import ConfigError


@dataclass
class BCMLPConfig:
    """Behaviour cloning of contact-frame end-effector motion with an MLP.

    Attributes:
        hidden: widths of the hidden layers.
        epochs: passes over the (augmented) dataset.
        lr: Adam learning rate.
        batch_size: samples per gradient step.
        weight_decay: Adam L2 penalty.
        noise_std_m: std of the state perturbation used for corrective labels (DART-style noise
            injection): a perturbed state is labelled with the step back to the demonstration.
        noise_copies: perturbed copies of each demonstration step.
        max_step_m: actions are clipped to this displacement per control step.
        gripper_weight: weight of the gripper (release) loss against the motion loss.
        seed: torch and numpy seed for training.
        device: "cpu", "cuda" or "auto".
    """

    hidden: list = field(default_factory=lambda: [256, 256])
    epochs: int = 300
    lr: float = 1e-3
    batch_size: int = 256
    weight_decay: float = 1e-5
    noise_std_m: float = 0.01
    noise_copies: int = 8
    max_step_m: float = 0.03
    gripper_weight: float = 0.5
    seed: int = 0
    device: str = "auto"

    def __post_init__(self):
        if not self.hidden or any(int(h) <= 0 for h in self.hidden):
            raise ConfigError(f"policy.hidden must be a non-empty list of positive widths, got {list(self.hidden)}")
        if self.epochs <= 0 or self.batch_size <= 0 or self.lr <= 0:
            raise ConfigError("policy.epochs, policy.batch_size and policy.lr must be positive")
        if self.noise_std_m < 0 or self.noise_copies < 0:
            raise ConfigError("policy.noise_std_m and policy.noise_copies must be >= 0")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ConfigError(f"policy.device must be cpu, cuda or auto (got {self.device!r})")
