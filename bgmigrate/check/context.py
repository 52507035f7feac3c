"""What a rule may know besides the operation in front of it.

The engine updates this state after the rules have seen each operation (see `track`), so a
rule always sees the state *before* the operation it inspects: the objects the unit created so
far, the lock_timeout in force, the constraints validated earlier in the run, the column types
earlier units declared, the phase and the target PostgreSQL version.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Container
from functools import partial

from bgmigrate.check.dispatch import by_class
from bgmigrate.check.locks import TableLock
from bgmigrate.parse.operations import (
    AddColumn,
    AddConstraint,
    AlterColumnType,
    AlterFunction,
    AttachPartition,
    ColumnDefinition,
    ConstraintKind,
    CreateIndex,
    CreateObject,
    CreateTable,
    DetachPartition,
    DropColumn,
    DropDefault,
    DropIndex,
    DropTable,
    Generated,
    InlineConstraint,
    Name,
    Operation,
    RenameColumn,
    RenameObject,
    RenameTable,
    SetDefault,
    SetGuc,
    Transaction,
    TransactionAction,
    TypeName,
    ValidateConstraint,
    Volatility,
)
from bgmigrate.parse.pg_nodes import qualified_name
from bgmigrate.parse.volatility import RANK
from bgmigrate.source.unit import Phase, Statement, Unit
from bgmigrate.values import Value, field, value

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import TypeVar

__all__ = ["Context", "RunState", "UnitState", "track"]

if TYPE_CHECKING:
    T = TypeVar("T")


@value
class RunState(Value):
    """What earlier statements of the whole run established (objects in production)."""

    columns: dict[str, Columns] = field(default_factory=dict)
    """Column types by table key, from CREATE TABLE / ADD COLUMN / ALTER TYPE seen so far,
    each with its DEFAULT where `defaults` says so (read both through the methods below).
    A table's entry is one flat tuple, its key first (the one string of the key the run
    keeps: see `key`), then each column's name and (type, default): a dict per table takes
    twice the memory, and a run keeps every table it saw."""
    not_null_checks: dict[tuple[str, str], str] = field(default_factory=dict)
    """NOT VALID `CHECK (col IS NOT NULL)` constraints: (table key, name) → column."""
    validated_not_null: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Columns proven non-null (NOT NULL, or a validated CHECK), by table key (a tuple: a
    table has a few, and an empty or small set takes several times the memory)."""
    defaults: dict[str, dict[str, str | None]] = field(default_factory=dict)
    """Column defaults by table key → column → the DEFAULT's SQL (None: none), for the columns
    whose definition the run has seen. A table in `columns` and not here has the defaults its
    `columns` entries hold (most tables: no entry here); a change that would set the two
    apart (a column dropped or renamed, the table renamed or dropped) copies them out first.
    (An empty dict: the run has seen no definition of the table's columns.)"""
    index_tables: dict[str, Name | str] = field(default_factory=dict)
    """The table of each index the run created, by index key: a table named without a schema
    as its key (the string `key` gives, `public.` and its name: no `Name` object kept for
    it), any other as its `Name` (read through `Context.index_table`)."""
    index_shapes: dict[str, tuple[IndexShape, ...]] = field(default_factory=dict)
    """By table key, the (columns, unique, predicate) of the indexes the run built on it."""
    partitions: dict[str, list[Name]] = field(default_factory=dict)
    """Partitioned tables by key → their partitions (created or attached so far)."""
    virtual_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """VIRTUAL generated columns (PostgreSQL 18) by table key: they store no values."""
    functions: dict[str, Volatility] = field(default_factory=dict)
    """The volatility each function the run created declares, by function key (of all its
    overloads, the most volatile)."""

    types: dict[tuple[object, ...], TypeName] = field(default_factory=dict)
    """One object for each column type the run keeps, by its fields' values: the run keeps
    the schema of every table it saw, and most of its columns have one of a few types."""

    def kept(self, column_type: TypeName | None) -> TypeName | None:
        """The run's one object equal to `column_type` (found by a tuple of its fields'
        values: a value class's own hash and equality run in Python, for every column)."""
        if column_type is None:
            return None
        return self.types.setdefault(tuple(vars(column_type).values()), column_type)

    names: dict[str, Name] = field(default_factory=dict)
    """One `Name` object for each table name the run keeps (an index's table), by its key."""

    def kept_name(self, name: Name, key: str) -> Name:
        """The run's one object equal to `name` (see `kept`), whose key is `key` (the string
        `key` gives): the first kept of its key, when it is written as `name` is (`t` and
        `public.t` share a key, not their text)."""
        kept = self.names.setdefault(key, name)
        return kept if kept.name == name.name and kept.schema == name.schema else name

    words: dict[str, str] = field(default_factory=dict)
    """One string for each column name (or DEFAULT's SQL) the run keeps: most tables repeat
    a few. (Not `sys.intern`: the interpreter's table of interned strings would keep an
    entry for each, in a table several times the size of this one.)"""

    def word(self, text: str) -> str:
        return self.words.setdefault(text, text)

    kept_columns: dict[tuple[int, str | None], KeptColumn] = field(default_factory=dict)
    """One (type, default) pair for each the run keeps, by the kept type's id and the SQL."""

    shapes: dict[IndexShape, IndexShape] = field(default_factory=dict)
    """One object for each index shape the run keeps (most indexes repeat a few)."""

    def kept_shape(self, shape: IndexShape) -> IndexShape:
        return self.shapes.setdefault(shape, shape)

    def key(self, table: str) -> str:
        """The string the run keeps for a table key: the one its `columns` entry starts with,
        else `table`. (Interning would keep each table's key in the interpreter's table of
        interned strings too: one more entry per table, never let go.)"""
        entry = self.columns.get(table)
        return table if entry is None else entry[0]

    def _kept_column(self, column_type: TypeName | None, default: str | None) -> KeptColumn:
        kept = self.kept(column_type)
        return self.kept_columns.setdefault((id(kept), default), (kept, default))

    def _column(self, table: str, column: str) -> KeptColumn | None:
        entry = self.columns.get(table)
        if entry is None or column not in entry:
            return None
        try:  # names and (type, default) tuples alternate after the key: no tuple is a name
            index = entry.index(column, 1)
        except ValueError:  # the key itself
            return None
        return entry[index + 1]  # type: ignore[return-value]

    def _columns(self, table: str) -> dict[str, KeptColumn]:
        """A table's columns, as a dict to change (`_set_columns` stores it back)."""
        entry = self.columns.get(table, ())
        return dict(zip(entry[1::2], entry[2::2], strict=True))

    def _set_columns(self, table: str, columns: dict[str, KeptColumn]) -> None:
        key = self.key(table)
        self.columns[key] = (key, *itertools.chain.from_iterable(columns.items()))

    def _open(self, table: str) -> dict[str, KeptColumn]:
        """A table's columns to change, the entry made if there is none (its defaults are
        then those the run has seen: none)."""
        if table not in self.columns:
            self.defaults.setdefault(table, {})
        return self._columns(table)

    def column_type(self, table: str, column: str) -> TypeName | None:
        kept = self._column(table, column)
        return None if kept is None else kept[0]

    def column_default(self, table: str, column: str) -> str | None:
        """The DEFAULT of a column the run has seen defined ('' when it has none), or None
        when the run does not know the column."""
        defaults = self.defaults.get(table)
        if defaults is None:
            kept = self._column(table, column)
            return None if kept is None else kept[1] or ""
        if column not in defaults:
            return None
        return defaults[column] or ""

    def _set_apart(self, table: str) -> None:
        """Copy a table's defaults out of its `columns` entries before the two diverge."""
        if table in self.columns and table not in self.defaults:
            self.defaults[self.key(table)] = {
                name: kept[1] for name, kept in self._columns(table).items()
            }

    def define_table(
        self, table: str, columns: list[tuple[str, TypeName | None, str | None]]
    ) -> None:
        """A CREATE TABLE: its columns' names, types and defaults, all the run knows of them."""
        self._set_columns(table, {name: self._kept_column(t, d) for name, t, d in columns})
        self.defaults.pop(table, None)

    def define_column(
        self, table: str, column: str, column_type: TypeName | None, default: str | None
    ) -> None:
        """An ADD COLUMN: its type and default."""
        kept = self._kept_column(column_type, default)
        entry = self.columns.get(table)
        if entry is not None and self._column(table, column) is None:
            self.columns[table] = (*entry, column, kept)  # a new column: at the end
        else:
            if entry is None and table not in self.defaults:
                columns: dict[str, KeptColumn] = {}  # its defaults are its columns'
            else:
                columns = self._open(table)
            columns[column] = kept
            self._set_columns(table, columns)
        defaults = self.defaults.get(table)
        if defaults is not None:
            defaults[column] = default

    def set_column_type(self, table: str, column: str, column_type: TypeName | None) -> None:
        kept = self._column(table, column)
        if kept is None:
            self._set_apart(table)
        columns = self._open(table)
        columns[self.word(column)] = self._kept_column(
            column_type, None if kept is None else kept[1]
        )
        self._set_columns(table, columns)

    def set_default(self, table: str, column: str, default: str | None) -> None:
        kept = self._column(table, column)
        if kept is not None and table not in self.defaults:
            columns = self._columns(table)
            columns[column] = self._kept_column(kept[0], default)
            self._set_columns(table, columns)
            return
        self._set_apart(table)
        self.defaults.setdefault(table, {})[self.word(column)] = default

    def drop_column(self, table: str, column: str) -> TypeName | None:
        """Forget a column's type (not its default); returns the type it had."""
        if self._column(table, column) is None:
            return None
        self._set_apart(table)
        columns = self._columns(table)
        kept = columns.pop(column)
        self._set_columns(table, columns)
        return kept[0]

    def rename_column(self, table: str, column: str, new_name: str) -> None:
        self._set_apart(table)
        columns = self._open(table)
        kept = columns.pop(column, None)
        columns[self.word(new_name)] = kept if kept is not None else self._kept_column(None, None)
        self._set_columns(table, columns)

    def move_columns(self, table: str, renamed: str | None) -> None:
        """A table renamed (to `renamed`) or dropped (None): its column types go along or away;
        the defaults stay with the old key."""
        if table not in self.columns:
            return
        self._set_apart(table)
        if renamed is None:
            del self.columns[table]
        else:
            self._set_apart(renamed)
            columns = self._columns(table)
            del self.columns[table]
            self.defaults.setdefault(renamed, {})
            self._set_columns(renamed, columns)

    def prove_not_null(self, table: Name, column: str) -> None:
        _include(self.validated_not_null, self.key(table.key), column)


