"""What every plan operation shares: its options, the draft it fills, the checks on names.

An operation is a frozen dataclass holding the intent (`RenameColumn(table=("users",),
column="email", new_name="email_address")`). Its `draft(schema, options)` checks the intent
against the schema (a `PlanError` naming what is wrong, exit 2) and returns a `Draft`: the
steps of each phase. `build_plan` turns the draft into a sealed `Plan`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from bgmigrate.plan.identifiers import QualifiedName, quote_ident
from bgmigrate.plan.model import APPROVAL, Backfill, Plan, PlanError, PlanPhase, Step
from bgmigrate.plan.schema import Column, Schema, Table

__all__ = [
    "Draft",
    "DualWrite",
    "PlanOperation",
    "PlanOptions",
    "build_plan",
    "find_column",
    "find_table",
    "plan_id",
    "require_free_relation",
    "require_new_column_name",
    "require_primary_key",
    "require_trigger_sync",
    "select_star_note",
]

DualWrite = Literal["trigger", "app"]
MIN_PG_VERSION_FOR_CHECKED_NOT_NULL = 12


@dataclass(frozen=True)
class PlanOptions:
    dual_write: DualWrite = "trigger"
    """`trigger`: the database keeps both shapes equal, the old version needs no change.
    `app`: the new version writes both shapes itself (the three-deploy variant)."""
    pg_version: int | None = None
    """The PostgreSQL major version the plan will run on; the schema's server by default."""


@dataclass
class Draft:
    """A plan under construction: the steps of each phase, in order."""

    id: str
    operation: str
    target: dict[str, Any]
    expand: list[Step] = field(default_factory=list)
    backfill: Backfill | None = None
    backfill_steps: list[Step] = field(default_factory=list)
    verify: str | None = None
    deploy: str = ""
    contract: list[Step] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backfill_needs_approval: bool = False
    """The backfill may only start once the new version writes both shapes (`--dual-write
    app`): an approval records that it does."""

    def to_plan(self, pg_version: int) -> Plan:
        phases: list[PlanPhase] = []
        done: list[str] = []
        if self.expand:
            phases.append(PlanPhase("expand", "db", steps=tuple(self.expand)))
            done.append("expand")
        if self.backfill or self.backfill_steps or self.verify:
            requires = [*done, APPROVAL] if self.backfill_needs_approval else list(done)
            phases.append(
                PlanPhase(
                    "backfill",
                    "db",
                    steps=tuple(self.backfill_steps),
                    backfill=self.backfill,
                    verify=self.verify,
                    requires=tuple(requires),
                )
            )
            done.append("backfill")
        phases.append(PlanPhase("deploy", "app", instructions=self.deploy))
        if self.contract:
            phases.append(
                PlanPhase("contract", "db", steps=tuple(self.contract), requires=(*done, APPROVAL))
            )
        return Plan(
            id=self.id,
            operation=self.operation,
            target=self.target,
            pg_version=pg_version,
            phases=tuple(phases),
            blockers=tuple(self.blockers),
            notes=tuple(self.notes),
        )


class PlanOperation(Protocol):
    """One kind of change the planner knows (`rename-column`, `add-index`, …)."""

    name: ClassVar[str]
    """The `operation` of the plan file."""

    def draft(self, schema: Schema, options: PlanOptions) -> Draft: ...


def build_plan(operation: PlanOperation, schema: Schema, options: PlanOptions) -> Plan:
    """The sealed plan for `operation` on `schema`. Raises PlanError (or SchemaLookupError)
    when the intent does not fit the schema."""
    pg_version = options.pg_version or schema.major_version
    draft = operation.draft(schema, options)
    if pg_version < MIN_PG_VERSION_FOR_CHECKED_NOT_NULL and any(
        "SET NOT NULL" in step.sql for step in draft.contract
    ):
        draft.blockers.append(
            f"PostgreSQL {pg_version} ignores a validated CHECK when setting NOT NULL: the "
            "SET NOT NULL step scans the table under ACCESS EXCLUSIVE (fixed in PostgreSQL 12)"
        )
    return draft.to_plan(pg_version).with_checksum()


def plan_id(*parts: str) -> str:
    """A plan id from its operation and names: `rename-users-email`."""
    words = [re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("_-") for part in parts]
    return "-".join(word for word in words if word) or "plan"


def find_table(schema: Schema, parts: tuple[str, ...]) -> Table:
    return schema.table(schema.resolve(parts))


def find_column(schema: Schema, parts: tuple[str, ...], column: str) -> tuple[Table, Column]:
    table = find_table(schema, parts)
    return table, table.column(column)


def require_new_column_name(table: Table, name: str) -> None:
    if table.has_column(name):
        raise PlanError(
            f"table {table.name} already has a column {quote_ident(name)}: choose another name"
        )


def require_free_relation(schema: Schema, name: QualifiedName, what: str) -> None:
    if schema.is_taken(name):
        raise PlanError(f"{what} {name} already exists: choose another name")


def require_primary_key(table: Table, why: str) -> tuple[str, ...]:
    if not table.primary_key:
        raise PlanError(
            f"table {table.name} has no primary key: {why} walks the table in batches by its "
            "primary key. Add one first (bgmigrate plan add-unique, then ADD PRIMARY KEY USING "
            "INDEX)"
        )
    return table.primary_key


def require_trigger_sync(options: PlanOptions, operation: str, why: str) -> None:
    """PlanError for `--dual-write app` on an operation only a trigger can keep in sync."""
    if options.dual_write == "app":
        raise PlanError(
            f"--dual-write app does not apply to {operation}: {why}. Use the default "
            "--dual-write trigger"
        )


def select_star_note(table: QualifiedName) -> str:
    """Dropping a column changes what `SELECT *` returns: a statement that a running version
    prepared keeps its old result shape, which PostgreSQL refuses."""
    return (
        f"after contract, a statement a running version prepared with SELECT * on {table} "
        "fails with 'cached plan must not change result type' until it is prepared again "
        "(Rails and pgjdbc re-prepare by themselves; psycopg 3 and others need new connections)"
    )
