"""The episode dataset: features, episodes from retargeted demos, hindsight goals, splits, bad input."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tests.helpers import make_demo
from vid2skill.dataset.episodes import Episode, EpisodeDataset
from vid2skill.dataset.features import (
    ACTION,
    GOAL,
    STATE,
    Feature,
    check_features,
    dataset_features,
    input_features,
    output_features,
)
from vid2skill.dataset.from_demos import (
    dataset_from_demosets,
    episode_from_demo,
    episodes_from_demoset,
    hindsight_goal,
)
from vid2skill.errors import ConfigError, DatasetError
from vid2skill.retarget.demos import DemoSet


def test_features_are_declared_once_for_datasets_environments_and_policies():
    feats = dataset_features({"front": (6, 8)})
    assert (
        feats[STATE.key].shape == (8,) and feats[GOAL.key].shape == (4,) and feats[ACTION.key].shape == (7,)
    )
    assert feats["observation.images.front"].lerobot() == {
        "dtype": "image",
        "shape": [6, 8, 3],
        "names": ["height", "width", "channels"],
    }
    assert list(input_features()) == [STATE.key, GOAL.key]
    assert list(output_features()) == [ACTION.key]
    assert ACTION.lerobot()["names"][-1] == "gripper_closed" and len(STATE.names) == 8
    with pytest.raises(ValueError, match="plain identifier"):
        dataset_features({"front cam": (2, 2)})
    # A policy's needs checked against what a dataset gives, before any training.
    check_features(dataset_features(), {**input_features(), **output_features()}, "the dataset", "bc_mlp")
    wants_camera = {
        **input_features({"wrist": (8, 8)}),
        "action": Feature("action", "float32", (4,), None, "m"),
    }
    with pytest.raises(DatasetError) as e:
        check_features(dataset_features(), wants_camera, "the panda dataset", "act")
    assert "observation.images.wrist is missing" in str(
        e.value
    ) and "action is float32 (7,), needs float32 (4,)" in str(e.value)


def test_actions_integrate_back_to_the_demonstrated_path_and_turns():
    demo = make_demo("c0", steps=20, seed=3)
    ep = episode_from_demo(demo, "pour", "none")
    assert ep.state.dtype == np.float32 and ep.state.shape == (20, 8) and ep.action.shape == (20, 7)
    # Positions: the first state plus the running sum of the steps is the path (the last step is zero).
    path = ep.state[0, :3] + np.concatenate([np.zeros((1, 3)), np.cumsum(ep.action[:-1, :3], axis=0)])
    np.testing.assert_allclose(path, demo.ee_contact_m, atol=1e-5)
    assert np.all(ep.action[-1, :6] == 0)
    # Rotations: left-applied steps compose back to the demonstration's orientations.
    R = Rotation.from_rotvec(ep.state[0, 3:6])
    for t in range(1, 20):
        R = Rotation.from_rotvec(ep.action[t - 1, 3:6]) * R
        err = (R * Rotation.from_rotvec(demo.ee_rotvec_contact[t]).inv()).magnitude()
        assert err < 1e-4, (t, err)
    # The gripper: state is this frame's, the command is the next frame's; phase runs 0 -> 1.
    np.testing.assert_array_equal(ep.state[:, 6], demo.gripper_closed)
    np.testing.assert_array_equal(ep.action[:-1, 6], demo.gripper_closed[1:])
    assert ep.phase[0] == 0 and ep.phase[-1] == 1 and np.all(np.diff(ep.phase) > 0)


def test_goals_come_from_the_demonstration_in_hindsight():
    demo = make_demo("c0", steps=16, seed=1, release_steps=4)
    last_held = 11
    np.testing.assert_allclose(hindsight_goal(demo, "release"), [*demo.ee_contact_m[last_held], 1.0])
    assert not np.allclose(hindsight_goal(demo, "release")[:3], demo.ee_contact_m[-1])
    tilt = np.linalg.norm(demo.ee_rotvec_contact[: last_held + 1], axis=1).argmax()
    np.testing.assert_allclose(hindsight_goal(demo, "max_tilt")[:3], demo.ee_contact_m[tilt])
    flat = make_demo(
        "c1", steps=16, seed=1, release_steps=4, rotate=False
    )  # no rotations kept: the release point
    np.testing.assert_allclose(hindsight_goal(flat, "max_tilt"), hindsight_goal(flat, "release"))
    np.testing.assert_allclose(
        hindsight_goal(demo, "centroid_late")[:3], demo.ee_contact_m[6:12].mean(axis=0)
    )
    assert np.all(hindsight_goal(demo, "none") == 0)
    # arc_centre: a handle swung 60 deg about a hinge 0.4 m to its side; a straight pull has none.
    from vid2skill.dataset.from_demos import arc_centre

    a = np.radians(np.linspace(0, 60, 20))
    hinge = np.array([0.1, 0.4])
    swing = np.c_[hinge[0] + 0.4 * np.sin(a), hinge[1] - 0.4 * np.cos(a), np.zeros(20)]
    swing += np.random.default_rng(0).normal(0, 0.002, swing.shape)
    np.testing.assert_allclose(arc_centre(swing)[[0, 1, 3]], [*hinge, 1.0], atol=0.02)
    line = np.c_[np.linspace(0, -0.3, 20), np.zeros(20), np.zeros(20)]
    assert np.all(arc_centre(line) == 0)  # too straight
    assert np.all(arc_centre(swing[:4]) == 0)  # too short a swing
    ep = episode_from_demo(demo, "place", "release")
    assert np.all(ep.goal == ep.goal[0]) and ep.goal[0, 3] == 1
    with pytest.raises(ConfigError, match="choose one of"):
        hindsight_goal(demo, "scene_truth")


def _dataset(groups: int = 10) -> EpisodeDataset:
    eps = []
    for g in range(groups):
        for k in (1, 2) if g % 3 == 0 else (1,):  # some videos hold two manipulations
            eps.append(episode_from_demo(make_demo(f"vid{g}~{k}", seed=g * 10 + k), "place", "release"))
    return EpisodeDataset("panda", 10.0, tuple(eps))


def test_split_by_clip_keeps_a_videos_manipulations_together():
    ds = _dataset(10)
    train, valid = ds.split_by_clip(0.3, seed=0)
    assert sorted(train + valid) == list(range(len(ds.episodes)))
    group = lambda i: ds.episodes[i].clip.split("~")[0]  # noqa: E731
    assert {group(i) for i in train}.isdisjoint({group(i) for i in valid})
    assert len({group(i) for i in valid}) == 3
    assert (train, valid) == ds.split_by_clip(0.3, seed=0)
    assert any(ds.split_by_clip(0.3, seed=s)[1] != valid for s in range(1, 6))
    assert ds.split_by_clip(0.0, seed=0)[1] == []
    assert (
        len(_dataset(2).split_by_clip(0.01, seed=0)[1]) >= 1
    )  # a positive fraction holds out at least one video


def test_frames_number_episodes_and_tasks():
    a = [episode_from_demo(make_demo(f"p{i}", steps=10 + i, seed=i), "place", "release") for i in range(2)]
    b = [episode_from_demo(make_demo("s0", steps=7), "slide_open", "none")]
    ds = EpisodeDataset("panda", 10.0, tuple(a + b))
    f = ds.frames()
    assert ds.tasks == ["place", "slide_open"] and ds.num_frames == 10 + 11 + 7
    np.testing.assert_array_equal(f["index"], np.arange(28))
    np.testing.assert_array_equal(f["episode_index"], np.repeat([0, 1, 2], [10, 11, 7]))
    np.testing.assert_array_equal(f["task_index"], np.repeat([0, 0, 1], [10, 11, 7]))
    np.testing.assert_allclose(f["timestamp"][10:12], [0.0, 0.1])
    assert f[GOAL.key][-1, 3] == 0 and f[GOAL.key][0, 3] == 1


def test_dataset_round_trips_and_names_the_file_when_corrupt(tmp_path):
    ds = _dataset(3)
    ds.save(tmp_path / "eps")
    back = EpisodeDataset.load(tmp_path / "eps")
    assert [e.clip for e in back.episodes] == [e.clip for e in ds.episodes]
    np.testing.assert_array_equal(back.episodes[1].action, ds.episodes[1].action)
    arrays = dict(np.load(tmp_path / "eps.npz"))
    arrays["1/action"][4, 2] = np.nan
    np.savez(tmp_path / "eps.npz", **arrays)
    with pytest.raises(DatasetError) as e:
        EpisodeDataset.load(tmp_path / "eps")
    msg = str(e.value)
    assert "eps.npz" in msg and "not finite at frame 4 (dz)" in msg and "rebuild" in msg and "\n" not in msg


def test_bad_demos_and_episodes_fail_with_one_line_naming_the_file_and_the_fix(tmp_path):
    demo = make_demo("bad", steps=8)
    demo.ee_contact_m[5, 1] = np.nan
    ds = DemoSet("place", "panda", 10.0, [make_demo("ok"), demo])
    ds.save(tmp_path / "place")
    with pytest.raises(DatasetError) as e:
        dataset_from_demosets({tmp_path / "place": DemoSet.load(tmp_path / "place")}, {"place": "release"})
    msg = str(e.value)
    assert (
        str(tmp_path / "place.npz") in msg and "demo 1 (bad)" in msg and "step 5" in msg and "\n" not in msg
    )
    assert "vid2skill retarget" in msg
    ok = episode_from_demo(make_demo("c"), "place", "release")
    with pytest.raises(DatasetError, match="action has 13 frames but observation.state has 14"):
        Episode("place", "c", ok.state, ok.goal, ok.action[:-1], source="x.parquet episode 0")
    with pytest.raises(DatasetError, match=r"x.parquet episode 0: observation.goal has shape \(14, 3\)"):
        Episode("place", "c", ok.state, ok.goal[:, :3], ok.action, source="x.parquet episode 0")
    with pytest.raises(DatasetError, match="images must be"):
        Episode("place", "c", ok.state, ok.goal, ok.action, {"front": np.zeros((14, 4, 4, 3), np.float32)})
    mixed = DemoSet("slide_open", "iiwa", 10.0, [make_demo("d")])
    with pytest.raises(DatasetError, match="mix robots"):
        dataset_from_demosets({tmp_path / "a": ds, tmp_path / "b": mixed}, {})
    assert len(episodes_from_demoset(DemoSet("place", "panda", 10.0, [make_demo("ok")]), "release")) == 1