Columns = tuple[object, ...]
"""A table's entry in `RunState.columns`: its key, then name, (type, default), name…"""

_UNQUALIFIED = Name("").key
"""What the key of a name written without a schema starts with (the search path's schema)."""

KeptColumn = tuple[TypeName | None, str | None]
"""A column's type and DEFAULT's SQL, one object for every column alike (see RunState)."""

IndexShape = tuple[tuple[str, ...], bool, str | None]
"""An index's (columns, unique, predicate): what a partitioned parent's index can adopt."""


# The run keeps a few names per table in tuples (see RunState.validated_not_null): these two
# add and remove one as a set's add and discard would (an emptied table keeps its entry).
def _include(by_table: dict[str, tuple[T, ...]], table: str, entry: T) -> None:
    entries = by_table.get(table, ())
    if entry not in entries:
        by_table[table] = (*entries, entry)


def _exclude(by_table: dict[str, tuple[T, ...]], table: str, entry: T) -> None:
    entries = by_table.get(table)
    if entries is not None and entry in entries:
        by_table[table] = tuple(e for e in entries if e != entry)


@value
class UnitState(Value):
    """What earlier statements of the current unit did."""

    new_tables: set[str] = field(default_factory=set)
    new_indexes: set[str] = field(default_factory=set)
    new_objects: set[tuple[str, str]] = field(default_factory=set)
    """(kind, key) of other objects created in the unit: types, sequences, views…"""
    lock_timeout_session: bool = False
    lock_timeout_transaction: int | None = None
    """The transaction block in which a `SET LOCAL lock_timeout` is in force."""
    not_valid_constraints: dict[tuple[str, str], int | None] = field(default_factory=dict)
    """(table key, constraint name) → transaction block of its `NOT VALID` add."""
    not_valid_adds: dict[tuple[str, str], AddConstraint] = field(default_factory=dict)
    """(table key, constraint name) → the `NOT VALID` add itself: its kind, its tables."""
    added_columns: dict[str, dict[str, TypeName | None]] = field(default_factory=dict)
    dropped_columns: dict[str, dict[str, TypeName | None]] = field(default_factory=dict)
    once: set[str] = field(default_factory=set)
    forget_on_rollback: dict[int, list[Callable[[], None]]] = field(default_factory=dict)
    """Transaction block → how to forget each object the block created, for its ROLLBACK."""

    def created(self, into: set[T], entry: T, block: int | None) -> None:
        """Record a new object in `into`; forgotten again if its block is rolled back."""
        into.add(entry)
        if block is not None:
            self.forget_on_rollback.setdefault(block, []).append(partial(into.discard, entry))

    savepoints: dict[tuple[int, str], int] = field(default_factory=dict)
    """(block, savepoint name) → how many of the block's objects existed at the savepoint."""

    def roll_back(self, block: int, savepoint: str | None = None) -> None:
        """Forget what the block created (after `savepoint`, for ROLLBACK TO)."""
        created = self.forget_on_rollback.get(block, [])
        kept = 0 if savepoint is None else self.savepoints.get((block, savepoint), 0)
        for forget in created[kept:]:
            forget()
        del created[kept:]

    held: dict[tuple[object, str], list[tuple[TableLock, Operation]]] = field(default_factory=dict)
    """(transaction, table key) → the locks earlier statements of that transaction hold on
    the table, and who took them (see `check.holds`)."""

    @classmethod
    def after(cls, earlier: UnitState) -> UnitState:
        """The state of a unit deployed together with `earlier`'s: what that created is new."""
        return cls(
            new_tables=set(earlier.new_tables),
            new_indexes=set(earlier.new_indexes),
            new_objects=set(earlier.new_objects),
        )


