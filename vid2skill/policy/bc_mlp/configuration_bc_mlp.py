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
        epochs: most passes over the training frames.
        lr: Adam learning rate.
        batch_size: samples per gradient step.
        weight_decay: Adam L2 penalty.
        noise_std_m: std of the position perturbation used for corrective labels (DART-style noise
            injection): a perturbed state is labelled with the step back to the demonstration's next pose.
        noise_std_rad: std of the rotation perturbation (rotation vector, rad) likewise.
        noise_copies: perturbed copies of each frame.
        max_step_m: position steps are clipped to this displacement per control step.
        max_turn_rad: rotation steps are clipped to this angle per control step.
        gripper_weight: weight of the gripper (release) loss against the motion loss.
        prev_step: whether the pose's change over the last control step is an input too:
            "always", "never", or "periodic" (default): for the skills whose motion repeats
            (``periodic: true`` in ``conf/skill/``: stir, cut), where demonstrations that saw or
            stir at different phases meet at the same pose moving opposite ways and only the
            direction of travel tells which way the stroke goes on. Elsewhere the last step invites
            the learner to copy its own last step (causal confusion) and is left out. Training
            resolves it per skill (:meth:`BCMLPPolicy.config_for_skill`); unresolved, it is "never".
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

    option = "bc_mlp"

    hidden: list
    head: str
    gmm_modes: int
    gmm_min_std: float
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
    prev_step: str
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
