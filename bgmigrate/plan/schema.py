"""What the planner knows about the current schema: tables, their columns and everything
attached to them (indexes, constraints, foreign keys pointing in, dependent views, triggers).

Filled by `plan.introspect` (a read-only look at a live database) or `plan.replay`
(migrations replayed into a throwaway PostgreSQL). Definitions are kept as PostgreSQL prints
them (`format_type`, `pg_get_indexdef`, `pg_get_constraintdef`, `pg_get_viewdef`) with every
name schema-qualified, so the planner can carry them over verbatim or rewritten.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from bgmigrate.parse.operations import TypeName
from bgmigrate.plan.identifiers import QualifiedName, quote_ident

__all__ = [
    "CONSTRAINT_KINDS",
    "DEFAULT_SCHEMA",
    "Column",
    "ColumnDependent",
    "Constraint",
    "Grant",
    "Index",
    "Schema",
    "SchemaLookupError",
    "Table",
    "Trigger",
    "View",
]

DEFAULT_SCHEMA = "public"


class SchemaLookupError(LookupError):
    """A table or column the intent names that the schema does not have."""

    exit_code = 2


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """With its modifiers, as `format_type` prints it: `character varying(255)`, `numeric(10,2)`."""
    not_null: bool = False
    default: str | None = None
    """The default expression as `pg_get_expr` prints it."""
    identity: str | None = None
    """`always` or `by default` for an identity column."""
    generated: str | None = None
    """The expression of a stored generated column."""
    owned_sequence: QualifiedName | None = None
    """The sequence this column owns (serial columns, `OWNED BY`), identity sequences too."""
    collation: str | None = None
    """A collation other than the type's default, quoted for SQL."""
    comment: str | None = None

    @property
    def sql_name(self) -> str:
        return quote_ident(self.name)

    @property
    def type_sql(self) -> str:
        """The type with a non-default collation: what a copy of this column is declared as."""
        return f"{self.type} COLLATE {self.collation}" if self.collation else self.type


@dataclass(frozen=True)
class Index:
    name: QualifiedName
    definition: str
    """`CREATE [UNIQUE] INDEX name ON schema.table USING method (…) [WHERE …]`."""
    columns: tuple[str | None, ...]
    """The key columns in order; None for an expression."""
    uses: frozenset[str]
    """Every column the index reads: key columns, expressions, predicate, INCLUDE."""
    unique: bool = False
    primary: bool = False
    valid: bool = True
    partial: bool = False
    constraint: str | None = None
    """The constraint this index implements (unique, primary key, exclusion), if any."""


CONSTRAINT_KINDS = {
    "c": "check",
    "f": "foreign_key",
    "p": "primary_key",
    "u": "unique",
    "x": "exclude",
}


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str
    """`check`, `foreign_key`, `primary_key`, `unique` or `exclude`."""
    table: QualifiedName
    """The table the constraint is defined on."""
    definition: str
    """As `pg_get_constraintdef` prints it: `FOREIGN KEY (user_id) REFERENCES public.users(id)`."""
    columns: tuple[str, ...]
    """The constrained columns of `table` (for a CHECK: the columns its expression reads)."""
    validated: bool = True
    referenced_table: QualifiedName | None = None
    referenced_columns: tuple[str, ...] = ()
    index: QualifiedName | None = None
    """The index behind a unique, primary-key or exclusion constraint."""

    @property
    def sql_name(self) -> str:
        return quote_ident(self.name)


@dataclass(frozen=True, order=True)
class Grant:
    """One privilege on a relation: `GRANT privilege ON relation TO grantee`."""

    grantee: str
    """A role name, or `PUBLIC`."""
    privilege: str
    """`SELECT`, `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `REFERENCES`, `TRIGGER`, …"""
    grantable: bool = False

    def sql(self, relation_sql: str) -> str:
        grantee = "PUBLIC" if self.grantee == "PUBLIC" else quote_ident(self.grantee)
        option = " WITH GRANT OPTION" if self.grantable else ""
        return f"GRANT {self.privilege} ON {relation_sql} TO {grantee}{option}"


@dataclass(frozen=True)
class View:
    name: QualifiedName
    definition: str
    """The SELECT as `pg_get_viewdef` prints it, names schema-qualified."""
    materialized: bool = False
    uses: Mapping[QualifiedName, frozenset[str]] = field(default_factory=dict)
    """The columns the view reads, per table or view."""
    dependents: tuple[QualifiedName, ...] = ()
    """Views and materialized views built on this one."""
    options: tuple[str, ...] = ()
    """Its `WITH (…)` options as stored: `security_barrier=true`, `check_option=local`."""
    grants: tuple[Grant, ...] = ()
    """Privileges granted to roles other than the owner."""


@dataclass(frozen=True)
class Trigger:
    name: str
    definition: str
    """As `pg_get_triggerdef` prints it."""
    columns: tuple[str, ...] = ()
    """The columns it depends on: its `UPDATE OF` list and those its `WHEN` reads."""
    enabled: bool = True


@dataclass(frozen=True)
class ColumnDependent:
    """Another object that depends on a column and that the planner does not rebuild: a
    policy, a generated column, a statistics object, a publication's column list."""

    column: str
    description: str
    """As `pg_describe_object` prints it: `policy p on table users`."""
    automatic: bool
    """Dropped along with the column (a statistics object); else it blocks DROP COLUMN."""


