"""Value classes behave as the dataclasses they replace: by field, within one class."""

from __future__ import annotations

import dataclasses

import pytest

from bgmigrate.values import Value, frozen_value, value


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
