"""Value classes behave as the dataclasses they replace: by field, within one class."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from collections.abc import Callable
from types import CodeType, FunctionType

import pytest

from bgmigrate import value_shapes
from bgmigrate.values import (
    Value,
    field,
    field_names,
    frozen_value,
    ordered,
    replace,
    shape_source,
    value,
)


@frozen_value
class Point(Value):
    """A frozen value."""

    x: int
    y: int = 0


@frozen_value
class Other(Value):
    """Same fields, another class."""

    x: int
    y: int = 0


@value
class Box(Value):
    """A value that is not frozen."""

    items: tuple[int, ...]


def test_equal_and_hashed_by_fields_within_one_class() -> None:
    assert Point(1, 2) == Point(1, 2) and hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1) != Other(1)
    assert {Point(1), Point(1), Other(1)} == {Point(1), Other(1)}
    assert Point(1).__eq__(object()) is NotImplemented


def test_shown_and_replaced_as_a_dataclass() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert dataclasses.replace(Point(1, 2), y=5) == Point(1, 5)
    assert [field.name for field in dataclasses.fields(Box)] == ["items"]


def test_frozen_values_refuse_assignment_and_plain_ones_allow_it() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Point(1).x = 2  # type: ignore[misc]
    box = Box((1,))
    box.items = (2,)
    assert box == Box((2,))


def shaped(decorate: Callable[[type], type]) -> type:
    """A class with every kind of field the shared `__init__` templates handle."""

    class Shaped(Value):
        name: str
        items: list[int] = dataclasses.field(default_factory=list)
        label: str = "x"
        seen: int = dataclasses.field(default=0, init=False)
        notes: list[str] = dataclasses.field(default_factory=lambda: ["new"], init=False)

        def __post_init__(self) -> None:
            self.seen += 1

    return decorate(Shaped)


Shaped = shaped(value)
ShapedByDataclass = shaped(dataclasses.dataclass(eq=False, repr=False))
"""The same fields, with the `__init__` `dataclass` writes."""


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("a",), {}),
        (("a", [1], "y"), {}),
        ((), {"name": "a", "label": "z"}),
        (("a",), {"items": [2]}),
    ],
)
def test_init_is_what_dataclass_writes(args: tuple, kwargs: dict) -> None:
    ours, theirs = Shaped(*args, **kwargs), ShapedByDataclass(*args, **kwargs)
    assert vars(ours) == vars(theirs)
    assert Shaped("a").items is not Shaped("a").items  # a new list each time


def test_init_refuses_what_dataclass_refuses() -> None:
    for call in (lambda: Shaped(), lambda: Shaped("a", seen=2), lambda: Shaped("a", nope=1)):
        with pytest.raises(TypeError):
            call()
    assert list(inspect.signature(Shaped).parameters) == ["name", "items", "label"]
    assert Shaped.__init__.__qualname__ == "shaped.<locals>.Shaped.__init__"


def test_frozen_values_refuse_deletion_and_replace_builds_anew() -> None:
    point = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x
    assert dataclasses.replace(point, y=5) == Point(1, 5)


def test_fields_a_value_class_cannot_have_are_refused() -> None:
    with pytest.raises(TypeError, match="kw_only"):

        @value
        class KeywordOnly(Value):
            """Not supported."""

            x: int = dataclasses.field(default=0, kw_only=True)


def test_every_shape_in_bgmigrate_is_written_out_as_its_template_says() -> None:
    # In a new interpreter: the classes of these tests have shapes of their own.
    every_module = (
        "import pkgutil, bgmigrate\n"
        "from importlib import import_module\n"
        "from bgmigrate import value_shapes, values\n"
        "for module in pkgutil.walk_packages(bgmigrate.__path__, 'bgmigrate.'):\n"
        "    if not module.name.endswith('__main__'):\n"
        "        import_module(module.name)\n"
        "print(len(values._SHAPES), [shape for shape in values._SHAPES\n"
        "    if not hasattr(value_shapes, values.shape_name(*shape))])\n"
    )
    done = subprocess.run([sys.executable, "-c", every_module], capture_output=True, text=True)
    assert done.stdout.split(" ", 1)[1].strip() == "[]", "run scripts/generate_value_shapes.py"
    assert int(done.stdout.split(" ", 1)[0]) > 20
    written = [getattr(value_shapes, name) for name in dir(value_shapes)]
    shapes = [function for function in written if isinstance(function, FunctionType)]
    for function in shapes:
        kinds, frozen, *post_init = function.__name__.removeprefix("init_").split("_", 2)
        source = shape_source(
            "" if kinds == "none" else kinds, frozen=frozen == "frozen", post_init=bool(post_init)
        )
        compiled = next(c for c in compile(source, "", "exec").co_consts if isinstance(c, CodeType))
        for part in ("co_code", "co_names", "co_varnames", "co_consts", "co_name"):
            assert getattr(compiled, part) == getattr(function.__code__, part), function.__name__


@ordered
@value
class Pair(Value):
    """Ordered as `dataclass(order=True)` orders."""

    first: str
    second: int = 0


@dataclasses.dataclass(order=True, unsafe_hash=True)
class PairByDataclass:
    first: str
    second: int = 0


def test_ordered_values_compare_as_dataclass_orders_them() -> None:
    pairs = [("b", 1), ("a", 2), ("a", 1), ("b", 0)]
    ours = sorted(Pair(*p) for p in pairs)
    theirs = sorted(PairByDataclass(*p) for p in pairs)
    assert [(p.first, p.second) for p in ours] == [(p.first, p.second) for p in theirs]
    assert Pair("a") < Pair("a", 1) <= Pair("a", 1) and Pair("b") > Pair("a", 9) >= Pair("a", 9)
    with pytest.raises(TypeError):
        _ = Pair("a") < Point(1)  # type: ignore[operator]


def test_replace_and_field_names_without_dataclasses() -> None:
    shaped = Shaped("a", [1], "y")
    copy = replace(shaped, label="z")
    assert (copy.name, copy.items, copy.label, copy.seen) == ("a", [1], "z", 1)
    with pytest.raises(ValueError, match="init=False"):
        replace(shaped, seen=3)
    assert replace(Point(1, 2), y=5) == Point(1, 5)
    assert field_names(Shaped) == ("name", "items", "label", "seen", "notes")
    assert replace(PairByDataclass("a"), second=2) == PairByDataclass("a", 2)  # a dataclass


def test_a_value_field_declared_with_values_field_is_set_up_as_dataclass_does() -> None:
    @value
    class Declared(Value):
        """`bgmigrate.values.field` instead of `dataclasses.field`."""

        name: str
        items: list[int] = field(default_factory=list)
        label: str = field(default="x")
        seen: int = field(default=0, init=False)

    assert vars(Declared("a")) == {"name": "a", "items": [], "label": "x", "seen": 0}
    assert Declared.label == "x" and "items" not in vars(Declared)
    assert [f.name for f in dataclasses.fields(Declared)] == ["name", "items", "label", "seen"]
    assert dataclasses.fields(Declared)[1].default_factory is list
    with pytest.raises(ValueError, match="mutable default"):

        @value
        class Mutable(Value):
            """A list default would be shared by every object."""

            items: list[int] = []  # noqa: RUF012
