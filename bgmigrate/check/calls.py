"""Functions created and called in the same migration: their bodies run at the call.

Best effort. A `CREATE FUNCTION … LANGUAGE plpgsql` carries the operations its body runs
(`CreateObject.body`); when the same unit then calls it (`SELECT f(…)`, `CALL p(…)`), those
operations are checked at the call, in the call's transaction, and reported at their own lines
in the function's body. Only the first call is followed; parameters stay placeholders
(`"<tablename>"`); functions from earlier units, overloads, triggers and calls nested in
expressions are not followed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bgmigrate.parse.operations import CallFunction, CreateObject, Operation

__all__ = ["with_called_bodies"]


def with_called_bodies(
    operations: Iterable[Operation], functions: dict[str, tuple[Operation, ...]]
) -> list[Operation]:
    """`operations`, each call of a function the unit created followed by its body's
    operations; `functions` holds the unit's created functions and is updated."""
    result: list[Operation] = []
    for op in operations:
        result.append(op)
        if isinstance(op, CreateObject) and op.kind in ("function", "procedure"):
            functions[op.name.key] = op.body
        elif isinstance(op, CallFunction) and functions.get(op.name.key):
            body = functions.pop(op.name.key)
            result.extend(_at_call(inner, op) for inner in body)
    return result


def _at_call(inner: Operation, call: CallFunction) -> Operation:
    """The body's operation as the call runs it: in the call's transaction."""
    statement = replace(inner.statement, transaction=call.statement.transaction)
    return replace(inner, statement=statement)
