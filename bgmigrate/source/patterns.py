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
import sys
from collections.abc import Iterator

__all__ = ["LazyPattern"]


class LazyPattern:
    """`re.compile(pattern, flags)`, deferred: the methods used here, compiled on first call."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def fullmatch(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def finditer(self, string: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string)

    def sub(self, replacement: str, string: str, count: int = 0) -> str:
        return self.compiled.sub(replacement, string, count)

    def findall(self, string: str) -> list[str]:
        return self.compiled.findall(string)

    def split(self, string: str) -> list[str]:
        return self.compiled.split(string)
