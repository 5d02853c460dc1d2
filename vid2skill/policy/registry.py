"""The one policy registry: ``policy.name`` (``conf/policy/<name>.yaml``) picks a policy type.

A policy type is a folder ``vid2skill/policy/<name>/`` whose ``__init__`` registers a
:class:`~vid2skill.policy.base.Policy` subclass with ``@register("<name>")``, plus its YAML; the
registry imports the folder the first time the name is asked for (robomimic's algo registry, with
LeRobot's one-folder-per-policy layout). Built in: ``expert`` and ``replay`` (scripted, privileged)
and ``bc_mlp`` (learned).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from vid2skill.errors import ConfigError

POLICIES: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make a Policy subclass available as ``policy.name=<name>``."""

    def deco(cls: type) -> type:
        if name in POLICIES and POLICIES[name] is not cls:
            raise ConfigError(
                f"policy {name!r} is registered twice ({POLICIES[name].__module__} and {cls.__module__})"
            )
        cls.name = name
        POLICIES[name] = cls
        return cls

    return deco


def available() -> list[str]:
    """Every policy name: the registered ones and the policy folders not yet imported."""
    import vid2skill.policy as pkg

    folders = {m.name for m in pkgutil.iter_modules(pkg.__path__) if m.ispkg}
    return sorted(folders | set(POLICIES))


def get_policy(name: str) -> type:
    """The policy type registered as ``name`` (importing ``vid2skill/policy/<name>/`` if needed)."""
    name = str(name)
    if name not in POLICIES and name.isidentifier():
        try:
            importlib.import_module(f"vid2skill.policy.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"vid2skill.policy.{name}":
                raise
    if name not in POLICIES:
        raise ConfigError(
            f"policy.name={name!r} is not a known policy; choose one of {available()} "
            f"(a new policy type is a folder vid2skill/policy/<name>/ that registers itself "
            f'with @register("<name>"), and conf/policy/<name>.yaml)'
        )
    return POLICIES[name]