@value
class Context(Value):
    """The rules' window on the run; see the module docstring."""

    unit: Unit
    pg_version: int
    run: RunState
    state: UnitState
    statement: Statement | None = None
    operations: list[Operation] = field(default_factory=list)
    """Every operation of the unit, later ones included, for the rules whose verdict depends
    on what comes after (possible-rename: a dropped name added back)."""

    @property
    def phase(self) -> Phase:
        return self.unit.phase

    @property
    def in_transaction(self) -> bool:
        return self.statement is not None and self.statement.in_transaction

    def is_new_table(self, table: Name) -> bool:
        """True when the table was created earlier in this unit (nobody else can be using it)."""
        return table.key in self.state.new_tables

    def inline_constraints(
        self, op: AddColumn, kinds: Container[ConstraintKind]
    ) -> list[InlineConstraint]:
        """The constraints of `kinds` that an ADD COLUMN writes on its column of a table that
        already existed (on a table new to the unit nobody waits for them)."""
        if self.is_new_table(op.table):
            return []
        return [c for c in op.column.constraints if c.kind in kinds]

    def column_default(self, table: Name, column: str) -> str | None:
        """The DEFAULT of a column the run has seen defined ('' when it has none), or None
        when the run does not know the column."""
        return self.run.column_default(table.key, column)

    def has_index_like(self, table: Name, like: CreateIndex) -> bool:
        """True when the run already built on `table` an index of the same columns,
        uniqueness and predicate as `like` (one a partitioned parent's index can adopt)."""
        shape = (like.columns, like.unique, like.where_sql)
        return shape in self.run.index_shapes.get(table.key, ())

    def tables_indexed_like(self, like: CreateIndex) -> list[str]:
        """The keys of the tables the run indexed as `like` does."""
        shape = (like.columns, like.unique, like.where_sql)
        return [key for key, shapes in self.run.index_shapes.items() if shape in shapes]

    def index_table(self, index: Name) -> Name | None:
        """The table of an index the run created, if it did."""
        table = self.run.index_tables.get(index.key)
        if isinstance(table, str):
            return Name(table[len(_UNQUALIFIED) :])
        return table

    def partitions(self, table: Name) -> list[Name] | None:
        """The partitions of a table the run created as partitioned; None for any other."""
        return self.run.partitions.get(table.key)

    def is_plain_table(self, table: Name) -> bool:
        """True when the run created the table, and not as a partitioned one."""
        return table.key in self.run.columns and table.key not in self.run.partitions

    def is_new_index(self, index: Name) -> bool:
        return index.key in self.state.new_indexes

    def is_new_relation(self, name: Name) -> bool:
        """True when a table, index or materialized view of this name was created earlier in
        this unit: a lock on it queues nobody."""
        return (
            self.is_new_table(name)
            or self.is_new_index(name)
            or self.is_new_object("materialized view", name)
        )

    def is_new_object(self, kind: str, name: Name) -> bool:
        return (kind, name.key) in self.state.new_objects

    @property
    def lock_timeout_set(self) -> bool:
        """True when a non-zero lock_timeout is in force for the current statement."""
        if self.state.lock_timeout_session:
            return True
        current = self.statement.transaction if self.statement else None
        return current is not None and self.state.lock_timeout_transaction == current

    def column_type(self, table: Name, column: str) -> TypeName | None:
        """The column's type, when an earlier statement of the run declared it."""
        return self.run.column_type(table.key, column)

    def function_volatility(self, written: str) -> Volatility | None:
        """The volatility declared by the run's `CREATE FUNCTION` of the function a call
        names (`f` or `s.f`, resolved in public as the key is), or None when the run did
        not create it."""
        return self.run.functions.get(qualified_name(written.split(".")).key)

    def is_virtual_column(self, table: Name, column: str) -> bool:
        """True when the run created the column as a VIRTUAL generated one (no stored values)."""
        return column in self.run.virtual_columns.get(table.key, ())

    def has_validated_not_null_check(self, table: Name, column: str) -> bool:
        return column in self.run.validated_not_null.get(table.key, ())

    def not_valid_transaction(self, table: Name, constraint: str) -> int | None:
        """The transaction block where this unit added the constraint NOT VALID, if it did."""
        return self.state.not_valid_constraints.get((table.key, constraint))

    def not_valid_add(self, table: Name, constraint: str) -> AddConstraint | None:
        """This unit's `ADD CONSTRAINT … NOT VALID` of the constraint, if it has one."""
        return self.state.not_valid_adds.get((table.key, constraint))

    def added_not_valid_in_this_unit(self, table: Name, constraint: str) -> bool:
        return (table.key, constraint) in self.state.not_valid_constraints

    def reported(self, key: str) -> bool:
        """True when `first_time` has already been asked with this key in the unit."""
        return key in self.state.once

    def first_time(self, key: str) -> bool:
        """True the first time a rule asks with this key in the unit (report once per unit)."""
        if key in self.state.once:
            return False
        self.state.once.add(key)
        return True


