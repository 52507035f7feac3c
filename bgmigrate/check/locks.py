"""Which table lock each operation takes, as measured in hazards.md.

Only the modes that queue the application's reads or writes matter here: ACCESS EXCLUSIVE
(blocks everything), SHARE ROW EXCLUSIVE and SHARE (block writes). A statement waiting for one of
them makes every later query on the table wait behind it, which is what `lock_timeout` bounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from bgmigrate.check.dispatch import by_class
from bgmigrate.parse.operations import (
    AddColumn,
    AddConstraint,
    AlterColumnType,
    AttachPartition,
    ConstraintKind,
    CreateIndex,
    CreateObject,
    CreateTable,
    DetachPartition,
    DropColumn,
    DropConstraint,
    DropDefault,
    DropIndex,
    DropNotNull,
    DropObject,
    DropTable,
    InlineConstraint,
    LockTable,
    Name,
    Operation,
    OtherAlterTable,
    RefreshMaterializedView,
    Reindex,
    RenameColumn,
    RenameObject,
    RenameTable,
    SetDefault,
    SetNotNull,
    TableRewrite,
    Truncate,
)
from bgmigrate.values import Value, frozen_value

__all__ = ["LockMode", "TableLock", "table_locks"]


class LockMode(str, Enum):
    ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
    SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
    SHARE = "SHARE"

    @property
    def blocks(self) -> str:
        """What the application cannot do on the table while the lock is held or queued."""
        if self is LockMode.ACCESS_EXCLUSIVE:
            return "all reads and writes"
        return "all writes (INSERT, UPDATE, DELETE)"


@frozen_value
class TableLock(Value):
    """A lock an operation takes on a table, as far as other sessions' traffic is concerned."""

    mode: LockMode
    table: Name


# Each implementation names its class: registered by an annotation alone, singledispatch
# would evaluate the module's string annotations (typing.get_type_hints) on every start.
@by_class
def table_locks(op: Operation) -> tuple[TableLock, ...]:
    """The traffic-blocking locks `op` takes, on which tables; () for the harmless ones."""
    return ()


def _exclusive(table: Name) -> tuple[TableLock, ...]:
    return (TableLock(LockMode.ACCESS_EXCLUSIVE, table),)


@table_locks.register(DropColumn)
@table_locks.register(RenameColumn)
@table_locks.register(RenameTable)
@table_locks.register(AlterColumnType)
@table_locks.register(SetNotNull)
@table_locks.register(DropNotNull)
@table_locks.register(SetDefault)
@table_locks.register(DropDefault)
@table_locks.register(DropConstraint)
def _(op: DropColumn) -> tuple[TableLock, ...]:
    return _exclusive(op.table)


def _referenced(constraints: Iterable[InlineConstraint]) -> tuple[TableLock, ...]:
    """A foreign key locks the table it references against writes while it is added."""
    return tuple(
        TableLock(LockMode.SHARE_ROW_EXCLUSIVE, c.references)
        for c in constraints
        if c.kind is ConstraintKind.FOREIGN_KEY and c.references is not None
    )


@table_locks.register(AddColumn)
def _(op: AddColumn) -> tuple[TableLock, ...]:
    return _exclusive(op.table) + _referenced(op.column.constraints)


@table_locks.register(CreateTable)
def _(op: CreateTable) -> tuple[TableLock, ...]:
    # The new table itself locks nobody out; the existing tables its foreign keys reference
    # do, and so does the parent it becomes a partition of (ACCESS EXCLUSIVE, measured).
    inline = (c for column in op.columns for c in column.constraints)
    locks = tuple(
        lock for lock in _referenced((*inline, *op.constraints)) if lock.table.key != op.table.key
    )
    return locks if op.partition_of is None else _exclusive(op.partition_of) + locks


