"""Locks already held in the transaction: one finding per table and transaction.

A statement inside a transaction keeps the locks it takes until COMMIT. When an earlier
statement of the same transaction already holds a lock as strong on a table, a later scan,
rewrite or index build on it takes no new lock: it only makes the existing hold longer. Rules
whose finding is about such a long hold (`Rule.lengthens_lock`) are therefore merged here: the
first statement that makes the hold long is reported, naming the statements that took the
lock, and the later ones on the same table in the same transaction are not reported again.

The statements of a DO block run in one transaction even in autocommit: they count as one.
"""

from __future__ import annotations

from bgmigrate.check.context import Context
from bgmigrate.check.locks import LockMode, TableLock, table_locks
from bgmigrate.check.rule import Violation
from bgmigrate.parse.operations import DropIndex, Operation

__all__ = ["merge_long_hold", "record_locks"]

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
        ctx.state.held.setdefault((transaction, table.key), []).append((lock.mode, op))


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
        for mode, earlier in ctx.state.held.get((transaction, lock.table.key), ())
        # An earlier action of the same statement is the statement's own lock.
        if _STRENGTH.index(mode) >= _STRENGTH.index(lock.mode)
        and earlier.statement is not op.statement
    ]
    first = ctx.first_time(f"long-hold {transaction} {lock.table.key}")
    if not holders:
        return violation
    if not first:
        return None
    strongest = max(
        (mode for mode, _ in ctx.state.held[(transaction, lock.table.key)]),
        key=_STRENGTH.index,
    )
    described = [_described(earlier) for earlier in _unique(holders)]
    taken_by = " and ".join(
        (", ".join(described[:-1]), described[-1]) if described[:-1] else described
    )
    note = (
        f" {lock.table} is already locked {strongest.value} in this transaction, by "
        f"{taken_by}: this statement's own lock adds nothing to that one, but keeps it held "
        f"for its whole duration, and {strongest.blocks} on {lock.table} wait until the "
        "transaction ends. "
        "Reported once per table and transaction: move the long statements to a migration "
        "of their own."
    )
    return Violation(violation.message + note, violation.safe_alternative, violation.location)


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
