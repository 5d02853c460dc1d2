"""The action-chunking transformer policy ``act`` (vid2skill/policy/act/)."""

import json
import shutil

import numpy as np
import pytest
import torch

from tests.helpers import make_cfg, pull_demo
from vid2skill.dataset.features import GOAL, STATE, TIMESTAMP
from vid2skill.errors import ArtifactError, ConfigError
from vid2skill.policy.act import ACT, ACTConfig, ACTPolicy, TemporalEnsembler, train_act
from vid2skill.policy.act.training_act import build_chunks, chunk_targets
from vid2skill.policy.checkpoint import load_policy, save_checkpoint
from vid2skill.policy.registry import get_policy
from vid2skill.retarget.demos import RobotDemo

TINY = dict(
    chunk_size=4,
    d_model=32,
    n_heads=2,
    dim_feedforward=64,
    latent_dim=4,
    dropout=0.0,
    device="cpu",
    lr=1e-3,
    min_updates=0,
    tensorboard=False,
    batch_size=64,
)


def _demo(length_m: float, steps: int = 12, turn_rad: float = 0.4) -> RobotDemo:
    """Pull along -x while turning about z, then let go (three still frames)."""
    return pull_demo(length_m, steps, turn_rad)


def _obs(x: float, t: float, rz: float = 0.0) -> dict:
    state = np.zeros(8, np.float32)
    state[0], state[5] = x, rz
    return {STATE.key: state, GOAL.key: np.zeros(4, np.float32), TIMESTAMP.key: np.array([t], np.float32)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cfg = ACTConfig.defaults(**TINY, epochs=150, noise_copies=1)
    model, stats = train_act([_demo(-0.2), _demo(-0.22), _demo(-0.18)], cfg, 10.0)
    root = tmp_path_factory.mktemp("act")
    save_checkpoint(root, 7, "act", model, cfg, stats)
    return root, ACTPolicy(cfg, model=model, stats=stats), stats


def test_chunk_targets_pad_with_the_last_action_and_mask_it():
    rows = np.arange(5.0)[:, None] * np.ones((1, 7))
    chunk, valid = chunk_targets(rows, 3)
    assert chunk.shape == (5, 3, 7) and valid.shape == (5, 3)
    assert chunk[1, :, 0].tolist() == [1, 2, 3] and valid[1].all()
    assert chunk[3, :, 0].tolist() == [3, 4, 4] and valid[3].tolist() == [True, True, False]
    assert chunk[4, :, 0].tolist() == [4, 4, 4] and valid[4].tolist() == [True, False, False]


def test_noisy_chunks_start_with_the_step_back_and_keep_the_rest():
    from vid2skill.policy.training import as_episodes

    cfg = ACTConfig.defaults(**TINY, noise_copies=1, noise_std_m=0.005)
    ep = as_episodes([_demo(-0.2)])[0]
    X, C, V = build_chunks([ep], cfg, np.random.default_rng(0), 10.0)
    T = len(ep)
    assert X.shape == (2 * T, 14) and C.shape == (2 * T, 4, 7) and V.shape == (2 * T, 4)
    clean, noisy = C[:T], C[T:]
    assert np.array_equal(clean[:, 1:], noisy[:, 1:]) and np.array_equal(V[:T], V[T:])
    # The perturbed state plus its first step lands on the demonstration's next position.
    np.testing.assert_allclose(X[T:, :3] + noisy[:, 0, :3], X[:T, :3] + clean[:, 0, :3], atol=1e-6)


def test_padded_rows_do_not_count_in_the_loss():
    from vid2skill.policy.act.modeling_act import chunk_loss

    cfg = ACTConfig.defaults(**TINY)
    out = {"steps": torch.zeros(1, 4, 6), "grip": torch.full((1, 4), 10.0), "mu": None, "logvar": None}
    target = torch.zeros(1, 4, 7)
    target[..., 6] = 1.0
    target[0, 3, :6] = 100.0  # garbage in the padded row
    valid = torch.tensor([[True, True, True, False]])
    assert float(chunk_loss(out, target, valid, cfg)) < 1e-3
    assert float(chunk_loss(out, target, torch.ones(1, 4, dtype=torch.bool), cfg)) > 10


def test_temporal_ensemble_weights_match_a_hand_computation():
    ens = TemporalEnsembler(chunk_size=3, coeff=0.5)
    chunks = [
        np.array([[1.0], [2.0], [3.0]]),
        np.array([[10.0], [20.0], [30.0]]),
        np.array([[100.0], [200.0], [300.0]]),
        np.array([[7.0], [8.0], [9.0]]),
    ]
    w0, w1, w2 = 1.0, np.exp(-0.5), np.exp(-1.0)  # oldest chunk first
    assert ens.update(chunks[0])[0] == pytest.approx(1.0)
    assert ens.update(chunks[1])[0] == pytest.approx((w0 * 2 + w1 * 10) / (w0 + w1))
    assert ens.update(chunks[2])[0] == pytest.approx((w0 * 3 + w1 * 20 + w2 * 100) / (w0 + w1 + w2))
    # The first chunk covers only three steps: it drops out at the fourth.
    assert ens.update(chunks[3])[0] == pytest.approx((w0 * 30 + w1 * 200 + w2 * 7) / (w0 + w1 + w2))
    ens.reset()
    assert ens.update(chunks[3])[0] == pytest.approx(7.0)


def test_act_overfits_a_tiny_dataset_and_acts_like_it(trained):
    _, policy, stats = trained
    assert stats["final_loss"] < 0.25 * stats["first_loss"], stats
    assert 1_000 < stats["parameters"] < 500_000
    # The first chunk is the demonstrations' opening steps (-0.2 m and 0.4 rad over 11 steps).
    chunk = policy.predict_chunk(_obs(0.0, 0.0))
    np.testing.assert_allclose(chunk[:, 0], -0.2 / 11, atol=0.003)
    np.testing.assert_allclose(chunk[:, 5], 0.4 / 11, atol=0.005)
    policy.reset()
    a = policy.select_action(_obs(0.0, 0.0))
    assert a[0] < -0.01 and a[5] > 0.01 and a[6] == 1.0  # pulls and turns at the start
    policy.reset()
    assert policy.select_action(_obs(-0.2, 1.4, rz=0.4))[6] == 0.0  # lets go at the end
    held = policy.with_skill({"release_at_end": False})
    held.reset()
    assert held.select_action(_obs(-0.2, 1.4, rz=0.4))[6] == 1.0  # a skill judged while holding never lets go


def test_training_resumes_with_its_sampling_state(tmp_path):
    from vid2skill.policy.training import RESUME_FILE, SAVE_EVERY

    demos = [_demo(-0.2), _demo(-0.22)]
    cfg = ACTConfig.defaults(**{**TINY, "dropout": 0.1}, epochs=SAVE_EVERY + 3, noise_copies=0)
    full, _ = train_act(demos, cfg, 10.0)
    saved = {}
    real_save = torch.save
    torch.save = lambda obj, path, *a, **k: (saved.setdefault("obj", obj), real_save(obj, path, *a, **k))
    try:  # a run that stops at the save point leaves what an interrupted run would
        train_act(
            demos, ACTConfig(**{**cfg.__dict__, "epochs": SAVE_EVERY}), 10.0, run_dir=tmp_path, resume_key="k"
        )
    finally:
        torch.save = real_save
    torch.save(saved["obj"], tmp_path / RESUME_FILE)
    torch.manual_seed(123)  # the resume point restores the RNG that the latent and dropout draw from
    resumed, stats = train_act(demos, cfg, 10.0, run_dir=tmp_path, resume_key="k")
    x = torch.zeros(1, 14)
    assert (
        torch.allclose(resumed(x)["steps"], full(x)["steps"], atol=1e-5) and stats["epochs_run"] == cfg.epochs
    )
    assert not (tmp_path / RESUME_FILE).exists()


def test_open_loop_chunks_query_every_n_action_steps(trained):
    _, policy, _ = trained
    cfg = ACTConfig(**{**policy.config.__dict__, "temporal_ensemble": False, "n_action_steps": 3})
    open_loop = ACTPolicy(cfg, model=policy.model, stats=policy.stats)
    calls = []
    real = open_loop.model.predict
    open_loop.model.predict = lambda x: calls.append(1) or real(x)
    try:
        open_loop.reset()
        actions = [open_loop.select_action(_obs(0.0, 0.0)) for _ in range(4)]
    finally:
        del open_loop.model.predict
    assert len(calls) == 2  # steps 0 and 3
    chunk = open_loop.predict_action_chunk(_obs(0.0, 0.0))
    np.testing.assert_allclose(actions[:3], chunk[:3])


def test_save_and_load_pretrained_give_identical_actions(trained, tmp_path):
    root, policy, _ = trained
    policy.save_pretrained(tmp_path / "p")
    for loaded in (
        ACTPolicy.from_pretrained(tmp_path / "p"),
        load_policy(root),
        get_policy("act").from_pretrained(root),
    ):
        assert loaded.config == policy.config and isinstance(loaded.model, ACT)
        policy.reset(), loaded.reset()
        for x, t in ((0.0, 0.0), (-0.05, 0.4), (-0.1, 0.6), (-0.2, 1.5)):  # through the ensemble's history
            assert np.array_equal(policy.select_action(_obs(x, t)), loaded.select_action(_obs(x, t)))


def test_a_bc_mlp_checkpoint_read_as_act_says_what_to_do(trained, tmp_path):
    root = tmp_path / "ck"
    shutil.copytree(trained[0], root)
    path = root / "checkpoints" / "000007" / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "policy": "bc_mlp"}))
    with pytest.raises(
        ArtifactError, match=r"config\.json holds a 'bc_mlp' policy, not 'act'.*policy=bc_mlp"
    ) as e:
        ACTPolicy.from_pretrained(root)
    assert "\n" not in str(e.value)
    path.write_text(json.dumps({**json.loads(path.read_text()), "policy": "act", "schema_version": 9}))
    with pytest.raises(ArtifactError, match=r"holds act schema v9.*reads v1.*force=true"):
        ACTPolicy.from_pretrained(root)


