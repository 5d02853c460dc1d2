"""Policy registry: a name in ``conf/policy/*.yaml`` picks the config, model and trainer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from vid2skill.policy.bc_mlp import BCMLP, BCMLPConfig, train_bc_mlp


@dataclass(frozen=True)
class PolicyEntry:
    config_cls: type
    model_cls: type
    train: Callable


POLICIES: dict[str, PolicyEntry] = {
    "bc_mlp": PolicyEntry(BCMLPConfig, BCMLP, train_bc_mlp),
}
