"""Functions created and called in the same migration: their bodies run at the call.

Best effort. When a unit calls (`SELECT f(…)`, `CALL p(…)`) a function it created with
`CREATE FUNCTION … LANGUAGE plpgsql`, the operations of the function's body are checked at the
call, in the call's transaction, and reported at their own lines
in the function's body. Only the first call is followed; parameters stay placeholders
(`"<tablename>"`); functions from earlier units, overloads, triggers and calls nested in
expressions are not followed.
"""

from __future__ import annotations

from bgmigrate.parse.operations import CallFunction, CreateObject, Operation
from bgmigrate.values import replace

__all__ = ["with_called_bodies"]


def with_called_bodies(
    operations: list[Operation], functions: dict[str, CreateObject | None]
) -> list[Operation]:
    """`operations`, each first call of a function the unit created followed by its body's
    operations; `functions` holds the unit's created functions (None once called)."""
    result: list[Operation] = []
    for op in operations:
        result.append(op)
        if isinstance(op, CreateObject) and op.kind in ("function", "procedure"):
            functions[op.name.key] = op
        elif isinstance(op, CallFunction) and functions.get(op.name.key) is not None:
            from bgmigrate.parse.postgres import parse_function_body

            created = functions[op.name.key]
            functions[op.name.key] = None
            result.extend(_at_call(inner, op) for inner in parse_function_body(created))
    return result


def _at_call(inner: Operation, call: CallFunction) -> Operation:
    """The body's operation as the call runs it: in the call's transaction."""
    statement = replace(inner.statement, transaction=call.statement.transaction)
    return replace(inner, statement=statement)