# Each implementation names its class: registered by an annotation alone, singledispatch
# would evaluate the module's string annotations (typing.get_type_hints) on every start.
@by_class
def track(op: Operation, ctx: Context) -> None:
    """Record what `op` changes in the context; most operations change nothing it tracks."""


@track.register(CreateTable)
def _(op: CreateTable, ctx: Context) -> None:
    # What the run keeps of every table it saw, kept small: one key string for the table,
    # one string per column name, shared types, no empty set of virtual columns.
    run = ctx.run
    table = run.key(op.table.key)
    ctx.state.created(ctx.state.new_tables, table, op.statement.transaction)
    columns: list[tuple[str, TypeName | None, str | None]] = []
    not_null: list[str] = []
    virtual: list[str] = []
    for column in op.columns:
        name = run.word(column.name)
        columns.append((name, column.type, _default_sql(column, run)))
        if column.not_null and name not in not_null:
            not_null.append(name)
        if _is_virtual(column, ctx) and name not in virtual:
            virtual.append(name)
    run.define_table(table, columns)
    run.validated_not_null[table] = tuple(not_null)
    if virtual:
        run.virtual_columns[table] = tuple(virtual)
    else:
        run.virtual_columns.pop(table, None)
    if op.partitioned:
        ctx.run.partitions[op.table.key] = []
    if op.partition_of is not None:
        ctx.run.partitions.get(op.partition_of.key, []).append(op.table)


