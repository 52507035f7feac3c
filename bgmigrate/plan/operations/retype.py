"""Change a column's type (`orders.quantity` integer → bigint) without rewriting the table
under a lock.

A change PostgreSQL makes by relabelling alone (`varchar(20)` → `varchar(50)`, `varchar` →
`text`, more numeric precision) is one short step. Any other goes through a shadow column of
the new type that a trigger keeps equal to `USING` (by default a cast of the old value): both
versions keep reading and writing `quantity` as it is; the backfill fills the shadow for
existing rows; contract swaps it in, in one short transaction that drops the old column and
gives the shadow its name, with everything attached carried over (see `plan.carry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.carry import (
    TEMPORARY_SUFFIX,
    ColumnCopy,
    carry_column,
    copy_backfill,
    copy_verify,
)
from bgmigrate.plan.expressions import check_expression, check_type, parse_type
from bgmigrate.plan.identifiers import bounded_name, quote_ident
from bgmigrate.plan.model import PlanError, Step
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_column,
    plan_id,
    require_primary_key,
    require_trigger_sync,
)
from bgmigrate.plan.schema import Column, Schema, Table
from bgmigrate.plan.sync import one_way_copy

__all__ = ["Retype"]

_COLLATABLE = frozenset({"text", "varchar", "bpchar", "citext", "name"})


@dataclass(frozen=True)
class Retype:
    name: ClassVar[str] = "retype"

    table: tuple[str, ...]
    column: str
    new_type: str
    using: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        from bgmigrate.check.coercion import Coercion, coercion, same_type

        table, column = find_column(schema, self.table, self.column)
        new_type = check_type(self.new_type)
        using = check_expression(self.using, "--using") if self.using is not None else None
        old_parsed, new_parsed = parse_type(column.type), parse_type(new_type)
        schema.check_type(new_type, new_parsed)
        where = f"{table.name}.{quote_ident(column.name)}"
        if same_type(old_parsed, new_parsed) and using is None:
            raise PlanError(f"{where} is already of type {column.type}")
        draft = Draft(
            id=plan_id("retype", table.name.name, column.name),
            operation=self.name,
            target={"table": str(table.name), "column": column.name, "type": new_type},
        )
        if using:
            draft.target["using"] = using
        if (
            using is None
            and coercion(old_parsed, new_parsed) is Coercion.BINARY
            and not table.views_using(column.name)
            and not any(c.kind == "check" for c in table.constraints_on(column.name))
        ):
            return _relabel(draft, table, column, new_type)
        require_trigger_sync(
            options,
            self.name,
            "both versions keep writing the same column, so only a trigger can fill the "
            "shadow column of the new type",
        )
        require_primary_key(table, "the backfill")
        return _shadow_copy(draft, schema, table, column, new_type, using, options)


def _relabel(draft: Draft, table: Table, column: Column, new_type: str) -> Draft:
    name = quote_ident(column.name)
    draft.expand.append(
        Step(
            sql=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} TYPE {new_type}",
            undo=f"ALTER TABLE {table.name.sql} ALTER COLUMN {name} TYPE {column.type}",
            description=f"Change {name} from {column.type} to {new_type}: binary-coercible, "
            "so PostgreSQL only relabels it (a brief lock, no rewrite, no index rebuild)",
        )
    )
    draft.deploy = (
        f"Deploy the version that expects {table.name}.{name} as {new_type}. The old version "
        "keeps working: the stored values did not change."
    )
    return draft


def _shadow_copy(
    draft: Draft,
    schema: Schema,
    table: Table,
    column: Column,
    new_type: str,
    using: str | None,
    options: PlanOptions,
) -> Draft:
    shadow = bounded_name(column.name, suffix=TEMPORARY_SUFFIX)
    if table.has_column(shadow):
        raise PlanError(
            f"table {table.name} already has a column {quote_ident(shadow)}: an earlier plan "
            "for this column is still in progress; finish or roll it back first"
        )
    name = quote_ident(column.name)
    forward = using or f"CAST({name} AS {new_type})"
    type_sql = new_type
    if column.collation and parse_type(new_type).name in _COLLATABLE:
        type_sql = f"{new_type} COLLATE {column.collation}"
    copy = ColumnCopy(
        table=table,
        source=column,
        target=shadow,
        target_type=type_sql,
        final=column.name,
        forward=forward,
        two_way=False,
    )
    sync = one_way_copy(table.name, column.name, shadow, forward)
    carried = carry_column(copy, schema, sync_drop=sync.drop_sql())
    draft.blockers.extend(carried.blockers)
    draft.notes.extend(carried.notes)
    draft.notes.append(
        f"after contract {name} is the last column of {table.name}: SELECT * and INSERT "
        "without a column list see a different column order"
    )
    draft.notes.append(
        f"the swap changes the result type of every query returning {name}: a statement a "
        "running version has prepared (psycopg 3 after 5 runs, JDBC, Rails) fails with "
        "'cached plan must not change result type' until it is prepared again. Rails and "
        "pgjdbc re-prepare by themselves; with other clients, retry on that error or renew "
        "the app's connections right after contract"
    )
    draft.expand.append(
        steps.add_column(
            table.name,
            shadow,
            type_sql,
            description=f"Add the shadow column {quote_ident(shadow)} {type_sql}, the future "
            f"{name} (internal: no version reads or writes it)",
        )
    )
    draft.expand.append(
        sync.install(
            options.pg_version or schema.major_version,
            description=f"A trigger sets {quote_ident(shadow)} to {forward} on every write of "
            f"{name}",
        )
    )
    draft.expand.extend(carried.expand)
    draft.backfill = copy_backfill(copy)
    draft.verify = copy_verify(copy)
    draft.deploy = (
        f"Deploy the version that accepts {table.name}.{name} as {new_type}. Both versions "
        f"keep reading and writing {name} as it is until contract; write values that only "
        f"{new_type} can hold only after contract. Start the contract phase only when no "
        "instance of the old version is left."
    )
    draft.contract.extend(carried.before_swap)
    draft.contract.append(
        Step(
            sql=";\n".join(carried.swap),
            description=f"In one short transaction: stop the trigger, drop the old {name}, give "
            f"the shadow column its name, attach defaults, constraints, indexes and views",
        )
    )
    draft.contract.extend(carried.after_swap)
    return draft
