"""Functions dispatched on their first argument's class, as singledispatch chooses."""

from __future__ import annotations

from bgmigrate.check.dispatch import by_class


class Base:
    pass


class Middle(Base):
    pass


class Leaf(Middle):
    pass


def test_the_nearest_registered_class_is_chosen_and_arguments_passed_on() -> None:
    @by_class
    def describe(thing: object, suffix: str) -> str:
        """What a thing is."""
        return "anything" + suffix

    @describe.register(Base)
    def _(thing: Base, suffix: str) -> str:
        return "a base" + suffix

    assert describe(Leaf(), "!") == "a base!"
    assert describe(3, "?") == "anything?"

    @describe.register(Middle)  # registered after a call: the choice made for Leaf is redone
    def _(thing: Middle, suffix: str) -> str:
        return "a middle" + suffix

    assert describe(Leaf(), "!") == "a middle!"
    assert describe(Base(), "!") == "a base!"
    assert describe.__doc__ == "What a thing is."
