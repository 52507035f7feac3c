"""A schema from files: migrations or a `pg_dump --schema-only` file replayed into a throwaway
PostgreSQL, then introspected.

A directory of migrations is read exactly as `check` reads it (`bgmigrate.check.runner`): the
same discovery and migration tool layout, so the files run in the tool's order, only their
forward parts (no goose `Down` section, diesel `down.sql`, Flyway `U__` undo script or sqitch
`revert/`), templates substituted as `check` parses them, other engines' files (`*.mysql.up.sql`)
left out. Each statement runs in the transaction block the tool would run it in (a migration
wrapped in one transaction, autocommit, one query, an explicit `BEGIN … COMMIT`), so
`CONCURRENTLY` behaves as in production. A template that qualifies a name (`${schema}.users`)
reads as a schema of the same name, created when first used. An Alembic project runs base to
heads (`bgmigrate.source.alembic.replay_alembic`). A single file is one script, run in
autocommit as psql would (a migration or a `pg_dump --schema-only` output).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bgmigrate.plan.introspect import SchemaSourceError, introspect
from bgmigrate.plan.schema import Schema
from bgmigrate.source.reading import UNREADABLE_FILE
from bgmigrate.source.templates import substitute_templates
from bgmigrate.source.transactions import transaction_blocks
from bgmigrate.source.unit import Statement, Unit, UnitKind

if TYPE_CHECKING:
    import psycopg

__all__ = ["replay_files", "replay_units", "replayed_database", "schema_from_paths"]

# psql meta-commands in dumps (`\restrict KEY`, `\connect db`): not SQL, skipped.
_PSQL_META = re.compile(r"^\\[^\n]*$", re.MULTILINE)
# Ownership and privileges do not shape the schema; their roles rarely exist in a scratch server.
_ROLE_STATEMENT = re.compile(
    r"^\s*(GRANT|REVOKE|ALTER\s.+\sOWNER\s+TO\s)", re.IGNORECASE | re.DOTALL
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# The problems that leave a migration unread (`syntax-error`: a changelog that does not parse).
_NOTHING_READ = frozenset({UNREADABLE_FILE, "syntax-error"})


def schema_from_paths(
    paths: Sequence[Path], *, server_dsn: str | None = None, config_file: Path | None = None
) -> Schema:
    """Replay `paths` in order into a new database and introspect it. The database lives on
    `server_dsn`'s server when given (it is dropped afterwards), else on an embedded PostgreSQL
    started for the purpose. Directories are read as `check` reads them with `config_file`
    (default: the nearest config)."""
    with replayed_database(paths, server_dsn=server_dsn, config_file=config_file) as dsn:
        return introspect(dsn, source=", ".join(str(path) for path in paths))


@contextlib.contextmanager
def replayed_database(
    paths: Sequence[Path], *, server_dsn: str | None = None, config_file: Path | None = None
) -> Iterator[str]:
    """A new database with `paths` replayed into it, in order, rows included; yields its DSN.
    It lives on `server_dsn`'s server when given (and is dropped afterwards), else on an
    embedded PostgreSQL started for the purpose. Directories are read as `check` reads them
    with `config_file` (default: the nearest config)."""
    for path in paths:
        if not path.exists():
            raise SchemaSourceError(f"schema source {path}: no such file or directory")
    with _scratch_database(server_dsn) as dsn:
        for path in paths:
            _replay(path, dsn, config_file)
        yield dsn


def replay_files(files: list[Path], dsn: str) -> None:
    """Run each file's statements in order, in autocommit, on the database at `dsn`."""
    import psycopg

    from bgmigrate.source.sql import split_sql

    with psycopg.connect(dsn, autocommit=True) as connection:
        for file in files:
            text = _PSQL_META.sub("", file.read_text(encoding="utf-8"))
            for piece in split_sql(text):
                _run(connection, piece.sql, f"{file}:{piece.location.line}")


