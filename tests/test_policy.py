import numpy as np
import torch

from vid2skill.policy.bc_mlp import BCMLPConfig, train_bc_mlp
from vid2skill.policy.checkpoint import load_checkpoint, save_checkpoint
from vid2skill.retarget.demos import RobotDemo


def _demo(length_m: float, steps: int = 15) -> RobotDemo:
    p = np.zeros((steps + 3, 3))
    p[:steps, 0] = np.linspace(0, length_m, steps)
    p[steps:, 0] = length_m
    closed = np.ones(steps + 3, bool)
    closed[steps:] = False
    return RobotDemo("d", p, closed, np.zeros((steps + 3, 7)), np.zeros(steps + 3))


def test_bc_learns_direction_and_release(tmp_path):
    cfg = BCMLPConfig(hidden=[64, 64], epochs=150, noise_copies=4, device="cpu")
    model, stats = train_bc_mlp([_demo(-0.2), _demo(-0.22), _demo(-0.18)], cfg, control_hz=10.0)
    assert stats["final_loss"] < stats["first_loss"]
    step, closed = model.act(np.array([0.0, 0.0, 0.0, 0.0]), cfg.max_step_m)
    assert step[0] < -0.005 and closed  # pulls at the start
    step, closed = model.act(np.array([0.02, 0.0, 0.0, 0.3]), cfg.max_step_m)
    assert step[0] < 0  # off the demonstrations it still heads back along them
    _, closed_end = model.act(np.array([-0.2, 0.0, 0.0, 1.6]), cfg.max_step_m)
    assert not closed_end  # lets go at the end

    save_checkpoint(tmp_path, 150, "bc_mlp", model, cfg, stats)
    loaded, cfg2, _ = load_checkpoint(tmp_path)
    obs = torch.tensor([[0.01, 0.0, 0.0, 0.5]])
    assert torch.allclose(model(obs)[0], loaded(obs)[0]) and cfg2 == cfg


def test_config_rejects_bad_values():
    import pytest

    from vid2skill.errors import ConfigError

    with pytest.raises(ConfigError, match="policy.hidden"):
        BCMLPConfig(hidden=[])
    with pytest.raises(ConfigError, match="device"):
        BCMLPConfig(device="tpu")


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