def test_registry_builds_act_from_its_yaml():
    cfg = make_cfg(["policy=act"])
    cls = get_policy(str(cfg.policy.name))
    assert cls is ACTPolicy and cls.made_by == "train"
    config = cls.config_cls(**{k: v for k, v in cfg.policy.items() if k != "name"})
    policy = cls.from_config(config)
    assert isinstance(policy.model, ACT) and config.temporal_ensemble and config.chunk_size == 10
    assert sum(p.numel() for p in policy.model.parameters()) < 500_000


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="n_action_steps=12 must lie in 1..policy.chunk_size=10"):
        ACTConfig.defaults(temporal_ensemble=False, n_action_steps=12)
    with pytest.raises(ConfigError, match="d_model=30 must be a multiple of policy.n_heads=4"):
        ACTConfig.defaults(d_model=30)
    with pytest.raises(ConfigError, match="policy.loss"):
        ACTConfig.defaults(loss="huber")
    with pytest.raises(ConfigError, match="filter_success.*motion_rollouts, best_motion, auto or select"):
        ACTConfig.defaults(filter_success=True, train_on="demos")


def test_train_stage_keeps_act_beside_bc_mlp(tmp_path):
    from vid2skill.errors import Vid2SkillError
    from vid2skill.pipeline import run_train
    from vid2skill.retarget.demos import DemoSet

    out = tmp_path / "retarget" / "panda"
    DemoSet("slide_open", "panda", 10.0, [_demo(-0.2), _demo(-0.22)]).save(out / "slide_open")
    (out / "index.json").write_text(json.dumps(["slide_open"]))
    small = ["policy.train_on=demos", "policy.epochs=2", "workers=1"]
    run_train(
        make_cfg(
            [
                f"workspace={tmp_path}",
                "policy=act",
                "policy.min_updates=0",
                "policy.d_model=16",
                "policy.n_heads=2",
                *small,
            ]
        ),
        tmp_path,
    )
    run_train(make_cfg([f"workspace={tmp_path}", "policy=bc_mlp", *small]), tmp_path)
    assert type(load_policy(tmp_path / "policies_act" / "panda" / "slide_open")) is ACTPolicy
    assert load_policy(tmp_path / "policies" / "panda" / "slide_open").name == "bc_mlp"
    with pytest.raises(Vid2SkillError, match="dagger.iterations trains bc_mlp_dagger.*policy=bc_mlp"):
        run_train(make_cfg([f"workspace={tmp_path}", "policy=act", "dagger.iterations=1", *small]), tmp_path)


def test_evaluation_chooses_the_inference_settings(trained):
    _, policy, _ = trained
    assert (
        policy.with_inference({"temporal_ensemble": True, "chunk_size": 99}) is policy
    )  # learnt fields stay
    open_loop = policy.with_inference({"temporal_ensemble": False, "n_action_steps": 2, "lr": 1.0})
    assert (
        not open_loop.config.temporal_ensemble
        and open_loop.n_action_steps == 2
        and open_loop.config.lr == policy.config.lr
    )
    assert open_loop.model is policy.model and open_loop.config.chunk_size == policy.config.chunk_size
