"""Plain read-only views of config sections for hot loops.

OmegaConf node lookups cost tens of microseconds each; an episode's control loop reads its
expert's settings every step, which added measurably to an episode. ``settings(cfg)`` resolves a section
once into dicts that also allow attribute access, as the tasks read them (``cfg.expert.speed_m_s``).
"""

from __future__ import annotations

from typing import Any


class Settings(dict):
    """A dict whose keys are also attributes (missing ones raise AttributeError, so ``hasattr`` works)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Settings({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def settings(cfg: Any) -> Settings:
    """A resolved, plain copy of a DictConfig (or dict) section."""
    from omegaconf import DictConfig, OmegaConf

    return _wrap(OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg))
