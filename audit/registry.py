"""A tiny typed registry: the one extension mechanism for readers, kinds, KPIs and writers.

Built-ins register through the same door an extension would use, so a contract test can
iterate every entry and the README catalogues can be generated from it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from audit.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> entry, with a helpful error on unknown names."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of `add`."""

        def deco(entry: T) -> T:
            return self.add(name, entry)

        return deco

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(self._entries))
            raise ConfigError(f"unknown {self.what} {name!r}.{hint} Known: {known}.") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        for name in sorted(self._entries):
            yield name, self._entries[name]

    def __len__(self) -> int:
        return len(self._entries)
