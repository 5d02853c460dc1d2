"""The policy protocol every policy type implements, as LeRobot's policies have it.

A policy is built with ``from_config(config)`` or ``from_pretrained(dir)``, declares the features it
reads and writes (``input_features`` / ``output_features``, from :mod:`vid2skill.dataset.features`,
so an environment or a dataset can be checked against it before anything runs), is ``reset()`` at
the start of every episode and answers ``select_action(obs)`` with one action (7,): the end
effector's step in the contact frame and the gripper command (``features.ACTION``). Policies that
predict chunks of actions keep a queue and execute ``n_action_steps`` of each chunk (ACT's scheme).

``obs`` holds the environment's observation (``observation.state``, ``observation.goal``,
``timestamp``, optional ``observation.images.<camera>``). Only a policy that declares itself
``privileged`` (a scripted expert or replay, which read the scene) is also given the environment's
``info`` under ``obs["privileged"]``; learned policies never are.

Evaluation finds a policy type by name in the registry (:mod:`vid2skill.policy.registry`) and asks
the type where its inputs live in a workspace (``source``), which command makes them (``made_by``)
and for the policy of one episode (``load_source`` once per process, then ``for_episode``).
"""

from __future__ import annotations

import io
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.spatial.transform import Rotation

from vid2skill.artifacts import atomic_write_bytes, atomic_write_json
from vid2skill.dataset.features import ACTION, Feature, input_features, output_features
from vid2skill.errors import ArtifactError
from vid2skill.workspace import Workspace, last_checkpoint, last_pointer

PRIVILEGED_KEY = "privileged"  # the key under which privileged policies get the environment's info


def holds_at_end(skill_cfg) -> bool:
    """Whether the skill is judged while its object is still held (``release_at_end: false``: pick,
    pour, stir, cut): a demonstration's final opening of the hand is then not part of the skill."""
    return not bool(skill_cfg["release_at_end"])


def action_towards(T_contact_cmd: np.ndarray, T_contact_target: np.ndarray, keep_closed: bool) -> np.ndarray:
    """The action (7,) float64 that moves the commanded grasp pose to a target pose (both (4, 4),
    contact frame): position step, left-applied rotation vector, gripper (1 closed)."""
    dr = Rotation.from_matrix(T_contact_target[:3, :3] @ T_contact_cmd[:3, :3].T).as_rotvec()
    return np.concatenate([T_contact_target[:3, 3] - T_contact_cmd[:3, 3], dr, [1.0 if keep_closed else 0.0]])


class Policy:
    """Base of every policy type (register a subclass with ``@register("name")``).

    Class attributes:
        name: the registry name (``policy.name`` in ``conf/policy/<name>.yaml``), set by ``register``.
        privileged: the policy reads the scene through ``obs["privileged"]`` (scripted experts and
            replays only); learned policies must leave it False.
        config_cls: the dataclass of its settings (None: it has none).
        made_by: the command that makes what it needs ("train", "retarget"; None: nothing).
    """

    name: ClassVar[str] = ""
    privileged: ClassVar[bool] = False
    config_cls: ClassVar[type | None] = None
    made_by: ClassVar[str | None] = None

    def __init__(self, config=None):
        self.config = config

    # --- the protocol -------------------------------------------------------------------------
    @property
    def input_features(self) -> dict[str, Feature]:
        return input_features()

    @property
    def output_features(self) -> dict[str, Feature]:
        return output_features()

    def reset(self) -> None:
        """Forget the last episode (and any queued actions)."""

    def select_action(self, obs: dict[str, Any]) -> np.ndarray:
        """One action (7,) for one observation (see the module docstring)."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config=None, **kwargs) -> Policy:
        return cls(config, **kwargs)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` (the type, its schema version and settings) to ``directory``."""
        folder = Path(directory)
        atomic_write_json(folder / "config.json", self._config_record())
        return folder

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs) -> Policy:
        folder, raw = read_pretrained_config(directory, cls)
        return cls.from_config(cls._config_from(raw, folder / "config.json"), **kwargs)

    # --- evaluation ---------------------------------------------------------------------------
    @classmethod
    def source(cls, ws: Path, robot: str, skill: str) -> Path | None:
        """Where this policy's input for one skill and robot lives in a workspace (None: none needed)."""
        return None

    @classmethod
    def has_source(cls, path: Path) -> bool:
        return True

    @classmethod
    def load_source(cls, source: str):
        """Read a source once per process (evaluation caches the result)."""
        return None

    @classmethod
    def for_episode(cls, loaded, index: int, skill_cfg) -> Policy:
        """The policy that runs evaluation episode ``index`` of a skill (``skill_cfg``:
        conf/skill/<name>.yaml)."""
        return cls.from_config(cls.config_cls.defaults() if cls.config_cls else None)

    # --- helpers ------------------------------------------------------------------------------
    schema_version: ClassVar[int] = 1  # bump when a saved policy of this type can no longer be read

    def _config_record(self) -> dict:
        settings = asdict(self.config) if is_dataclass(self.config) else {}
        return {"policy": self.name, "schema_version": self.schema_version, **settings}

    @classmethod
    def _config_from(cls, raw: dict, path: Path):
        if cls.config_cls is None:
            return None
        try:
            return cls.config_cls(**raw)
        except TypeError as e:
            raise ArtifactError(
                f"{path} does not match this version's {cls.name} settings ({e}); "
                f"retrain it with `vid2skill train policy={cls.name} force=true`"
            ) from None


