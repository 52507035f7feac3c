"""Moving a column's data to a new column without losing what hangs on it.

A rename and a type change are both done by copying: a new column (`users.email_address`, or
a shadow `orders.quantity_bgm_new` of the new type), kept equal to the old one, then swapped in
while the old one is dropped. Everything attached to the old column comes along: its type
modifiers and collation, default, NOT NULL (through a validated CHECK), sequence ownership,
indexes (rebuilt CONCURRENTLY from their own definition), unique, check and foreign-key
constraints (NOT VALID, then validated), foreign keys of other tables that reference it, and
the views that read it. What cannot come along is returned as a blocker with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bgmigrate.plan import steps
from bgmigrate.plan.identifiers import QualifiedName, bounded_name, quote_ident, quote_literal
from bgmigrate.plan.model import Backfill, Step
from bgmigrate.plan.schema import Column, Constraint, Index, Schema, Table, View
from bgmigrate.plan.sqlrewrite import RewriteError, rewrite_constraint, rewrite_index, rewrite_view

__all__ = ["Carried", "ColumnCopy", "carry_column", "copy_backfill", "copy_verify"]

TEMPORARY_SUFFIX = "_bgm_new"


@dataclass(frozen=True)
class ColumnCopy:
    """Copy `source` of `table` into a new column `target` of `target_type`, whose value is
    `forward` (an SQL expression over the row), and call it `final` once the source is gone."""

    table: Table
    source: Column
    target: str
    target_type: str
    final: str
    forward: str
    two_way: bool
    """Both versions write their own column (a rename); else only the source is ever written
    and the target is an internal shadow (a type change)."""

    @property
    def is_rename(self) -> bool:
        return self.final != self.source.name

    @property
    def name(self) -> QualifiedName:
        return self.table.name


@dataclass
class Carried:
    """The steps that carry a column's attachments, by where they go in the plan."""

    expand: list[Step] = field(default_factory=list)
    """Index builds on the new column, after it exists."""
    before_swap: list[Step] = field(default_factory=list)
    """Contract steps while the sync still runs: NOT NULL on the new column."""
    swap: list[str] = field(default_factory=list)
    """Statements of the one short transaction that retires the old column."""
    after_swap: list[Step] = field(default_factory=list)
    """Validation of the constraints re-added NOT VALID by the swap."""
    blockers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def copy_backfill(copy: ColumnCopy) -> Backfill:
    target = quote_ident(copy.target)
    return Backfill(
        table=copy.name.sql,
        key=copy.table.primary_key,
        set=f"{target} = ({copy.forward})",
        where=f"{target} IS DISTINCT FROM ({copy.forward})",
    )


def copy_verify(copy: ColumnCopy) -> str:
    return (
        f"SELECT NOT EXISTS (SELECT FROM {copy.name.sql} "
        f"WHERE {quote_ident(copy.target)} IS DISTINCT FROM ({copy.forward}))"
    )


def _substitute(name: str, old: str, new: str) -> str:
    """`users_email_key` → `users_email_address_key`: the column's name as a `_`-separated
    word of an object's name, as PostgreSQL's own naming puts it there."""
    pattern = rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])"
    return re.sub(pattern, lambda _: new, name)


