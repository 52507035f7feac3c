"""Dual-write in the database: PL/pgSQL trigger functions that keep two shapes of the same data
equal while both app versions run, so the old version needs no code change.

Every trigger is `FOR EACH ROW` and narrowed with `UPDATE OF` and a `WHEN` clause, so an update
that does not change the synced columns never calls the function. `BEFORE` triggers only
assign to `NEW`, which cannot fire another trigger; triggers that write another table guard
against their own echo with `pg_trigger_depth()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgmigrate.plan.identifiers import QualifiedName, bounded_name, quote_ident
from bgmigrate.plan.model import Step
from bgmigrate.plan.sqlrewrite import row_expression

__all__ = [
    "SyncFunction",
    "TriggerSpec",
    "fill_nulls",
    "function_name",
    "one_way_copy",
    "two_way_sync",
]


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    table: QualifiedName
    event: str
    """`BEFORE INSERT`, `BEFORE UPDATE OF a, b`, `AFTER DELETE`, …"""
    when: str | None = None

    def create_sql(self, function: QualifiedName, pg_version: int) -> str:
        when = f"\n    WHEN ({self.when})" if self.when else ""
        # EXECUTE FUNCTION is the PostgreSQL 11 spelling; PROCEDURE still works everywhere.
        execute = "FUNCTION" if pg_version >= 11 else "PROCEDURE"
        return (
            f"CREATE TRIGGER {quote_ident(self.name)} {self.event} ON {self.table.sql}\n"
            f"    FOR EACH ROW{when}\n    EXECUTE {execute} {function.sql}()"
        )

    def drop_sql(self) -> str:
        return f"DROP TRIGGER IF EXISTS {quote_ident(self.name)} ON {self.table.sql}"


@dataclass(frozen=True)
class SyncFunction:
    """A trigger function and the triggers that call it."""

    name: QualifiedName
    body: str
    """PL/pgSQL statements between BEGIN and END."""
    triggers: tuple[TriggerSpec, ...]

    def create_sql(self, pg_version: int) -> str:
        tag = "$bgmigrate$"
        while tag in self.body:
            tag = tag[:-1] + "_$"
        function = (
            f"CREATE OR REPLACE FUNCTION {self.name.sql}() RETURNS trigger\n"
            f"LANGUAGE plpgsql AS {tag}\n#variable_conflict use_column\n"
            f"BEGIN\n{self.body}\nEND\n{tag}"
        )
        triggers = [trigger.create_sql(self.name, pg_version) for trigger in self.triggers]
        return ";\n".join([function, *triggers])

    def drop_sql(self) -> str:
        drops = [trigger.drop_sql() for trigger in self.triggers]
        return ";\n".join([*drops, f"DROP FUNCTION IF EXISTS {self.name.sql}()"])

    def install(self, pg_version: int, *, description: str) -> Step:
        """One transaction: the function and its triggers appear together (SHARE ROW
        EXCLUSIVE on each table, briefly)."""
        return Step(sql=self.create_sql(pg_version), undo=self.drop_sql(), description=description)

    def remove(self, *, description: str) -> Step:
        return Step(sql=self.drop_sql(), undo=None, description=description)


def function_name(table: QualifiedName, *parts: str) -> QualifiedName:
    """`public.bgmigrate_users_sync_email`: in the table's schema, named after what it syncs."""
    return table.sibling(bounded_name("bgmigrate", table.name, *parts))


def _new(column: str) -> str:
    return f"NEW.{quote_ident(column)}"


def _old(column: str) -> str:
    return f"OLD.{quote_ident(column)}"


def two_way_sync(table: QualifiedName, old: str, new: str) -> SyncFunction:
    """Keep `old` (written by the old version) and `new` (written by the new one) equal, in
    both directions. On INSERT the new column wins when set: the old version cannot write it.
    On UPDATE the column that changed wins; when both changed, the new one."""
    body = f"""    IF TG_OP = 'INSERT' THEN
        IF {_new(new)} IS NULL THEN
            {_new(new)} := {_new(old)};
        ELSE
            {_new(old)} := {_new(new)};
        END IF;
    ELSIF {_new(new)} IS NOT DISTINCT FROM {_old(new)} THEN
        {_new(new)} := {_new(old)};
    ELSE
        {_new(old)} := {_new(new)};
    END IF;
    RETURN NEW;"""
    name = function_name(table, "sync", old)
    return SyncFunction(
        name=name,
        body=body,
        triggers=_on_insert_and_update(table, "bgmigrate_sync", old, (old, new)),
    )


def one_way_copy(table: QualifiedName, source: str, target: str, forward: str) -> SyncFunction:
    """Keep `target` equal to `forward` (an expression over the row's columns) whenever a row
    is inserted or `source` changes: the target is internal, no version writes it."""
    body = f"""    {_new(target)} := {row_expression(forward, "new")};
    RETURN NEW;"""
    return SyncFunction(
        name=function_name(table, "copy", source),
        body=body,
        triggers=_on_insert_and_update(table, "bgmigrate_copy", source, (source,)),
    )


def _on_insert_and_update(
    table: QualifiedName, prefix: str, column: str, watched: tuple[str, ...]
) -> tuple[TriggerSpec, TriggerSpec]:
    """A trigger on every INSERT, and one on the UPDATEs that change a `watched` column: an
    UPDATE that leaves them alone has nothing to keep in step."""
    changed = " OR ".join(f"{_new(name)} IS DISTINCT FROM {_old(name)}" for name in watched)
    return (
        TriggerSpec(bounded_name(prefix, column, suffix="_insert"), table, "BEFORE INSERT"),
        TriggerSpec(
            bounded_name(prefix, column, suffix="_update"),
            table,
            f"BEFORE UPDATE OF {', '.join(map(quote_ident, watched))}",
            changed,
        ),
    )


def fill_nulls(table: QualifiedName, column: str, value: str) -> SyncFunction:
    """Give `column` the value of `value` (an expression over the row) whenever a write leaves
    it NULL, so rows the old version writes meet the coming NOT NULL."""
    body = f"""    {_new(column)} := {row_expression(value, "new")};
    RETURN NEW;"""
    return SyncFunction(
        name=function_name(table, "fill", column),
        body=body,
        triggers=(
            TriggerSpec(
                bounded_name("bgmigrate_fill", column),
                table,
                f"BEFORE INSERT OR UPDATE OF {quote_ident(column)}",
                f"{_new(column)} IS NULL",
            ),
        ),
    )