@track.register(AttachPartition)
def _(op: AttachPartition, ctx: Context) -> None:
    if not op.index:
        ctx.run.partitions.get(op.table.key, []).append(op.partition)


@track.register(DetachPartition)
def _(op: DetachPartition, ctx: Context) -> None:
    partitions = ctx.run.partitions.get(op.table.key, [])
    if op.partition in partitions:
        partitions.remove(op.partition)


@track.register(AddColumn)
def _(op: AddColumn, ctx: Context) -> None:
    name = ctx.run.word(op.column.name)
    ctx.run.define_column(op.table.key, name, op.column.type, _default_sql(op.column, ctx.run))
    if op.column.not_null:
        ctx.run.prove_not_null(op.table, name)
    ctx.state.added_columns.setdefault(op.table.key, {})[name] = op.column.type
    if _is_virtual(op.column, ctx):
        _include(ctx.run.virtual_columns, ctx.run.key(op.table.key), name)
    else:
        _exclude(ctx.run.virtual_columns, op.table.key, name)


def _is_virtual(column: ColumnDefinition, ctx: Context) -> bool:
    # Before PostgreSQL 18 there are no virtual columns: one written without STORED is an error.
    return column.generated is Generated.VIRTUAL and ctx.pg_version >= 18


def _default_sql(column: ColumnDefinition, run: RunState) -> str | None:
    """A column's DEFAULT, None when it has none (`DEFAULT NULL` fills nothing either);
    one string per SQL (`RunState.word`): the run keeps it, and most tables repeat a few
    (`now()`, `''`, `0`)."""
    if column.default is None or column.default.sql.strip().upper() == "NULL":
        return None
    return run.word(column.default.sql)


