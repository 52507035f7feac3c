"""The typed vocabulary of schema changes that rules and the planner consume.

Only the PostgreSQL front end (`parse.postgres`) sees parser nodes; everything downstream sees
these dataclasses. One statement can yield several operations (an `ALTER TABLE` with
several actions), each located at its own action.

They are value objects: hashable, compared by value, and never mutated once built. They are not
`frozen=True` on purpose: a frozen dataclass's constructor assigns each field through
`object.__setattr__`, three times slower, and a check builds several objects per statement
(measured: 13% of a 20,000-statement check). The same holds for `source.unit`'s types.

Their equality, hash and repr are written once, in `bgmigrate.values.Value`, instead of being
compiled for each class by `dataclass` on every start: two thirds of this module's import time,
which every pre-commit run pays. Building an operation costs the same.
"""

from __future__ import annotations

from enum import Enum

from bgmigrate.source.unit import Location, Statement
from bgmigrate.values import Value, field, ordered, value

__all__ = [
    "AddColumn",
    "AddConstraint",
    "AddDomainConstraint",
    "AlterColumnType",
    "AlterEnum",
    "AlterEnumAction",
    "AlterFunction",
    "AttachPartition",
    "CallFunction",
    "ColumnDefault",
    "ColumnDefinition",
    "ConstraintKind",
    "CreateIndex",
    "CreateObject",
    "CreateTable",
    "DataChange",
    "DetachPartition",
    "DropColumn",
    "DropConstraint",
    "DropDefault",
    "DropIndex",
    "DropNotNull",
    "DropObject",
    "DropTable",
    "Generated",
    "InlineConstraint",
    "LockTable",
    "Name",
    "Operation",
    "OtherAlterTable",
    "RefreshMaterializedView",
    "Reindex",
    "RenameColumn",
    "RenameObject",
    "RenameTable",
    "SetDefault",
    "SetGuc",
    "SetNotNull",
    "SyntaxErrorOp",
    "TableRewrite",
    "Transaction",
    "TransactionAction",
    "Truncate",
    "TypeName",
    "Unknown",
    "ValidateConstraint",
    "Volatility",
]


@ordered
@value
class Name(Value):
    """A possibly schema-qualified identifier, as PostgreSQL folds it."""

    name: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def key(self) -> str:
        """What two names that denote the same object share (the search path assumed public)."""
        return f"{self.schema or 'public'}.{self.name}"

    @property
    def computed(self) -> bool:
        """True for a name dynamic SQL computes at run time: `"<target>"` stands for the
        `format()` argument `target` (see `parse.plpgsql`)."""
        return self.name.startswith("<") and self.name.endswith(">")


@value
class TypeName(Value):
    """A column type as written, normalised to PostgreSQL's internal names (`int4`, `varchar`).

    `modifiers` holds the typmod values (`varchar(255)` → (255,)); `array_bounds` the number
    of array dimensions.
    """

    name: str
    schema: str | None = None
    modifiers: tuple[int, ...] = ()
    array_dimensions: int = 0

    def __str__(self) -> str:
        """The type as a person writes it: `integer`, `bigint`, `varchar(255)`, `text[]`."""
        if self.schema in (None, "pg_catalog"):
            name = _SQL_NAMES.get(self.name, self.name)
        else:
            name = f"{self.schema}.{self.name}"
        text = name + (f"({','.join(map(str, self.modifiers))})" if self.modifiers else "")
        return text + "[]" * self.array_dimensions


# PostgreSQL's internal names for built-in types, and the SQL names people write instead.
_SQL_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "bpchar": "char",
}


class Volatility(str, Enum):
    """PostgreSQL's function volatility classes; UNKNOWN when an expression calls a function
    the built-in list does not know (a user function: assume the worst)."""

    IMMUTABLE = "immutable"
    STABLE = "stable"
    VOLATILE = "volatile"
    UNKNOWN = "unknown"


