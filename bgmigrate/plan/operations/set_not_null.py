"""Make a column NOT NULL (`users.email [--backfill EXPR]`) without a long lock.

`SET NOT NULL` alone scans the whole table under ACCESS EXCLUSIVE. Instead, at contract (when
the old version, which may still write NULL, is gone): `CHECK (c IS NOT NULL) NOT VALID`, its
validation (a scan that blocks no one), then `SET NOT NULL`, which the validated check proves
without a scan (PostgreSQL ≥ 12), and the check dropped. With `--backfill`, a trigger replaces
the NULLs the old version writes meanwhile and the existing NULLs are backfilled in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.expressions import check_expression, parse_type
from bgmigrate.plan.identifiers import quote_ident
from bgmigrate.plan.literals import check_constant_fits
from bgmigrate.plan.model import Backfill, PlanError
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_column,
    plan_id,
    require_primary_key,
    require_trigger_sync,
)
from bgmigrate.plan.schema import Schema
from bgmigrate.plan.sync import fill_nulls

__all__ = ["SetNotNull"]


@dataclass(frozen=True)
class SetNotNull:
    name: ClassVar[str] = "set-not-null"

    table: tuple[str, ...]
    column: str
    backfill: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table, column = find_column(schema, self.table, self.column)
        name = quote_ident(column.name)
        where = f"{table.name}.{name}"
        if column.not_null:
            raise PlanError(f"{where} is already NOT NULL")
        value = check_expression(self.backfill, "--backfill") if self.backfill else None
        if value is not None:
            check_constant_fits(value, parse_type(column.type), "--backfill")
        draft = Draft(
            id=plan_id("set-not-null", table.name.name, column.name),
            operation=self.name,
            target={"table": str(table.name), "column": column.name},
        )
        no_nulls = f"SELECT NOT EXISTS (SELECT FROM {table.name.sql} WHERE {name} IS NULL)"
        fill = None
        if value is not None:
            require_trigger_sync(
                options,
                self.name,
                "the old version may still write NULL; a trigger replaces it until contract",
            )
            require_primary_key(table, "the backfill")
            draft.target["backfill"] = value
            fill = fill_nulls(table.name, column.name, value)
            draft.expand.append(
                fill.install(
                    options.pg_version or schema.major_version,
                    description=f"A trigger sets {name} to {value} when a write leaves it NULL "
                    "(the old version may still write NULL)",
                )
            )
            draft.backfill = Backfill(
                table=table.name.sql,
                key=table.primary_key,
                set=f"{name} = ({value})",
                where=f"{name} IS NULL",
            )
            draft.deploy = (
                f"Deploy the version that never writes NULL into {where}. The old version keeps "
                f"working: the database replaces the NULLs it writes by {value} until contract."
            )
        else:
            draft.deploy = (
                f"Deploy the version that never writes NULL into {where}. The old version may "
                "still write NULL: a NULL written before contract makes its validation fail "
                "(give --backfill EXPR to have the database replace them)."
            )
        draft.verify = no_nulls
        draft.contract.extend(steps.not_null_via_check(table.name, column.name))
        if fill is not None:
            draft.contract.append(
                fill.remove(description=f"Drop the trigger that replaced NULLs in {name}")
            )
        return draft
