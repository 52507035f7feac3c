"""A schema from files: migrations or a `pg_dump --schema-only` file replayed into a throwaway
PostgreSQL, then introspected.

A directory of `.sql` migrations runs in the order `check` reads them (natural filename
order, `2_x.sql` before `10_y.sql`), statement by statement in autocommit as psql would run
it, so `CONCURRENTLY` and explicit `BEGIN … COMMIT` blocks behave as in production. An Alembic
project runs base to heads (`bgmigrate.source.alembic.replay_alembic`). A single file is one
script (a migration or a `pg_dump --schema-only` output).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from bgmigrate.plan.introspect import SchemaSourceError, introspect
from bgmigrate.plan.schema import Schema

__all__ = ["replay_files", "replayed_database", "schema_from_paths"]

# psql meta-commands in dumps (`\restrict KEY`, `\connect db`): not SQL, skipped.
_PSQL_META = re.compile(r"^\\[^\n]*$", re.MULTILINE)
# Ownership and privileges do not shape the schema; their roles rarely exist in a scratch server.
_ROLE_STATEMENT = re.compile(
    r"^\s*(GRANT|REVOKE|ALTER\s.+\sOWNER\s+TO\s)", re.IGNORECASE | re.DOTALL
)


def schema_from_paths(paths: Sequence[Path], *, server_dsn: str | None = None) -> Schema:
    """Replay `paths` in order into a new database and introspect it. The database lives on
    `server_dsn`'s server when given (it is dropped afterwards), else on an embedded PostgreSQL
    started for the purpose."""
    with replayed_database(paths, server_dsn=server_dsn) as dsn:
        return introspect(dsn, source=", ".join(str(path) for path in paths))


@contextlib.contextmanager
def replayed_database(paths: Sequence[Path], *, server_dsn: str | None = None) -> Iterator[str]:
    """A new database with `paths` replayed into it, in order, rows included; yields its DSN.
    It lives on `server_dsn`'s server when given (and is dropped afterwards), else on an
    embedded PostgreSQL started for the purpose."""
    for path in paths:
        if not path.exists():
            raise SchemaSourceError(f"schema source {path}: no such file or directory")
    with _scratch_database(server_dsn) as dsn:
        for path in paths:
            _replay(path, dsn)
        yield dsn


def replay_files(files: list[Path], dsn: str) -> None:
    """Run each file's statements in order, in autocommit, on the database at `dsn`."""
    import psycopg

    from bgmigrate.source.sql import split_sql

    with psycopg.connect(dsn, autocommit=True) as connection:
        for file in files:
            text = _PSQL_META.sub("", file.read_text(encoding="utf-8"))
            for piece in split_sql(text):
                try:
                    connection.execute(piece.sql)
                except psycopg.Error as error:
                    if _ROLE_STATEMENT.match(piece.sql):
                        continue
                    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                    raise SchemaSourceError(
                        f"replaying {file}:{piece.location.line} failed: {first}. The schema "
                        "source must replay cleanly on an empty PostgreSQL "
                        f"{_server_major(connection)}; fix the migration or point --dsn at a "
                        "database instead"
                    ) from None


def _replay(path: Path, dsn: str) -> None:
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
    from bgmigrate.source.discover import discover

    files = list(discover([path]).sql_files)
    if not files:
        raise SchemaSourceError(
            f"schema source {path}: no .sql migrations and no Alembic project found there"
        )
    replay_files(files, dsn)


def _server_major(connection: object) -> str:
    version = connection.info.server_version  # type: ignore[attr-defined]
    return str(version // 10000)


@contextlib.contextmanager
def _scratch_database(server_dsn: str | None) -> Iterator[str]:
    if server_dsn is None:
        from bgmigrate.embedded import start_embedded_postgres

        with start_embedded_postgres() as dsn:
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
