"""Configuration of the behaviour-cloning MLP policy (registered as ``bc_mlp``)."""

from __future__ import annotations

from dataclasses import dataclass

from vid2skill.errors import ConfigError
from vid2skill.policy.training import TRAIN_ON, PolicyConfig, check_data_settings  # noqa: F401 (TRAIN_ON re-exported)

HEADS = ("deterministic", "gmm")
PREV_STEP = ("never", "periodic", "always")


@dataclass
class BCMLPConfig(PolicyConfig):
    """Goal-aware 6-DoF behaviour cloning of contact-frame end-effector motion with an MLP.

    The policy reads ``observation.state`` (position and rotation since the grasp), ``timestamp`` and
    ``observation.goal`` and outputs ``action``: a position step, a rotation-vector step and the gripper.

    Attributes:
        hidden: widths of the hidden layers.
        head: "deterministic" (mean-squared error on the normalised step) or "gmm" (a Gaussian
            mixture over the step trained by negative log-likelihood, robomimic's BC-GMM; the mean
            of the most probable mode is executed).
        gmm_modes: mixture components of the "gmm" head.
        gmm_min_std: lower bound of each component's standard deviation (normalised units; robomimic's
            ``min_std`` 1e-4 made our tiny datasets collapse onto single samples, hence larger).
        prev_step: whether the pose's change over the last control step is an input too:
            "always", "never", or "periodic" (default): for the skills whose motion repeats
            (``periodic: true`` in ``conf/skill/``: stir, cut), where demonstrations that saw or
            stir at different phases meet at the same pose moving opposite ways and only the
            direction of travel tells which way the stroke goes on. Elsewhere the last step invites
            the learner to copy its own last step (causal confusion) and is left out. Training
            resolves it per skill (:meth:`BCMLPPolicy.config_for_skill`); unresolved, it is "never".
    """

    option = "bc_mlp"

    hidden: list
    head: str
    gmm_modes: int
    gmm_min_std: float
    prev_step: str

    def __post_init__(self):
        if not self.hidden or any(int(h) <= 0 for h in self.hidden):
            raise ConfigError(
                f"policy.hidden must be a non-empty list of positive widths, got {list(self.hidden)}"
            )
        if self.epochs <= 0 or self.batch_size <= 0 or self.lr <= 0:
            raise ConfigError("policy.epochs, policy.batch_size and policy.lr must be positive")
        if self.prev_step not in PREV_STEP:
            raise ConfigError(f"policy.prev_step={self.prev_step!r}; choose one of {', '.join(PREV_STEP)}")
        if self.head not in HEADS:
            raise ConfigError(f"policy.head={self.head!r}; choose one of {', '.join(HEADS)}")
        if self.head == "gmm" and (self.gmm_modes < 1 or self.gmm_min_std <= 0):
            raise ConfigError("policy.head=gmm needs policy.gmm_modes >= 1 and policy.gmm_min_std > 0")
        check_data_settings(self)
        if self.max_step_m <= 0 or self.max_turn_rad <= 0 or self.patience < 1:
            raise ConfigError("policy.max_step_m, policy.max_turn_rad and policy.patience must be positive")

    @property
    def reads_last_step(self) -> bool:
        """Whether the network's inputs end with the last step (``prev_step`` resolved to "always")."""
        return self.prev_step == "always"