def read_pretrained_config(directory: str | Path, cls: type[Policy] | None = None) -> tuple[Path, dict]:
    """(the folder, its config.json without the type and schema keys) of a saved policy: ``directory``
    is a saved policy's folder or a training run's root (``checkpoints/last`` names its newest). With
    ``cls``, a saved policy of another type or schema is an error that names the file and the fix."""
    folder = Path(directory)
    last = last_checkpoint(folder)
    train = f"`vid2skill train policy={cls.name}`" if cls is not None else "`vid2skill train`"
    if not (folder / "config.json").exists() and last is not None:
        folder = last
    elif not (folder / "config.json").exists() and not folder.exists():
        raise ArtifactError(f"no policy checkpoint under {directory}; run {train} first")
    path = folder / "config.json"
    if not path.exists():
        raise ArtifactError(f"no policy checkpoint under {directory} ({path} is missing); run {train} first")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ArtifactError(f"{path} is not valid JSON ({e}); rerun {train}") from None
    kind, schema = (
        raw.pop("policy", None),
        int(raw.pop("schema_version", 1)),
    )  # checkpoints before the field: v1
    if cls is not None and kind != cls.name:
        raise ArtifactError(
            f"{path} holds a {kind!r} policy, not {cls.name!r}: evaluate it with policy={kind}, "
            f"or retrain with `vid2skill train policy={cls.name} force=true`"
        )
    if cls is not None and schema != cls.schema_version:
        raise ArtifactError(
            f"{path} holds {kind} schema v{schema}, this version reads v{cls.schema_version}: "
            f"retrain it with `vid2skill train policy={kind} force=true`"
        )
    return folder, {**raw, "policy": kind} if cls is None else raw


def save_torch_state(path: Path, state_dict: dict) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(state_dict, buf)
    atomic_write_bytes(path, buf.getvalue())


class ScriptedPolicy(Policy):
    """A policy that commands target poses from the scene (a scripted expert, a replay).

    Its own interface is the target one: ``reset(task, T_contact_start)`` then ``act(obs) ->
    (T_contact_target (4, 4), keep_closed)`` with ``obs`` = ``{"t_s", "T_contact_cmd", "task"}``;
    the episode loop (:class:`vid2skill.sim.episode.EpisodeRunner`) commands those poses exactly.
    ``select_action`` gives the same as a Policy-protocol action, reading the scene from
    ``obs["privileged"]`` (the environment's info)."""

    privileged = True

    def reset(self, task=None, T_contact_start=None) -> None:
        """With no arguments (the protocol), the episode's scene is read from the first observation."""
        self._started = task is not None

    def act(self, obs: dict) -> tuple[np.ndarray, bool]:
        raise NotImplementedError

    def select_action(self, obs: dict[str, Any]) -> np.ndarray:
        if PRIVILEGED_KEY not in obs:
            raise KeyError(
                f"policy {self.name!r} reads the scene: pass the environment's info as "
                f"obs[{PRIVILEGED_KEY!r}]"
            )
        info = obs[PRIVILEGED_KEY]
        if not getattr(self, "_started", False):
            self.reset(info["task"], info["T_contact_start"].copy())
        T_cmd = info["T_contact_cmd"]
        T, keep = self.act({"t_s": info["t_s"], "T_contact_cmd": T_cmd, "task": info["task"]})
        return action_towards(T_cmd, np.asarray(T, dtype=np.float64), bool(keep))


