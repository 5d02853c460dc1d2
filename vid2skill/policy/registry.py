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

from vid2skill.registry import Registry


class PolicyRegistry(Registry[type]):
    """A :class:`~vid2skill.registry.Registry` that imports a policy's folder on first use, so that
    only the policy types a run names are imported (their torch modules are not light)."""

    def register(self, name: str) -> Callable[[type], type]:
        """Class decorator: make a Policy subclass available as ``policy.name=<name>`` (and set its
        ``name``)."""
        add = super().register(name)

        def deco(cls: type) -> type:
            add(cls)
            cls.name = name
            return cls

        return deco

    def names(self) -> list[str]:
        """Every policy name: the registered ones and the policy folders not yet imported."""
        import vid2skill.policy as pkg

        folders = {m.name for m in pkgutil.iter_modules(pkg.__path__) if m.ispkg}
        return sorted(folders | set(super().names()))

    def get(self, name: str) -> type:
        """The policy type registered as ``name`` (importing ``vid2skill/policy/<name>/`` if needed)."""
        name = str(name)
        if name not in self and name.isidentifier():
            try:
                importlib.import_module(f"vid2skill.policy.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"vid2skill.policy.{name}":
                    raise
        return super().get(name)


POLICIES = PolicyRegistry(
    "policy",
    hint="a new policy type is a folder vid2skill/policy/<name>/ that registers itself "
    'with @register("<name>"), and conf/policy/<name>.yaml',
)
register = POLICIES.register
available = POLICIES.names
get_policy = POLICIES.get
