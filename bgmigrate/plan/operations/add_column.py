"""Add a column, NOT NULL included (`users.phone text --not-null --backfill "''"`).

A constant default makes it one step (PostgreSQL ≥ 11 stores it once: no rewrite, and NOT NULL
holds at once). Otherwise the column is added nullable; the rows the old version inserts get
their value from the default, or from a trigger evaluating `--backfill` for them; the existing
rows are backfilled in batches; NOT NULL comes at contract through a validated CHECK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.expressions import check_expression, check_type, is_volatile, parse_type
from bgmigrate.plan.identifiers import quote_ident
from bgmigrate.plan.literals import check_constant_fits
from bgmigrate.plan.model import Backfill, PlanError, Step
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_table,
    plan_id,
    require_new_column_name,
    require_primary_key,
    require_trigger_sync,
)
from bgmigrate.plan.schema import Schema, Table
from bgmigrate.plan.sync import fill_nulls

__all__ = ["AddColumn"]

_SERIAL = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})
MIN_PG_VERSION_FOR_FAST_DEFAULT = 11


@dataclass(frozen=True)
class AddColumn:
    name: ClassVar[str] = "add-column"

    table: tuple[str, ...]
    column: str
    type: str
    not_null: bool = False
    default: str | None = None
    backfill: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        table = find_table(schema, self.table)
        require_new_column_name(table, self.column)
        type_sql = check_type(self.type)
        if type_sql.lower() in _SERIAL:
            raise PlanError(
                f"a {type_sql} column fills every existing row: the table is rewritten under "
                "ACCESS EXCLUSIVE. Add a nullable integer column, a sequence with "
                "--default \"nextval('…')\", and --backfill the same expression"
            )
        parsed = parse_type(type_sql)
        schema.check_type(type_sql, parsed)
        default = check_expression(self.default, "--default") if self.default else None
        backfill = check_expression(self.backfill, "--backfill") if self.backfill else None
        for value, what in ((default, "--default"), (backfill, "--backfill")):
            if value is not None:
                check_constant_fits(value, parsed, what)
        if default and backfill:
            raise PlanError(
                "give --default (the value of new rows; a constant one also fills the existing "
                "rows) or --backfill (the value of existing rows and of rows the old version "
                "inserts), not both"
            )
        if self.not_null and not (default or backfill):
            raise PlanError(
                f"a NOT NULL column needs a value for the rows {table.name} already has: give "
                "--backfill EXPR (e.g. --backfill \"''\") or --default EXPR"
            )
        pg_version = options.pg_version or schema.major_version
        draft = Draft(
            id=plan_id("add", table.name.name, self.column),
            operation=self.name,
            target={"table": str(table.name), "column": self.column, "type": type_sql},
        )
        if self.not_null:
            draft.target["not_null"] = True
        column = quote_ident(self.column)
        where = f"{table.name}.{column}"
        fast_default = (
            default is not None
            and not is_volatile(default)
            and pg_version >= MIN_PG_VERSION_FOR_FAST_DEFAULT
        )
        if fast_default or not (default or backfill):
            not_null = " NOT NULL" if self.not_null else ""
            clause = f" DEFAULT {default}" if default else ""
            draft.expand.append(
                Step(
                    sql=f"ALTER TABLE {table.name.sql} ADD COLUMN {column} {type_sql}"
                    f"{clause}{not_null}",
                    undo=f"ALTER TABLE {table.name.sql} DROP COLUMN IF EXISTS {column}",
                    description=f"Add {where}{clause}{not_null}: stored once in the catalog, no "
                    "rewrite, a brief lock",
                )
            )
            draft.deploy = (
                f"Deploy the version that uses {where}. The old version keeps working: it does "
                "not know the column, and the database gives the rows it inserts "
                + ("the default." if default else "NULL.")
            )
            return draft
        value = default or backfill
        assert value is not None
        require_primary_key(table, "the backfill")
        draft.expand.append(
            steps.add_column(
                table.name,
                self.column,
                type_sql,
                description=f"Add {where} nullable, without a default (a volatile default "
                "would rewrite the table)"
                if default
                else f"Add {where} nullable (NOT NULL comes at contract)",
            )
        )
        fill = None
        if default:
            draft.expand.append(_set_default(table, self.column, default))
        else:
            require_trigger_sync(
                options,
                self.name,
                "the old version does not know the new column; a trigger fills it for the rows "
                "that version inserts",
            )
            fill = fill_nulls(table.name, self.column, value)
            draft.expand.append(
                fill.install(
                    pg_version,
                    description=f"A trigger sets {column} to {value} when a write leaves it "
                    "NULL (rows the old version inserts)",
                )
            )
        draft.backfill = Backfill(
            table=table.name.sql,
            key=table.primary_key,
            set=f"{column} = ({value})",
            where=f"{column} IS NULL",
        )
        draft.verify = f"SELECT NOT EXISTS (SELECT FROM {table.name.sql} WHERE {column} IS NULL)"
        draft.deploy = (
            f"Deploy the version that writes {where}. The old version keeps working: the "
            f"database gives the rows it inserts {value}."
        )
        if self.not_null:
            draft.contract.extend(steps.not_null_via_check(table.name, self.column))
        if fill is not None:
            draft.contract.append(
                fill.remove(
                    description=f"Drop the trigger that filled {column} for the old version"
                )
            )
        return draft


def _set_default(table: Table, column: str, default: str) -> Step:
    name = quote_ident(column)
    return Step(
        sql=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} SET DEFAULT {default}",
        undo=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} DROP DEFAULT",
        description=f"Default {name} to {default} for new rows (the backfill fills the others)",
    )
