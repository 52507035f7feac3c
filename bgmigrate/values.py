"""Value classes: dataclasses compared, hashed and shown by their fields' values.

`dataclass` writes each method it generates as source text and compiles it, for every class,
on every start of the program. For the value classes a check imports (operations, statements,
locations, tags, rules, findings…) the equality, hash and repr it compiled were about a sixth
of checking one file in a pre-commit hook. They are written once here instead; `dataclass`
still generates each class's `__init__` (and, for frozen ones, the guards against assignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Value", "frozen_value", "value"]


class Value:
    """Compared, hashed and shown by all its fields, in order, as `dataclass(eq=True)` would
    generate it: equal only to an object of the very same class."""

    __slots__ = ()
    __dataclass_fields__: dict[str, Any]

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Value):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return f"{self.__class__.__qualname__}({fields})"


value = dataclass(eq=False, repr=False)
"""Decorates a `Value` subclass: hashable, never mutated by convention (see the README on why
operations and statements are not frozen)."""

frozen_value = dataclass(frozen=True, eq=False, repr=False)
"""Decorates a `Value` subclass whose fields cannot be assigned."""
