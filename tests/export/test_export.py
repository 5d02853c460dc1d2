"""`vid2skill export`: LeRobotDataset v3 and robomimic HDF5 from retargeted demos, read back with
pyarrow/h5py against the published layouts and, where it installs, robomimic's own loader.

LeRobot itself does not install beside our pins (it needs numpy>=2 and torch<2.11), so the LeRobot
export is checked against the v3.0 layout its loader reads (meta/info.json, stats.json,
tasks.parquet, meta/episodes/, data/chunk-*/file-*.parquet)."""

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tests.helpers import make_cfg, make_demo
from vid2skill.artifacts import atomic_write_json
from vid2skill.dataset.episodes import EpisodeDataset
from vid2skill.dataset.features import ACTION, GOAL, STATE, dataset_features
from vid2skill.dataset.from_demos import episode_from_demo
from vid2skill.errors import ArtifactError, ConfigError
from vid2skill.pipeline import run_stage
from vid2skill.retarget.demos import DemoSet

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pc = pytest.importorskip("pyarrow.compute")
h5py = pytest.importorskip("h5py")

# Two skills; place has videos with two manipulations each (clip~1, clip~2), which must share a side of the
# split.
CLIPS = {"place": ["v0~1", "v0~2", "v1~1", "v2~1", "v2~2", "v3~1"], "slide_open": ["s0", "s1", "s2"]}


@pytest.fixture
def retargeted_ws(tmp_path):
    """A workspace as `vid2skill retarget robot=panda` leaves it: DemoSets, their index and the stage
    marker."""
    ws = tmp_path / "ws"
    out = ws / "retarget" / "panda"
    demos = {}
    for s, (skill, clips) in enumerate(CLIPS.items()):
        ds = DemoSet(
            skill, "panda", 10.0, [make_demo(c, steps=9 + i, seed=10 * s + i) for i, c in enumerate(clips)]
        )
        ds.save(out / skill)
        demos[skill] = ds
    atomic_write_json(out / "index.json", sorted(CLIPS))
    atomic_write_json(ws / "retarget" / "_stage.json", {"key": "k", "run": "r", "summary": {}})
    return ws, demos


def _cfg(ws, fmt, *extra):
    return make_cfg([f"workspace={ws}", f"format={fmt}", "dataset.valid_fraction=0.34", *extra])


def _check_actions_integrate(state, action, demo):
    """The exported steps, summed from the first state, give the demo's end-effector path and turns."""
    path = state[0, :3] + np.concatenate([np.zeros((1, 3)), np.cumsum(action[:-1, :3], axis=0)])
    np.testing.assert_allclose(path, demo.ee_contact_m, atol=1e-5)
    R = Rotation.from_rotvec(state[0, 3:6])
    for t in range(1, len(state)):
        R = Rotation.from_rotvec(action[t - 1, 3:6]) * R
    assert (R * Rotation.from_rotvec(demo.ee_rotvec_contact[-1]).inv()).magnitude() < 1e-4
    np.testing.assert_array_equal(action[:-1, 6], demo.gripper_closed[1:])


def _check_split(clips: list[str], train: list[int], valid: list[int]):
    video = lambda i: clips[i].split("~")[0]  # noqa: E731
    assert sorted(train + valid) == list(range(len(clips))) and train and valid
    assert {video(i) for i in train}.isdisjoint({video(i) for i in valid})


