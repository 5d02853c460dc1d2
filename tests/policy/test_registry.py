"""The policy protocol and its one registry (vid2skill/policy/base.py, registry.py)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from tests.helpers import make_cfg
from vid2skill.dataset.features import STATE, TIMESTAMP, check_features
from vid2skill.errors import ArtifactError, ConfigError
from vid2skill.policy.base import LearnedPolicy
from vid2skill.policy.bc_mlp import BCMLPConfig, BCMLPPolicy
from vid2skill.policy.checkpoint import load_policy, save_checkpoint
from vid2skill.policy.registry import available, get_policy
from vid2skill.retarget.demos import RobotDemo


def _demo(length_m: float, steps: int = 12) -> RobotDemo:
    p = np.zeros((steps + 3, 3))
    p[:steps, 0] = np.linspace(0, length_m, steps)
    p[steps:, 0] = length_m
    closed = np.ones(steps + 3, bool)
    closed[steps:] = False
    return RobotDemo("d", p, closed, np.zeros((steps + 3, 7)), np.zeros(steps + 3))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cfg = BCMLPConfig.defaults(hidden=[32, 32], epochs=200, noise_copies=2, device="cpu", tensorboard=False)
    model, stats = BCMLPPolicy.train([_demo(-0.2), _demo(-0.22)], cfg, 10.0)
    root = tmp_path_factory.mktemp("bc")
    save_checkpoint(root, 20, "bc_mlp", model, cfg, stats)  # step 20: the folder the tests below edit
    return root, BCMLPPolicy(cfg, model=model, stats=stats)


def _obs(x: float, t: float) -> dict:
    state = np.zeros(8, np.float32)
    state[0] = x
    return {STATE.key: state, TIMESTAMP.key: np.array([t], np.float32)}


def test_every_policy_type_is_registered_by_name():
    assert {"expert", "replay", "bc_mlp"} <= set(available())
    assert (
        get_policy("bc_mlp") is BCMLPPolicy and get_policy("expert").privileged and not BCMLPPolicy.privileged
    )
    assert [get_policy(n).made_by for n in ("expert", "replay", "bc_mlp")] == [None, "retarget", "train"]
    with pytest.raises(ConfigError, match="not a known policy.*bc_mlp.*vid2skill/policy/<name>/"):
        get_policy("diffusion")


def test_save_and_load_pretrained_give_identical_actions(trained, tmp_path):
    root, policy = trained
    policy.save_pretrained(tmp_path / "p")
    for loaded in (
        BCMLPPolicy.from_pretrained(tmp_path / "p"),
        load_policy(root),
        get_policy("bc_mlp").from_pretrained(root),
    ):
        assert loaded.config == policy.config
        for x, t in ((0.0, 0.0), (-0.05, 0.4), (-0.2, 1.5)):
            policy.reset(), loaded.reset()
            assert np.array_equal(policy.select_action(_obs(x, t)), loaded.select_action(_obs(x, t)))
    # Its features are the dataset's own, so an environment can be checked against it up front.
    from vid2skill.dataset.features import input_features

    check_features(
        input_features() | {TIMESTAMP.key: TIMESTAMP}, policy.input_features, "the environment", "bc_mlp"
    )


def test_skills_judged_while_holding_never_let_go(trained):
    _, policy = trained
    for release_at_end, expect in ((True, 0.0), (False, 1.0)):
        p = policy.with_skill({"release_at_end": release_at_end})
        p.reset()
        assert p.select_action(_obs(-0.2, 1.6))[6] == expect  # the demos open the hand at the end


def _config_path(root):
    return root / "checkpoints" / "000020" / "config.json"


@pytest.mark.parametrize(
    "edit,match",
    [
        (
            lambda raw: {**raw, "policy": "act"},
            r"config\.json holds a 'act' policy, not 'bc_mlp'.*policy=act",
        ),
        (
            lambda raw: {**raw, "schema_version": 1},
            r"config\.json holds bc_mlp schema v1.*reads v2.*force=true",
        ),
        (lambda raw: {**raw, "hidden": [16]}, r"model\.pt does not fit bc_mlp.*retrain"),
        (lambda raw: {**raw, "n_heads": 4}, r"config\.json does not match.*retrain"),
    ],
)
def test_a_checkpoint_of_another_type_or_schema_says_what_to_do(trained, tmp_path, edit, match):
    import shutil

    root = tmp_path / "ck"
    shutil.copytree(trained[0], root)
    raw = json.loads(_config_path(root).read_text())
    _config_path(root).write_text(json.dumps(edit(raw)))
    with pytest.raises(ArtifactError, match=match) as e:
        BCMLPPolicy.from_pretrained(root)
    assert str(_config_path(root).parent) in str(e.value) and "\n" not in str(e.value)


def test_missing_policy_says_which_command_trains_it(tmp_path):
    from vid2skill.sim.evaluate import evaluate

    with pytest.raises(ArtifactError, match="vid2skill train policy=bc_mlp"):
        BCMLPPolicy.from_pretrained(tmp_path / "nothing")
    cfg = make_cfg([f"workspace={tmp_path}", "policy=bc_mlp", "skill=slide_open", "episodes=1", "workers=1"])
    with pytest.raises(ArtifactError, match="run `vid2skill train policy=bc_mlp robot=panda"):
        evaluate(cfg, tmp_path)


def test_replay_is_built_from_a_demo_and_uses_its_motion_where_it_has_one():
    replay = get_policy("replay")
    plain = _demo(-0.2)
    with_motion = SimpleNamespace(motion=SimpleNamespace(duration_s=1.0), ee_contact_m=plain.ee_contact_m)
    loaded = SimpleNamespace(demos=[plain, with_motion])
    assert type(replay.for_episode(loaded, 0, {})).__name__ == "ReplayPolicy"
    assert type(replay.for_episode(loaded, 3, {})).__name__ == "MotionReplayPolicy"
    assert replay.for_episode(loaded, 3, {}).motion is with_motion.motion


class Chunker(LearnedPolicy):
    """Predicts chunks of 4 actions and executes 2 of each (ACT's n_action_steps)."""

    n_action_steps = 2

    def __init__(self):
        super().__init__(None, model=object())
        self.calls = 0

    def predict_action_chunk(self, obs):
        self.calls += 1
        return np.tile(np.arange(4.0)[:, None], (1, 7)) + 10 * self.calls


def test_chunked_policies_execute_n_action_steps_then_predict_again():
    p = Chunker()
    p.reset()
    firsts = [p.select_action({})[0] for _ in range(5)]
    assert firsts == [10, 11, 20, 21, 30] and p.calls == 3
    p.reset()
    assert p.select_action({})[0] == 40  # reset drops the rest of a chunk
