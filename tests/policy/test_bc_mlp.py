import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import pull_demo
from vid2skill.dataset.episodes import Episode
from vid2skill.dataset.features import GOAL, STATE, TIMESTAMP
from vid2skill.policy.bc_mlp import BCMLPConfig, BCMLPPolicy, train_bc_mlp
from vid2skill.policy.checkpoint import load_checkpoint, load_policy, save_checkpoint
from vid2skill.retarget.demos import RobotDemo


def _demo(length_m: float, steps: int = 15, turn_rad: float = 0.0) -> RobotDemo:
    return pull_demo(length_m, steps, turn_rad)


def _obs(x: float, t: float, goal=(0.0, 0.0, 0.0, 0.0), rz: float = 0.0) -> dict:
    state = np.zeros(8, np.float32)
    state[0], state[5] = x, rz
    return {
        STATE.key: state,
        GOAL.key: np.asarray(goal, np.float32),
        TIMESTAMP.key: np.array([t], np.float32),
    }


def test_bc_learns_a_6dof_motion_and_its_release_and_round_trips(tmp_path):
    cfg = BCMLPConfig.defaults(hidden=[64, 64], epochs=120, noise_copies=4, device="cpu", tensorboard=True)
    model, stats = train_bc_mlp(
        [_demo(-0.2, turn_rad=0.6), _demo(-0.22, turn_rad=0.6), _demo(-0.18, turn_rad=0.6)],
        cfg,
        control_hz=10.0,
        run_dir=tmp_path / "run",
    )
    assert stats["final_loss"] < 0.5 * stats["first_loss"]
    policy = BCMLPPolicy(cfg, model=model, stats=stats)
    policy.reset()
    a = policy.select_action(_obs(0.0, 0.0))
    assert a[0] < -0.005 and a[5] > 0.01 and a[6] == 1.0  # pulls and turns at the start
    policy.reset()
    assert policy.select_action(_obs(-0.2, 1.6, rz=0.6))[6] == 0.0  # lets go at the end
    assert list((tmp_path / "run" / "tensorboard").glob("events.*"))  # scalars for TensorBoard

    save_checkpoint(tmp_path, 120, "bc_mlp", model, cfg, stats)
    loaded = load_policy(tmp_path)
    assert loaded.config == cfg and load_checkpoint(tmp_path)[1] == cfg
    for obs in (_obs(0.0, 0.0), _obs(-0.05, 0.4, rz=0.2), _obs(-0.2, 1.6)):
        policy.reset(), loaded.reset()
        assert np.array_equal(policy.select_action(obs), loaded.select_action(obs))


def _goal_episode(goal_xy, clip: str) -> Episode:
    """Straight to the goal at 2 cm a step, then stay."""
    T = 20
    g = np.array([*goal_xy, 0.0])
    p = np.array([g * min(1.0, 0.02 * t / np.linalg.norm(g)) for t in range(T)])
    state = np.column_stack([p, np.zeros((T, 3)), np.ones(T), np.linspace(0, 1, T)])
    action = np.column_stack([np.vstack([np.diff(p, axis=0), np.zeros(3)]), np.zeros((T, 3)), np.ones(T)])
    return Episode("place", clip, state, np.tile(np.append(g, 1.0), (T, 1)), action)


@pytest.mark.parametrize("head", ["deterministic", "gmm"])
def test_bc_is_goal_aware(head):
    rng = np.random.default_rng(0)
    eps = [
        _goal_episode(0.15 * np.array([np.cos(a), np.sin(a)]), f"c{i}")
        for i, a in enumerate(rng.uniform(0, 2 * np.pi, 24))
    ]
    cfg = BCMLPConfig.defaults(
        hidden=[64, 64],
        epochs=60,
        noise_copies=2,
        device="cpu",
        head=head,
        tensorboard=False,
        valid_fraction=0.2,
        patience=10,
    )
    model, stats = train_bc_mlp(eps, cfg, 10.0)
    assert stats["valid_episodes"] > 0 and stats["best_valid_loss"] is not None
    policy = BCMLPPolicy(cfg, model=model, stats=stats)
    steps = {}
    for name, goal in (
        ("+x", (0.15, 0.0, 0.0, 1.0)),
        ("-x", (-0.15, 0.0, 0.0, 1.0)),
        ("+y", (0.0, 0.15, 0.0, 1.0)),
    ):
        policy.reset()
        steps[name] = policy.select_action(_obs(0.0, 0.0, goal))[:3]
    assert steps["+x"][0] > 0.005 and steps["-x"][0] < -0.005 and steps["+y"][1] > 0.005


