"""Per-step inference time of the ``bc_mlp`` policy on one CPU core (``select_action`` on one
observation: the input features, the MLP's forward pass, the step's clipping), against a baseline
measured in the same run: a numpy forward pass of the same layer sizes (the least an MLP step can
cost in Python). Prints both, per step, and their ratio. The issue's target is <= 2 ms per step.

    python benchmarks/policy_inference.py --hidden 256,256 --head deterministic --steps 2000
    python benchmarks/policy_inference.py --checkpoint <workspace>/policies/panda/pour
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from vid2skill.dataset.features import GOAL, STATE, TIMESTAMP
from vid2skill.policy.bc_mlp import BCMLPConfig, BCMLPPolicy
from vid2skill.policy.bc_mlp.modeling_bc_mlp import OBS_DIM


def per_step_s(fn, steps: int, repeats: int = 5) -> float:
    """The best of ``repeats`` timings of ``steps`` calls, per call (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--head", default="deterministic", choices=["deterministic", "gmm"])
    ap.add_argument("--checkpoint", default=None, help="a trained policy's folder (overrides --hidden/--head)")
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(1)  # one core
    if args.checkpoint:
        policy = BCMLPPolicy.from_pretrained(args.checkpoint)
    else:
        cfg = BCMLPConfig(hidden=[int(h) for h in args.hidden.split(",")], head=args.head, device="cpu")
        policy = BCMLPPolicy(cfg)
    rng = np.random.default_rng(0)
    obs = {STATE.key: rng.normal(size=8).astype(np.float32), GOAL.key: np.array([0.1, 0.0, 0.05, 1.0], np.float32),
           TIMESTAMP.key: np.array([1.0], np.float32)}

    def policy_step():
        policy.reset()  # a fresh prediction every call (no queued chunk)
        policy.select_action(obs)

    # Baseline: the same layer sizes as plain numpy matrix products with ReLUs.
    sizes = [OBS_DIM, *[int(h) for h in policy.config.hidden], 7]
    weights = [(rng.normal(size=(a, b)).astype(np.float32), np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    x0 = rng.normal(size=OBS_DIM).astype(np.float32)

    def numpy_forward():
        x = x0
        for i, (w, b) in enumerate(weights):
            x = x @ w + b
            if i < len(weights) - 1:
                x = np.maximum(x, 0)
        return x

    for _ in range(100):  # warm up
        policy_step(), numpy_forward()
    t_policy = per_step_s(policy_step, args.steps)
    t_base = per_step_s(numpy_forward, args.steps)
    print(f"bc_mlp {policy.config.head} {policy.config.hidden} on 1 thread: {t_policy * 1e3:.3f} ms per step")
    print(f"numpy forward of the same layers (baseline): {t_base * 1e3:.3f} ms per step")
    print(f"ratio: {t_policy / t_base:.1f}x the baseline; target <= 2 ms per step: {'met' if t_policy <= 2e-3 else 'NOT met'}")


if __name__ == "__main__":
    main()