@value
class ColumnDefault(Value):
    """A column's DEFAULT expression, with the volatility that decides whether adding it rewrites
    the table."""

    sql: str
    volatility: Volatility
    volatile_function: str | None = None
    """The first volatile (or unknown) function the expression calls, for messages."""
    unknown_functions: tuple[str, ...] = ()
    """The functions it calls that are not built in, as written (`s.f` when qualified): a
    `CREATE FUNCTION` earlier in the run may declare their volatility."""
    known_volatility: Volatility | None = None
    """With `unknown_functions`, the volatility of the rest of the expression (its built-in
    calls); None when there are none such, as `volatility` is then the whole answer."""


class Generated(str, Enum):
    """How a column fills itself, each of which rewrites the table when added."""

    SERIAL = "serial"
    IDENTITY = "identity"
    STORED = "stored"
    VIRTUAL = "virtual"


class ConstraintKind(str, Enum):
    CHECK = "check"
    FOREIGN_KEY = "foreign_key"
    UNIQUE = "unique"
    PRIMARY_KEY = "primary_key"
    EXCLUDE = "exclude"
    NOT_NULL = "not_null"


class TransactionAction(str, Enum):
    BEGIN = "begin"
    COMMIT = "commit"
    ROLLBACK = "rollback"
    SAVEPOINT = "savepoint"
    RELEASE = "release"
    ROLLBACK_TO = "rollback_to"
    PREPARE = "prepare"


class AlterEnumAction(str, Enum):
    ADD_VALUE = "add_value"
    RENAME_VALUE = "rename_value"


@value
class Operation(Value):
    """Base of every operation: the statement it comes from and the span of its action."""

    statement: Statement
    location: Location


@value
class InlineConstraint(Value):
    """A constraint written inside a CREATE TABLE or ADD COLUMN: on a column definition
    (`REFERENCES`, `UNIQUE`, `CHECK`, …) or as a table constraint of a new table."""

    kind: ConstraintKind
    name: str | None = None
    references: Name | None = None
    referenced_columns: tuple[str, ...] = ()
    """The columns a REFERENCES names; empty when it relies on the primary key."""
    check_sql: str | None = None
    columns: tuple[str, ...] = ()
    """The constrained columns of a table constraint; empty on a column definition."""


@value
class ColumnDefinition(Value):
    """A column as CREATE TABLE or ADD COLUMN defines it."""

    name: str
    type: TypeName | None
    """For `serial` & co., the integer type it stands for (`generated` is then SERIAL)."""
    not_null: bool = False
    """NOT NULL written, or implied by PRIMARY KEY. A column with `generated` set fills
    itself, so it needs no DEFAULT to be NOT NULL."""
    default: ColumnDefault | None = None
    generated: Generated | None = None
    constraints: tuple[InlineConstraint, ...] = ()


@value
class CreateTable(Operation):
    """`CREATE TABLE`, including `CREATE TABLE … AS` and `SELECT INTO`."""

    table: Name
    columns: tuple[ColumnDefinition, ...] = ()
    constraints: tuple[InlineConstraint, ...] = ()
    """Table constraints (`PRIMARY KEY (a, b)`, `FOREIGN KEY … REFERENCES …`)."""
    if_not_exists: bool = False
    as_select: bool = False
    """CREATE TABLE … AS / SELECT INTO: a new table filled by a query."""
    partitioned: bool = False
    """`PARTITION BY`: a partitioned parent, whose rows live in its partitions."""
    partition_of: Name | None = None
    """`PARTITION OF parent`: the parent it becomes a partition of (locked while it does)."""


@value
class CreateObject(Operation):
    """Any other object a unit creates (type, sequence, view, function, schema, trigger…)."""

    kind: str
    name: Name
    table: Name | None = None
    """The table a trigger or rule is created on, when there is one."""
    volatility: Volatility | None = None
    """For a function, the volatility its definition declares (VOLATILE when it declares none,
    as PostgreSQL does)."""
    replaces: bool = False
    """For a function, `CREATE OR REPLACE`: it may replace one of the same signature."""


@value
class DropObject(Operation):
    """A DROP of anything but a table or an index (view, type, function, schema…)."""

    kind: str
    names: tuple[Name, ...]
    cascade: bool = False
    table: Name | None = None
    """The table of a dropped trigger, policy or rule."""


