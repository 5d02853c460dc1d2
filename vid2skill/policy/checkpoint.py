"""Policy checkpoints in LeRobot's layout: ``<dir>/checkpoints/<step:06d>/`` plus a ``last`` pointer.

Each checkpoint folder is what the policy type's ``save_pretrained`` writes (weights with their
normalisation buffers, the policy config with its type and schema version, training statistics)
and reloads with ``from_pretrained`` without the CLI.
"""

from __future__ import annotations

from pathlib import Path

import torch

from vid2skill.artifacts import atomic_write_text
from vid2skill.policy.base import read_pretrained_config
from vid2skill.policy.registry import get_policy
from vid2skill.workspace import checkpoint_dir, last_pointer


def save_checkpoint(
    root: str | Path, step: int, name: str, model: torch.nn.Module, config, stats: dict
) -> Path:
    """Save a trained model of policy type ``name`` as checkpoint ``step`` under ``root`` and point ``last``
    at it."""
    folder = checkpoint_dir(root, step)
    get_policy(name)(config, model=model, stats=stats).save_pretrained(folder)
    atomic_write_text(last_pointer(root), f"{folder.name}\n")
    return folder


def load_policy(root: str | Path, name: str | None = None):
    """The policy saved under ``root`` (a checkpoint folder or a run with ``checkpoints/last``); with
    ``name``, a checkpoint of another policy type or schema is an error naming the file and the fix."""
    if name is None:
        _, raw = read_pretrained_config(root)
        name = raw["policy"]
    return get_policy(name).from_pretrained(root)


def load_checkpoint(root: str | Path):
    """(model, config, stats) of the newest complete checkpoint under ``root``."""
    policy = load_policy(root)
    return policy.model, policy.config, policy.stats