@track.register(SetDefault)
def _(op: SetDefault, ctx: Context) -> None:
    sql = None if op.default.sql.strip().upper() == "NULL" else op.default.sql
    ctx.run.set_default(op.table.key, op.column, sql)


@track.register(DropDefault)
def _(op: DropDefault, ctx: Context) -> None:
    ctx.run.set_default(op.table.key, op.column, None)


@track.register(DropColumn)
def _(op: DropColumn, ctx: Context) -> None:
    dropped = ctx.run.drop_column(op.table.key, op.column)
    ctx.state.dropped_columns.setdefault(op.table.key, {})[op.column] = dropped
    _exclude(ctx.run.validated_not_null, op.table.key, op.column)
    _exclude(ctx.run.virtual_columns, op.table.key, op.column)


@track.register(AlterColumnType)
def _(op: AlterColumnType, ctx: Context) -> None:
    ctx.run.set_column_type(op.table.key, op.column, op.new_type)


@track.register(RenameColumn)
def _(op: RenameColumn, ctx: Context) -> None:
    ctx.run.rename_column(op.table.key, op.column, op.new_name)
    for renamed_in in (ctx.run.validated_not_null, ctx.run.virtual_columns):
        if op.column in renamed_in.get(op.table.key, ()):
            _exclude(renamed_in, op.table.key, op.column)
            _include(renamed_in, ctx.run.key(op.table.key), ctx.run.word(op.new_name))


@track.register(RenameTable)
def _(op: RenameTable, ctx: Context) -> None:
    renamed = Name(op.new_name, op.table.schema)
    ctx.run.move_columns(op.table.key, renamed.key)
    new_key = ctx.run.key(renamed.key)  # the one the run keeps: its columns' entry's
    if op.table.key in ctx.state.new_tables:
        ctx.state.new_tables.discard(op.table.key)
        ctx.state.new_tables.add(renamed.key)
    for by_table in (ctx.run.validated_not_null, ctx.run.virtual_columns):
        if op.table.key in by_table:
            by_table[new_key] = by_table.pop(op.table.key)


@track.register(DropTable)
def _(op: DropTable, ctx: Context) -> None:
    for table in op.tables:
        ctx.run.move_columns(table.key, None)
        ctx.run.partitions.pop(table.key, None)
        ctx.state.new_tables.discard(table.key)


