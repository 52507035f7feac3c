"""Value classes: compared, hashed and shown by their fields' values, as dataclasses are.

`dataclass` writes each method it generates as source text and compiles it, for every class,
on every start of the program, and importing `dataclasses` imports `inspect` (with `ast`,
`dis` and `tokenize`). For the value classes a check imports (operations, statements,
locations, tags, rules, findings…) that was most of checking one file in a pre-commit hook
beyond the interpreter's own start. They are made here instead, without `dataclasses`: the
fields are collected from the class's annotations as `dataclass` collects them, each
`__init__` is the same code as `dataclass` writes, one per shape of class (which fields have
a default factory, which are not arguments, frozen or not) written out in
`bgmigrate.value_shapes` so that no start compiles it, given the class's field names, and
equality, hash, order and repr are shared methods. `dataclasses.fields`,
`replace` and `asdict` still work on them: `__dataclass_fields__` is built, importing
`dataclasses`, the first time something asks for it.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from types import CodeType, FunctionType

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any, TypeVar

__all__ = [
    "MISSING",
    "Field",
    "Value",
    "field",
    "field_names",
    "frozen_value",
    "ordered",
    "replace",
    "value",
]

if TYPE_CHECKING:
    T = TypeVar("T", bound=type)
    V = TypeVar("V")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""No default (nor default factory), as `dataclasses.MISSING`."""


class Field:
    """One field of a value class: what `dataclasses.field` declares, for the fields a value
    class can have (a default or a default factory, an argument of `__init__` or not)."""

    __slots__ = ("default", "default_factory", "init", "name", "type")

    def __init__(self, default: Any, default_factory: Any, init: bool) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.default, self.default_factory, self.init = default, default_factory, init
        self.name = ""
        self.type: Any = None


def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True) -> Any:
    """`dataclasses.field` for value classes."""
    return Field(default, default_factory, init)


class _AsDataclass:
    """A value class's `__dataclass_fields__` or `__dataclass_params__`, for
    `dataclasses.fields`, `replace`, `asdict` and dataclasses extending it: those of a
    dataclass declared like the class, made (importing `dataclasses`) the first time one is
    read, and kept for the class itself only (a subclass has fields of its own)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type) -> Any:
        shadow = owner.__dict__.get("_as_dataclass")
        if shadow is None:
            shadow = _shadow_dataclass(owner)
            type.__setattr__(owner, "_as_dataclass", shadow)
        return getattr(shadow, self.name)


def _shadow_dataclass(cls: type) -> type:
    import dataclasses

    declared: tuple[Field, ...] = cls.__value_fields__  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {"__annotations__": {f.name: f.type for f in declared}}
    for f in declared:
        namespace[f.name] = dataclasses.field(
            default=dataclasses.MISSING if f.default is MISSING else f.default,
            default_factory=(
                dataclasses.MISSING if f.default_factory is MISSING else f.default_factory
            ),
            init=f.init,
        )
    return dataclasses.dataclass(init=False, repr=False, eq=False)(
        type(cls.__name__, (), namespace)
    )


class Value:
    """Compared, hashed and shown by all its fields, in order, as `dataclass(eq=True)` would
    generate it: equal only to an object of the very same class."""

    __slots__ = ()
    __value_fields__: tuple[Field, ...] = ()
    __value_names__: tuple[str, ...] = ()
    __dataclass_fields__: Any = _AsDataclass("__dataclass_fields__")
    __dataclass_params__: Any = _AsDataclass("__dataclass_params__")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__value_names__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Value):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__value_names__)
        return f"{self.__class__.__qualname__}({fields})"


def _comparison(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    """One of the comparisons `dataclass(order=True)` generates: the fields in order, between
    objects of the very same class."""

    def method(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return compare(self._values(), other._values())

    return method


_ORDER = {
    "__lt__": _comparison(operator.lt),
    "__le__": _comparison(operator.le),
    "__gt__": _comparison(operator.gt),
    "__ge__": _comparison(operator.ge),
}


def value(cls: T) -> T:
    """Decorates a `Value` subclass: hashable, never mutated by convention (see the README on
    why operations and statements are not frozen)."""
    return _value_class(cls, frozen=False)


def frozen_value(cls: T) -> T:
    """Decorates a `Value` subclass whose fields cannot be assigned."""
    return _value_class(cls, frozen=True)


def ordered(cls: T) -> T:
    """Adds `<`, `<=`, `>`, `>=` to a value class, as `dataclass(order=True)`: by its fields in
    order, between objects of the very same class."""
    for name, method in _ORDER.items():
        type.__setattr__(cls, name, method)
    return cls


def field_names(cls: type[Value]) -> tuple[str, ...]:
    """A value class's field names, in order (`dataclasses.fields` without `dataclasses`)."""
    return cls.__value_names__