class _Carrier:
    def __init__(self, copy: ColumnCopy, schema: Schema) -> None:
        self.copy = copy
        self.schema = schema
        self.table = copy.table
        self.column = copy.source.name
        self.out = Carried()
        self.renames = {self.column: copy.final}
        self.where = f"{self.table.name}.{self.column}"
        # Swap statements, gathered by when they must run relative to the DROP COLUMN.
        self.before_drop: list[str] = []
        self.after_drop: list[str] = []
        self.recreate_views: list[str] = []

    # -- names ----------------------------------------------------------------------------

    def _names(self, name: str, taken: set[str] | None = None) -> tuple[str, str]:
        """(the name to build a copy under while the original exists, its final name)."""
        if self.copy.is_rename:
            substituted = _substitute(name, self.column, self.copy.final)
            free = not self.schema.is_taken(self.table.name.sibling(substituted))
            if substituted != name and free and substituted not in (taken or set()):
                return substituted, substituted
        return bounded_name(name, suffix=TEMPORARY_SUFFIX), name

    def _constraint_name(self, constraint: Constraint) -> str:
        """Re-added after the old column is gone, so the original name is free again; a rename
        moves the column's name inside it, as PostgreSQL would have named it."""
        if self.copy.is_rename and constraint.table == self.table.name:
            return _substitute(constraint.name, self.column, self.copy.final)
        return constraint.name

    # -- what cannot come along -----------------------------------------------------------

    def blockers(self) -> None:
        column, where = self.copy.source, self.where
        if column.generated:
            self.out.blockers.append(
                f"{where} is a generated column ({column.generated}): it cannot be written, so "
                "it cannot be synced; add the new column as a generated column in a migration "
                "reviewed for its table rewrite"
            )
        if self.table.partitioned:
            self.out.blockers.append(
                f"{self.table.name} is partitioned: indexes cannot be built CONCURRENTLY on a "
                "partitioned table; plan each partition separately"
            )
        for dependent in self.table.dependents_of(self.column):
            if dependent.automatic:
                self.out.notes.append(
                    f"{dependent.description} is dropped along with {where} at contract: "
                    f"recreate it for {self.copy.final}"
                )
            else:
                self.out.blockers.append(
                    f"{dependent.description} depends on {where}: bgmigrate does not carry it; "
                    f"drop it before contract and recreate it for {self.copy.final}"
                )
        for trigger in self.table.triggers:
            if self.column in trigger.columns:
                self.out.blockers.append(
                    f"trigger {trigger.name} on {self.table.name} depends on {self.column} "
                    f"(UPDATE OF or WHEN): recreate it for {self.copy.final} "
                    f"({trigger.definition})"
                )
            else:
                self.out.notes.append(
                    f"trigger {trigger.name} on {self.table.name} runs code bgmigrate cannot "
                    f"read: check that it does not name {self.column} ({trigger.definition})"
                )

    # -- indexes and unique constraints ---------------------------------------------------

    def indexes(self) -> None:
        constraints = {c.name: c for c in self.table.constraints}
        built: set[str] = set()
        for index in self.table.indexes_using(self.column):
            backing = constraints.get(index.constraint) if index.constraint else None
            if backing is not None and backing.kind == "exclude":
                self.out.blockers.append(
                    f"exclusion constraint {backing.name} on {self.where} cannot be rebuilt "
                    "without a long lock (there is no NOT VALID form): recreate it in a "
                    "maintenance window"
                )
                continue
            if not index.valid:
                self.out.notes.append(
                    f"index {index.name} is INVALID (a failed concurrent build): not carried "
                    "over; drop it"
                )
                continue
            self._index(index, backing, built)

    def _index(self, index: Index, backing: Constraint | None, built: set[str]) -> None:
        build_name, final_name = self._names(index.name.name, built)
        built.add(build_name)
        build = index.name.sibling(build_name)
        try:
            create = rewrite_index(
                index.definition,
                name=build_name,
                renames={self.column: self.copy.target},
            )
        except RewriteError as error:
            self.out.blockers.append(f"index {index.name} cannot be carried over: {error}")
            return
        kind = "unique index" if index.unique else "index"
        self.out.expand.append(
            steps.create_index(
                create,
                build,
                description=f"Build {kind} {build_name} on {self.copy.target}, like "
                f"{index.name.name} on {self.column} (CONCURRENTLY: no write lock)",
            )
        )
        if backing is not None:
            # A UNIQUE or PRIMARY KEY constraint: attach the index, which takes its name. A
            # primary key needs the column NOT NULL, which contract sets before the swap.
            constraint_name = (
                final_name if backing.name == index.name.name else (self._constraint_name(backing))
            )
            kind = "PRIMARY KEY" if backing.kind == "primary_key" else "UNIQUE"
            self.after_drop.append(
                f"ALTER TABLE {self.table.name.sql} ADD CONSTRAINT "
                f"{quote_ident(constraint_name)} {kind} USING INDEX {quote_ident(build_name)}"
            )
        elif build_name != final_name:
            self.after_drop.append(f"ALTER INDEX {build.sql} RENAME TO {quote_ident(final_name)}")

    # -- check and foreign-key constraints ------------------------------------------------

    def constraints(self) -> None:
        seen: set[tuple[QualifiedName, str]] = set()
        own = [
            c for c in self.table.constraints_on(self.column) if c.kind in ("check", "foreign_key")
        ]
        incoming = list(self.table.foreign_keys_referencing(self.column))
        for constraint in [*own, *incoming]:
            key = (constraint.table, constraint.name)
            if key in seen:
                continue
            seen.add(key)
            self._constraint(constraint)

    def _constraint(self, constraint: Constraint) -> None:
        final = self._constraint_name(constraint)
        self_reference = constraint.referenced_table == self.table.name
        own_table = constraint.table == self.table.name
        try:
            sql = rewrite_constraint(
                constraint.definition,
                table=constraint.table,
                name=final,
                renames=self.renames if own_table else None,
                referenced_renames=self.renames if self_reference else None,
                not_valid=True,
            )
        except RewriteError as error:
            self.out.blockers.append(f"constraint {constraint.name} cannot be carried: {error}")
            return
        # Dropped explicitly, never as a side effect of DROP COLUMN (a foreign key of another
        # table, or of this one, pointing at the column would even make the drop fail).
        self.before_drop.append(
            f"ALTER TABLE {constraint.table.sql} DROP CONSTRAINT {quote_ident(constraint.name)}"
        )
        self.after_drop.append(sql)
        if constraint.validated:
            self.out.after_swap.append(
                steps.validate_constraint(
                    constraint.table,
                    final,
                    description=f"Validate {final} on {constraint.table} (re-added NOT VALID "
                    "by the swap; scans without blocking writes)",
                )
            )

    # -- views ----------------------------------------------------------------------------

    def views(self) -> None:
        using = self.table.views_using(self.column)
        if not using:
            return
        if self.copy.is_rename and self.copy.two_way:
            for view in using:
                self._rewrite_view(view)
            return
        chain = self._view_chain(using)
        if chain is None:
            return
        for view in reversed(chain):
            self.before_drop.append(f"DROP VIEW {view.name.sql}")
        for view in chain:
            options = f" WITH ({', '.join(view.options)})" if view.options else ""
            self.recreate_views.append(
                f"CREATE VIEW {view.name.sql}{options} AS\n{view.definition}"
            )
            self.recreate_views.extend(grant.sql(view.name.sql) for grant in view.grants)
        self.out.notes.append(
            "views recreated by the swap with their definition, options and grants: "
            + ", ".join(str(view.name) for view in chain)
        )

    def _rewrite_view(self, view: View) -> None:
        if view.materialized:
            self._materialized(view)
            return

        def columns(relation: QualifiedName) -> frozenset[str]:
            table = self.schema.tables.get(relation)
            if table is not None:
                return frozenset(column.name for column in table.columns)
            other = self.schema.views.get(relation)
            return frozenset(other.uses.get(relation, ())) if other else frozenset()

        try:
            sql = rewrite_view(
                view.name,
                view.definition,
                table=self.table.name,
                renames=self.renames,
                other_columns=columns,
            )
        except RewriteError as error:
            self.out.blockers.append(
                f"view {view.name} reads {self.where} and cannot be rewritten automatically "
                f"({error}): redefine it in a migration before the contract phase"
            )
            return
        if view.options:
            sql = sql.replace(" AS ", f" WITH ({', '.join(view.options)}) AS ", 1)
        self.before_drop.append(sql)

    def _view_chain(self, using: tuple[View, ...]) -> list[View] | None:
        """The views to drop and recreate around the swap (those reading the column and
        every view built on them), each after the views it reads; None when one of them is
        materialized."""
        finished: list[View] = []

        def visit(view: View) -> bool:
            if view in finished:
                return True
            if view.materialized:
                self._materialized(view)
                return False
            for name in view.dependents:
                dependent = self.schema.views.get(name)
                if dependent is not None and not visit(dependent):
                    return False
            finished.append(view)
            return True

        if not all(visit(view) for view in using):
            return None
        return finished[::-1]

    def _materialized(self, view: View) -> None:
        self.out.blockers.append(
            f"materialized view {view.name} reads {self.where}: recreating it rewrites and "
            "locks it; redefine it in a migration before the contract phase"
        )

    # -- the swap -------------------------------------------------------------------------

    def column_properties(self) -> None:
        source = self.copy.source
        table = self.table.name.sql
        target = quote_ident(self.copy.target)
        sequence = source.owned_sequence
        if sequence is not None and source.identity is not None:
            self._identity(sequence)
        elif sequence is not None:
            self.before_drop.append(f"ALTER SEQUENCE {sequence.sql} OWNED BY {table}.{target}")
            if self._integer_widened():
                # A serial's sequence stops at its type's maximum: widen it with the column.
                self.after_drop.append(f"ALTER SEQUENCE {sequence.sql} AS {self.copy.target_type}")
        if source.default is not None and source.identity is None:
            self.after_drop.insert(
                0,
                f"ALTER TABLE {table} ALTER COLUMN {quote_ident(self.copy.final)} "
                f"SET DEFAULT {source.default}",
            )
        if source.not_null:
            self.out.before_swap.extend(steps.not_null_via_check(self.table.name, self.copy.target))
        if source.comment is not None:
            self.after_drop.append(
                f"COMMENT ON COLUMN {table}.{quote_ident(self.copy.final)} IS "
                f"{quote_literal(source.comment)}"
            )

    def _integer_widened(self) -> bool:
        from bgmigrate.plan.expressions import parse_type

        old, new = parse_type(self.copy.source.type), parse_type(self.copy.target_type)
        return old != new and new.name in ("int2", "int4", "int8")

    def _identity(self, sequence: QualifiedName) -> None:
        """An identity column's sequence belongs to it: the new column gets an identity of its
        own, started where the old one is, and takes the old sequence's name once it is gone."""
        table = self.table.name.sql
        generated = "ALWAYS" if self.copy.source.identity == "always" else "BY DEFAULT"
        interim = sequence.sibling(bounded_name(sequence.name, suffix=TEMPORARY_SUFFIX))
        self.before_drop += [
            f"ALTER TABLE {table} ALTER COLUMN {quote_ident(self.copy.target)} "
            f"ADD GENERATED {generated} AS IDENTITY (SEQUENCE NAME {interim.sql})",
            f"SELECT setval({quote_literal(interim.sql)}, last_value, is_called) "
            f"FROM {sequence.sql}",
        ]
        self.after_drop.append(
            f"ALTER SEQUENCE {interim.sql} RENAME TO {quote_ident(sequence.name)}"
        )
        self.out.notes.append(
            f"the identity of {self.where} moves to a new sequence that continues where "
            f"{sequence} is; its options other than the type (INCREMENT, CACHE, …) are the "
            "defaults"
        )

    def swap_statements(self, sync_drop: str | None) -> list[str]:
        table = self.table.name.sql
        statements = [sync_drop] if sync_drop else []
        statements.extend(self.before_drop)
        statements.append(f"ALTER TABLE {table} DROP COLUMN {quote_ident(self.column)}")
        if self.copy.target != self.copy.final:
            statements.append(
                f"-- bgmigrate: ignore rename-column -- the shadow column takes the name in the "
                f"same transaction that drops {self.column}: no version ever sees it missing\n"
                f"ALTER TABLE {table} RENAME COLUMN {quote_ident(self.copy.target)} TO "
                f"{quote_ident(self.copy.final)}"
            )
        statements.extend(self.after_drop)
        statements.extend(self.recreate_views)
        return statements


def carry_column(copy: ColumnCopy, schema: Schema, *, sync_drop: str | None) -> Carried:
    """Everything attached to `copy.source`, carried to the new column. `sync_drop` is the SQL
    removing the dual-write triggers, run in the swap transaction so that no write goes
    unsynced before the old column disappears."""
    carrier = _Carrier(copy, schema)
    carrier.blockers()
    carrier.indexes()
    carrier.constraints()
    carrier.views()
    carrier.column_properties()
    carrier.out.swap = carrier.swap_statements(sync_drop)
    return carrier.out