def test_training_resumes_from_its_last_save_point(tmp_path):
    from vid2skill.policy.bc_mlp import training_bc_mlp as tr

    demos = [_demo(-0.2), _demo(-0.22)]
    cfg = BCMLPConfig.defaults(
        hidden=[16], epochs=tr.SAVE_EVERY + 5, noise_copies=1, device="cpu", tensorboard=False
    )
    full, _ = train_bc_mlp(demos, cfg, 10.0)
    short = BCMLPConfig(**{**cfg.__dict__, "epochs": tr.SAVE_EVERY})
    # An interrupted run leaves its resume point; a later run with the same inputs continues from it.
    original = tr.RESUME_FILE
    train_bc_mlp(demos, short, 10.0, run_dir=tmp_path, resume_key="k")  # finishes: removes its resume point
    assert not (tmp_path / original).exists()
    import torch

    state = {}
    real_save = torch.save

    def keep(obj, path, *a, **k):
        state["obj"] = obj
        return real_save(obj, path, *a, **k)

    torch.save = keep
    try:
        train_bc_mlp(demos, short, 10.0, run_dir=tmp_path, resume_key="k")
    finally:
        torch.save = real_save
    torch.save(state["obj"], tmp_path / original)  # as an interrupted run leaves it
    resumed, stats = train_bc_mlp(demos, cfg, 10.0, run_dir=tmp_path, resume_key="k")
    x = torch.zeros(1, 14)
    assert (
        torch.allclose(resumed(x)["mean"], full(x)["mean"], atol=1e-5) and stats["epochs_run"] == cfg.epochs
    )
    # A run killed while writing its resume point leaves a truncated file: the next run starts over.
    real_save(state["obj"], tmp_path / original)
    data = (tmp_path / original).read_bytes()
    (tmp_path / original).write_bytes(data[: len(data) // 2])
    again, stats = train_bc_mlp(demos, cfg, 10.0, run_dir=tmp_path, resume_key="k")
    assert torch.allclose(again(x)["mean"], full(x)["mean"], atol=1e-5) and stats["epochs_run"] == cfg.epochs
    assert not (tmp_path / original).exists() and not list(tmp_path.glob("*.tmp"))


def test_config_rejects_bad_values():
    from vid2skill.errors import ConfigError

    with pytest.raises(ConfigError, match="policy.hidden"):
        BCMLPConfig.defaults(hidden=[])
    with pytest.raises(ConfigError, match="device"):
        BCMLPConfig.defaults(device="tpu")
    with pytest.raises(ConfigError, match="policy.head"):
        BCMLPConfig.defaults(head="flow")
    with pytest.raises(ConfigError, match="filter_success.*motion_rollouts, best_motion, auto or select"):
        BCMLPConfig.defaults(filter_success=True, train_on="demos")


def _workspace_with(tmp_path, demos):
    from vid2skill.retarget.demos import DemoSet

    out = tmp_path / "retarget" / "panda"
    DemoSet("slide_open", "panda", 10.0, demos).save(out / "slide_open")
    (out / "index.json").write_text(json.dumps(["slide_open"]))
    return out


def test_too_few_demonstrations_or_nans_say_which_file_and_what_to_do(tmp_path):
    from tests.helpers import make_cfg
    from vid2skill.errors import DatasetError
    from vid2skill.pipeline import run_train

    cfg = make_cfg(
        [
            f"workspace={tmp_path}",
            "policy.train_on=demos",
            "policy.epochs=2",
            "policy.min_demos=2",
            "workers=1",
        ]
    )
    out = _workspace_with(tmp_path, [_demo(-0.2)])
    with pytest.raises(
        DatasetError, match=r"slide_open\.json holds 1 usable demonstration.*policy\.min_demos"
    ) as e:
        run_train(cfg, tmp_path)
    assert str(out / "slide_open.json") in str(e.value) and "\n" not in str(e.value)
    bad = _demo(-0.2)
    bad.ee_contact_m[3, 1] = np.nan
    out = _workspace_with(tmp_path, [_demo(-0.2), bad])
    with pytest.raises(
        DatasetError, match=r"slide_open\.npz demo 1 .*not finite.*rerun `vid2skill retarget"
    ) as e:
        run_train(cfg, tmp_path)
    assert "\n" not in str(e.value)


def test_learned_policies_let_go_only_where_the_skill_ends_with_a_release():
    from types import SimpleNamespace

    from vid2skill.sim.policies import StepPolicy

    class LetsGo:  # a model whose demonstrations ended with the hand opening
        def act(self, x, max_step):
            return np.zeros(3), False

    obs = {"T_contact_cmd": np.eye(4), "t_s": 2.0}
    for release_at_end, expect in ((True, False), (False, True)):
        policy = StepPolicy(LetsGo(), 0.01, "bc")
        policy.reset(SimpleNamespace(skill={"release_at_end": release_at_end}), np.eye(4))
        assert policy.act(obs)[1] is expect


def test_train_on_select_keeps_the_candidate_that_succeeds_more_in_training_scenes(tmp_path):
    """``train_on=select`` trains on the arrays, on rollouts of all fitted motions and on rollouts of
    the one that succeeded most, tries each in training scenes, keeps the best (a tie keeps the one
    that learnt from more episodes, then the first tried) and records every count."""
    from dataclasses import replace

    from tests.helpers import make_cfg
    from vid2skill.errors import ConfigError
    from vid2skill.pipeline import run_train
    from vid2skill.retarget.primitives import SkillMotion

    pull = SkillMotion("slide", 1.5, {"travel_m": 0.25}, {"s": np.linspace(0, 1, 15)}, "line")
    nudge = SkillMotion("slide", 1.5, {"travel_m": 0.04}, {"s": np.linspace(0, 1, 15)}, "line")
    # The arrays pull 4 cm (a drawer that stays shut); one fitted motion pulls 25 cm, one 4 cm.
    demos = [replace(_demo(-0.04), clip=f"c{i}", motion=m) for i, m in enumerate((pull, nudge))]
    _workspace_with(tmp_path, demos)
    cfg = make_cfg(
        [
            f"workspace={tmp_path}",
            "policy.train_on=select",
            "policy.epochs=60",
            "policy.rollouts=4",
            "policy.select_episodes=3",
            "policy.tensorboard=false",
            "workers=1",
        ]
    )
    out = run_train(cfg, tmp_path)["slide_open"]
    trials = dict(out["select"])
    order, skipped = ("demos", "motion_rollouts", "best_motion"), trials.pop("not_tried")
    assert trials.pop("scenes") == 3 and set(trials) | set(skipped) == set(order)
    assert not set(trials) & set(skipped)
    # a candidate is left untried only after a rollouts' candidate succeeded in every trial scene
    assert not skipped or trials.get("motion_rollouts") == 3
    best = max(trials, key=lambda k: (trials[k], k != "demos", -order.index(k)))
    assert out["train_on"] == best
    assert trials["demos"] == 0  # the 4-cm arrays open nothing
    assert max(trials.get("best_motion", 0), trials["motion_rollouts"]) >= 2  # the 25-cm pull opens it
    if best == "best_motion":
        assert out["member"] == "c0" and out["member_successes"] == {"c0": "2/2", "c1": "0/2"}
    # the stage's record splits select's time: rollouts made, every candidate's fit, their trials
    assert all(out[k] > 0 for k in ("data_s", "train_s", "trials_s"))

    # filter_success filters the rollouts' candidate and leaves the arrays' alone
    kept = make_cfg(
        [
            f"workspace={tmp_path}",
            "policy.train_on=select",
            "policy.filter_success=true",
            "policy.epochs=2",
            "policy.rollouts=4",
            "policy.select_episodes=1",
            "policy.tensorboard=false",
            "workers=1",
        ]
    )
    out = run_train(kept, tmp_path)["slide_open"]
    assert {"scenes", "demos", "not_tried"} <= set(out["select"])
    assert out["train_on"] == "demos" or out["filter_success"] is True

    bad = make_cfg([f"workspace={tmp_path}", "policy.train_on=select", "policy.select_start_seed=1000002"])
    with pytest.raises(ConfigError, match="select_start_seed=1000002 .*rollouts' training scenes"):
        run_train(bad, tmp_path)


def test_a_skill_with_too_few_demonstrations_does_not_stop_the_others(tmp_path):
    """Training goes on past a skill whose demonstrations are unusable: the others are trained, the
    skipped one's entry in the stage record names the file and the fix."""
    from tests.helpers import make_cfg
    from vid2skill.pipeline import run_train
    from vid2skill.retarget.demos import DemoSet

    out = tmp_path / "retarget" / "panda"
    DemoSet("slide_open", "panda", 10.0, [_demo(-0.2)]).save(out / "slide_open")
    DemoSet("slide_close", "panda", 10.0, [_demo(0.2), _demo(0.22)]).save(out / "slide_close")
    (out / "index.json").write_text(json.dumps(["slide_open", "slide_close"]))
    cfg = make_cfg([f"workspace={tmp_path}", "policy.train_on=demos", "policy.epochs=2", "workers=1"])
    res = run_train(cfg, tmp_path)
    assert "checkpoint" in res["slide_close"] and (tmp_path / "policies" / "panda" / "slide_close").is_dir()
    assert "slide_open.json holds 1 usable demonstration" in res["slide_open"]["error"]
    assert not (tmp_path / "policies" / "panda" / "slide_open").exists()


def test_last_steps_are_the_pose_changes_between_frames():
    from scipy.spatial.transform import Rotation

    from vid2skill.policy.observation import last_steps

    state = np.zeros((3, 8))
    state[:, 0] = [0.0, 0.01, 0.03]
    state[:, 5] = [0.0, 0.1, 0.1]
    prev = last_steps(state)
    assert np.allclose(prev[0], 0) and np.isclose(prev[1, 0], 0.01) and np.isclose(prev[2, 0], 0.02)
    assert np.allclose(prev[1, 3:], [0, 0, 0.1]) and np.allclose(prev[2, 3:], 0)
    step = Rotation.from_rotvec(prev[1, 3:]) * Rotation.from_rotvec(state[0, 3:6])
    assert np.allclose(step.as_rotvec(), state[1, 3:6])


def _saw_episode(period_s: float, clip: str, hz: float = 10.0, T: int = 60) -> Episode:
    """A 4-cm approach along x, then strokes of +-3 cm along y at ``period_s``."""
    t = np.arange(T) / hz
    y = np.where(t < 1.0, 0.0, 0.03 * np.sin(2 * np.pi * np.clip(t - 1.0, 0, None) / period_s))
    x = 0.04 * np.clip(t, 0, 1.0)
    p = np.column_stack([x, y, np.zeros(T)])
    state = np.column_stack([p, np.zeros((T, 3)), np.ones(T), t / t[-1]])
    action = np.column_stack([np.vstack([np.diff(p, axis=0), np.zeros(3)]), np.zeros((T, 3)), np.ones(T)])
    return Episode("cut", clip, state, np.zeros((T, 4)), action)


def _strokes(policy, hz: float = 10.0, T: int = 60) -> tuple[int, float]:
    """(reversals after strokes of >= 1 cm, half the y range) of the policy's own motion after the
    approach, driven by its own commands."""
    policy.reset()
    state, ys = np.zeros(8, np.float32), []
    state[6] = 1.0
    for k in range(T):
        t = np.array([k / hz], np.float32)
        goal = np.zeros(4, np.float32)
        a = policy.select_action({STATE.key: state.copy(), GOAL.key: goal, TIMESTAMP.key: t})
        state[:3] += a[:3]
        ys.append(state[1])
    ys = np.array(ys[int(hz) :])
    reversals, direction, start = 0, 0, ys[0]
    for i in range(1, len(ys)):
        d = np.sign(ys[i] - ys[i - 1])
        if d and d != direction:
            reversals += int(bool(direction) and abs(ys[i - 1] - start) >= 0.01)
            start, direction = ys[i - 1], d
    return reversals, 0.5 * float(ys.max() - ys.min())


def test_the_last_step_keeps_strokes_of_different_paces_apart():
    """Strokes demonstrated at different paces meet at the same pose and time moving opposite ways:
    an MLP of pose and time averages them away, one that also reads its last step keeps stroking."""
    eps = [_saw_episode(p, f"c{i}") for i, p in enumerate([0.8, 1.0, 1.3, 1.7])]
    found = {}
    for prev in ("never", "always"):
        cfg = BCMLPConfig.defaults(
            hidden=[128, 128],
            epochs=200,
            noise_copies=4,
            noise_std_m=0.005,
            device="cpu",
            tensorboard=False,
            prev_step=prev,
            seed=0,
        )
        model, stats = train_bc_mlp(eps, cfg, control_hz=10.0)
        found[prev] = _strokes(BCMLPPolicy(cfg, model=model, stats=stats))
    (rev_never, _), (rev_always, amp_always) = found["never"], found["always"]
    assert rev_never <= 2 and rev_always >= 4 and 0.015 < amp_always < 0.1, found


def test_prev_step_is_resolved_by_the_skills_definition():
    from omegaconf import OmegaConf

    cfg = BCMLPConfig.defaults()
    assert cfg.prev_step == "periodic" and not cfg.reads_last_step
    stir, pick = OmegaConf.create({"periodic": True}), OmegaConf.create({"periodic": False})
    assert BCMLPPolicy.config_for_skill(cfg, stir).reads_last_step
    assert BCMLPPolicy.config_for_skill(cfg, pick).prev_step == "never"
    assert BCMLPPolicy.build_model(BCMLPPolicy.config_for_skill(cfg, stir)).obs_mean.shape[0] == 20
    never = BCMLPConfig.defaults(prev_step="never")
    assert BCMLPPolicy.config_for_skill(never, stir) is never
    from vid2skill.errors import ConfigError

    with pytest.raises(ConfigError, match="prev_step"):
        BCMLPConfig.defaults(prev_step="sometimes")


def test_dagger_learns_from_the_expert_where_the_demonstrations_fail_and_keeps_the_best_round(
    tmp_path, monkeypatch
):
    """Demonstrations whose arrays pull 4 cm open no drawer; one DAgger round, whose rollouts the
    scripted expert labels, makes a learner that opens it. The round learns from the expert's own
    rollouts (``expert_rollouts``) and its labels of the learner's; with ``aggregate=all`` from the
    demonstrations too; ``keep=best`` saves the round that succeeded most in the judging scenes,
    the same for every round."""
    from dataclasses import replace

    import vid2skill.sim.rollouts as rollouts
    from tests.helpers import make_cfg
    from vid2skill.errors import ConfigError
    from vid2skill.pipeline import run_train

    judged, labelled = [], []
    for name, seen in (("learner_successes", judged), ("expert_relabelled_rollouts", labelled)):
        real = getattr(rollouts, name)
        monkeypatch.setattr(rollouts, name, lambda *a, real=real, seen=seen: seen.append(a[4]) or real(*a))
    _workspace_with(tmp_path, [replace(_demo(-0.04), clip=f"c{i}") for i in range(2)])
    base = [
        f"workspace={tmp_path}",
        "policy.train_on=demos",
        "policy.epochs=60",
        "policy.tensorboard=false",
        "policy.valid_fraction=0",
        "dagger.iterations=1",
        "dagger.rollouts=4",
        "dagger.expert_rollouts=2",
        "dagger.judge_episodes=3",
        "workers=1",
    ]
    out = run_train(make_cfg(base), tmp_path)["slide_open"]["dagger"]
    curve = out["dagger_curve"]
    assert [c["iteration"] for c in curve] == [0, 1] and [c["rollouts"] for c in curve] == [3, 3]
    assert curve[0]["learner_success"] == 0 and curve[1]["learner_success"] >= 0.5
    # Both rounds judged in the same three scenes, after the learner's and the expert's rollouts.
    assert judged[0] == judged[1] and len(judged[0]) == 3 and min(judged[0]) > max(labelled[0])
    assert "policies_dagger" in out["checkpoint"]
    stats = json.loads((Path(out["checkpoint"]) / "stats.json").read_text())
    assert stats["dagger_round"] == 1 and stats["episodes"] == 6  # the expert's two, the learner's four

    alone = run_train(make_cfg([*base, "dagger.expert_rollouts=0"]), tmp_path)
    stats = json.loads((Path(alone["slide_open"]["dagger"]["checkpoint"]) / "stats.json").read_text())
    assert stats["episodes"] == 4  # the learner's four rollouts, relabelled, only

    both = run_train(make_cfg([*base, "dagger.aggregate=all", "dagger.keep=last"]), tmp_path)
    stats = json.loads((Path(both["slide_open"]["dagger"]["checkpoint"]) / "stats.json").read_text())
    assert stats["dagger_round"] == 1 and stats["episodes"] == 8  # the two demonstrations too
    with pytest.raises(ConfigError, match="dagger.keep='first'; choose one of best, last"):
        run_train(make_cfg([*base, "dagger.keep=first"]), tmp_path)
    with pytest.raises(ConfigError, match="dagger.expert_rollouts=-1"):
        run_train(make_cfg([*base, "dagger.expert_rollouts=-1"]), tmp_path)
    with pytest.raises(ConfigError, match="dagger.judge_episodes=0; give 1 or more"):
        run_train(make_cfg([*base, "dagger.judge_episodes=0"]), tmp_path)
    with pytest.raises(ConfigError, match="dagger.hold_on_s=-1.0; give 0 or more seconds"):
        run_train(make_cfg([*base, "dagger.hold_on_s=-1"]), tmp_path)


def test_best_motion_is_the_demonstration_whose_rollouts_succeeded_most():
    """By success rate, then count; among equals the most typical pace; none when nothing succeeded."""
    from types import SimpleNamespace as NS

    from vid2skill.pipeline import _best_motion

    demo = lambda clip, dur: NS(clip=clip, motion=NS(duration_s=dur))  # noqa: E731
    learn = [demo("a", 1.0), demo("b", 2.0), demo("c", 3.0), demo("d", 9.0)]
    eps = [NS(clip=f"{c}#{i}") for i, c in enumerate("abcdabcdab")]
    ok = [s == "1" for s in "0111011101"]  # a 0/3, b 3/3, c 2/2, d 2/2
    best, rates = _best_motion(learn, eps, ok)
    assert best.clip == "b" and rates == {"a": "0/3", "b": "3/3", "c": "2/2", "d": "2/2"}
    # b, c and d all succeed twice in two: the pace nearest their median (3 s) wins.
    best, _ = _best_motion(learn, eps[:8], ok[:8])
    assert best.clip == "c"
    assert _best_motion(learn, eps, [False] * 10) == (None, {})


def test_select_does_not_try_a_candidate_that_could_not_rank_above_the_best(tmp_path, monkeypatch):
    """With every trial a success, the arrays (2 episodes) are beaten by all fitted motions' rollouts
    (4 episodes, the most any rollouts' candidate has), and the one best motion's rollouts, which
    could at most tie, are neither rolled out nor trained."""
    from dataclasses import replace

    import vid2skill.sim.rollouts as rollouts
    from tests.helpers import make_cfg
    from vid2skill.pipeline import run_train
    from vid2skill.retarget.primitives import SkillMotion

    pull = SkillMotion("slide", 1.5, {"travel_m": 0.25}, {"s": np.linspace(0, 1, 15)}, "line")
    demos = [replace(_demo(-0.04), clip=f"c{i}", motion=pull) for i in range(2)]
    _workspace_with(tmp_path, demos)
    calls = []
    real_rollouts = rollouts.motion_rollouts

    def counting(demos, **kw):
        calls.append(len(demos))
        return real_rollouts(demos, **kw)

    monkeypatch.setattr(rollouts, "motion_rollouts", counting)
    monkeypatch.setattr(rollouts, "learner_successes", lambda learner, *a: [True] * len(a[3]))
    cfg = make_cfg(
        [
            f"workspace={tmp_path}",
            "policy.train_on=select",
            "policy.epochs=2",
            "policy.rollouts=4",
            "policy.select_episodes=2",
            "policy.tensorboard=false",
            "workers=1",
        ]
    )
    out = run_train(cfg, tmp_path)["slide_open"]
    assert out["select"] == {"scenes": 2, "demos": 2, "motion_rollouts": 2, "not_tried": ["best_motion"]}
    assert out["train_on"] == "motion_rollouts" and calls == [2]  # only all motions were rolled out


def test_select_ranks_by_trial_successes_then_by_how_many_episodes_it_learnt_from():
    from vid2skill.pipeline import _select_rank

    arrays, rollouts = _select_rank(10, 4), _select_rank(10, 40)
    assert rollouts > arrays  # a tie in the trials: the wider data
    assert _select_rank(9, 4) > _select_rank(8, 40)  # the trials decide first
    assert not _select_rank(10, 4) > _select_rank(10, 4)  # a full tie keeps the first tried
