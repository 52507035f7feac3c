"""Add a foreign key (`orders.user_id` → `users.id`) without blocking writes to either table.

Expand indexes the referencing column CONCURRENTLY when no index starts with it (every delete
or key update of a user would otherwise scan `orders`), then adds the constraint NOT VALID: a
brief SHARE ROW EXCLUSIVE on both tables, no scan, enforced for new writes from then on. The
backfill phase validates it: a scan under SHARE UPDATE EXCLUSIVE, which blocks no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.identifiers import bounded_name, quote_ident
from bgmigrate.plan.model import PlanError
from bgmigrate.plan.operations.base import Draft, PlanOptions, find_column, plan_id
from bgmigrate.plan.schema import Schema, Table

__all__ = ["AddForeignKey"]

ACTIONS = ("no action", "restrict", "cascade", "set null", "set default")


@dataclass(frozen=True)
class AddForeignKey:
    name: ClassVar[str] = "add-foreign-key"

    table: tuple[str, ...]
    column: str
    referenced_table: tuple[str, ...]
    referenced_column: str
    on_delete: str | None = None
    constraint_name: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table, column = find_column(schema, self.table, self.column)
        parent, key = find_column(schema, self.referenced_table, self.referenced_column)
        child_where = f"{table.name}.{column.sql_name}"
        parent_where = f"{parent.name}.{key.sql_name}"
        if not _is_unique(parent, key.name):
            raise PlanError(
                f"{parent_where} is not unique: a foreign key must reference a primary key or "
                f"a unique column. Make it unique first (bgmigrate plan add-unique "
                f"{parent.name.name}.{key.name})"
            )
        for existing in table.constraints_on(column.name):
            if (
                existing.kind == "foreign_key"
                and existing.columns == (column.name,)
                and existing.referenced_table == parent.name
                and existing.referenced_columns == (key.name,)
            ):
                raise PlanError(
                    f"{child_where} already references {parent_where} ({existing.name})"
                )
        on_delete = _action(self.on_delete)
        name = self.constraint_name or bounded_name(table.name.name, column.name, suffix="_fkey")
        if name in table.constraint_names():
            raise PlanError(f"table {table.name} already has a constraint {name}: give --name")
        draft = Draft(
            id=plan_id("add-foreign-key", table.name.name, column.name),
            operation=self.name,
            target={
                "table": str(table.name),
                "column": column.name,
                "references": f"{parent.name}.{key.name}",
            },
        )
        if not any(index.columns[:1] == (column.name,) for index in table.indexes if index.valid):
            index = table.name.sibling(bounded_name(table.name.name, column.name, suffix="_idx"))
            draft.expand.append(
                steps.create_index(
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote_ident(index.name)} "
                    f"ON {table.name.sql} ({column.sql_name})",
                    index,
                    description=f"Index {child_where}, so that deleting or re-keying a "
                    f"{parent.name.name} row does not scan {table.name.name} (CONCURRENTLY)",
                )
            )
        clause = f" ON DELETE {on_delete.upper()}" if on_delete else ""
        definition = (
            f"FOREIGN KEY ({column.sql_name}) REFERENCES {parent.name.sql} ({key.sql_name}){clause}"
        )
        draft.expand.append(
            steps.add_constraint_not_valid(
                table.name,
                name,
                f"ALTER TABLE {table.name.sql} ADD CONSTRAINT {quote_ident(name)} {definition} "
                "NOT VALID",
                description=f"Add the foreign key {name} NOT VALID: enforced for new writes, "
                "no scan, a brief lock on both tables",
            )
        )
        draft.backfill_steps.append(
            steps.validate_constraint(
                table.name,
                name,
                description=f"Validate {name}: scans {table.name.name} without blocking writes",
                definition=definition,
            )
        )
        draft.notes.append(
            f"validation fails if a row of {table.name} references a missing {parent_where}; "
            f"find them with: SELECT * FROM {table.name.sql} AS c WHERE c.{column.sql_name} IS "
            f"NOT NULL AND NOT EXISTS (SELECT FROM {parent.name.sql} AS p WHERE "
            f"p.{key.sql_name} = c.{column.sql_name})"
        )
        draft.deploy = (
            f"Deploy the version that relies on {child_where} referencing {parent_where}. The "
            f"old version keeps working unless it writes a {column.sql_name} that has no "
            f"{parent.name.name} row: such writes fail from expand on."
        )
        return draft


def _is_unique(table: Table, column: str) -> bool:
    return any(
        index.unique and index.valid and not index.partial and index.columns == (column,)
        for index in table.indexes
    )


def _action(text: str | None) -> str | None:
    if text is None:
        return None
    action = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    if action not in ACTIONS:
        raise PlanError(f"--on-delete {text!r}: expected one of {', '.join(ACTIONS)}")
    return action