def replace(obj: V, /, **changes: Any) -> V:
    """`dataclasses.replace`: a copy of `obj` with `changes`, made by its `__init__`."""
    if not isinstance(obj, Value):
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    for f in obj.__value_fields__:
        if not f.init:
            if f.name in changes:
                raise ValueError(
                    f"field {f.name} is declared with init=False, it cannot be specified with "
                    "replace()"
                )
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def _value_class(cls: T, *, frozen: bool) -> T:
    fields = _collect_fields(cls)
    names = tuple(f.name for f in fields)
    type.__setattr__(cls, "__value_fields__", fields)
    type.__setattr__(cls, "__value_names__", names)
    if "__match_args__" not in cls.__dict__:
        type.__setattr__(cls, "__match_args__", tuple(f.name for f in fields if f.init))
    if frozen:
        cls.__setattr__ = _frozen_guard(cls, frozenset(names), "assign to")  # type: ignore[assignment]
        cls.__delattr__ = _frozen_guard(cls, frozenset(names), "delete")  # type: ignore[assignment]
    cls.__init__ = _initializer(cls, fields, frozen=frozen)  # type: ignore[misc]
    return cls


def _collect_fields(cls: type) -> tuple[Field, ...]:
    """The class's fields as `dataclass` collects them: its bases' first, then its own
    annotations in order (one redeclared keeps its place); `field()` defaults are put on the
    class, default factories taken off it."""
    collected: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        if "__dataclass_fields__" in base.__dict__ and not issubclass(base, Value):
            raise TypeError(f"{cls.__name__}: a value class cannot extend a dataclass")
        for f in base.__dict__.get("__value_fields__", ()):
            collected[f.name] = f
    dataclasses = sys.modules.get("dataclasses")
    # As `dataclass` reads them; `inspect.get_annotations` would import `inspect`.
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in own.items():
        if _is_pseudo_field(annotation):
            raise TypeError(
                f"{cls.__name__}: a value class has no InitVar, ClassVar or kw_only field"
            )
        declared = cls.__dict__.get(name, MISSING)
        if isinstance(declared, Field):
            f = Field(declared.default, declared.default_factory, declared.init)
        elif dataclasses is not None and isinstance(declared, dataclasses.Field):
            if declared.kw_only is True:
                raise TypeError(
                    f"{cls.__name__}: a value class has no InitVar, ClassVar or kw_only field"
                )
            f = Field(
                MISSING if declared.default is dataclasses.MISSING else declared.default,
                (
                    MISSING
                    if declared.default_factory is dataclasses.MISSING
                    else declared.default_factory
                ),
                declared.init,
            )
        else:
            if declared is not MISSING and type(declared).__hash__ is None:
                raise ValueError(
                    f"mutable default {type(declared)} for field {name} is not allowed: use "
                    "default_factory"
                )
            f = Field(declared, MISSING, True)
        f.name, f.type = name, annotation
        if isinstance(declared, Field) or (
            dataclasses is not None and isinstance(declared, dataclasses.Field)
        ):
            if f.default is MISSING:
                type.__delattr__(cls, name)
            else:
                type.__setattr__(cls, name, f.default)
        collected[name] = f
    for name, declared in cls.__dict__.items():
        if isinstance(declared, Field) and name not in collected:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    return tuple(collected.values())


