"""Episodes and the evaluate stage: determinism, the expert's table, replay of demos
(vid2skill/sim/, vid2skill/policy/replay/)."""

import json

import numpy as np
import pytest

from tests.helpers import Push, make_cfg
from vid2skill.retarget.stage import robot_spec
from vid2skill.sim.episode import EpisodeRunner
from vid2skill.sim.policies import ExpertPolicy


@pytest.fixture(scope="module")
def cfg():
    return make_cfg(["workers=1"])


def test_same_seed_same_episode(cfg):
    runner = EpisodeRunner(cfg.skill["slide_open"], cfg.sim, robot_spec(cfg.robot))
    a, b = runner.run(Push(-0.2, 10), 5), runner.run(Push(-0.2, 10), 5)
    assert a["opening_m"] == b["opening_m"]


def test_evaluate_expert_command_writes_table_and_is_deterministic(tmp_path):
    from vid2skill.pipeline import run_stage

    cfg = make_cfg(
        [f"workspace={tmp_path}", "policy=expert", "skill=place", "episodes=3", "workers=1", "sim.videos=1"]
    )
    run_stage(cfg, "evaluate")
    out = tmp_path / "eval" / "expert" / "panda"
    first = json.loads((out / "results.json").read_text())
    assert [(r["skill"], r["robot"], r["policy"], r["episodes"]) for r in first] == [
        ("place", "panda", "expert", 3)
    ]
    assert first[0]["successes"] == 3
    assert list((out / "videos").glob("*.mp4")) and list((out / "videos").glob("*.gif"))
    eps = json.loads((out / "episodes.json").read_text())["episodes"]
    assert sorted(e["seed"] for e in eps) == [100000, 100001, 100002]
    cfg.force = True
    run_stage(cfg, "evaluate")
    again = json.loads((out / "episodes.json").read_text())["episodes"]
    key = lambda e: e["seed"]  # noqa: E731
    assert [e["offset_m"] for e in sorted(eps, key=key)] == [e["offset_m"] for e in sorted(again, key=key)]


def test_replay_executes_a_demo_open_loop(cfg):
    from vid2skill.retarget.demos import RobotDemo
    from vid2skill.sim.policies import ReplayPolicy

    T = 25
    pull = np.zeros((T, 3))
    pull[:, 0] = np.linspace(0, -0.26, T)  # pull the handle 26 cm out, along -x of the contact frame
    closed = np.ones(T, bool)
    closed[-3:] = False
    demo = RobotDemo("pull", pull, closed, np.zeros((T, 7)), np.zeros(T))
    runner = EpisodeRunner(cfg.skill["slide_open"], cfg.sim, robot_spec(cfg.robot))
    out = runner.run(ReplayPolicy(demo), 100003)
    assert out["success"] and out["released_at"] == T - 3
    still = RobotDemo("still", np.zeros((T, 3)), closed, np.zeros((T, 7)), np.zeros(T))
    assert not runner.run(ReplayPolicy(still), 100003)["success"]


def test_replay_of_a_pick_keeps_holding_after_the_demo_lets_go(cfg):
    """A pick is judged while holding: a demo that lifts and then opens the hand (as a person's does
    at the end of a video) is replayed holding the last pose, not dropping the object."""
    from vid2skill.retarget.demos import RobotDemo
    from vid2skill.sim.policies import ReplayPolicy

    T = 15
    lift = np.zeros((T, 3))
    lift[:, 0] = np.linspace(0, -0.15, T)  # up: -x of the pick's contact frame
    closed = np.ones(T, bool)
    closed[-2:] = False
    demo = RobotDemo("lift", lift, closed, np.zeros((T, 7)), np.zeros(T))
    out = EpisodeRunner(cfg.skill["pick"], cfg.sim, robot_spec(cfg.robot)).run(ReplayPolicy(demo), 100002)
    assert out["released_at"] is None and out["held_s"] >= 1.0 and out["success"]


def test_evaluate_replay_without_demos_says_what_to_run(tmp_path):
    from vid2skill.errors import ArtifactError
    from vid2skill.sim.evaluate import evaluate

    cfg = make_cfg([f"workspace={tmp_path}", "policy=replay", "skill=slide_open", "episodes=1", "workers=1"])
    with pytest.raises(ArtifactError, match="vid2skill retarget"):
        evaluate(cfg, tmp_path)


def test_replay_turns_the_gripper_as_the_demo_does(cfg):
    """Record the pour expert's commands as a demo (positions and rotations since the grasp): replayed
    open-loop on the same scene it pours; with the rotations dropped the cup never tips."""
    from scipy.spatial.transform import Rotation

    from vid2skill.retarget.demos import RobotDemo
    from vid2skill.sim.policies import ReplayPolicy

    class Recorder(ExpertPolicy):
        def reset(self, task, T_contact_start):
            super().reset(task, T_contact_start)
            self.T0, self.log = T_contact_start, []

        def act(self, obs):
            T, keep = super().act(obs)
            self.log.append(T)
            return T, keep

    runner = EpisodeRunner(cfg.skill["pour"], cfg.sim, robot_spec(cfg.robot))
    seed = 100001
    rec = Recorder()
    assert runner.run(rec, seed)["success"]
    Ts = np.stack(rec.log)
    pos = Ts[:, :3, 3] - rec.T0[:3, 3]
    rotvec = Rotation.from_matrix(Ts[:, :3, :3] @ rec.T0[:3, :3].T).as_rotvec()
    n = len(Ts)
    demo = RobotDemo("pour", pos, np.ones(n, bool), np.zeros((n, 7)), np.zeros(n), rotvec)
    assert np.degrees(np.linalg.norm(rotvec[-1])) > 90
    assert runner.run(ReplayPolicy(demo), seed)["success"]
    flat = RobotDemo("pour", pos, np.ones(n, bool), np.zeros((n, 7)), np.zeros(n))
    assert runner.run(ReplayPolicy(flat), seed)["spheres_in_bowl"] == 0