@table_locks.register(AddConstraint)
def _(op: AddConstraint) -> tuple[TableLock, ...]:
    if op.kind is ConstraintKind.FOREIGN_KEY:
        locks = (TableLock(LockMode.SHARE_ROW_EXCLUSIVE, op.table),)
        if op.references is not None:
            locks += (TableLock(LockMode.SHARE_ROW_EXCLUSIVE, op.references),)
        return locks
    return _exclusive(op.table)


@table_locks.register(CreateIndex)
def _(op: CreateIndex) -> tuple[TableLock, ...]:
    return () if op.concurrently else (TableLock(LockMode.SHARE, op.table),)


@table_locks.register(DropIndex)
def _(op: DropIndex) -> tuple[TableLock, ...]:
    # The table is not named in DROP INDEX; the index stands in for it in messages.
    return () if op.concurrently else tuple(_exclusive(n)[0] for n in op.names)


@table_locks.register(Reindex)
def _(op: Reindex) -> tuple[TableLock, ...]:
    if op.concurrently or op.name is None:
        return ()
    return (TableLock(LockMode.SHARE, op.name),)


@table_locks.register(DropTable)
def _(op: DropTable) -> tuple[TableLock, ...]:
    return tuple(TableLock(LockMode.ACCESS_EXCLUSIVE, t) for t in op.tables)


@table_locks.register(Truncate)
def _(op: Truncate) -> tuple[TableLock, ...]:
    return tuple(TableLock(LockMode.ACCESS_EXCLUSIVE, t) for t in op.tables)


@table_locks.register(TableRewrite)
def _(op: TableRewrite) -> tuple[TableLock, ...]:
    return () if op.table is None else _exclusive(op.table)


@table_locks.register(OtherAlterTable)
def _(op: OtherAlterTable) -> tuple[TableLock, ...]:
    try:
        return (TableLock(LockMode(op.lock), op.table),)
    except ValueError:
        return ()


# Objects that live on a table: creating, dropping or renaming one locks the table.
# CREATE TRIGGER takes SHARE ROW EXCLUSIVE, the others ACCESS EXCLUSIVE.
_ON_TABLE = frozenset({"trigger", "policy", "rule", "constraint"})


@table_locks.register(CreateObject)
def _(op: CreateObject) -> tuple[TableLock, ...]:
    if op.table is None or op.kind not in _ON_TABLE:
        return ()
    if op.kind == "trigger":
        return (TableLock(LockMode.SHARE_ROW_EXCLUSIVE, op.table),)
    return _exclusive(op.table)


@table_locks.register(DropObject)
@table_locks.register(RenameObject)
def _(op: DropObject | RenameObject) -> tuple[TableLock, ...]:
    if op.table is None or op.kind not in _ON_TABLE:
        return ()
    return _exclusive(op.table)


@table_locks.register(AttachPartition)
def _(op: AttachPartition) -> tuple[TableLock, ...]:
    # The parent only gets SHARE UPDATE EXCLUSIVE (PG 12+); the attached table, or the
    # attached partition's index (which every query on that partition plans with), gets
    # ACCESS EXCLUSIVE.
    return _exclusive(op.partition)


@table_locks.register(DetachPartition)
def _(op: DetachPartition) -> tuple[TableLock, ...]:
    if op.concurrently or op.finalize:
        return ()  # SHARE UPDATE EXCLUSIVE: reads and writes go on
    return _exclusive(op.table) + _exclusive(op.partition)


@table_locks.register(LockTable)
def _(op: LockTable) -> tuple[TableLock, ...]:
    mode = op.mode.upper()
    if mode not in {m.value for m in LockMode}:
        return ()  # the weaker modes let the application's reads and writes through
    return tuple(TableLock(LockMode(mode), table) for table in op.tables)


@table_locks.register(RefreshMaterializedView)
def _(op: RefreshMaterializedView) -> tuple[TableLock, ...]:
    # CONCURRENTLY takes EXCLUSIVE, which lets the view's readers through.
    return () if op.concurrently else _exclusive(op.view)
