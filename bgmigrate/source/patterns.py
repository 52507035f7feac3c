"""Regular expressions compiled the first time they are used.

Detecting a directory's layout imports every layout module, in the pre-commit hook on every
commit, and most of their patterns never run in that process: compiling the forty of them up
front cost more than everything else layout detection does. The same holds for the patterns of
rules, tags and discovery that only some files need (an Alembic revision, an ignore tag, a
transaction opened by hand): Python compiles a regular expression in Python, at about 0.1 ms
each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["LazyPattern"]


_METHODS = ("findall", "finditer", "fullmatch", "match", "search", "split", "sub")
"""The compiled pattern's methods a `LazyPattern` takes as its own once compiled."""


class LazyPattern:
    """`re.compile(pattern, flags)`, deferred: compiled the first time one of its methods is
    looked up, which are then the compiled pattern's own (no Python call in between: a check
    of many files calls them tens of thousands of times)."""

    __slots__ = ("_compiled", "_flags", "_pattern", *_METHODS)

    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    search: Callable[..., re.Match[str] | None]
    finditer: Callable[..., Iterator[re.Match[str]]]
    sub: Callable[..., str]
    findall: Callable[..., list[Any]]
    split: Callable[..., list[str]]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        # Reached only while a method's slot is empty: before the first use.
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = self.compiled
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)