@value
class RenameObject(Operation):
    """A rename of anything but a table or a column (index, constraint, sequence, view…)."""

    kind: str
    name: Name
    new_name: str
    table: Name | None = None
    """The table of a renamed constraint, trigger, policy or rule."""


@value
class AddColumn(Operation):
    """`ALTER TABLE … ADD COLUMN`."""

    table: Name
    column: ColumnDefinition
    if_not_exists: bool = False
    identity_added_later: bool = False
    """A later action of the same ALTER TABLE makes the column an identity (`ALTER COLUMN c
    ADD GENERATED … AS IDENTITY`): it fills the rows inserted after the statement, not the
    existing ones (traced on PostgreSQL 18)."""


@value
class DropColumn(Operation):
    """`ALTER TABLE … DROP COLUMN`."""

    table: Name
    column: str
    cascade: bool = False
    if_exists: bool = False


@value
class RenameColumn(Operation):
    """`ALTER TABLE … RENAME [COLUMN] a TO b`."""

    table: Name
    column: str
    new_name: str


@value
class RenameTable(Operation):
    """`ALTER TABLE … RENAME TO`."""

    table: Name
    new_name: str


@value
class AlterColumnType(Operation):
    """`ALTER TABLE … ALTER COLUMN … TYPE`, with its USING expression."""

    table: Name
    column: str
    new_type: TypeName
    using_sql: str | None = None
    existing_type: TypeName | None = None
    """The column's type before the change as the migration declares it (Alembic's
    `existing_type`), or None; what the run itself knows of the column comes first."""


@value
class SetNotNull(Operation):
    """`ALTER TABLE … ALTER COLUMN … SET NOT NULL`."""

    table: Name
    column: str
    existing_default: str | None = None
    """The column's DEFAULT as the migration declares it (Alembic's
    `existing_server_default`), or None; what the run itself knows of the column comes first."""


@value
class DropNotNull(Operation):
    """`ALTER TABLE … ALTER COLUMN … DROP NOT NULL`."""

    table: Name
    column: str


@value
class SetDefault(Operation):
    """`ALTER TABLE … ALTER COLUMN … SET DEFAULT`."""

    table: Name
    column: str
    default: ColumnDefault


@value
class DropDefault(Operation):
    """`ALTER TABLE … ALTER COLUMN … DROP DEFAULT`."""

    table: Name
    column: str


@value
class AddConstraint(Operation):
    """`ALTER TABLE … ADD CONSTRAINT` (or an unnamed table constraint) on an existing table."""

    table: Name
    kind: ConstraintKind
    name: str | None = None
    columns: tuple[str, ...] = ()
    not_valid: bool = False
    using_index: str | None = None
    references: Name | None = None
    referenced_columns: tuple[str, ...] = ()
    """The columns a REFERENCES names; empty when it relies on the primary key."""
    check_sql: str | None = None
    not_null_column: str | None = None
    """For a CHECK that is exactly `col IS NOT NULL`: the column it proves non-null."""


@value
class ValidateConstraint(Operation):
    """`ALTER TABLE … VALIDATE CONSTRAINT`."""

    table: Name
    name: str


@value
class DropConstraint(Operation):
    """`ALTER TABLE … DROP CONSTRAINT`."""

    table: Name
    name: str
    if_exists: bool = False
    cascade: bool = False


@value
class CreateIndex(Operation):
    """`CREATE [UNIQUE] INDEX [CONCURRENTLY]`."""

    table: Name
    name: Name | None
    columns: tuple[str, ...] = ()
    """Plain column names; expressions appear as their SQL text."""
    unique: bool = False
    concurrently: bool = False
    if_not_exists: bool = False
    where_sql: str | None = None
    method: str = "btree"
    only: bool = False
    """`ON ONLY parent`: an index of the partitioned parent alone, without building one on
    any partition (invalid until every partition's index is attached)."""


@value
class DropIndex(Operation):
    """`DROP INDEX [CONCURRENTLY]`."""

    names: tuple[Name, ...]
    concurrently: bool = False
    if_exists: bool = False
    cascade: bool = False


