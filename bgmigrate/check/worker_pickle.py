"""How a worker's batch travels to the process that runs the rules: pickled, each value class
as its class and its fields' values.

Its own module so that a check of a few files, which starts no worker, imports no pickle.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from bgmigrate.values import Value, field_names

__all__ = ["pickled", "unpickled"]


def pickled(batch: object) -> bytes:
    """A worker's batch (or the exception that stopped it), pickled to be rebuilt by calling
    each value class (see `_Pickler`)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(batch)
    return buffer.getvalue()


def unpickled(message: bytes) -> Any:
    return pickle.loads(message)


class _Pickler(pickle.Pickler):
    """Pickles a value class (operations, statements, `Name`…) as its class and its fields'
    values, which unpickling passes to the class: building the ~150,000 objects of 2,000
    files so is a third of the time of pickle's default (a new object, then a dict of its
    attributes set on it), and in the process that runs the rules. A class that computes
    anything when built (`__post_init__`, a field that is no argument) and an object with
    attributes of its own besides its fields are pickled the default way."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        names = _ARGUMENTS.get(kind, False)
        if names is False:
            names = _ARGUMENTS[kind] = _init_arguments(kind)
        if names is None:
            return NotImplemented
        # Its fields' values as `__init__` set them, in its order, when they are all there is
        # (read from its dict in one call: a `getattr` per field cost a third of pickling).
        state = obj.__dict__
        if tuple(state) != names:
            return NotImplemented
        return kind, tuple(state.values())


_ARGUMENTS: dict[type, tuple[str, ...] | None] = {}
"""By class: the fields its `__init__` takes, in order, when they are all its state; else None."""


def _init_arguments(kind: type) -> tuple[str, ...] | None:
    if not issubclass(kind, Value) or hasattr(kind, "__post_init__"):
        return None
    fields = kind.__value_fields__
    if not all(field.init for field in fields):
        return None
    return field_names(kind)
