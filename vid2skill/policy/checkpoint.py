"""Policy checkpoints in LeRobot's layout: ``<dir>/checkpoints/<step:06d>/`` plus a ``last`` pointer.

Each checkpoint folder holds the weights (with their normalisation buffers), the policy config and
training statistics, and reloads without the CLI.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from pathlib import Path

import torch

from vid2skill.artifacts import atomic_write_bytes, atomic_write_json, atomic_write_text
from vid2skill.errors import ArtifactError
from vid2skill.policy.registry import POLICIES


def save_checkpoint(root: str | Path, step: int, name: str, model: torch.nn.Module, config, stats: dict) -> Path:
    folder = Path(root) / "checkpoints" / f"{step:06d}"
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(folder / "model.pt", buf.getvalue())
    atomic_write_json(folder / "stats.json", stats)
    atomic_write_json(folder / "config.json", {"policy": name, **asdict(config)})  # written last: marks it complete
    atomic_write_text(Path(root) / "checkpoints" / "last", f"{step:06d}\n")
    return folder


def load_checkpoint(root: str | Path):
    """(model, config, stats) of the newest complete checkpoint under ``root``."""
    last = Path(root) / "checkpoints" / "last"
    if not last.exists():
        raise ArtifactError(f"no policy checkpoint under {root}; run `vid2skill train` first")
    folder = last.parent / last.read_text().strip()
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise ArtifactError(f"checkpoint {folder} is incomplete (no config.json); rerun `vid2skill train`")
    raw = json.loads(cfg_path.read_text())
    entry = POLICIES[raw.pop("policy")]
    config = entry.config_cls(**raw)
    model = entry.model_cls(list(config.hidden))
    model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu", weights_only=True))
    model.eval()
    stats = json.loads((folder / "stats.json").read_text())
    return model, config, stats
