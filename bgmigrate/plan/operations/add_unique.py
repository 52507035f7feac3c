"""Make a column unique (`users.email`) without blocking writes.

`ADD CONSTRAINT … UNIQUE` builds its index under a lock that blocks every write. Instead,
expand builds the unique index CONCURRENTLY, then attaches it as the constraint (`USING
INDEX`: a brief lock, no scan). When a valid unique index already exists, only the attach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.identifiers import bounded_name, quote_ident
from bgmigrate.plan.model import PlanError
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_column,
    plan_id,
    require_free_relation,
)
from bgmigrate.plan.schema import Schema

__all__ = ["AddUnique"]


@dataclass(frozen=True)
class AddUnique:
    name: ClassVar[str] = "add-unique"

    table: tuple[str, ...]
    column: str
    constraint_name: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table, column = find_column(schema, self.table, self.column)
        where = f"{table.name}.{column.sql_name}"
        for constraint in table.constraints_on(column.name):
            if constraint.kind in ("unique", "primary_key") and constraint.columns == (
                column.name,
            ):
                raise PlanError(f"{where} is already unique ({constraint.name})")
        name = self.constraint_name or bounded_name(table.name.name, column.name, suffix="_key")
        draft = Draft(
            id=plan_id("add-unique", table.name.name, column.name),
            operation=self.name,
            target={"table": str(table.name), "column": column.name},
        )
        existing = next(
            (
                index
                for index in table.indexes
                if index.unique
                and index.valid
                and not index.partial
                and index.constraint is None
                and index.columns == (column.name,)
            ),
            None,
        )
        if existing is not None:
            index = existing.name
            draft.notes.append(f"the unique index {index} exists already: only attached")
        else:
            index = table.name.sibling(name)
            require_free_relation(schema, index, "an index or relation called")
            draft.expand.append(
                steps.create_index(
                    f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {quote_ident(name)} "
                    f"ON {table.name.sql} ({column.sql_name})",
                    index,
                    description=f"Build the unique index {name} on {where} (CONCURRENTLY: "
                    "no write lock; fails if duplicates exist)",
                )
            )
            draft.notes.append(
                f"the build fails if {where} has duplicates; find them with: SELECT "
                f"{column.sql_name}, count(*) FROM {table.name.sql} GROUP BY 1 HAVING count(*) > 1"
            )
        if name in table.constraint_names():
            raise PlanError(f"table {table.name} already has a constraint {name}: give --name")
        draft.expand.append(
            steps.attach_unique(
                table.name,
                name,
                index,
                description=f"Attach the index as the constraint {name}: a brief lock, no scan",
            )
        )
        draft.deploy = (
            f"Deploy the version that relies on {where} being unique. The old version keeps "
            "working unless it writes a duplicate: such writes fail from expand on."
        )
        return draft
