"""Value classes: dataclasses compared, hashed and shown by their fields' values.

`dataclass` writes each method it generates as source text and compiles it, for every class,
on every start of the program. For the value classes a check imports (operations, statements,
locations, tags, rules, findings…) the equality, hash and repr it compiled were about a sixth
of checking one file in a pre-commit hook, and their `__init__` and frozen guards another
sixth. They are written once here instead: `dataclass` still collects the fields (so
`dataclasses.fields` and `replace` work as ever), and each `__init__` is the same code as
`dataclass` writes, compiled once per shape of class (which fields have a default factory,
which are not arguments, frozen or not) and given the class's field names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass
from types import CodeType, FunctionType
from typing import Any, TypeVar

__all__ = ["Value", "frozen_value", "value"]

T = TypeVar("T", bound=type)


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


def value(cls: T) -> T:
    """Decorates a `Value` subclass: hashable, never mutated by convention (see the README on
    why operations and statements are not frozen)."""
    return _value_class(cls, frozen=False)


def frozen_value(cls: T) -> T:
    """Decorates a `Value` subclass whose fields cannot be assigned."""
    return _value_class(cls, frozen=True)


def _value_class(cls: T, *, frozen: bool) -> T:
    cls = dataclass(init=False, eq=False, repr=False)(cls)
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or any(f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__}: a value class has no InitVar, ClassVar or kw_only field")
    if frozen:
        names = frozenset(f.name for f in fields)
        cls.__setattr__ = _frozen_guard(cls, names, "assign to")
        cls.__delattr__ = _frozen_guard(cls, names, "delete")
    cls.__init__ = _initializer(cls, fields, frozen=frozen)
    return cls


_NO_ARGUMENT = object()
"""The default of an argument whose field has a default factory: call the factory."""
_SHAPES: dict[tuple[str, bool, bool], CodeType] = {}
"""The `__init__` code of each shape of class, its names placeholders."""


def _initializer(cls: type, fields: tuple[dataclasses.Field[Any], ...], *, frozen: bool) -> Any:
    """The `__init__` `dataclass` would write for `cls`: arguments in field order, defaults,
    default factories, fields that are not arguments, then `__post_init__`."""
    kinds = "".join(
        ("a" if f.default_factory is MISSING else "f")
        if f.init
        else ("d" if f.default_factory is MISSING else "g")
        for f in fields
    )
    post_init = hasattr(cls, "__post_init__")
    shape = (kinds, frozen, post_init)
    if shape not in _SHAPES:
        _SHAPES[shape] = _compile_shape(kinds, frozen=frozen, post_init=post_init)
    template = _SHAPES[shape]
    placeholders = {f"_n{i}": f.name for i, f in enumerate(fields)}
    placeholders |= {f"_p{i}": f.name for i, f in enumerate(fields)}
    code = template.replace(
        co_varnames=tuple(placeholders.get(n, n) for n in template.co_varnames),
        co_names=tuple(placeholders.get(n, n) for n in template.co_names),
        co_consts=tuple(
            placeholders.get(c, c) if isinstance(c, str) else c for c in template.co_consts
        ),
        **(
            {"co_qualname": f"{cls.__qualname__}.__init__"}
            if hasattr(template, "co_qualname")
            else {}
        ),
    )
    namespace: dict[str, Any] = {"_setattr": object.__setattr__, "_NO_ARGUMENT": _NO_ARGUMENT}
    defaults = []
    for i, f in enumerate(fields):
        namespace[f"_d{i}"] = f.default
        namespace[f"_factory{i}"] = f.default_factory
        if f.init and (f.default is not MISSING or f.default_factory is not MISSING):
            defaults.append(_NO_ARGUMENT if f.default is MISSING else f.default)
        elif f.init and defaults:
            raise TypeError(f"{cls.__name__}: non-default argument {f.name!r} follows a default")
    init = FunctionType(code, namespace, "__init__", tuple(defaults) or None)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _compile_shape(kinds: str, *, frozen: bool, post_init: bool) -> CodeType:
    arguments = [f"_p{i}" for i, kind in enumerate(kinds) if kind in "af"]
    lines = [f"def __init__(self, {', '.join(arguments)}):" if arguments else "def __init__(self):"]
    for i, kind in enumerate(kinds):
        given = {"a": f"_p{i}", "f": f"_p{i}", "d": f"_d{i}", "g": f"_factory{i}()"}[kind]
        if kind == "f":
            lines.append(f"    if _p{i} is _NO_ARGUMENT: _p{i} = _factory{i}()")
        if frozen:
            lines.append(f"    _setattr(self, '_n{i}', {given})")
        else:
            lines.append(f"    self._n{i} = {given}")
    if post_init:
        lines.append("    self.__post_init__()")
    lines.append("    return None")
    module = compile("\n".join(lines), "<bgmigrate value class>", "exec")
    return next(c for c in module.co_consts if isinstance(c, CodeType))


def _frozen_guard(cls: type, names: frozenset[str], verb: str) -> Callable[..., None]:
    """`__setattr__` or `__delattr__` as a frozen dataclass has them."""
    parent = getattr(super(cls, cls), "__setattr__" if verb == "assign to" else "__delattr__")

    def guard(self: object, name: str, *value: object) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot {verb} field {name!r}")
        parent(self, name, *value)

    return guard