def _is_pseudo_field(annotation: object) -> bool:
    """ClassVar, InitVar and KW_ONLY, which `dataclass` does not make fields of."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    if "Var" not in text and "KW_ONLY" not in text:
        return False
    head = text.split("[", 1)[0].strip().rsplit(".", 1)[-1]
    return head in ("ClassVar", "InitVar", "KW_ONLY")


_NO_ARGUMENT = object()
"""The default of an argument whose field has a default factory: call the factory."""
_SHAPES: dict[tuple[str, bool, bool], _Shape] = {}
"""The `__init__` code of each shape of class used so far."""


def _initializer(cls: type, fields: tuple[Field, ...], *, frozen: bool) -> Any:
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
        _SHAPES[shape] = _Shape(_compile_shape(kinds, frozen=frozen, post_init=post_init))
    names = [f.name for f in fields]
    code = _SHAPES[shape].code_for(names, f"{cls.__qualname__}.__init__")
    namespace: dict[str, Any] = {"_setattr": object.__setattr__, "_NO_ARGUMENT": _NO_ARGUMENT}
    defaults = []
    for i, (f, kind) in enumerate(zip(fields, kinds, strict=True)):
        if kind == "d":
            namespace[f"_d{i}"] = f.default
        elif kind != "a":
            namespace[f"_factory{i}"] = f.default_factory
        if f.init and (f.default is not MISSING or f.default_factory is not MISSING):
            defaults.append(_NO_ARGUMENT if f.default is MISSING else f.default)
        elif f.init and defaults:
            raise TypeError(f"{cls.__name__}: non-default argument {f.name!r} follows a default")
    init = FunctionType(code, namespace, "__init__", tuple(defaults) or None)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


class _Shape:
    """A shape's `__init__` code, and where its placeholders for field names stand: `_p<i>`
    (argument) in its local names, `_n<i>` (attribute) in its names and, frozen, constants."""

    def __init__(self, template: CodeType) -> None:
        self.template = template
        self.varnames = self._slots(template.co_varnames, "_p")
        self.names = self._slots(template.co_names, "_n")
        self.consts = self._slots(template.co_consts, "_n")

    @staticmethod
    def _slots(entries: tuple[object, ...], prefix: str) -> tuple[int, ...]:
        """For each entry, the index of the field it stands for, or -1."""
        return tuple(
            int(e[len(prefix) :]) if isinstance(e, str) and e.startswith(prefix) else -1
            for e in entries
        )

    def code_for(self, names: list[str], qualname: str) -> CodeType:
        template = self.template
        return template.replace(
            co_name="__init__",
            co_varnames=_filled(template.co_varnames, self.varnames, names),
            co_names=_filled(template.co_names, self.names, names),
            co_consts=_filled(template.co_consts, self.consts, names),
            **({"co_qualname": qualname} if hasattr(template, "co_qualname") else {}),
        )


def _filled(entries: tuple[Any, ...], slots: tuple[int, ...], names: list[str]) -> tuple[Any, ...]:
    return tuple(entry if i < 0 else names[i] for entry, i in zip(entries, slots, strict=True))


def _compile_shape(kinds: str, *, frozen: bool, post_init: bool) -> CodeType:
    """The shape's code: written beforehand in `bgmigrate.value_shapes` for every class in
    bgmigrate (compiling the first one at start costs more than all the rest), else compiled."""
    from bgmigrate import value_shapes

    written = getattr(value_shapes, shape_name(kinds, frozen=frozen, post_init=post_init), None)
    if written is not None:
        return written.__code__  # type: ignore[no-any-return]
    module = compile(shape_source(kinds, frozen=frozen, post_init=post_init), "<value>", "exec")
    return next(c for c in module.co_consts if isinstance(c, CodeType))


def shape_name(kinds: str, frozen: bool, post_init: bool) -> str:
    """The name of a shape's `__init__` in `bgmigrate.value_shapes`."""
    return f"init_{kinds or 'none'}_{'frozen' if frozen else 'plain'}" + (
        "_post_init" if post_init else ""
    )


def shape_source(kinds: str, *, frozen: bool, post_init: bool) -> str:
    """The source of a shape's `__init__`: `_p<i>` the argument and `_n<i>` the name of field
    `i`, `_d<i>` its default, `_factory<i>` its default factory (globals of the function)."""
    arguments = [f"_p{i}" for i, kind in enumerate(kinds) if kind in "af"]
    name = shape_name(kinds, frozen=frozen, post_init=post_init)
    lines = [f"def {name}(self{''.join(', ' + a for a in arguments)}):"]
    for i, kind in enumerate(kinds):
        given = {"a": f"_p{i}", "f": f"_p{i}", "d": f"_d{i}", "g": f"_factory{i}()"}[kind]
        if kind == "f":
            lines.append(f"    if _p{i} is _NO_ARGUMENT:")
            lines.append(f"        _p{i} = _factory{i}()")
        if frozen:
            lines.append(f'    _setattr(self, "_n{i}", {given})')
        else:
            lines.append(f"    self._n{i} = {given}")
    if post_init:
        lines.append("    self.__post_init__()")
    lines.append("    return None")
    return "\n".join(lines) + "\n"


def _frozen_guard(cls: type, names: frozenset[str], verb: str) -> Callable[..., None]:
    """`__setattr__` or `__delattr__` as a frozen dataclass has them."""
    parent = getattr(super(cls, cls), "__setattr__" if verb == "assign to" else "__delattr__")

    def guard(self: object, name: str, *value: object) -> None:
        if type(self) is cls or name in names:
            from dataclasses import FrozenInstanceError  # only on this mistake

            raise FrozenInstanceError(f"cannot {verb} field {name!r}")
        parent(self, name, *value)

    return guard