class LearnedPolicy(Policy):
    """A policy with weights, trained by ``vid2skill train``, that sees only the observation.

    Subclasses set ``config_cls``, implement ``build_model(config)`` and ``predict_action_chunk(obs)
    -> (k, 7)`` and ``train(demos, config, control_hz) -> (model, stats)``. ``select_action`` executes
    the first ``n_action_steps`` actions of each predicted chunk before predicting again.

    As with ``replay``, a skill judged while holding never lets go (``hold_at_end``, set from the
    skill's definition by ``with_skill``; subclasses honour it in their gripper command). A policy
    trained on rollouts that outlast the skill's horizon asks for their length (``horizon_s``, a
    constant of the training data, not of the scene).
    """

    made_by = "train"
    # The workspace folder of this type's training runs (``<folder>/<robot>/<skill>/``): each learned
    # type has its own, so that training one never overwrites another's checkpoints.
    workspace_folder: ClassVar[str] = "policies"
    n_action_steps: int = 1
    # Settings that only change how the trained network is used (not what it learnt): evaluation
    # takes them from its own ``policy.*`` rather than from the checkpoint (``with_inference``).
    inference_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config, model=None, stats: dict | None = None, hold_at_end: bool = False):
        super().__init__(config)
        self.model = model if model is not None else self.build_model(config)
        self.stats = dict(stats or {})
        self.hold_at_end = bool(hold_at_end)
        self._queue: deque = deque()

    @classmethod
    def build_model(cls, config):
        raise NotImplementedError

    def predict_action_chunk(self, obs: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def reset(self) -> None:
        self._queue.clear()

    def select_action(self, obs: dict[str, Any]) -> np.ndarray:
        self.check_observation(obs)
        if not self._queue:
            chunk = np.asarray(self.predict_action_chunk(obs), dtype=np.float64).reshape(-1, ACTION.shape[0])
            self._queue.extend(chunk[: max(1, int(self.n_action_steps))])
        return self._queue.popleft()

    def check_observation(self, obs: dict[str, Any]) -> None:
        """Refuse privileged scene state: a learned policy acts on the observation alone."""
        if PRIVILEGED_KEY in obs:
            raise ValueError(
                f"learned policy {self.name!r} was given privileged scene state; pass only the observation"
            )

    def save_pretrained(self, directory: str | Path) -> Path:
        """Weights (with their normalisation buffers) ``model.pt``, ``stats.json``, then ``config.json``
        (written last: it marks the folder complete)."""
        folder = Path(directory)
        save_torch_state(folder / "model.pt", self.model.state_dict())
        atomic_write_json(folder / "stats.json", self.stats)
        atomic_write_json(folder / "config.json", self._config_record())
        return folder

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs) -> LearnedPolicy:
        import torch

        folder, raw = read_pretrained_config(directory, cls)
        config = cls._config_from(raw, folder / "config.json")
        model = cls.build_model(config)
        weights = folder / "model.pt"
        if not weights.exists():
            raise ArtifactError(f"{weights} is missing; rerun `vid2skill train policy={cls.name} force=true`")
        try:
            model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0]
            raise ArtifactError(
                f"{weights} does not fit {cls.name} as {folder / 'config.json'} describes it ({first}); "
                f"retrain it with `vid2skill train policy={cls.name} force=true`"
            ) from None
        model.eval()
        stats_path = folder / "stats.json"
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        return cls(config, model=model, stats=stats, **kwargs)

    @classmethod
    def source(cls, ws: Path, robot: str, skill: str) -> Path:
        return Workspace(ws).policies(robot, skill, cls.workspace_folder)

    @classmethod
    def has_source(cls, path: Path) -> bool:
        return last_pointer(path).exists()

    @classmethod
    def load_source(cls, source: str) -> LearnedPolicy:
        return cls.from_pretrained(source)

    @classmethod
    def for_episode(cls, loaded: LearnedPolicy, index: int, skill_cfg) -> LearnedPolicy:
        return loaded.with_skill(skill_cfg)

    @classmethod
    def config_for_skill(cls, config, skill_cfg):
        """The config this policy type trains one skill with (``config`` itself unless a setting
        depends on the skill's definition)."""
        return config

    def with_skill(self, skill_cfg) -> LearnedPolicy:
        """This policy for episodes of one skill (what the skill's definition, not its scene, says)."""
        return type(self)(
            self.config, model=self.model, stats=self.stats, hold_at_end=holds_at_end(skill_cfg)
        )

    def with_inference(self, settings: Mapping) -> LearnedPolicy:
        """This policy with the ``inference_fields`` that ``settings`` (evaluate's ``policy.*``) gives
        in place of the checkpoint's; itself where they are the same."""
        given = {k: settings[k] for k in self.inference_fields if k in settings}
        if all(getattr(self.config, k) == v for k, v in given.items()):
            return self
        return type(self)(
            replace(self.config, **given), model=self.model, stats=self.stats, hold_at_end=self.hold_at_end
        )

    def horizon_s(self, task=None) -> float:
        """The longest training episode (s); evaluation runs at least this long. ``task`` is not read."""
        return float(self.stats.get("horizon_s", 0.0))