def test_lerobot_export_has_the_v3_layout_and_round_trips(retargeted_ws):
    ws, demos = retargeted_ws
    cfg = _cfg(
        ws, "lerobot", "format.data_files_size_in_mb=0.002"
    )  # small files: episodes spread over several
    summary = run_stage(cfg, "export")
    root = ws / "export" / "lerobot" / "panda"
    n_eps = sum(map(len, CLIPS.values()))
    n_frames = sum(len(d.ee_contact_m) for ds in demos.values() for d in ds.demos)

    info = json.loads((root / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 10 and info["robot_type"] == "panda"
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (n_eps, n_frames, 2)
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["features"] == {k: f.lerobot() for k, f in dataset_features().items()}
    assert info["features"]["action"] == {"dtype": "float32", "shape": [7], "names": list(ACTION.names)}

    tasks = pq.read_table(root / "meta" / "tasks.parquet")
    assert tasks.column("task").to_pylist() == sorted(CLIPS) and tasks.column("task_index").to_pylist() == [
        0,
        1,
    ]
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == [
        "task"
    ]  # pandas reads task as the index

    eps = pq.read_table(root / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["episode_index"] for e in eps] == list(range(n_eps))
    assert eps[0]["dataset_from_index"] == 0 and eps[-1]["dataset_to_index"] == n_frames
    assert all(a["dataset_to_index"] == b["dataset_from_index"] for a, b in zip(eps, eps[1:]))
    assert all(e["dataset_to_index"] - e["dataset_from_index"] == e["length"] for e in eps)
    assert (
        summary["data_files"] > 1
        and len({(e["data/chunk_index"], e["data/file_index"]) for e in eps}) == summary["data_files"]
    )

    frames, by_clip = 0, {d.clip: d for ds in demos.values() for d in ds.demos}
    for e in eps:  # every episode's rows, read through the data_path template, are its demo
        table = pq.read_table(
            root
            / info["data_path"].format(chunk_index=e["data/chunk_index"], file_index=e["data/file_index"])
        )
        assert table.schema.field(STATE.key).type == pa.list_(pa.float32(), 8)
        assert (
            table.schema.field("index").type == pa.int64()
            and table.schema.field("timestamp").type == pa.float32()
        )
        rows = table.filter(pc.equal(table.column("episode_index"), e["episode_index"]))
        assert rows.num_rows == e["length"]
        np.testing.assert_array_equal(rows.column("frame_index").to_numpy(), np.arange(e["length"]))
        np.testing.assert_array_equal(
            rows.column("index").to_numpy(), np.arange(e["dataset_from_index"], e["dataset_to_index"])
        )
        np.testing.assert_allclose(
            rows.column("timestamp").to_numpy(), np.arange(e["length"]) / 10, atol=1e-6
        )
        state = np.stack(rows.column(STATE.key).to_numpy(zero_copy_only=False))
        action = np.stack(rows.column(ACTION.key).to_numpy(zero_copy_only=False))
        _check_actions_integrate(state, action, by_clip[e["clip"]])
        assert e["tasks"] == [tasks.column("task").to_pylist()[rows.column("task_index")[0].as_py()]]
        frames += rows.num_rows
    assert frames == n_frames

    stats = json.loads((root / "meta" / "stats.json").read_text())
    all_actions = np.concatenate(
        [
            np.stack(pq.read_table(p).column("action").to_numpy(zero_copy_only=False))
            for p in sorted((root / "data").glob("*/*.parquet"))
        ]
    )
    np.testing.assert_allclose(stats["action"]["mean"], all_actions.mean(0), atol=1e-6)
    assert stats["action"]["count"] == [n_frames] and set(stats[GOAL.key]) >= {
        "min",
        "max",
        "mean",
        "std",
        "q01",
        "q99",
    }

    # Splits are ranges, training videos first, and no video is on both sides.
    train_to = int(info["splits"]["train"].split(":")[1])
    assert info["splits"]["valid"] == f"{train_to}:{n_eps}"
    _check_split([e["clip"] for e in eps], list(range(train_to)), list(range(train_to, n_eps)))

    from vid2skill.export.lerobot import read_lerobot

    ds = read_lerobot(root)
    assert [e.clip for e in ds.episodes] == [e["clip"] for e in eps] and ds.fps == 10.0

    # Unchanged inputs: skipped; a changed option reruns.
    marker = root / "_stage.json"
    before = marker.stat().st_mtime_ns
    run_stage(cfg, "export")
    assert marker.stat().st_mtime_ns == before
    run_stage(_cfg(ws, "lerobot"), "export")
    assert len(list((root / "data").glob("*/*.parquet"))) == 1


def test_lerobot_opens_the_export_with_its_own_loader(retargeted_ws):
    """Runs where LeRobot is installed (it is not beside our pins: see the module docstring)."""
    pytest.importorskip("lerobot", reason="lerobot does not install beside our pins (numpy>=2, torch<2.11)")
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ws, demos = retargeted_ws
    run_stage(_cfg(ws, "lerobot", "format.data_files_size_in_mb=0.002"), "export")
    root = ws / "export" / "lerobot" / "panda"
    ds = LeRobotDataset("vid2skill/panda", root=root)
    n_frames = sum(len(d.ee_contact_m) for s in demos.values() for d in s.demos)
    assert (ds.num_episodes, ds.num_frames, ds.fps) == (sum(map(len, CLIPS.values())), n_frames, 10)
    assert list(ds.meta.tasks.index) == sorted(CLIPS)
    item = ds[0]
    assert tuple(item["observation.state"].shape) == (8,) and tuple(item["action"].shape) == (7,)
    assert item["task"] in CLIPS
    clips = json.loads((root / "meta" / "vid2skill.json").read_text())["clips"]
    by_clip = {d.clip: d for s in demos.values() for d in s.demos}
    chunked = LeRobotDataset(
        "vid2skill/panda", root=root, episodes=[2], delta_timestamps={"action": [0.0, 0.1, 0.2]}
    )
    demo = by_clip[clips[2]]
    assert len(chunked) == len(demo.ee_contact_m)
    steps = np.stack([chunked[i]["action"][0].numpy() for i in range(len(chunked))])
    path = chunked[0]["observation.state"].numpy()[:3] + np.concatenate(
        [np.zeros((1, 3)), np.cumsum(steps[:-1, :3], axis=0)]
    )
    np.testing.assert_allclose(path, demo.ee_contact_m, atol=1e-5)


def _robomimic_file(ws):
    run_stage(_cfg(ws, "robomimic"), "export")
    return ws / "export" / "robomimic" / "panda" / "demos.hdf5"


def test_robomimic_export_has_its_layout_and_split_by_clip(retargeted_ws):
    ws, demos = retargeted_ws
    path = _robomimic_file(ws)
    by_clip = {d.clip: d for ds in demos.values() for d in ds.demos}
    with h5py.File(path, "r") as f:
        data = f["data"]
        names = sorted(data.keys(), key=lambda k: int(k.split("_")[1]))
        assert names == [f"demo_{i}" for i in range(len(by_clip))]
        assert data.attrs["total"] == sum(len(d.ee_contact_m) for d in by_clip.values())
        env = json.loads(data.attrs["env_args"])
        assert (
            env["env_name"] == "vid2skill/panda"
            and env["type"] == 2
            and env["env_kwargs"]["tasks"] == sorted(CLIPS)
        )
        clips = []
        for name in names:
            g = data[name]
            n = g.attrs["num_samples"]
            demo = by_clip[g.attrs["clip"]]
            clips.append(g.attrs["clip"])
            assert n == len(demo.ee_contact_m) and g.attrs["task"] in CLIPS
            assert (
                g["obs/state"].shape == (n, 8)
                and g["obs/goal"].shape == (n, 4)
                and g["actions"].shape == (n, 7)
            )
            assert g["rewards"].shape == (n,) and list(g["dones"][()]) == [0] * (n - 1) + [1]
            np.testing.assert_array_equal(g["next_obs/state"][:-1], g["obs/state"][1:])
            _check_actions_integrate(g["obs/state"][()], g["actions"][()], demo)
            goal = g["obs/goal"][()]
            assert goal[0, 3] == (1.0 if g.attrs["task"] == "place" else 0.0)
        masks = {k: [names.index(n.decode()) for n in f[f"mask/{k}"][()]] for k in f["mask"]}
    _check_split(clips, masks["train"], masks["valid"])
    assert sorted(masks["place"] + masks["slide_open"]) == list(range(len(clips)))

    from vid2skill.export.robomimic import read_robomimic

    ds, masks_back = read_robomimic(path)
    assert masks_back == masks and [e.clip for e in ds.episodes] == clips


def test_robomimic_opens_the_export_with_its_own_loader(retargeted_ws):
    pytest.importorskip("robomimic", reason="robomimic is not installed (pip install 'vid2skill[robomimic]')")
    import robomimic.utils.file_utils as FileUtils
    import robomimic.utils.obs_utils as ObsUtils
    from robomimic.utils.dataset import SequenceDataset

    ws, demos = retargeted_ws
    path = str(_robomimic_file(ws))
    ObsUtils.initialize_obs_utils_with_obs_specs({"obs": {"low_dim": ["state", "goal"], "rgb": []}})
    shape = FileUtils.get_shape_metadata_from_dataset(path, all_obs_keys=["state", "goal"])
    assert shape["ac_dim"] == 7 and shape["all_shapes"] == {"goal": [4], "state": [8]}
    assert FileUtils.get_env_metadata_from_dataset(path)["env_name"] == "vid2skill/panda"
    valid = FileUtils.get_demos_for_filter_key(path, "valid")
    sizes = {}
    for split in ("train", "valid"):
        seq = SequenceDataset(
            path,
            ["state", "goal"],
            ["actions", "rewards", "dones"],
            seq_length=3,
            hdf5_cache_mode="low_dim",
            filter_by_attribute=split,
        )
        sizes[split] = len(seq)
        item = seq[0]
        assert (
            item["actions"].shape == (3, 7)
            and item["obs"]["state"].shape == (3, 8)
            and item["obs"]["goal"].shape == (3, 4)
        )
    with h5py.File(path, "r") as f:
        frames = {d: int(f[f"data/{d}"].attrs["num_samples"]) for d in f["data"]}
        first = f["data/demo_0/actions"][:3]
    assert sizes["valid"] == sum(frames[d] for d in valid) and sizes["train"] + sizes["valid"] == sum(
        frames.values()
    )
    seq = SequenceDataset(
        path, ["state"], ["actions"], seq_length=3, hdf5_cache_mode="all", filter_by_attribute="train"
    )
    assert "demo_0" in seq.demos  # training videos come first
    np.testing.assert_allclose(seq[0]["actions"], first, atol=1e-7)


def test_export_without_retargeted_demos_says_what_to_run(retargeted_ws):
    """(An empty workspace runs its upstream stages first, as every stage does.)"""
    ws, _ = retargeted_ws
    with pytest.raises(
        ArtifactError, match=r"no retargeted demos for iiwa .*run `vid2skill retarget robot=iiwa"
    ):
        run_stage(_cfg(ws, "robomimic", "robot=iiwa"), "export")


def test_a_failed_export_leaves_the_previous_one_whole(retargeted_ws, monkeypatch):
    import vid2skill.export.lerobot as lerobot

    ws, _ = retargeted_ws
    run_stage(_cfg(ws, "lerobot"), "export")
    root = ws / "export" / "lerobot" / "panda"
    # The dataset's files (a failed run removes the stage marker beside them: it is not done).
    before = {
        p.relative_to(root): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != "_stage.json"
    }

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lerobot, "feature_stats", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_stage(_cfg(ws, "lerobot", "force=true", "dataset.valid_fraction=0.5"), "export")
    assert {
        p.relative_to(root): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != "_stage.json"
    } == before
    assert not (root / "_stage.json").exists()
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left behind


def test_images_and_fps_in_both_formats(tmp_path):
    from vid2skill.export.lerobot import read_lerobot, write_lerobot
    from vid2skill.export.robomimic import read_robomimic, write_robomimic

    rng = np.random.default_rng(0)
    eps = []
    for i in range(2):
        e = episode_from_demo(make_demo(f"c{i}", steps=6, seed=i), "stir", "centroid_late")
        images = {"front": rng.integers(0, 256, (6, 4, 5, 3), dtype=np.uint8)}
        eps.append(type(e)(e.task, e.clip, e.state, e.goal, e.action, images))
    ds = EpisodeDataset("panda", 10.0, tuple(eps))
    write_lerobot(ds, tmp_path / "lr")
    info = json.loads((tmp_path / "lr" / "meta" / "info.json").read_text())
    assert info["features"]["observation.images.front"]["shape"] == [4, 5, 3]
    stats = json.loads((tmp_path / "lr" / "meta" / "stats.json").read_text())
    assert np.asarray(stats["observation.images.front"]["mean"]).shape == (3, 1, 1)
    back = read_lerobot(tmp_path / "lr")
    np.testing.assert_array_equal(back.episodes[1].images["front"], eps[1].images["front"])  # PNG is lossless
    write_robomimic(ds, tmp_path / "rm.hdf5", [0], [1])
    back, _ = read_robomimic(tmp_path / "rm.hdf5")
    np.testing.assert_array_equal(back.episodes[0].images["front"], eps[0].images["front"])
    with h5py.File(tmp_path / "rm.hdf5", "r") as f:
        assert f["data/demo_0/obs/front_image"].dtype == np.uint8

    with pytest.raises(ConfigError, match="whole number of frames per second"):
        write_lerobot(EpisodeDataset("panda", 7.5, tuple(eps)), tmp_path / "lr2")
    assert not (tmp_path / "lr2").exists()


def test_cli_export_without_demos_prints_one_line_with_the_command(retargeted_ws):
    import subprocess
    import sys

    ws, _ = retargeted_ws
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "vid2skill.cli",
            "export",
            f"workspace={ws}",
            "format=robomimic",
            "robot=iiwa",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in r.stderr.splitlines() if "vid2skill" in line]
    assert r.returncode == 1 and len(errors) == 1 and "run `vid2skill retarget" in errors[0]
