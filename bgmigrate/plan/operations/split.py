"""Split columns off into a new table keyed by the old one's primary key: `users` →
`user_profiles(user_id, bio, avatar_url)`.

Expand creates the new table (the moved columns with their types, defaults, indexes and
constraints; `user_id` its primary key and a foreign key to `users` ON DELETE CASCADE) and two
triggers: a write to the columns on `users` upserts the profile row, a write to the profile
updates `users`. Each compares with IS DISTINCT FROM before writing, so the echo of a sync
writes nothing and stops there. The backfill touches each user row without a profile, which
makes the trigger create it. Contract drops the triggers, sets NOT NULL where the old columns
had it, and drops the old columns.

Every user has exactly one profile row while both versions run (the trigger creates it with
the user), so the new version writes profiles with `INSERT … ON CONFLICT (user_id) DO UPDATE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bgmigrate.plan import steps
from bgmigrate.plan.identifiers import bounded_name, quote_ident, quote_literal
from bgmigrate.plan.model import Backfill, PlanError, Step
from bgmigrate.plan.operations.base import (
    Draft,
    PlanOptions,
    find_table,
    plan_id,
    require_free_relation,
    require_trigger_sync,
    select_star_note,
)
from bgmigrate.plan.operations.drop import (
    column_blockers,
    drop_checks,
    dropped_along,
    retire_columns,
)
from bgmigrate.plan.schema import Column, Schema, Table
from bgmigrate.plan.sqlrewrite import RewriteError, rewrite_index
from bgmigrate.plan.sync import SyncFunction, TriggerSpec, function_name

__all__ = ["Split"]


def default_key_name(table: str) -> str:
    """`users` → `user_id`: the singular of the table, as the foreign key is usually named."""
    singular = table[:-1] if table.endswith("s") and len(table) > 1 else table
    return f"{singular}_id"


@dataclass(frozen=True)
class Split:
    name: ClassVar[str] = "split"

    table: tuple[str, ...]
    into: str
    columns: tuple[str, ...]
    key: str | None = None

    def draft(self, schema: Schema, options: PlanOptions) -> Draft:
        require_trigger_sync(
            options,
            self.name,
            "rows of the new table are created from the old one's writes by a trigger",
        )
        table = find_table(schema, self.table)
        source = _Source(schema, table, self)
        pg_version = options.pg_version or schema.major_version
        draft = Draft(
            id=plan_id("split", table.name.name, self.into),
            operation=self.name,
            target={
                "table": str(table.name),
                "into": str(source.into),
                "columns": list(self.columns),
                "key": source.key,
            },
        )
        for column in source.moved:
            draft.blockers.extend(column_blockers(schema, table, column.name))
            draft.notes.extend(dropped_along(table, column.name))
            if column.identity or column.generated:
                draft.blockers.append(
                    f"{table.name}.{column.sql_name} is an identity or generated column: it "
                    "cannot be written by the sync"
                )
        draft.blockers.extend(source.spanning_blockers())
        draft.expand.append(source.create_table_step())
        for relax in (source.relax_not_null(), drop_checks(table, self.columns)):
            if relax is not None:
                draft.expand.append(relax)
        forward, backward = source.sync_functions()
        draft.expand.append(
            Step(
                sql=forward.create_sql(pg_version) + ";\n" + backward.create_sql(pg_version),
                undo=forward.drop_sql() + ";\n" + backward.drop_sql(),
                description=f"Dual-write: triggers copy writes of {source.listed} between "
                f"{table.name} and {source.into}, both ways",
            )
        )
        draft.notes.append(
            f"while both versions run, a write of the same {table.name.name} row through each "
            "version at the same moment can deadlock (the triggers lock the two tables in "
            "opposite orders): PostgreSQL aborts one of them, which the app retries"
        )
        draft.backfill = source.backfill()
        draft.verify = source.verify()
        draft.deploy = (
            f"Deploy the version that reads and writes {source.listed} in {source.into} instead "
            f"of {table.name}. Write profile rows with INSERT … ON CONFLICT ({source.key}) DO "
            f"UPDATE: the database creates the row along with each {table.name.name} row while "
            "the old version may run. The old version keeps working: triggers copy writes both "
            "ways. Start the contract phase only when no instance of the old version is left."
        )
        # One table per transaction: the apps lock the two tables in both orders (through the
        # triggers), so a transaction locking both could deadlock with them.
        draft.contract.append(
            forward.remove(
                description=f"Drop the trigger copying writes of {table.name} to {source.into}"
            )
        )
        draft.contract.append(
            backward.remove(
                description=f"Drop the trigger copying writes of {source.into} to {table.name}"
            )
        )
        for column in source.moved:
            if column.not_null:
                draft.contract.extend(steps.not_null_via_check(source.into, column.name))
        draft.contract.extend(retire_columns(table, self.columns))
        draft.notes.append(select_star_note(table.name))
        return draft


class _Source:
    """The table being split and what the new table gets from it."""

    def __init__(self, schema: Schema, table: Table, split: Split) -> None:
        self.schema = schema
        self.table = table
        if len(table.primary_key) != 1:
            raise PlanError(
                f"table {table.name} needs a single-column primary key to key {split.into} by; "
                f"it has {', '.join(table.primary_key) or 'none'}"
            )
        if not split.columns:
            raise PlanError("give the columns to move: --columns bio,avatar_url")
        if len(set(split.columns)) != len(split.columns):
            raise PlanError(f"a column is listed twice in --columns {','.join(split.columns)}")
        (self.primary_key,) = table.primary_key
        self.moved: tuple[Column, ...] = tuple(table.column(name) for name in split.columns)
        if self.primary_key in split.columns:
            raise PlanError(
                f"{self.primary_key} is the primary key of {table.name}: it stays, and "
                f"{split.into} is keyed by it"
            )
        self.into = table.name.sibling(split.into)
        require_free_relation(schema, self.into, "a relation called")
        self.key = split.key or default_key_name(table.name.name)
        if self.key in split.columns:
            raise PlanError(f"the key column {self.key} of {split.into} is also a moved column")
        self.names = split.columns
        self.listed = ", ".join(quote_ident(name) for name in split.columns)

    def spanning_blockers(self) -> list[str]:
        moved = set(self.names)
        blockers = []
        for index in self.table.indexes:
            if index.uses & moved and not index.uses <= moved:
                blockers.append(
                    f"index {index.name} covers moved and staying columns "
                    f"({', '.join(sorted(index.uses))}): it cannot be split"
                )
        for constraint in self.table.constraints:
            used = set(constraint.columns)
            if used & moved and not used <= moved:
                blockers.append(
                    f"constraint {constraint.name} covers moved and staying columns: "
                    f"{constraint.definition}"
                )
        return blockers

    def _renamed(self, name: str) -> str:
        prefix = f"{self.table.name.name}_"
        return (
            f"{self.into.name}_{name[len(prefix) :]}"
            if name.startswith(prefix)
            else (f"{self.into.name}_{name}")
        )

    def create_table_step(self) -> Step:
        key_type = self.table.column(self.primary_key).type
        lines = [
            f"{quote_ident(self.key)} {key_type} PRIMARY KEY REFERENCES {self.table.name.sql} "
            f"({quote_ident(self.primary_key)}) ON DELETE CASCADE"
        ]
        for column in self.moved:
            default = f" DEFAULT {column.default}" if column.default else ""
            lines.append(f"{column.sql_name} {column.type_sql}{default}")
        moved = set(self.names)
        backed = {c.index for c in self.table.constraints if c.index is not None}
        for constraint in self.table.constraints:
            if (
                constraint.columns
                and set(constraint.columns) <= moved
                and constraint.kind in ("check", "foreign_key", "unique")
            ):
                lines.append(
                    f"CONSTRAINT {quote_ident(self._renamed(constraint.name))} "
                    f"{constraint.definition}"
                )
        statements = [f"CREATE TABLE {self.into.sql} (\n    " + ",\n    ".join(lines) + "\n)"]
        for index in self.table.indexes:
            if index.name in backed or not index.uses or not index.uses <= moved:
                continue
            try:
                create = rewrite_index(
                    index.definition, name=self._renamed(index.name.name), table=self.into
                )
            except RewriteError:
                continue
            # A new, empty table: a plain build locks no one.
            statements.append(create.replace(" CONCURRENTLY IF NOT EXISTS", "", 1))
        statements.extend(
            f"COMMENT ON COLUMN {self.into.sql}.{column.sql_name} "
            f"IS {quote_literal(column.comment)}"
            for column in self.moved
            if column.comment is not None
        )
        statements.extend(grant.sql(self.into.sql) for grant in self.table.grants)
        return Step(
            sql=";\n".join(statements),
            undo=f"DROP TABLE IF EXISTS {self.into.sql}",
            description=f"Create {self.into} keyed by {self.key} → {self.table.name}, with "
            f"{self.listed} as they are (nullable until contract), their indexes, constraints "
            "and the table's grants",
        )

    def relax_not_null(self) -> Step | None:
        required = [column for column in self.moved if column.not_null]
        if not required:
            return None
        table = self.table.name.sql
        drops = ", ".join(f"ALTER COLUMN {c.sql_name} DROP NOT NULL" for c in required)
        undo = ", ".join(f"ALTER COLUMN {c.sql_name} SET NOT NULL" for c in required)
        return Step(
            sql=f"ALTER TABLE {table} {drops}",
            undo=f"ALTER TABLE {table} {undo}",
            description=f"Make {', '.join(c.sql_name for c in required)} of {self.table.name} "
            "nullable, so that the new version can insert users without them",
        )

    def sync_functions(self) -> tuple[SyncFunction, SyncFunction]:
        columns = self.listed
        key, pk = quote_ident(self.key), quote_ident(self.primary_key)
        new_values = ", ".join(f"NEW.{c.sql_name}" for c in self.moved)
        profile_values = ", ".join(f"p.{c.sql_name}" for c in self.moved)
        excluded = ", ".join(f"EXCLUDED.{c.sql_name}" for c in self.moved)
        assignments = ", ".join(f"{c.sql_name} = EXCLUDED.{c.sql_name}" for c in self.moved)
        forward = SyncFunction(
            name=function_name(self.table.name, "split", self.into.name),
            body=f"""    INSERT INTO {self.into.sql} AS p ({key}, {columns})
    VALUES (NEW.{pk}, {new_values})
    ON CONFLICT ({key}) DO UPDATE SET {assignments}
    WHERE ({profile_values}) IS DISTINCT FROM ({excluded});
    RETURN NULL;""",
            triggers=(
                TriggerSpec(
                    bounded_name("bgmigrate_split", self.into.name),
                    self.table.name,
                    f"AFTER INSERT OR UPDATE OF {columns}",
                ),
            ),
        )
        user_values = ", ".join(f"u.{c.sql_name}" for c in self.moved)
        sets = ", ".join(f"{c.sql_name} = NEW.{c.sql_name}" for c in self.moved)
        clears = ", ".join(f"{c.sql_name} = NULL" for c in self.moved)
        any_set = " OR ".join(f"u.{c.sql_name} IS NOT NULL" for c in self.moved)
        backward = SyncFunction(
            name=function_name(self.into, "split", self.table.name.name),
            body=f"""    IF TG_OP = 'DELETE' THEN
        UPDATE {self.table.name.sql} AS u SET {clears}
        WHERE u.{pk} = OLD.{key} AND ({any_set});
    ELSE
        UPDATE {self.table.name.sql} AS u SET {sets}
        WHERE u.{pk} = NEW.{key} AND ({user_values}) IS DISTINCT FROM ({new_values});
    END IF;
    RETURN NULL;""",
            triggers=(
                TriggerSpec(
                    bounded_name("bgmigrate_split", self.table.name.name),
                    self.into,
                    "AFTER INSERT OR UPDATE OR DELETE",
                ),
            ),
        )
        return forward, backward

    def backfill(self) -> Backfill:
        first = self.moved[0].sql_name
        table = quote_ident(self.table.name.name)
        return Backfill(
            table=self.table.name.sql,
            key=(self.primary_key,),
            # Touching a moved column fires the sync trigger, which creates the profile row.
            set=f"{first} = {first}",
            where=f"NOT EXISTS (SELECT FROM {self.into.sql} AS p "
            f"WHERE p.{quote_ident(self.key)} = {table}.{quote_ident(self.primary_key)})",
        )

    def verify(self) -> str:
        user_values = ", ".join(f"u.{c.sql_name}" for c in self.moved)
        profile_values = ", ".join(f"p.{c.sql_name}" for c in self.moved)
        key, pk = quote_ident(self.key), quote_ident(self.primary_key)
        return (
            f"SELECT NOT EXISTS (SELECT FROM {self.table.name.sql} AS u "
            f"LEFT JOIN {self.into.sql} AS p ON p.{key} = u.{pk} "
            f"WHERE p.{key} IS NULL OR ({user_values}) IS DISTINCT FROM ({profile_values}))"
        )