def replay_units(units: Iterable[Unit], dsn: str) -> None:
    """Run each unit's statements in order on the database at `dsn`, in the transaction blocks
    `check` read them in (`Statement.transaction`): a block is committed when the next
    statement is outside it, and a unit's open block when the unit ends, as its tool would."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        for unit in units:
            block: int | None = None
            for statement in unit.statements:
                sql = _PSQL_META.sub("", statement.sql).strip()
                if not sql:
                    continue
                if _in_transaction(connection) and statement.transaction != block:
                    connection.execute("COMMIT")
                block = statement.transaction
                opens = transaction_blocks([sql])[0] is not None
                if block is not None and not _in_transaction(connection) and not opens:
                    connection.execute("BEGIN")
                for schema in _template_schemas(statement):
                    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                _run(connection, sql, f"{unit.path}:{statement.location.line}")
            if _in_transaction(connection):
                connection.execute("COMMIT")


def _replay(path: Path, dsn: str, config_file: Path | None) -> None:
    from bgmigrate.source.alembic import ReplayError, find_project, replay_alembic

    if path.suffix != ".sql" and find_project(path) is not None:
        try:
            replay_alembic(path, dsn)
        except ReplayError as error:
            raise SchemaSourceError(str(error)) from None
        return
    if path.is_file():
        replay_files([path], dsn)
        return
    units = _migrations(path, config_file)
    if not units:
        raise SchemaSourceError(
            f"schema source {path}: no .sql migrations and no Alembic project found there"
        )
    replay_units(units, dsn)


def _migrations(directory: Path, config_file: Path | None) -> list[Unit]:
    """The directory's SQL migrations, in migration order, as `check` reads them."""
    from bgmigrate.check.runner import CheckOptions, CheckProblem, read_units
    from bgmigrate.source.errors import SourceError

    try:
        units = [
            unit
            for unit in read_units(CheckOptions(paths=(str(directory),), config_file=config_file))
            if unit.kind is UnitKind.SQL
        ]
    except (CheckProblem, SourceError) as error:
        raise SchemaSourceError(f"schema source {directory}: {error}") from None
    for unit in units:
        for problem in unit.problems:
            # A file not read, or a changelog not parsed: the rest would replay to a wrong schema.
            if not unit.statements and problem.rule in _NOTHING_READ:
                raise SchemaSourceError(f"schema source {unit.path}: {problem.message}")
    return units


def _in_transaction(connection: psycopg.Connection) -> bool:
    from psycopg import pq

    return connection.pgconn.transaction_status == pq.TransactionStatus.INTRANS


def _template_schemas(statement: Statement) -> list[str]:
    """The names that templates stand for where they qualify a name (`${schema}.users` reads
    `schema_.users`): schemas the tool's configuration provides, made here as `check` names
    them."""
    if not statement.written:
        return []
    schemas = []
    for start, end, _ in substitute_templates(statement.written).templates:
        name = statement.sql[start:end].strip()
        if _IDENTIFIER.fullmatch(name) and statement.sql[end:].lstrip().startswith("."):
            schemas.append(name)
    return schemas


def _run(connection: psycopg.Connection, sql: str, where: str) -> None:
    """Run one statement; a failing GRANT, REVOKE or OWNER TO (a role the scratch server does
    not have) is left out, anything else failing ends the replay."""
    import psycopg

    role = _ROLE_STATEMENT.match(sql) is not None
    savepoint = role and _in_transaction(connection)
    if savepoint:
        connection.execute("SAVEPOINT bgmigrate_role")
    try:
        connection.execute(sql)
    except psycopg.Error as error:
        if not role:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise SchemaSourceError(
                f"replaying {where} failed: {first}. The schema source must replay cleanly on "
                f"an empty PostgreSQL {_server_major(connection)}; fix the migration or point "
                "--dsn at a database instead"
            ) from None
        if savepoint:
            connection.execute("ROLLBACK TO SAVEPOINT bgmigrate_role")


def _server_major(connection: object) -> str:
    version = connection.info.server_version  # type: ignore[attr-defined]
    return str(version // 10000)


@contextlib.contextmanager
def _scratch_database(server_dsn: str | None) -> Iterator[str]:
    if server_dsn is None:
        from bgmigrate.embedded import start_embedded_postgres

        # A schema replayed to be introspected: small, thrown away, kept in memory where there
        # is room.
        with start_embedded_postgres(in_memory=True) as dsn:
            yield dsn
        return
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"bgmigrate_replay_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(**{**conninfo_to_dict(server_dsn), "dbname": name})
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
