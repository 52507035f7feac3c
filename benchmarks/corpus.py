"""A deterministic corpus of realistic SQL migration files for the speed benchmark.

Every file holds exactly `STATEMENTS_PER_FILE` statements (as psql would split them) drawn from
what real migration histories contain: tables, columns with and without defaults, indexes with
and without CONCURRENTLY, constraints added NOT VALID then validated, backfills, renames, type
changes, enum values, functions with dollar-quoted bodies, DO blocks, lock_timeout settings,
explicit transactions, comments, phase tags and ignore comments. File `n` depends only on `n`,
so the first 500 files of a 4,000-file corpus are the 500-file corpus.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

__all__ = ["STATEMENTS_PER_FILE", "migration", "write_corpus"]

STATEMENTS_PER_FILE = 10

_TYPES = ("text", "integer", "bigint", "boolean", "timestamptz", "numeric(12, 2)", "jsonb", "uuid")
_DEFAULTS = {
    "text": "''",
    "integer": "0",
    "bigint": "0",
    "boolean": "false",
    "timestamptz": "now()",
    "numeric(12, 2)": "0",
    "jsonb": "'{}'::jsonb",
    "uuid": "gen_random_uuid()",
}
_WORDS = (
    "account",
    "invoice",
    "order",
    "payment",
    "customer",
    "product",
    "shipment",
    "session",
    "audit",
    "plan",
    "coupon",
    "review",
    "location",
    "tenant",
    "webhook",
    "report",
)


class _Migration:
    """One file's statements, built around a few tables of one imaginary feature."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.random = random.Random(n)
        # Alterations target tables of earlier migrations; new tables get names of their own.
        self.table = f"{self.random.choice(_WORDS)}s_{self.random.randint(0, n)}"
        self.other = f"{self.random.choice(_WORDS)}s_{self.random.randint(0, n)}"
        self.columns = 0
        self.created = 0

    def column(self) -> str:
        self.columns += 1
        return f"{self.random.choice(_WORDS)}_{self.columns}"

    def create_table(self) -> str:
        self.created += 1
        extra = ",\n".join(
            f"    {self.column()} {self.random.choice(_TYPES)}"
            + (" NOT NULL" if self.random.random() < 0.4 else "")
            for _ in range(self.random.randint(2, 6))
        )
        return (
            f"CREATE TABLE {self.random.choice(_WORDS)}s_{self.n}_{self.created} (\n"
            "    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
            f"    {self.other}_id bigint REFERENCES {self.other} (id),\n"
            f"{extra},\n"
            "    created_at timestamptz NOT NULL DEFAULT now()\n)"
        )

    def add_column(self) -> str:
        kind = self.random.choice(_TYPES)
        choice = self.random.random()
        if choice < 0.5:
            return f"ALTER TABLE {self.table} ADD COLUMN {self.column()} {kind}"
        if choice < 0.8:
            return (
                f"ALTER TABLE {self.table} ADD COLUMN {self.column()} {kind} "
                f"NOT NULL DEFAULT {_DEFAULTS[kind]}"
            )
        return f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {self.column()} {kind} NOT NULL"

    def create_index(self) -> str:
        concurrently = "CONCURRENTLY " if self.random.random() < 0.6 else ""
        unique = "UNIQUE " if self.random.random() < 0.2 else ""
        where = " WHERE deleted_at IS NULL" if self.random.random() < 0.2 else ""
        column = self.column()
        return (
            f"CREATE {unique}INDEX {concurrently}IF NOT EXISTS ix_{self.table}_{column} "
            f"ON {self.table} USING btree ({column}, created_at DESC){where}"
        )

    def drop_index(self) -> str:
        concurrently = "CONCURRENTLY " if self.random.random() < 0.7 else ""
        return f"DROP INDEX {concurrently}IF EXISTS ix_{self.table}_old_{self.n}"

    def foreign_key(self) -> str:
        return (
            f"ALTER TABLE {self.table} ADD CONSTRAINT fk_{self.table}_{self.other} "
            f"FOREIGN KEY ({self.other}_id) REFERENCES {self.other} (id) NOT VALID"
        )

    def validate(self) -> str:
        return f"ALTER TABLE {self.table} VALIDATE CONSTRAINT fk_{self.table}_{self.other}"

    def check_constraint(self) -> str:
        return (
            f"ALTER TABLE {self.table} ADD CONSTRAINT ck_{self.table}_amount "
            "CHECK (amount >= 0)" + (" NOT VALID" if self.random.random() < 0.5 else "")
        )

    def backfill(self) -> str:
        column = self.column()
        if self.random.random() < 0.5:
            return f"UPDATE {self.table} SET {column} = 0 WHERE {column} IS NULL"
        start = self.random.randrange(0, 1_000_000, 10_000)
        return (
            f"UPDATE {self.table} SET {column} = lower(email)\n"
            f"WHERE id >= {start} AND id < {start + 10_000} AND {column} IS NULL"
        )

    def lock_timeout(self) -> str:
        if self.random.random() < 0.7:
            return f"SET lock_timeout = '{self.random.choice(('2s', '5s', '500ms'))}'"
        return "SET statement_timeout = '15min'"

    def rename(self) -> str:
        if self.random.random() < 0.7:
            return f"ALTER TABLE {self.table} RENAME COLUMN {self.column()} TO {self.column()}"
        return f"ALTER TABLE {self.other} RENAME TO {self.other}_archive"

    def type_change(self) -> str:
        return (
            f"ALTER TABLE {self.table} ALTER COLUMN {self.column()} "
            f"TYPE {self.random.choice(('bigint', 'text', 'varchar(255)'))}"
        )

    def not_null(self) -> str:
        return f"ALTER TABLE {self.table} ALTER COLUMN {self.column()} SET NOT NULL"

    def drop_column(self) -> str:
        return f"ALTER TABLE {self.table} DROP COLUMN IF EXISTS {self.column()}"

    def enum(self) -> str:
        if self.random.random() < 0.5:
            return f"CREATE TYPE status_{self.n} AS ENUM ('new', 'active', 'closed')"
        return f"ALTER TYPE status_{self.n} ADD VALUE IF NOT EXISTS 'archived' AFTER 'active'"

    def function(self) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION touch_{self.table}() RETURNS trigger\n"
            "LANGUAGE plpgsql AS $fn$\nBEGIN\n"
            "    NEW.updated_at := now();  -- keep in sync; see trigger below\n"
            "    RETURN NEW;\nEND;\n$fn$"
        )

    def do_block(self) -> str:
        return (
            "DO $$\nBEGIN\n"
            f"    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader_{self.n}') THEN\n"
            f"        CREATE ROLE reader_{self.n};\n"
            "    END IF;\nEND\n$$"
        )

    def grant(self) -> str:
        return f"GRANT SELECT, INSERT ON {self.table} TO app_{self.n % 7}"

    def comment(self) -> str:
        return (
            f"COMMENT ON COLUMN {self.table}.created_at IS "
            "'When the row was created; set by the database, never by the app'"
        )

    def insert(self) -> str:
        return (
            f"INSERT INTO {self.other} (name, created_at) VALUES "
            f"('seed {self.n}', now()), ('seed {self.n}; second', now())"
        )

    def drop_table(self) -> str:
        return f"DROP TABLE IF EXISTS {self.table}_legacy"


