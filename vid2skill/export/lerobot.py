"""Writing and reading an episode dataset in LeRobotDataset v3's layout (``codebase_version`` "v3.0").

A dataset root holds::

    meta/info.json                                    fps, features, totals, path templates, splits
    meta/stats.json                                   per feature: min, max, mean, std, count, q01..q99
    meta/tasks.parquet                                task (the index) -> task_index
    meta/episodes/chunk-000/file-000.parquet          per episode: tasks, length, data file and rows, stats
    data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet   the frames, whole episodes per file

Vectors are fixed-size lists of float32, scalars plain columns, images HF ``Image`` structs
(PNG bytes). The root is written to a temporary folder and renamed into place. Needs pyarrow
(``pip install 'vid2skill[export]'``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from vid2skill.artifacts import atomic_dir, atomic_write_json
from vid2skill.dataset.episodes import Episode, EpisodeDataset, fix_hint
from vid2skill.dataset.features import ACTION, GOAL, IMAGE_PREFIX, STATE, Feature, dataset_features
from vid2skill.errors import ConfigError, DatasetError

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_FILES_SIZE_IN_MB = 200  # LeRobot's default; no videos are written
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)  # LeRobot's stats quantiles (q01 ... q99)


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ConfigError(
            "export format=lerobot needs pyarrow; install it with `pip install 'vid2skill[export]'`"
        ) from e
    return pa, pq


def feature_stats(values: np.ndarray, feature: Feature) -> dict[str, list]:
    """LeRobot's statistics of one feature over frames: per element for vectors, per channel
    (values scaled to [0, 1], shaped (3, 1, 1)) for images."""
    if feature.dtype == "image":
        x = values.reshape(-1, 3).astype(np.float64) / 255.0
        shape = lambda a: np.asarray(a).reshape(3, 1, 1).tolist()  # noqa: E731
    else:
        x = values.reshape(len(values), -1).astype(np.float64)
        shape = lambda a: np.asarray(a).tolist()  # noqa: E731
    out = {
        "min": shape(x.min(0)),
        "max": shape(x.max(0)),
        "mean": shape(x.mean(0)),
        "std": shape(x.std(0)),
        "count": [int(len(values))],
    }
    for q in QUANTILES:
        out[f"q{int(round(q * 100)):02d}"] = shape(np.quantile(x, q, axis=0))
    return out


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _column(pa, values: np.ndarray, feature: Feature):
    if feature.dtype == "image":
        return pa.array(
            [{"bytes": _png(im), "path": None} for im in values],
            type=pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
        )
    if feature.shape == (1,):
        return pa.array(values.reshape(-1).astype(feature.numpy_dtype))
    flat = pa.array(values.reshape(-1).astype(feature.numpy_dtype))
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(feature.shape)))


def _tasks_table(pa, tasks: list[str]):
    """The tasks table as pandas writes a DataFrame indexed by task (LeRobot reads it with pandas)."""
    table = pa.table(
        {"task_index": pa.array(np.arange(len(tasks), dtype=np.int64)), "task": pa.array(tasks, pa.string())}
    )
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": "task",
                "field_name": "task",
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.0",
    }
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})


def _file_plan(
    lengths: list[int], frame_bytes: int, file_size_mb: float, chunks_size: int
) -> list[tuple[int, int]]:
    """(chunk_index, file_index) per episode: whole episodes fill a data file up to ``file_size_mb``."""
    plan, chunk, file, used = [], 0, 0, 0.0
    for n in lengths:
        size = n * frame_bytes / 1e6
        if used > 0 and used + size > file_size_mb:
            file += 1
            if file == chunks_size:
                chunk, file = chunk + 1, 0
            used = 0.0
        plan.append((chunk, file))
        used += size
    return plan


def write_lerobot(
    ds: EpisodeDataset,
    root: str | Path,
    splits: dict[str, str] | None = None,
    chunks_size: int = 1000,
    data_files_size_in_mb: float = 100.0,
    extra_meta: dict | None = None,
) -> dict:
    """Write ``ds`` as a LeRobotDataset v3 root at ``root`` (replacing it atomically); returns a summary.

    ``splits``: LeRobot's episode ranges, e.g. {"train": "0:40", "valid": "40:50"}. ``extra_meta`` is
    written to ``meta/vid2skill.json`` (provenance; LeRobot ignores it).
    """
    pa, pq = _pyarrow()
    if chunks_size < 1 or not data_files_size_in_mb > 0:
        raise ConfigError(
            f"format.chunks_size ({chunks_size}) and format.data_files_size_in_mb "
            f"({data_files_size_in_mb}) must be positive"
        )
    fps = float(ds.fps)
    if abs(fps - round(fps)) > 1e-9:
        raise ConfigError(
            f"LeRobot datasets need a whole number of frames per second, the demos have {fps}; "
            "set retarget.control_hz to a whole number and rerun `vid2skill retarget`"
        )
    features = dataset_features(ds.image_shapes)
    cols = ds.frames()
    lengths = [len(e) for e in ds.episodes]
    frame_bytes = sum(int(np.prod(f.shape)) * f.numpy_dtype.itemsize for f in features.values())
    plan = _file_plan(lengths, frame_bytes, data_files_size_in_mb, chunks_size)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    tasks = ds.tasks

    with atomic_dir(root) as tmp:
        _write_data_files(pa, pq, tmp, features, cols, plan, starts)
        ep_path = tmp / EPISODES_PATH.format(chunk_index=0, file_index=0)
        ep_path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(_episodes_table(ds, features, cols, plan, starts)), ep_path)
        pq.write_table(_tasks_table(pa, tasks), tmp / "meta" / "tasks.parquet")
        info = _info_json(ds, features, splits, chunks_size, data_files_size_in_mb, fps)
        atomic_write_json(tmp / "meta" / "info.json", info)
        atomic_write_json(
            tmp / "meta" / "stats.json", {k: feature_stats(cols[k], f) for k, f in features.items()}
        )
        if extra_meta is not None:
            atomic_write_json(tmp / "meta" / "vid2skill.json", extra_meta)
    return {
        "root": str(root),
        "episodes": len(ds.episodes),
        "frames": ds.num_frames,
        "tasks": tasks,
        "data_files": len(set(plan)),
    }


def _write_data_files(pa, pq, tmp: Path, features: dict, cols: dict, plan: list, starts: np.ndarray) -> None:
    """Write the frames under ``tmp``, whole episodes to the data file ``plan`` gives each
    (``starts``: each episode's first row in ``cols``, then the total)."""
    for chunk_file in dict.fromkeys(plan):
        eps = [i for i, cf in enumerate(plan) if cf == chunk_file]
        rows = slice(int(starts[eps[0]]), int(starts[eps[-1] + 1]))
        table = pa.table({k: _column(pa, cols[k][rows], f) for k, f in features.items()})
        path = tmp / DATA_PATH.format(chunk_index=chunk_file[0], file_index=chunk_file[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)


def _info_json(
    ds: EpisodeDataset,
    features: dict,
    splits: dict[str, str] | None,
    chunks_size: int,
    data_files_size_in_mb: float,
    fps: float,
) -> dict:
    """The contents of ``meta/info.json``: the layout's version and sizes, totals, fps, splits
    (all episodes for training unless given), path templates and features."""
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": ds.robot,
        "total_episodes": len(ds.episodes),
        "total_frames": ds.num_frames,
        "total_tasks": len(ds.tasks),
        "chunks_size": int(chunks_size),
        "data_files_size_in_mb": int(data_files_size_in_mb)
        if float(data_files_size_in_mb).is_integer()
        else data_files_size_in_mb,
        "video_files_size_in_mb": VIDEO_FILES_SIZE_IN_MB,
        "fps": int(round(fps)),
        "splits": splits if splits is not None else {"train": f"0:{len(ds.episodes)}"},
        "data_path": DATA_PATH,
        "video_path": None,
        "features": {k: f.lerobot() for k, f in features.items()},
    }


def _episodes_table(ds: EpisodeDataset, features: dict, cols: dict, plan: list, starts: np.ndarray) -> dict:
    """LeRobot's ``meta/episodes`` columns: each episode's index, task, length, clip, where its rows
    are (data file, global frame range) and its per-feature statistics (``stats/<feature>/<stat>``)."""
    episodes: dict[str, list] = {
        "episode_index": [],
        "tasks": [],
        "length": [],
        "clip": [],
        "data/chunk_index": [],
        "data/file_index": [],
        "dataset_from_index": [],
        "dataset_to_index": [],
        "meta/episodes/chunk_index": [],
        "meta/episodes/file_index": [],
    }
    for i, e in enumerate(ds.episodes):
        for key, value in (
            ("episode_index", i),
            ("tasks", [e.task]),
            ("length", len(e)),
            ("clip", e.clip),
            ("data/chunk_index", plan[i][0]),
            ("data/file_index", plan[i][1]),
            ("dataset_from_index", int(starts[i])),
            ("dataset_to_index", int(starts[i + 1])),
            ("meta/episodes/chunk_index", 0),
            ("meta/episodes/file_index", 0),
        ):
            episodes[key].append(value)
        rows = slice(int(starts[i]), int(starts[i + 1]))
        for k, f in features.items():
            for stat, value in feature_stats(cols[k][rows], f).items():
                episodes.setdefault(f"stats/{k}/{stat}", []).append(
                    np.asarray(value, dtype=np.float64).reshape(-1).tolist()
                )
    return episodes


def _read_info(root: Path) -> dict:
    path = root / "meta" / "info.json"
    if not path.exists():
        raise DatasetError(f"{path} is missing: {root} is not a LeRobot dataset root")
    info = json.loads(path.read_text())
    if info.get("codebase_version") != CODEBASE_VERSION:
        raise DatasetError(
            f"{path}: codebase_version {info.get('codebase_version')!r}, expected {CODEBASE_VERSION!r}"
        )
    return info


def read_lerobot(root: str | Path) -> EpisodeDataset:
    """Read a root written by :func:`write_lerobot` back into an :class:`EpisodeDataset` (checking
    shapes and values against ``meta/info.json``)."""
    pa, pq = _pyarrow()
    root = Path(root)
    fix = f"export it again with `vid2skill export format=lerobot force=true` (or delete {root})"
    with fix_hint(fix):
        info = _read_info(root)
        eps = pq.read_table(root / EPISODES_PATH.format(chunk_index=0, file_index=0)).to_pylist()
        tasks = pq.read_table(root / "meta" / "tasks.parquet").to_pylist()
        task_of = {t["task_index"]: t["task"] for t in tasks}
        features = info["features"]
        cams = {k[len(IMAGE_PREFIX) :] for k in features if k.startswith(IMAGE_PREFIX)}
        tables = {}
        episodes = []
        for e in eps:
            path = root / info["data_path"].format(
                chunk_index=e["data/chunk_index"], file_index=e["data/file_index"]
            )
            if path not in tables:
                if not path.exists():
                    raise DatasetError(f"{path} is missing (episode {e['episode_index']} points at it)")
                tables[path] = pq.read_table(path)
            table = tables[path]
            index = table.column("index").to_numpy()
            rows = np.flatnonzero((index >= e["dataset_from_index"]) & (index < e["dataset_to_index"]))
            if len(rows) != e["length"]:
                raise DatasetError(
                    f"{path}: episode {e['episode_index']} has {len(rows)} frames, meta/episodes says "
                    f"{e['length']}"
                )
            arrays = _vector_arrays(table, rows, features, root, path)
            images = {
                c: _decode_images(table.column(IMAGE_PREFIX + c).take(rows).to_pylist()) for c in sorted(cams)
            }
            task = task_of[int(table.column("task_index").take(rows[:1]).to_pylist()[0])]
            source = f"{path} episode {e['episode_index']}"
            episodes.append(
                Episode(
                    task,
                    e.get("clip", str(e["episode_index"])),
                    arrays[STATE.key],
                    arrays[GOAL.key],
                    arrays[ACTION.key],
                    images,
                    source=source,
                )
            )
        extra = root / "meta" / "vid2skill.json"
        provenance = json.loads(extra.read_text()).get("provenance", {}) if extra.exists() else {}
        return EpisodeDataset(info.get("robot_type") or "", float(info["fps"]), tuple(episodes), provenance)


def _vector_arrays(table, rows: np.ndarray, features: dict, root: Path, path: Path) -> dict[str, np.ndarray]:
    """One episode's state, goal and action columns (its ``rows`` of the data file ``path``) as
    (T, D) float32 arrays, checking their shapes against ``meta/info.json``'s ``features``."""
    arrays = {}
    for feat in (STATE, GOAL, ACTION):
        want = tuple(features[feat.key]["shape"])
        if want != feat.shape:
            raise DatasetError(
                f"{root / 'meta' / 'info.json'}: {feat.key} has shape {want}, expected {feat.shape}"
            )
        col = table.column(feat.key).take(rows)
        a = np.asarray(col.combine_chunks().flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
        if a.size != len(rows) * feat.shape[0]:
            raise DatasetError(
                f"{path}: {feat.key} holds {a.size} values for {len(rows)} frames of shape {feat.shape}"
            )
        arrays[feat.key] = a.reshape(len(rows), feat.shape[0])
    return arrays


def _decode_images(cells: list[dict]) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.open(io.BytesIO(c["bytes"])).convert("RGB")) for c in cells])
