"""Writing and reading an episode dataset as robomimic's HDF5.

Layout (robomimic's ``SequenceDataset`` and ``file_utils`` read it)::

    data                      attrs: total (frames), env_args (JSON: env_name, type, env_kwargs)
    data/demo_<i>             attrs: num_samples, task, clip
        obs/state (T, 8)  obs/goal (T, 4)  obs/<camera>_image (T, H, W, 3) uint8
        next_obs/...          the same, one frame on (the last frame repeated)
        actions (T, 7)  rewards (T,)  dones (T,)
    mask/train, mask/valid    demo names, split by clip; mask/<task>: each task's demos

``demo_<i>`` is episode ``i`` of the dataset (and of the LeRobot export). Human demonstrations carry
no reward signal: rewards are zeros; ``dones`` is 1 on the last frame. The file is written beside
its destination and renamed into place. Needs h5py (``pip install 'vid2skill[export]'``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from vid2skill.dataset.episodes import Episode, EpisodeDataset, fix_hint
from vid2skill.dataset.features import GOAL, STATE, dataset_features
from vid2skill.errors import ConfigError, DatasetError

# robomimic's EnvType.GYM_TYPE: the closest of its environment kinds to a gym-style SkillEnv.
GYM_ENV_TYPE = 2
OBS_KEYS = {
    STATE.key: "state",
    GOAL.key: "goal",
}  # robomimic obs key per vector feature; cameras: "<camera>_image"


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise ConfigError(
            "export format=robomimic needs h5py; install it with `pip install 'vid2skill[export]'`"
        ) from e
    return h5py


def _obs(e: Episode) -> dict[str, np.ndarray]:
    obs = {"state": e.state, "goal": e.goal}
    obs.update({f"{c}_image": a for c, a in e.images.items()})
    return obs


def env_args(ds: EpisodeDataset) -> dict:
    """``data.attrs["env_args"]``: what environment the demonstrations are for, in robomimic's keys."""
    return {
        "env_name": f"vid2skill/{ds.robot}",
        "type": GYM_ENV_TYPE,
        "env_kwargs": {
            "robot": ds.robot,
            "tasks": ds.tasks,
            "control_hz": ds.fps,
            "features": {
                k: f.lerobot()
                for k, f in dataset_features(ds.image_shapes).items()
                if k not in ("frame_index", "episode_index", "index", "task_index")
            },
        },
    }


def write_robomimic(
    ds: EpisodeDataset, path: str | Path, train: list[int], valid: list[int], compression: str | None = "gzip"
) -> dict:
    """Write ``ds`` to ``path`` (replacing it atomically), with ``mask/train`` and ``mask/valid`` holding
    the episodes ``train`` and ``valid``; returns a summary."""
    h5py = _h5py()
    path = Path(path)
    if sorted(train + valid) != list(range(len(ds.episodes))):
        raise DatasetError(
            f"{path}: the train and valid episodes must partition the {len(ds.episodes)} episodes"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            data = f.create_group("data")
            data.attrs["total"] = ds.num_frames
            data.attrs["env_args"] = json.dumps(env_args(ds))
            data.attrs["fps"] = ds.fps
            data.attrs["provenance"] = json.dumps(ds.provenance)
            for i, e in enumerate(ds.episodes):
                g = data.create_group(f"demo_{i}")
                g.attrs["num_samples"] = len(e)
                g.attrs["task"] = e.task
                g.attrs["clip"] = e.clip
                for key, a in _obs(e).items():
                    opts = {"compression": compression} if compression else {}
                    g.create_dataset(f"obs/{key}", data=a, **opts)
                    g.create_dataset(f"next_obs/{key}", data=np.concatenate([a[1:], a[-1:]]), **opts)
                g.create_dataset("actions", data=e.action)
                g.create_dataset("rewards", data=np.zeros(len(e), dtype=np.float32))
                dones = np.zeros(len(e), dtype=np.int64)
                dones[-1] = 1
                g.create_dataset("dones", data=dones)
            names = lambda ids: np.array([f"demo_{i}" for i in ids], dtype="S")  # noqa: E731
            f.create_dataset("mask/train", data=names(train))
            f.create_dataset("mask/valid", data=names(valid))
            for task in ds.tasks:
                f.create_dataset(
                    f"mask/{task}", data=names([i for i, e in enumerate(ds.episodes) if e.task == task])
                )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {
        "file": str(path),
        "episodes": len(ds.episodes),
        "frames": ds.num_frames,
        "tasks": ds.tasks,
        "train": len(train),
        "valid": len(valid),
    }


def read_robomimic(path: str | Path) -> tuple[EpisodeDataset, dict[str, list[int]]]:
    """Read a file written by :func:`write_robomimic`: (the dataset, {mask name: episode indices})."""
    h5py = _h5py()
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} is missing; run `vid2skill export format=robomimic`")
    with (
        fix_hint(f"export it again with `vid2skill export format=robomimic force=true` (or delete {path})"),
        h5py.File(path, "r") as f,
    ):
        data = f["data"]
        meta = json.loads(data.attrs["env_args"])
        demos = sorted(data.keys(), key=lambda k: int(k.split("_")[1]))
        episodes, total = [], 0
        for name in demos:
            g = data[name]
            n = int(g.attrs["num_samples"])
            arrays = {"state": g["obs/state"][()], "goal": g["obs/goal"][()], "action": g["actions"][()]}
            for key, a in arrays.items():
                if len(a) != n:
                    raise DatasetError(
                        f"{path}: data/{name} {key} has {len(a)} frames but num_samples is {n}"
                    )
            cams = {k[: -len("_image")]: g[f"obs/{k}"][()] for k in g["obs"] if k.endswith("_image")}
            episodes.append(
                Episode(
                    str(g.attrs["task"]),
                    str(g.attrs["clip"]),
                    arrays["state"],
                    arrays["goal"],
                    arrays["action"],
                    cams,
                    source=f"{path} data/{name}",
                )
            )
            total += n
        if total != int(data.attrs["total"]):
            raise DatasetError(
                f"{path}: data.attrs['total'] is {int(data.attrs['total'])} but the demos hold {total} frames"
            )
        index = {name: i for i, name in enumerate(demos)}
        masks = {k: [index[n.decode()] for n in f[f"mask/{k}"][()]] for k in f["mask"]}
        ds = EpisodeDataset(
            meta["env_kwargs"]["robot"],
            float(data.attrs["fps"]),
            tuple(episodes),
            json.loads(data.attrs["provenance"]),
        )
        return ds, masks
