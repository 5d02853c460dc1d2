"""The episode dataset: frames of (observation.state, observation.goal, action) at a fixed rate,
grouped in episodes that each carry their task and the clip they came from.

Its features are declared in :mod:`vid2skill.dataset.features`; it maps onto LeRobotDataset v3 and
robomimic's HDF5 without loss (:mod:`vid2skill.export`).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vid2skill.artifacts import read_artifact, write_artifact
from vid2skill.dataset.features import ACTION, GOAL, IMAGE_PREFIX, STATE, image_feature
from vid2skill.errors import DatasetError

EPISODES_SCHEMA = 1
_FLAG_TOL = 1e-6


@contextmanager
def fix_hint(hint: str):
    """Append what to do to any DatasetError raised inside (the messages say what and where)."""
    try:
        yield
    except DatasetError as e:
        raise DatasetError(f"{e}; {hint}") from None


def clip_group(clip: str) -> str:
    """The video a manipulation came from: ``<clip>~2`` (a clip's second grasp) belongs to ``<clip>``.
    Train/validation splits keep a video's manipulations together."""
    return clip.split("~", 1)[0]


@dataclass(frozen=True)
class Episode:
    """One demonstration (or rollout) of one task, T frames at the dataset's rate.

    Attributes:
        task: the task's name (the skill, e.g. "place").
        clip: the clip it came from (``<clip>~k`` for a clip's k-th manipulation).
        state: (T, 8) float32, ``observation.state`` (see features.py for the elements and units).
        goal: (T, 4) float32, ``observation.goal``: target position (m, contact frame) and valid flag.
        action: (T, 7) float32, ``action``: end-effector step to the next frame and gripper command.
        images: camera name -> (T, H, W, 3) uint8 RGB, ``observation.images.<camera>``; may be empty.
        source: where the episode came from (a file and clip), named in error messages.
        relabelled: the actions are an expert's labels of states another policy visited (DAgger),
            not steps along a path, so training adds no perturbed copies that return to it.
    """

    task: str
    clip: str
    state: np.ndarray
    goal: np.ndarray
    action: np.ndarray
    images: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""
    relabelled: bool = False

    def __post_init__(self):
        where = self.source or f"episode {self.clip!r}"
        if not self.task:
            raise DatasetError(f"{where}: the episode has no task name")
        T = None
        for feat, name in ((STATE, "state"), (GOAL, "goal"), (ACTION, "action")):
            a = np.asarray(getattr(self, name))
            if a.ndim != 2 or a.shape[1:] != feat.shape:
                raise DatasetError(f"{where}: {feat.key} has shape {a.shape}, expected (T, {feat.shape[0]})")
            T = len(a) if T is None else T
            if len(a) != T:
                raise DatasetError(f"{where}: {feat.key} has {len(a)} frames but observation.state has {T}")
            bad = ~np.isfinite(a)
            if bad.any():
                frame, col = np.argwhere(bad)[0]
                raise DatasetError(f"{where}: {feat.key} is not finite at frame {frame} ({feat.names[col]})")
            object.__setattr__(self, name, a.astype(np.float32, copy=False))
        if T == 0:
            raise DatasetError(f"{where}: the episode has no frames")
        for a, col, key in (
            (self.state, 6, STATE.key),
            (self.action, 6, ACTION.key),
            (self.goal, 3, GOAL.key),
        ):
            flag = a[:, col]
            if not np.all((np.abs(flag) < _FLAG_TOL) | (np.abs(flag - 1) < _FLAG_TOL)):
                raise DatasetError(
                    f"{where}: {key} element {col} must be 0 or 1 (a flag), got "
                    f"{sorted(set(flag.tolist()))[:4]}"
                )
        phase = self.state[:, 7]
        if phase.min() < -_FLAG_TOL or phase.max() > 1 + _FLAG_TOL:
            raise DatasetError(
                f"{where}: {STATE.key} phase must lie in [0, 1], got [{phase.min():.3g}, {phase.max():.3g}]"
            )
        if np.any(self.goal[self.goal[:, 3] < 0.5, :3] != 0):
            raise DatasetError(f"{where}: {GOAL.key} must be zeros where its valid flag is 0")
        images = {}
        for cam, frames in self.images.items():
            image_feature(cam, 1, 1)  # the name must be a plain identifier
            frames = np.asarray(frames)
            if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[0] != T or frames.shape[3] != 3:
                raise DatasetError(
                    f"{where}: camera {cam!r} images must be (T={T}, H, W, 3) uint8, "
                    f"got {frames.shape} {frames.dtype}"
                )
            images[cam] = frames
        object.__setattr__(self, "images", images)

    def __len__(self) -> int:
        return len(self.state)

    @property
    def phase(self) -> np.ndarray:
        """(T,) fraction of the episode at each frame."""
        return self.state[:, 7]


@dataclass(frozen=True)
class EpisodeDataset:
    """Episodes of one robot at ``fps`` frames per second (the retarget control rate).

    Attributes:
        robot: the robot the end-effector motions were retargeted to.
        fps: frames per second.
        episodes: the episodes, in order (episode_index = position).
        provenance: what the dataset was built from (files, content hashes, library version).
    """

    robot: str
    fps: float
    episodes: tuple[Episode, ...]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "episodes", tuple(self.episodes))
        if not self.fps > 0:
            raise DatasetError(f"dataset of {self.robot}: fps must be positive, got {self.fps}")
        if not self.episodes:
            raise DatasetError(f"dataset of {self.robot}: no episodes")
        shapes = self.image_shapes
        for e in self.episodes:
            mine = {c: a.shape[1:3] for c, a in e.images.items()}
            if mine != shapes:
                raise DatasetError(
                    f"{e.source or e.clip}: cameras {mine} differ from the dataset's {shapes}; "
                    "every episode needs the same cameras at the same size"
                )

    @property
    def image_shapes(self) -> dict[str, tuple[int, int]]:
        """camera -> (H, W), from the first episode (every episode has the same cameras)."""
        return {c: tuple(a.shape[1:3]) for c, a in self.episodes[0].images.items()}

    @property
    def tasks(self) -> list[str]:
        """Distinct task names in order of first appearance (task_index = position)."""
        return list(dict.fromkeys(e.task for e in self.episodes))

    @property
    def num_frames(self) -> int:
        return sum(len(e) for e in self.episodes)

    def frames(self) -> dict[str, np.ndarray]:
        """Every frame as flat columns keyed by feature name: (N, ...) arrays, N = num_frames."""
        task_index = {t: i for i, t in enumerate(self.tasks)}
        lengths = np.array([len(e) for e in self.episodes])
        frame_index = np.concatenate([np.arange(n) for n in lengths])
        cols = {
            STATE.key: np.concatenate([e.state for e in self.episodes]),
            GOAL.key: np.concatenate([e.goal for e in self.episodes]),
            ACTION.key: np.concatenate([e.action for e in self.episodes]),
            "timestamp": (frame_index / self.fps).astype(np.float32),
            "frame_index": frame_index.astype(np.int64),
            "episode_index": np.repeat(np.arange(len(lengths)), lengths).astype(np.int64),
            "index": np.arange(lengths.sum(), dtype=np.int64),
            "task_index": np.repeat([task_index[e.task] for e in self.episodes], lengths).astype(np.int64),
        }
        for cam in self.image_shapes:
            cols[IMAGE_PREFIX + cam] = np.concatenate([e.images[cam] for e in self.episodes])
        return cols

    def split_by_clip(self, valid_fraction: float, seed: int) -> tuple[list[int], list[int]]:
        """(train, valid) episode indices, with every manipulation of a video on the same side.

        ``valid_fraction`` of the videos (rounded, at least one when there are two or more and the
        fraction is positive) are drawn for validation by ``seed``.
        """
        if not 0 <= valid_fraction < 1:
            raise DatasetError(f"valid_fraction must lie in [0, 1), got {valid_fraction}")
        groups = sorted({clip_group(e.clip) for e in self.episodes})
        n_valid = int(round(valid_fraction * len(groups)))
        if valid_fraction > 0 and len(groups) >= 2:
            n_valid = min(max(1, n_valid), len(groups) - 1)
        order = np.random.default_rng(seed).permutation(len(groups))
        valid = {groups[i] for i in order[:n_valid]}
        train_ids = [i for i, e in enumerate(self.episodes) if clip_group(e.clip) not in valid]
        valid_ids = [i for i, e in enumerate(self.episodes) if clip_group(e.clip) in valid]
        return train_ids, valid_ids

    def select(self, ids: list[int]) -> EpisodeDataset:
        """A dataset of the episodes ``ids``, in that order."""
        return EpisodeDataset(self.robot, self.fps, tuple(self.episodes[i] for i in ids), self.provenance)

    # --- artifact ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        arrays = {}
        for i, e in enumerate(self.episodes):
            arrays.update({f"{i}/state": e.state, f"{i}/goal": e.goal, f"{i}/action": e.action})
            arrays.update({f"{i}/image/{c}": a for c, a in e.images.items()})
        meta = {
            "robot": self.robot,
            "fps": self.fps,
            "provenance": self.provenance,
            "episodes": [
                {"task": e.task, "clip": e.clip, "source": e.source, "cameras": sorted(e.images)}
                for e in self.episodes
            ],
        }
        write_artifact(path, "EpisodeDataset", EPISODES_SCHEMA, meta, arrays)

    @classmethod
    def load(cls, path: str | Path) -> EpisodeDataset:
        meta, arrays = read_artifact(path, "EpisodeDataset", EPISODES_SCHEMA)
        npz = Path(path).with_suffix(".npz")
        episodes = []
        with fix_hint("delete the dataset and rebuild it from its source"):
            for i, m in enumerate(meta["episodes"]):
                missing = [k for k in ("state", "goal", "action") if f"{i}/{k}" not in arrays]
                if missing:
                    raise DatasetError(f"{npz}: episode {i} lacks {missing}")
                episodes.append(
                    Episode(
                        m["task"],
                        m["clip"],
                        arrays[f"{i}/state"],
                        arrays[f"{i}/goal"],
                        arrays[f"{i}/action"],
                        {c: arrays[f"{i}/image/{c}"] for c in m["cameras"]},
                        source=f"{npz} episode {i} ({m['clip']})",
                    )
                )
            return cls(meta["robot"], meta["fps"], tuple(episodes), meta["provenance"])