@dataclass(frozen=True)
class Table:
    name: QualifiedName
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    referencing_foreign_keys: tuple[Constraint, ...] = ()
    """Foreign keys of other tables (or of this one) whose referenced table is this one."""
    views: tuple[View, ...] = ()
    """Views that read this table directly."""
    triggers: tuple[Trigger, ...] = ()
    dependents: tuple[ColumnDependent, ...] = ()
    partitioned: bool = False
    grants: tuple[Grant, ...] = ()
    """Privileges granted to roles other than the owner."""

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        names = [column.name for column in self.columns]
        meant = _did_you_mean(name, names)
        listing = f"it has {', '.join(map(quote_ident, names))}"
        hint = f"{meant} {listing}" if meant else listing
        raise SchemaLookupError(f"table {self.name} has no column {name!r} ({hint})")

    def has_column(self, name: str) -> bool:
        return any(column.name == name for column in self.columns)

    def indexes_using(self, column: str) -> tuple[Index, ...]:
        return tuple(index for index in self.indexes if column in index.uses)

    def constraints_on(self, column: str) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if column in c.columns)

    def foreign_keys_referencing(self, column: str) -> tuple[Constraint, ...]:
        return tuple(c for c in self.referencing_foreign_keys if column in c.referenced_columns)

    def views_using(self, column: str) -> tuple[View, ...]:
        return tuple(view for view in self.views if column in view.uses.get(self.name, ()))

    def dependents_of(self, column: str) -> tuple[ColumnDependent, ...]:
        return tuple(dependent for dependent in self.dependents if dependent.column == column)

    def constraint_names(self) -> frozenset[str]:
        return frozenset(constraint.name for constraint in self.constraints)


@dataclass(frozen=True)
class Schema:
    tables: Mapping[QualifiedName, Table]
    views: Mapping[QualifiedName, View] = field(default_factory=dict)
    relations: frozenset[QualifiedName] = frozenset()
    """Every relation name taken (tables, views, indexes, sequences…): new names must avoid them."""
    server_version: int = 160000
    """`server_version_num` of the database it was read from."""
    source: str = ""
    """Where the schema came from, for messages: a DSN without password, or a path."""
    types: frozenset[QualifiedName] = frozenset()
    """Every type the database has (built-in and user-defined: enums, domains, composites),
    by schema and internal name (`pg_catalog.int8`). Empty when not read: then any type
    passes."""

    @property
    def major_version(self) -> int:
        return self.server_version // 10000

    def resolve(self, parts: tuple[str, ...]) -> QualifiedName:
        """The table `parts` (`(table,)` or `(schema, table)`) names; `public` first when the
        schema is left out, else the only schema that has it."""
        if len(parts) == 2:
            name = QualifiedName(*parts)
            if name in self.tables:
                return name
            raise SchemaLookupError(f"no table {name} in the schema{self._source_hint()}")
        (table,) = parts
        preferred = QualifiedName(DEFAULT_SCHEMA, table)
        if preferred in self.tables:
            return preferred
        matches = sorted(name for name in self.tables if name.name == table)
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(str(name) for name in matches)
            raise SchemaLookupError(
                f"table {table!r} exists in several schemas ({listed}): qualify it, "
                f"e.g. {matches[0]}"
            )
        hint = _case_hint(table, [name.name for name in self.tables])
        raise SchemaLookupError(f"no table {table!r} in the schema{self._source_hint()}{hint}")

    def table(self, name: QualifiedName) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise SchemaLookupError(f"no table {name} in the schema{self._source_hint()}") from None

    def is_taken(self, name: QualifiedName) -> bool:
        return name in self.relations or name in self.tables

    def _source_hint(self) -> str:
        return f" read from {self.source}" if self.source else ""

    def check_type(self, written: str, parsed: TypeName) -> None:
        """Refuse a type the database does not have, as PostgreSQL would (`biggint`), naming
        the nearest one it has."""
        if not self.types or parsed.name.startswith("_"):
            return
        if parsed.schema is not None:
            known = QualifiedName(parsed.schema, parsed.name) in self.types
        else:
            known = any(name.name == parsed.name for name in self.types)
        if known:
            return
        spellings = {
            str(TypeName(name.name, None if name.schema in _SEARCHED else name.schema))
            for name in self.types
            if not name.name.startswith("_")
        }
        base = written.split("(")[0].split("[")[0].strip()
        near = difflib.get_close_matches(base.lower(), sorted(spellings), n=1)
        hint = f": did you mean {near[0]}?" if near else ""
        raise SchemaLookupError(
            f"type {written!r} does not exist in the schema{self._source_hint()}{hint}"
        )


_SEARCHED = ("pg_catalog", DEFAULT_SCHEMA)
"""The schemas PostgreSQL's default search_path finds an unqualified name in."""


def _case_hint(name: str, candidates: list[str]) -> str:
    """` (did you mean …?)`: the same name in another case (which needs quotes), else the
    nearest name; empty when none is near."""
    meant = _did_you_mean(name, candidates)
    return f" ({meant})" if meant else ""


def _did_you_mean(name: str, candidates: list[str]) -> str:
    matches = [candidate for candidate in candidates if candidate.lower() == name.lower()]
    if matches:
        return (
            f"did you mean {quote_ident(matches[0])}? quote names with capitals: '\"{matches[0]}\"'"
        )
    near = difflib.get_close_matches(name, candidates, n=1)
    return f"did you mean {quote_ident(near[0])}?" if near else ""
