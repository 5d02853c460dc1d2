"""The commands that error messages suggest, built from what the user typed.

A hint such as "run `vid2skill ingest ...` first" must do what the user meant: with their source,
robot or policy, not the defaults. The CLI records the user's overrides here for the command it runs;
without them (a stage called from Python) a hint names the workspace alone.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig

_user_overrides: list[str] | None = None  # the command line's overrides, set by the CLI


def set_user_overrides(overrides: list[str] | None) -> None:
    """Remember the overrides the user typed, so that suggested commands keep them."""
    global _user_overrides
    _user_overrides = list(overrides) if overrides is not None else None


@contextmanager
def user_overrides(overrides: list[str] | None) -> Iterator[None]:
    """The overrides the user typed, remembered while one command runs; the ones before (None: none)
    come back after it, also when it fails, so a command run in-process (a test) leaks none."""
    before = _user_overrides
    set_user_overrides(overrides)
    try:
        yield
    finally:
        set_user_overrides(before)


def suggest(stage: str, cfg: DictConfig, keys: tuple[str, ...] = ()) -> str:
    """The command that runs ``stage`` as the user meant: their overrides (a source, a robot, a
    policy) kept, the workspace and the config ``keys`` (e.g. ``policy.name`` as ``policy=``)
    always named; ``force`` and the stage itself left out."""
    from omegaconf import OmegaConf

    kept = [
        o
        for o in (_user_overrides or [])
        if not o.lstrip("+~").startswith(("stage=", "force=", "hydra.", "-"))
    ]
    named = {o.lstrip("+").split("=", 1)[0] for o in kept}
    for key in keys:  # a choice the command must keep even where the user left it at its default
        group = key.split(".")[0]
        if group not in named:
            kept.append(f"{group}={OmegaConf.select(cfg, key)}")
    if "workspace" not in named:
        kept.append(f"workspace={Path(str(cfg.workspace)).expanduser()}")
    return " ".join(["vid2skill", stage, *map(shlex.quote, kept)])