@track.register(CreateIndex)
def _(op: CreateIndex, ctx: Context) -> None:
    shape = ctx.run.kept_shape((tuple(map(ctx.run.word, op.columns)), op.unique, op.where_sql))
    table = ctx.run.key(op.table.key)
    _include(ctx.run.index_shapes, table, shape)
    if op.name is not None:
        index = Name(op.name.name, op.name.schema or op.table.schema).key
        ctx.state.created(ctx.state.new_indexes, index, op.statement.transaction)
        ctx.run.index_tables[index] = (
            table if op.table.schema is None else ctx.run.kept_name(op.table, table)
        )


@track.register(DropIndex)
def _(op: DropIndex, ctx: Context) -> None:
    for name in op.names:
        ctx.state.new_indexes.discard(name.key)


@track.register(CreateObject)
def _(op: CreateObject, ctx: Context) -> None:
    ctx.state.created(ctx.state.new_objects, (op.kind, op.name.key), op.statement.transaction)
    if op.volatility is not None:
        earlier = ctx.run.functions.get(op.name.key)
        if op.replaces or earlier is None or RANK[op.volatility] > RANK[earlier]:
            # Without OR REPLACE a second CREATE of the name adds an overload (one of the same
            # signature would fail): a call may reach either, so the worse one counts.
            ctx.run.functions[op.name.key] = op.volatility


@track.register(AlterFunction)
def _(op: AlterFunction, ctx: Context) -> None:
    if op.volatility is not None and op.name.key in ctx.run.functions:
        ctx.run.functions[op.name.key] = op.volatility


@track.register(Transaction)
def _(op: Transaction, ctx: Context) -> None:
    # ROLLBACK [AND CHAIN] belongs to the block it ends: what that block created is gone;
    # ROLLBACK TO a savepoint undoes what came after the savepoint.
    block = op.statement.transaction
    if block is None:
        return
    if op.action is TransactionAction.ROLLBACK:
        ctx.state.roll_back(block)
    elif op.action is TransactionAction.SAVEPOINT and op.savepoint is not None:
        created = len(ctx.state.forget_on_rollback.get(block, []))
        ctx.state.savepoints[(block, op.savepoint)] = created
    elif op.action is TransactionAction.ROLLBACK_TO and op.savepoint is not None:
        ctx.state.roll_back(block, op.savepoint)


@track.register(RenameObject)
def _(op: RenameObject, ctx: Context) -> None:
    if op.kind == "index" and op.name.key in ctx.state.new_indexes:
        ctx.state.new_indexes.discard(op.name.key)
        ctx.state.new_indexes.add(Name(op.new_name, op.name.schema).key)


@track.register(AddConstraint)
def _(op: AddConstraint, ctx: Context) -> None:
    if op.name is not None and op.not_valid:
        ctx.state.not_valid_constraints[(op.table.key, op.name)] = op.statement.transaction
        ctx.state.not_valid_adds[(op.table.key, op.name)] = op
    if op.kind is not ConstraintKind.CHECK or op.not_null_column is None:
        return
    if op.not_valid:
        if op.name is not None:
            ctx.run.not_null_checks[(op.table.key, op.name)] = op.not_null_column
    else:
        ctx.run.prove_not_null(op.table, op.not_null_column)


@track.register(ValidateConstraint)
def _(op: ValidateConstraint, ctx: Context) -> None:
    column = ctx.run.not_null_checks.get((op.table.key, op.name))
    if column is not None:
        ctx.run.prove_not_null(op.table, column)


@track.register(SetGuc)
def _(op: SetGuc, ctx: Context) -> None:
    if op.name.lower() != "lock_timeout":
        return
    in_force = op.value is not None and op.value.strip("'\" ").lower() not in ("0", "0s", "0ms")
    if op.local:
        # SET LOCAL outside a transaction block has no effect (PostgreSQL only warns).
        current = op.statement.transaction
        ctx.state.lock_timeout_transaction = current if in_force and current is not None else None
    else:
        ctx.state.lock_timeout_session = in_force
