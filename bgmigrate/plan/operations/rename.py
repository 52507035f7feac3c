"""Rename a column (`users.email` → `email_address`) or a table (`users` → `customers`).

A column rename is a copy: the new column is added, kept equal to the old one in both
directions (a trigger, or the new version itself with `--dual-write app`), backfilled, and
the old one dropped at contract with everything attached carried over (see `plan.carry`).

A table rename is the classic rename-plus-view: in one short transaction the table takes its
new name and an automatically updatable view `SELECT * FROM customers` takes the old one, so
the old version reads and writes through the view (defaults, RETURNING, the table's grants all
work) while the new version uses the table. Contract drops the view and gives the table's
indexes, constraints and sequences the names PostgreSQL would have given them. No data moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.carry import ColumnCopy, carry_column, copy_backfill, copy_verify
from bgmigrate.plan.identifiers import QualifiedName, quote_ident
from bgmigrate.plan.model import PlanError, Step
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_column,
    find_table,
    plan_id,
    require_free_relation,
    require_new_column_name,
    require_primary_key,
    select_star_note,
)
from bgmigrate.plan.schema import Schema, Table
from bgmigrate.plan.sync import two_way_sync

__all__ = ["RenameColumn", "RenameTable", "rename_operation"]


def rename_operation(
    schema: Schema, parts: tuple[str, ...], new_name: str
) -> RenameColumn | RenameTable:
    """`users.email` names a column, `users` a table; `a.b` is a table `b` in schema `a` only
    when no table `a` has a column `b`."""
    if len(parts) == 1:
        return RenameTable(parts, new_name)
    if len(parts) == 2 and QualifiedName(*parts) in schema.tables:
        try:
            schema.resolve(parts[:1])
        except LookupError:
            return RenameTable(parts, new_name)
    if len(parts) not in (2, 3):
        raise PlanError(f"expected table.column or table, got {'.'.join(parts)!r}")
    return RenameColumn(parts[:-1], parts[-1], new_name)


@dataclass(frozen=True)
class RenameColumn:
    name: ClassVar[str] = "rename-column"

    table: tuple[str, ...]
    column: str
    new_name: str

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table, column = find_column(schema, self.table, self.column)
        if self.new_name == self.column:
            raise PlanError(f"{table.name}.{quote_ident(self.column)} is already called that")
        require_new_column_name(table, self.new_name)
        require_primary_key(table, "the backfill")
        copy = ColumnCopy(
            table=table,
            source=column,
            target=self.new_name,
            target_type=column.type_sql,
            final=self.new_name,
            forward=quote_ident(column.name),
            two_way=True,
        )
        old, new = quote_ident(self.column), quote_ident(self.new_name)
        sync = two_way_sync(table.name, self.column, self.new_name) if _trigger(options) else None
        carried = carry_column(copy, schema, sync_drop=sync.drop_sql() if sync else None)
        draft = Draft(
            id=plan_id("rename", table.name.name, self.column),
            operation=self.name,
            target={"table": str(table.name), "column": self.column, "to": self.new_name},
            blockers=carried.blockers,
            notes=carried.notes,
        )
        draft.expand.append(
            steps.add_column(
                table.name,
                self.new_name,
                column.type_sql,
                description=f"Add {new} {column.type_sql}, the new name of {old} (nullable "
                "until contract, no default yet: a NULL tells the sync which version wrote)",
            )
        )
        if sync is not None:
            draft.expand.append(
                sync.install(
                    options.pg_version or schema.major_version,
                    description=f"Dual-write: a trigger copies every write of {old} to {new} "
                    "and back, so each version sees the other's writes",
                )
            )
        elif column.not_null:
            draft.expand.append(_relax_not_null(table, self.column))
        draft.expand.extend(carried.expand)
        draft.notes.append(select_star_note(table.name))
        draft.backfill = copy_backfill(copy)
        draft.verify = copy_verify(copy)
        draft.backfill_needs_approval = sync is None
        draft.deploy = _deploy_instructions(table, self.column, self.new_name, sync is not None)
        draft.contract.extend(carried.before_swap)
        draft.contract.append(
            Step(
                sql=";\n".join(carried.swap),
                description=f"In one short transaction: stop the sync, point views and "
                f"foreign keys at {new}, drop {old}, attach its constraints to {new}",
            )
        )
        draft.contract.extend(carried.after_swap)
        return draft


def _trigger(options: PlanOptions) -> bool:
    return options.dual_write == "trigger"


def _relax_not_null(table: Table, column: str) -> Step:
    name = quote_ident(column)
    return Step(
        sql=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} DROP NOT NULL",
        undo=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} SET NOT NULL",
        description=f"Make {name} nullable, so that the last version before contract can stop "
        "writing it (--dual-write app)",
    )


def _deploy_instructions(table: Table, old: str, new: str, trigger: bool) -> str:
    where = f"{table.name}"
    if trigger:
        return (
            f"Deploy the version that reads and writes {where}.{quote_ident(new)} instead of "
            f"{quote_ident(old)}. Both versions keep working side by side: the database copies "
            "every write of one column to the other. Start the contract phase only when no "
            "instance of the old version is left."
        )
    return (
        f"1. Before the backfill: deploy a version that writes both {quote_ident(old)} and "
        f"{quote_ident(new)} of {where} (the same value) and still reads {quote_ident(old)}; "
        "once no instance of the old version is left, approve the backfill phase. "
        f"2. After the backfill: deploy a version that reads {quote_ident(new)} and still "
        f"writes both. 3. Before contract: deploy a version that no longer reads or writes "
        f"{quote_ident(old)} (nullable since expand)."
    )


@dataclass(frozen=True)
class RenameTable:
    name: ClassVar[str] = "rename-table"

    table: tuple[str, ...]
    new_name: str

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table = find_table(schema, self.table)
        old, new = table.name, table.name.sibling(self.new_name)
        if new == old:
            raise PlanError(f"table {old} is already called that")
        require_free_relation(schema, new, "a relation called")
        draft = Draft(
            id=plan_id("rename", old.name),
            operation=self.name,
            target={"table": str(old), "to": self.new_name},
        )
        grants = [grant.sql(old.sql) for grant in table.grants]
        draft.expand.append(
            Step(
                sql=";\n".join(
                    [
                        f"-- bgmigrate: ignore rename-table -- the view {old.name} created in "
                        "the same transaction keeps the old name working\n"
                        f"ALTER TABLE {old.sql} RENAME TO {quote_ident(new.name)}",
                        f"CREATE VIEW {old.sql} AS SELECT * FROM {new.sql}",
                        *grants,
                    ]
                ),
                undo=f"DROP VIEW IF EXISTS {old.sql};\n"
                f"ALTER TABLE {new.sql} RENAME TO {quote_ident(old.name)}",
                description=f"In one short transaction: rename {old} to {new.name} and create "
                f"an updatable view {old.name} over it (with the table's grants), so the old "
                "version reads and writes through the old name",
            )
        )
        draft.deploy = (
            f"Deploy the version that uses {new} instead of {old}. The old version keeps "
            f"working through the view {old} until contract; start the contract phase only when "
            "no instance of the old version is left."
        )
        draft.contract.append(
            Step(
                sql=f"DROP VIEW {old.sql}",
                undo=f"CREATE VIEW {old.sql} AS SELECT * FROM {new.sql}",
                description=f"Drop the compatibility view {old}",
            )
        )
        renames = _conventional_renames(schema, table, new)
        if renames:
            draft.contract.append(
                Step(
                    sql=";\n".join(renames),
                    description=f"Give indexes, constraints and sequences named after {old.name} "
                    f"the names PostgreSQL gives them for {new.name}",
                )
            )
        draft.notes.append(
            f"functions, triggers, policies or app code that name {old} in their text break "
            "once contract drops the view: review them before approving contract"
        )
        return draft


def _conventional_renames(schema: Schema, table: Table, new: QualifiedName) -> list[str]:
    prefix = f"{table.name.name}_"
    taken: set[str] = set()

    def renamed(name: str) -> str | None:
        if not name.startswith(prefix):
            return None
        candidate = f"{new.name}_{name[len(prefix) :]}"
        if schema.is_taken(new.sibling(candidate)) or candidate in taken:
            return None
        taken.add(candidate)
        return candidate

    statements: list[str] = []
    for constraint in table.constraints:
        candidate = renamed(constraint.name)
        if candidate:
            statements.append(
                f"ALTER TABLE {new.sql} RENAME CONSTRAINT {quote_ident(constraint.name)} "
                f"TO {quote_ident(candidate)}"
            )
    constraint_indexes = {c.index for c in table.constraints if c.index is not None}
    for index in table.indexes:
        if index.name in constraint_indexes:
            continue  # renamed with its constraint
        candidate = renamed(index.name.name)
        if candidate:
            statements.append(f"ALTER INDEX {index.name.sql} RENAME TO {quote_ident(candidate)}")
    for column in table.columns:
        sequence = column.owned_sequence
        candidate = renamed(sequence.name) if sequence else None
        if sequence and candidate:
            statements.append(f"ALTER SEQUENCE {sequence.sql} RENAME TO {quote_ident(candidate)}")
    return statements
