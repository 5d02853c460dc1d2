"""One way to make things choosable by name from the config: ``Registry(kind).register(name)``.

Sources (``source.name``), scenes (a skill's ``task``), policy types (``policy.name``) and export
formats (``format.name``) each keep one :class:`Registry`; adding one is a decorated function or class
in a new file, plus its YAML (robomimic's algo registry). Robots need none: one arm class is driven by
``conf/robot/<name>.yaml``, so the config group is their registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from vid2skill.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> registered object, for one kind of thing.

    Args:
        kind: what is registered, in the user's words ("source", "policy"): used in messages.
        key: the config key that names an entry (``source.name``), quoted in the unknown-name error;
            defaults to ``<kind>.name``.
        hint: appended to the unknown-name error (how to add a new one).
    """

    def __init__(self, kind: str, key: str | None = None, hint: str = ""):
        self.kind, self.key, self.hint = kind, key or f"{kind}.name", hint
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: make the function or class available as ``<key>=<name>``. Registering another
        object under a taken name is an error naming both (a copy-pasted file that kept its name)."""

        def deco(obj: T) -> T:
            old = self._entries.get(name)
            if old is not None and old is not obj:
                raise ConfigError(
                    f"{self.kind} {name!r} is registered twice "
                    f"({getattr(old, '__module__', old)} and {getattr(obj, '__module__', obj)})"
                )
            self._entries[name] = obj
            return obj

        return deco

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def unknown(self, name: str) -> ConfigError:
        """The one-line error for a name not registered, listing the known ones."""
        hint = f" ({self.hint})" if self.hint else ""
        return ConfigError(
            f"{self.key}={name!r} is not a known {self.kind}; choose one of {self.names()}{hint}"
        )

    def get(self, name: str) -> T:
        """The object registered as ``name``; an unknown name is a ConfigError listing the known ones."""
        name = str(name)
        if name not in self._entries:
            raise self.unknown(name)
        return self._entries[name]

    # Read-only mapping protocol, so that ``name in REG``, ``REG[name]`` and ``sorted(REG)`` read as
    # they did when the registries were dicts.
    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.names())})"
