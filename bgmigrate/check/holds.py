"""Locks already held in the transaction: one finding per table and transaction.

A statement inside a transaction keeps the locks it takes until COMMIT. When an earlier
statement of the same transaction already holds a lock as strong on a table, a later scan,
rewrite or index build on it takes no new lock: it only makes the existing hold longer. Rules
whose finding is about such a long hold (`Rule.lengthens_lock`) are therefore merged here: the
first statement that makes the hold long is reported, naming the statements that took the
lock, and the later ones on the same table in the same transaction are not reported again.

A data change (`INSERT … SELECT`, `UPDATE`, `DELETE`) on a table that existed before takes no
lock that queues the app, but it is long too: every lock its transaction already holds on
another existing table, a foreign key's referenced table included, lasts through it
(`long_holds`, one finding per table and transaction as well).

The statements of a DO block run in one transaction even in autocommit: they count as one.
"""

from __future__ import annotations

from bgmigrate.check.context import Context
from bgmigrate.check.locks import LockMode, TableLock, table_locks
from bgmigrate.check.rule import Violation
from bgmigrate.parse.operations import DropIndex, Operation
from bgmigrate.values import Value, frozen_value

__all__ = ["Hold", "long_holds", "merge_long_hold", "record_locks"]

# Each mode conflicts with everything the ones before it conflict with.
_STRENGTH = (LockMode.SHARE, LockMode.SHARE_ROW_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE)


def _transaction(op: Operation, ctx: Context) -> object | None:
    """What keeps the op's locks until it ends: its transaction block, or the DO block it is
    part of; None when it runs alone in autocommit."""
    outer = ctx.statement
    if outer is None:
        return None
    if outer.transaction is not None:
        return outer.transaction
    return ("do", outer.index) if op.statement is not outer else None


def record_locks(op: Operation, ctx: Context) -> None:
    """Remember the locks `op` holds until its transaction ends."""
    transaction = _transaction(op, ctx)
    if transaction is None:
        return
    for lock in table_locks(op):
        # DROP INDEX names the index: its lock is on the table, when the run knows it.
        table = (ctx.index_table(lock.table) if isinstance(op, DropIndex) else None) or lock.table
        held = ctx.state.held.setdefault((transaction, table.key), [])
        held.append((TableLock(lock.mode, table), op))


def merge_long_hold(violation: Violation, op: Operation, ctx: Context) -> Violation | None:
    """The finding of a statement that makes a lock's hold long, told in context: as it is
    when its own lock is the first on the table in the transaction; with the statements that
    already hold the lock when there are some; None when this table and transaction already
    have their finding."""
    transaction = _transaction(op, ctx)
    lock = _own_lock(op, ctx)
    if transaction is None or lock is None:
        return violation
    holders = [
        earlier
        for held, earlier in _earlier(op, ctx, transaction, lock.table.key)
        if _STRENGTH.index(held.mode) >= _STRENGTH.index(lock.mode)
    ]
    first = ctx.first_time(_once_key(transaction, lock.table.key))
    if not holders:
        return violation
    if not first:
        return None
    strongest = _strongest(ctx.state.held[(transaction, lock.table.key)])
    note = (
        f" {lock.table} is already locked {strongest.value} in this transaction, by "
        f"{_taken_by(holders)}: this statement's own lock adds nothing to that one, but keeps "
        f"it held for its whole duration, and {strongest.blocks} on {lock.table} wait until "
        "the transaction ends. "
        "Reported once per table and transaction: move the long statements to a migration "
        "of their own."
    )
    return Violation(violation.message + note, violation.safe_alternative, violation.location)


@frozen_value
class Hold(Value):
    """A lock an earlier statement of the transaction holds on a table that existed before."""

    lock: TableLock
    """The strongest lock held on the table."""
    taken_by: str
    """`line 3 (CREATE TABLE …)`, and the others that took it."""
    last_line: int
    """The line of the last statement that took it."""


def long_holds(op: Operation, ctx: Context) -> list[Hold]:
    """The locks that `op`, a long statement taking no lock of its own that queues the app,
    keeps held: those earlier statements of its transaction took on tables that existed
    before, each table once per transaction (a statement that already made its hold long
    has its finding)."""
    transaction = _transaction(op, ctx)
    if transaction is None:
        return []
    holds = []
    for (held_in, key), locks in ctx.state.held.items():
        if held_in != transaction or ctx.is_new_relation(locks[0][0].table):
            continue
        holders = [earlier for _, earlier in _earlier(op, ctx, transaction, key)]
        if holders and ctx.first_time(_once_key(transaction, key)):
            strongest = _strongest(locks)
            lock = TableLock(strongest, locks[0][0].table)
            holds.append(Hold(lock, _taken_by(holders), holders[-1].location.line))
    return holds


def _earlier(
    op: Operation, ctx: Context, transaction: object, key: str
) -> list[tuple[TableLock, Operation]]:
    """The locks earlier statements of the transaction took on the table: an earlier action
    of `op`'s own statement is the statement's own lock."""
    return [
        (held, earlier)
        for held, earlier in ctx.state.held.get((transaction, key), ())
        if earlier.statement is not op.statement
    ]


def _once_key(transaction: object, key: str) -> str:
    return f"long-hold {transaction} {key}"


def _strongest(locks: list[tuple[TableLock, Operation]]) -> LockMode:
    return max((held.mode for held, _ in locks), key=_STRENGTH.index)


def _taken_by(holders: list[Operation]) -> str:
    """`line 2 (…), line 3 (…) and line 5 (…)`: each statement once."""
    described = [_described(earlier) for earlier in _unique(holders)]
    return " and ".join((", ".join(described[:-1]), described[-1]) if described[:-1] else described)


def _own_lock(op: Operation, ctx: Context) -> TableLock | None:
    """The lock `op` takes on the table it works on (the first one; a foreign key's
    referenced table comes after it)."""
    locks = [lock for lock in table_locks(op) if not ctx.is_new_relation(lock.table)]
    return locks[0] if locks else None


def _unique(operations: list[Operation]) -> list[Operation]:
    seen: dict[int, Operation] = {}
    for operation in operations:
        seen.setdefault(id(operation.statement), operation)
    return list(seen.values())


def _described(op: Operation) -> str:
    """`line 2 (ALTER TABLE users ADD COLUMN …)`: where and what, in one short line."""
    words = " ".join(op.statement.sql.split())
    head = words if len(words) <= 60 else words[:57].rstrip() + "…"
    return f"line {op.location.line} ({head})"
