"""Functions chosen by the class of their first argument, looked up in a plain dict.

`functools.singledispatch` keeps the implementation chosen for each class in a
`WeakKeyDictionary`, whose lookup is Python code: about a microsecond a call. A check calls
`track` and `table_locks` for every operation, some several times (on a 20,000-statement
corpus, 44,000 calls: a sixth of the rules' time). Here singledispatch still chooses, by the
same rules, once per class; the choice is kept in a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch, update_wrapper
from typing import Any, Protocol, TypeVar

__all__ = ["ByClass", "by_class"]

R = TypeVar("R", covariant=True)
F = TypeVar("F", bound=Callable[..., Any])


class ByClass(Protocol[R]):
    """A function dispatched on its first argument's class."""

    def __call__(self, first: Any, /, *args: Any) -> R: ...

    def register(self, cls: type) -> Callable[[F], F]:
        """Decorates the implementation for `cls` (and its subclasses), as singledispatch's
        `register(cls)` does."""
        ...


def by_class(default: Callable[..., R]) -> ByClass[R]:
    """Decorates the implementation for the classes nothing else is registered for."""
    generic = singledispatch(default)
    chosen: dict[type, Callable[..., R]] = {}

    def dispatched(first: Any, /, *args: Any) -> R:
        kind = first.__class__
        implementation = chosen.get(kind)
        if implementation is None:
            implementation = chosen[kind] = generic.dispatch(kind)
        return implementation(first, *args)

    def register(cls: type) -> Callable[[F], F]:
        def decorate(implementation: F) -> F:
            generic.register(cls, implementation)
            chosen.clear()
            return implementation

        return decorate

    wrapper: Any = update_wrapper(dispatched, default)
    wrapper.register = register
    return wrapper  # type: ignore[no-any-return]
