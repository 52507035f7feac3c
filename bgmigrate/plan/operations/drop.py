"""Drop a column (`users.legacy_flag`) or a table (`old_sessions`): deprecate, then drop at
contract, when no running version uses it.

Expand only loosens what would stop the new version from ignoring the column (a NOT NULL
without default). Contract first drops the column's indexes CONCURRENTLY and its constraints
one by one, so that nothing disappears implicitly, then the column or table. What depends on it
from elsewhere (foreign keys of other tables, views) is a blocker: dropping it would silently
change another object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.identifiers import QualifiedName, quote_ident
from bgmigrate.plan.model import PlanError, Step
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_column,
    find_table,
    plan_id,
    select_star_note,
)
from bgmigrate.plan.schema import Schema, Table

__all__ = [
    "DropColumn",
    "DropTable",
    "column_blockers",
    "drop_checks",
    "drop_operation",
    "dropped_along",
    "retire_columns",
]


def drop_operation(schema: Schema, parts: tuple[str, ...]) -> DropColumn | DropTable:
    """`users.legacy_flag` names a column, `old_sessions` a table; `a.b` is a table `b` in
    schema `a` only when no table `a` exists."""
    if len(parts) == 1:
        return DropTable(parts)
    if len(parts) == 2 and QualifiedName(*parts) in schema.tables:
        try:
            schema.resolve(parts[:1])
        except LookupError:
            return DropTable(parts)
    if len(parts) not in (2, 3):
        raise PlanError(f"expected table.column or table, got {'.'.join(parts)!r}")
    return DropColumn(parts[:-1], parts[-1])


def drop_checks(table: Table, columns: tuple[str, ...]) -> Step | None:
    """An expand step dropping the CHECK constraints that read `columns`: the new version
    stops writing them, and a check such as `c IS NOT NULL` would reject its rows."""
    checks = {
        c.name: c for column in columns for c in table.constraints_on(column) if c.kind == "check"
    }
    if not checks:
        return None
    drops = ", ".join(f"DROP CONSTRAINT {quote_ident(name)}" for name in checks)
    adds = ", ".join(
        f"ADD CONSTRAINT {quote_ident(name)} {check.definition} NOT VALID"
        for name, check in checks.items()
    )
    # The undo restores each check as it was: validated again when it was (a scan).
    validations = [
        f"ALTER TABLE {table.name.sql} VALIDATE CONSTRAINT {quote_ident(name)}"
        for name, check in checks.items()
        if check.validated
    ]
    return Step(
        sql=f"ALTER TABLE {table.name.sql} {drops}",
        undo=";\n".join([f"ALTER TABLE {table.name.sql} {adds}", *validations]),
        description=f"Drop the checks on {', '.join(columns)} ({', '.join(checks)}): the new "
        "version no longer writes these columns",
    )


def retire_columns(table: Table, columns: tuple[str, ...]) -> list[Step]:
    """Contract steps that drop `columns` of `table` and everything on them, explicitly: plain
    indexes CONCURRENTLY, then constraints, then the columns in one short transaction. Their
    CHECK constraints are gone since expand (`drop_checks`)."""
    result: list[Step] = []
    backed = {c.index for c in table.constraints if c.index is not None}
    seen: set[QualifiedName] = set()
    for column in columns:
        for index in table.indexes_using(column):
            if index.name in backed or index.name in seen:
                continue
            seen.add(index.name)
            result.append(
                steps.drop_index(
                    index.name,
                    description=f"Drop index {index.name} on {column} (CONCURRENTLY: no write "
                    "lock)",
                )
            )
    dropped: set[str] = set()
    for column in columns:
        for constraint in table.constraints_on(column):
            if constraint.name in dropped or constraint.kind == "check":
                continue
            dropped.add(constraint.name)
            result.append(
                Step(
                    sql=f"ALTER TABLE {table.name.sql} DROP CONSTRAINT "
                    f"{quote_ident(constraint.name)}",
                    description=f"Drop {constraint.kind.replace('_', ' ')} constraint "
                    f"{constraint.name} ({constraint.definition})",
                )
            )
    drops = ", ".join(f"DROP COLUMN {quote_ident(column)}" for column in columns)
    result.append(
        Step(
            sql=f"ALTER TABLE {table.name.sql} {drops}",
            description=f"Drop {', '.join(columns)} of {table.name} (catalog only, a brief lock)",
        )
    )
    return result


def column_blockers(schema: Schema, table: Table, column: str) -> list[str]:
    """Why dropping `column` would silently change something else."""
    where = f"{table.name}.{quote_ident(column)}"
    blockers = []
    if column in table.primary_key:
        blockers.append(f"{where} is part of the primary key of {table.name}")
    for foreign in table.foreign_keys_referencing(column):
        blockers.append(
            f"foreign key {foreign.name} of {foreign.table} references {where}: drop or "
            "redirect it in its own plan first"
        )
    for view in table.views_using(column):
        kind = "materialized view" if view.materialized else "view"
        blockers.append(
            f"{kind} {view.name} reads {where}: redefine or drop it in a migration first"
        )
    for trigger in table.triggers:
        if column in trigger.columns:
            blockers.append(
                f"trigger {trigger.name} depends on {where} (UPDATE OF or WHEN): drop it first"
            )
    for dependent in table.dependents_of(column):
        if not dependent.automatic:
            blockers.append(f"{dependent.description} depends on {where}: drop it first")
    return blockers


def dropped_along(table: Table, column: str) -> list[str]:
    """Notes on what PostgreSQL drops with `column` on its own (statistics objects)."""
    return [
        f"{dependent.description} is dropped along with {table.name}.{quote_ident(column)}"
        for dependent in table.dependents_of(column)
        if dependent.automatic
    ]


@dataclass(frozen=True)
class DropColumn:
    name: ClassVar[str] = "drop-column"

    table: tuple[str, ...]
    column: str

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table, column = find_column(schema, self.table, self.column)
        name = quote_ident(column.name)
        where = f"{table.name}.{name}"
        draft = Draft(
            id=plan_id("drop", table.name.name, column.name),
            operation=self.name,
            target={"table": str(table.name), "column": column.name},
            blockers=column_blockers(schema, table, column.name),
            notes=dropped_along(table, column.name),
        )
        writable = column.identity is None and column.generated is None
        if column.not_null and column.default is None and writable:
            draft.expand.append(
                Step(
                    sql=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} DROP NOT NULL",
                    undo=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} SET NOT NULL",
                    description=f"Make {where} nullable, so that the new version can insert "
                    "rows without it",
                )
            )
        checks = drop_checks(table, (column.name,))
        if checks is not None:
            draft.expand.append(checks)
        if column.owned_sequence is not None:
            draft.notes.append(
                f"sequence {column.owned_sequence} belongs to {where} and is dropped with it"
            )
        draft.deploy = (
            f"Deploy the version that neither reads nor writes {where} (for an ORM: mark the "
            "column ignored, so that it is not in its SELECT or INSERT lists). Start the "
            "contract phase only when no instance of the old version is left."
        )
        draft.contract.extend(retire_columns(table, (column.name,)))
        draft.notes.append(select_star_note(table.name))
        return draft


@dataclass(frozen=True)
class DropTable:
    name: ClassVar[str] = "drop-table"

    table: tuple[str, ...]

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table = find_table(schema, self.table)
        draft = Draft(
            id=plan_id("drop", table.name.name),
            operation=self.name,
            target={"table": str(table.name)},
        )
        for foreign in table.referencing_foreign_keys:
            if foreign.table != table.name:
                draft.blockers.append(
                    f"foreign key {foreign.name} of {foreign.table} references {table.name}: "
                    "drop it in its own plan first"
                )
        for view in table.views:
            draft.blockers.append(
                f"view {view.name} reads {table.name}: redefine or drop it in a migration first"
            )
        draft.deploy = (
            f"Deploy the version that no longer uses {table.name}. Start the contract phase "
            "only when no instance of the old version is left."
        )
        draft.contract.append(
            Step(
                sql=f"DROP TABLE {table.name.sql}",
                description=f"Drop {table.name} (with its indexes, constraints and the "
                "sequences it owns)",
            )
        )
        return draft