# How often each kind of statement appears, roughly as in real migration histories.
_WEIGHTED: tuple[tuple[Callable[[_Migration], str], int], ...] = (
    (_Migration.create_table, 12),
    (_Migration.add_column, 18),
    (_Migration.create_index, 14),
    (_Migration.drop_index, 3),
    (_Migration.foreign_key, 4),
    (_Migration.validate, 3),
    (_Migration.check_constraint, 3),
    (_Migration.backfill, 6),
    (_Migration.lock_timeout, 6),
    (_Migration.rename, 3),
    (_Migration.type_change, 3),
    (_Migration.not_null, 3),
    (_Migration.drop_column, 3),
    (_Migration.enum, 3),
    (_Migration.function, 3),
    (_Migration.do_block, 2),
    (_Migration.grant, 3),
    (_Migration.comment, 3),
    (_Migration.insert, 3),
    (_Migration.drop_table, 2),
)
_MAKERS = tuple(maker for maker, _ in _WEIGHTED)
_WEIGHTS = tuple(weight for _, weight in _WEIGHTED)


def migration(n: int) -> str:
    """The text of migration file number `n`: exactly STATEMENTS_PER_FILE statements."""
    file = _Migration(n)
    feature = file.random.choice(_WORDS)
    lines = [f"-- Migration {n:05d}: {file.table} changes for the {feature} feature"]
    if file.random.random() < 0.15:
        phase = file.random.choice(("expand", "backfill", "contract"))
        lines.append(f"-- bgmigrate: phase={phase}")
    in_transaction = file.random.random() < 0.3
    body_count = STATEMENTS_PER_FILE - (2 if in_transaction else 0)
    statements = [maker(file) for maker in file.random.choices(_MAKERS, _WEIGHTS, k=body_count)]
    if in_transaction:
        statements = ["BEGIN", *statements, "COMMIT"]
    for statement in statements:
        roll = file.random.random()
        if roll < 0.15:
            ticket = file.random.randint(100, 9999)
            lines.append(f"\n/* Step for ticket #{ticket}:\n   see the runbook */")
        elif roll < 0.2:
            lines.append("-- bgmigrate: ignore rename-column -- clients moved in release 41")
        lines.append(f"{statement};")
    return "\n".join(lines) + "\n"


def write_corpus(folder: Path, files: int) -> int:
    """Write migrations 1…`files` into `folder`; returns the number of statements written."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, files + 1):
        (folder / f"{n:05d}_migration.sql").write_text(migration(n))
    return files * STATEMENTS_PER_FILE
