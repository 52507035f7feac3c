"""Add an index (`users.email`) without blocking writes: `CREATE INDEX CONCURRENTLY`, outside
any transaction, `IF NOT EXISTS` so that a retry after a failed build is safe (the executor
drops an index a failed build left INVALID)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.expressions import check_expression
from bgmigrate.plan.identifiers import bounded_name, quote_ident
from bgmigrate.plan.model import PlanError
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_table,
    plan_id,
    require_free_relation,
)
from bgmigrate.plan.schema import Schema

__all__ = ["AddIndex"]

_METHOD = "btree"


@dataclass(frozen=True)
class AddIndex:
    name: ClassVar[str] = "add-index"

    table: tuple[str, ...]
    columns: tuple[str, ...]
    index_name: str | None = None
    method: str | None = None
    where: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table = find_table(schema, self.table)
        if not self.columns:
            raise PlanError("give the column(s) to index: users.email")
        columns = tuple(table.column(name) for name in self.columns)
        method = (self.method or _METHOD).lower()
        if not method.isidentifier():
            raise PlanError(f"--using {self.method!r} is not an index method such as btree")
        predicate = check_expression(self.where, "--where") if self.where else None
        for index in table.indexes:
            same = index.columns == self.columns and not index.partial and index.valid
            if same and predicate is None and f"USING {method} (" in index.definition:
                raise PlanError(
                    f"index {index.name} already covers {table.name} ({', '.join(self.columns)})"
                )
        name = self.index_name or bounded_name(table.name.name, *self.columns, suffix="_idx")
        index = table.name.sibling(name)
        require_free_relation(schema, index, "an index or relation called")
        listed = ", ".join(column.sql_name for column in columns)
        using = "" if method == _METHOD else f" USING {method}"
        condition = f" WHERE {predicate}" if predicate else ""
        draft = Draft(
            id=plan_id("add-index", table.name.name, *self.columns),
            operation=self.name,
            target={"table": str(table.name), "columns": list(self.columns), "name": name},
        )
        draft.expand.append(
            steps.create_index(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote_ident(name)} ON "
                f"{table.name.sql}{using} ({listed}){condition}",
                index,
                description=f"Build {name} on {table.name} ({listed}) CONCURRENTLY: reads and "
                "writes go on",
            )
        )
        draft.deploy = (
            f"No app change is needed. The new version may rely on {name} once expand is done."
        )
        return draft
