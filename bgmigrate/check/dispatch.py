"""Functions chosen by the class of their first argument, looked up in a plain dict.

`functools.singledispatch` keeps the implementation chosen for each class in a
`WeakKeyDictionary`, whose lookup is Python code: about a microsecond a call. A check calls
`track` and `table_locks` for every operation, some several times (on a 20,000-statement
corpus, 44,000 calls: a sixth of the rules' time). And each of its `register` calls imports
`typing`, which a pre-commit run otherwise never needs. Here the implementation is chosen as
singledispatch chooses it for classes without abstract bases (the operations are plain
classes): the one registered for the nearest class along the method resolution order; the
choice is made once per class and kept in a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any, Protocol, TypeVar

__all__ = ["ByClass", "by_class"]

if TYPE_CHECKING:
    R = TypeVar("R", covariant=True)
    F = TypeVar("F", bound=Callable[..., Any])

    class ByClass(Protocol[R]):
        """A function dispatched on its first argument's class."""

        def __call__(self, first: Any, /, *args: Any) -> R: ...

        def register(self, cls: type) -> Callable[[F], F]:
            """Decorates the implementation for `cls` (and its subclasses), as
            singledispatch's `register(cls)` does."""
            ...

else:
    ByClass = Callable  # the type checker's protocol; at run time, any callable


def by_class(default: Callable[..., R]) -> ByClass[R]:
    """Decorates the implementation for the classes nothing else is registered for."""
    registered: dict[type, Callable[..., R]] = {object: default}
    chosen: dict[type, Callable[..., R]] = {}

    def dispatched(first: Any, /, *args: Any) -> R:
        kind = first.__class__
        implementation = chosen.get(kind)
        if implementation is None:
            nearest = next(c for c in kind.__mro__ if c in registered)
            implementation = chosen[kind] = registered[nearest]
        return implementation(first, *args)

    def register(cls: type) -> Callable[[F], F]:
        def decorate(implementation: F) -> F:
            registered[cls] = implementation
            chosen.clear()
            return implementation

        return decorate

    wrapper: Any = update_wrapper(dispatched, default)
    wrapper.register = register
    return wrapper  # type: ignore[no-any-return]
