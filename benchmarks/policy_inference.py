"""Per-step inference time of a learned policy on one CPU core (``select_action`` on one observation:
the input features, the network's forward pass, the step's clipping and, for ``act``, its temporal
ensemble), for ``bc_mlp`` against a baseline measured in the same run: a numpy forward pass of the
same layer sizes (the least an MLP step can cost in Python). Prints the time per step and, for
``bc_mlp``, the ratio. The issue's target is <= 2 ms per step for the MLP.

    python benchmarks/policy_inference.py --hidden 256,256 --head deterministic --steps 2000
    python benchmarks/policy_inference.py --checkpoint <workspace>/policies/panda/pour
    python benchmarks/policy_inference.py --policy act            # conf/policy/act.yaml's sizes, untrained
    python benchmarks/policy_inference.py --checkpoint <workspace>/policies_act/panda/pour
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from vid2skill.dataset.features import GOAL, STATE, TIMESTAMP
from vid2skill.policy.bc_mlp import BCMLPConfig, BCMLPPolicy
from vid2skill.policy.bc_mlp.modeling_bc_mlp import OBS_DIM
from vid2skill.policy.checkpoint import load_policy


def per_step_s(fn, steps: int, repeats: int = 5) -> float:
    """The best of ``repeats`` timings of ``steps`` calls, per call (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def _policy(args):
    """The policy to time: a checkpoint, or an untrained one of the named type at its YAML's sizes."""
    if args.checkpoint:
        return load_policy(args.checkpoint)
    if args.policy == "bc_mlp":
        return BCMLPPolicy(
            BCMLPConfig.defaults(
                hidden=[int(h) for h in args.hidden.split(",")], head=args.head, device="cpu"
            )
        )
    from omegaconf import OmegaConf

    from vid2skill.config import compose
    from vid2skill.policy.registry import get_policy

    cls = get_policy(args.policy)
    # composed as the CLI composes it (the YAML alone names its schema in a defaults list)
    raw = OmegaConf.to_container(compose([f"policy={args.policy}"]).policy, resolve=True)
    raw = {k: v for k, v in raw.items() if k != "name"}
    return cls(cls.config_cls(**{**raw, "device": "cpu"}))


def _mlp_baseline(policy, rng: np.random.Generator):
    """A numpy forward pass of the MLP's layer sizes."""
    sizes = [OBS_DIM, *[int(h) for h in policy.config.hidden], 7]
    weights = [
        (rng.normal(size=(a, b)).astype(np.float32), np.zeros(b, np.float32))
        for a, b in zip(sizes[:-1], sizes[1:])
    ]
    x0 = rng.normal(size=OBS_DIM).astype(np.float32)

    def numpy_forward():
        x = x0
        for i, (w, b) in enumerate(weights):
            x = x @ w + b
            if i < len(weights) - 1:
                x = np.maximum(x, 0)
        return x

    return numpy_forward


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policy", default="bc_mlp", help="a learned policy type (bc_mlp, act)")
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--head", default="deterministic", choices=["deterministic", "gmm"])
    ap.add_argument(
        "--checkpoint", default=None, help="a trained policy's folder (overrides --policy/--hidden/--head)"
    )
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(1)  # one core
    policy = _policy(args)
    rng = np.random.default_rng(0)
    obs = {
        STATE.key: rng.normal(size=8).astype(np.float32),
        GOAL.key: np.array([0.1, 0.0, 0.05, 1.0], np.float32),
        TIMESTAMP.key: np.array([1.0], np.float32),
    }
    ensembles = bool(getattr(policy.config, "temporal_ensemble", False))

    def policy_step():
        if not ensembles:
            policy.reset()  # a fresh prediction every call (no queued chunk)
        policy.select_action(obs)  # an ensembling policy predicts every step and averages its live chunks

    for _ in range(100):  # warm up (and fill an ensemble)
        policy_step()
    t_policy = per_step_s(policy_step, args.steps)
    described = (
        f"{policy.config.head} {policy.config.hidden}"
        if policy.name == "bc_mlp"
        else f"{sum(p.numel() for p in policy.model.parameters())} parameters, temporal_ensemble={ensembles}"
    )
    print(f"{policy.name} {described} on 1 thread: {t_policy * 1e3:.3f} ms per step")
    if policy.name == "bc_mlp":
        baseline = _mlp_baseline(policy, rng)
        for _ in range(100):
            baseline()
        t_base = per_step_s(baseline, args.steps)
        print(f"numpy forward of the same layers (baseline): {t_base * 1e3:.3f} ms per step")
        print(
            f"ratio: {t_policy / t_base:.1f}x the baseline; target <= 2 ms per step: "
            f"{'met' if t_policy <= 2e-3 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