@value
class Reindex(Operation):
    """`REINDEX [CONCURRENTLY]` of an index, a table, a schema or a database."""

    target_kind: str
    name: Name | None
    concurrently: bool = False


@value
class DropTable(Operation):
    """`DROP TABLE`."""

    tables: tuple[Name, ...]
    if_exists: bool = False
    cascade: bool = False


@value
class Truncate(Operation):
    """`TRUNCATE`."""

    tables: tuple[Name, ...]
    cascade: bool = False


@value
class DataChange(Operation):
    """UPDATE, DELETE or INSERT … SELECT on a table."""

    kind: str
    table: Name
    has_where: bool = False
    reads: tuple[Name, ...] = ()
    """The other tables it reads (FROM, USING, subqueries), the CTEs it defines left out."""


@value
class TableRewrite(Operation):
    """A statement that rewrites a whole table under ACCESS EXCLUSIVE."""

    table: Name | None
    how: str
    """`VACUUM FULL`, `CLUSTER`, `SET LOGGED`, `SET UNLOGGED`, `SET TABLESPACE`,
    `SET ACCESS METHOD` or `SET EXPRESSION` (of a stored generated column)."""


@value
class AlterEnum(Operation):
    """`ALTER TYPE … ADD VALUE` / `RENAME VALUE` on an enum."""

    type: Name
    action: AlterEnumAction
    value: str
    new_value: str | None = None


@value
class SetGuc(Operation):
    """`SET [LOCAL] name = value` / `RESET name`; value None for RESET or DEFAULT."""

    name: str
    value: str | None
    local: bool = False


@value
class Transaction(Operation):
    """A transaction-control statement (`BEGIN`, `COMMIT`, `SAVEPOINT`, …)."""

    action: TransactionAction
    savepoint: str | None = None
    """The savepoint that SAVEPOINT, RELEASE and ROLLBACK TO name."""


@value
class OtherAlterTable(Operation):
    """An ALTER TABLE action without an operation of its own (SET STATISTICS, OWNER TO,
    ENABLE TRIGGER…): it still takes a lock on the table."""

    table: Name
    action: str
    lock: str = "ACCESS EXCLUSIVE"


@value
class AlterFunction(Operation):
    """`ALTER FUNCTION f(…) STABLE` and the like: what the run knows of a function it created
    changes."""

    name: Name
    volatility: Volatility | None = None
    """The volatility it declares, when it declares one."""


@value
class CallFunction(Operation):
    """A function or procedure a statement calls: `SELECT f(…)`, `CALL p(…)`."""

    name: Name


@value
class AttachPartition(Operation):
    """`ALTER TABLE parent ATTACH PARTITION child …`, or `ALTER INDEX parent_index ATTACH
    PARTITION child_index` (`index` True)."""

    table: Name
    partition: Name
    index: bool = False


@value
class DetachPartition(Operation):
    """`ALTER TABLE parent DETACH PARTITION child [CONCURRENTLY | FINALIZE]`."""

    table: Name
    partition: Name
    concurrently: bool = False
    finalize: bool = False


@value
class AddDomainConstraint(Operation):
    """`ALTER DOMAIN … ADD CONSTRAINT`: validated, it scans every table using the domain
    under a SHARE lock."""

    domain: Name
    kind: ConstraintKind
    name: str | None = None
    not_valid: bool = False
    check_sql: str | None = None


@value
class RefreshMaterializedView(Operation):
    """`REFRESH MATERIALIZED VIEW [CONCURRENTLY]`: without CONCURRENTLY it holds ACCESS
    EXCLUSIVE on the view, blocking its readers, for the whole refresh."""

    view: Name
    concurrently: bool = False


@value
class LockTable(Operation):
    """An explicit `LOCK TABLE`; `mode` as PostgreSQL names it (`ACCESS EXCLUSIVE`)."""

    tables: tuple[Name, ...]
    mode: str


@value
class Unknown(Operation):
    """A statement the vocabulary does not model; `node` names its parser node type."""

    node: str
    tables: tuple[Name, ...] = field(default=())


@value
class SyntaxErrorOp(Operation):
    """A statement the PostgreSQL grammar rejects; `message` is the parser's."""

    message: str
