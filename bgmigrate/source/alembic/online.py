"""Revisions that need a database: replay the revision chain into PostgreSQL and capture the
SQL each revision actually executes (SQLAlchemy cursor events), mapped to its `op.…` calls."""

from __future__ import annotations

import contextlib
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bgmigrate.source.alembic.capture import Recorder, RevisionFailed, run_upgrade
from bgmigrate.source.alembic.dbapi import engine, literal_sql, sqlstate
from bgmigrate.source.alembic.graph import ancestors, order_revisions
from bgmigrate.source.alembic.project import AlembicProject, find_project
from bgmigrate.source.alembic.revision import RevisionFile
from bgmigrate.source.errors import SourceError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from bgmigrate.embedded import EmbeddedServerProcess

__all__ = ["ChainFailed", "OnlineReplay", "ReplayError", "ReplayServer", "replay_alembic"]

# Statements SQLAlchemy issues on its own behalf while a revision runs (reflection, dialect
# checks such as "does this enum exist") are not the revision's migration SQL.
_INTROSPECTION = re.compile(r"[/\\]sqlalchemy[/\\](?:engine[/\\]reflection\.py|dialects[/\\])")
_CREATE_EXTENSION = re.compile(r"\s*CREATE\s+EXTENSION\b", re.IGNORECASE)
_UNKNOWN_TYPE = re.compile(r'"<unknown type [^">]+>"')
_ACTIVE_SQL_TRANSACTION = "25001"
_MISSING_EXTENSION = {"0A000", "58P01"}  # feature not supported; undefined file


class ReplayError(SourceError):
    """A project whose revisions could not all be run against the database."""


# The objects a revision can create outside its own database, which a later replay on the same
# server would meet; the replay databases themselves excepted.
_CLUSTER_STATE = """
SELECT
  (SELECT string_agg(a::text, ';' ORDER BY a.oid) FROM pg_authid a),
  (SELECT string_agg(m::text, ';' ORDER BY m::text) FROM pg_auth_members m),
  (SELECT string_agg(s::text, ';' ORDER BY s::text) FROM pg_db_role_setting s),
  (SELECT string_agg(t::text, ';' ORDER BY t.oid) FROM pg_tablespace t),
  (SELECT string_agg(d::text, ';' ORDER BY d::text) FROM pg_shdescription d),
  (SELECT string_agg(datname, ';' ORDER BY datname) FROM pg_database
   WHERE datname NOT LIKE 'bgmigrate\\_replay\\_%')
"""


class ChainFailed(Exception):
    """An earlier revision, needed to build the schema a revision runs on, failed online."""

    def __init__(self, revision: RevisionFile, failure: RevisionFailed) -> None:
        super().__init__(f"replaying the earlier revision {revision.path.name} failed: {failure}")
        self.revision = revision
        self.failure = failure


class ReplayServer:
    """A PostgreSQL server for replays: the one at `dsn` (a superuser DSN), else an embedded
    server, started by `start()` or on first use. Each replay gets a database of its own,
    dropped on close."""

    def __init__(self, dsn: str | None = None) -> None:
        self._dsn = dsn
        self._embedded: EmbeddedServerProcess | None = None
        self._databases: list[str] = []

    def start(self) -> None:
        """Start the embedded server, when there is no server at `dsn`, without waiting for
        it: it comes up in a process of its own while this one goes on."""
        if self._dsn is None and self._embedded is None:
            from bgmigrate.embedded import EmbeddedServerProcess

            self._embedded = EmbeddedServerProcess()

    def new_database(self) -> str:
        """Create an empty database and return its DSN."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        admin_dsn = self._admin_dsn()
        name = f"bgmigrate_replay_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return make_conninfo(**{**conninfo_to_dict(admin_dsn), "dbname": name})

    def drop_database(self, dsn: str) -> None:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        name = conninfo_to_dict(dsn).get("dbname")
        if name not in self._databases:
            return
        self._databases.remove(name)
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self._admin_dsn(), autocommit=True) as admin,
        ):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cluster_state(self) -> str | None:
        """What the server's databases share (roles and their settings, tablespaces, the
        other databases, shared comments), as one string; None when it cannot be read."""
        import psycopg

        try:
            with psycopg.connect(self._admin_dsn(), autocommit=True) as admin:
                row = admin.execute(_CLUSTER_STATE).fetchone()
        except psycopg.Error:
            return None
        return repr(row)

    def close(self) -> None:
        """Drop the databases left, and stop the embedded server if one was started."""
        if self._embedded is not None:
            # Its databases go with it; it stops while the check goes on to the rules.
            self._embedded.close(wait=False)
            self._embedded = None
            return
        if self._dsn is not None:
            for name in list(self._databases):
                self.drop_database(_with_dbname(self._dsn, name))

    def _admin_dsn(self) -> str:
        if self._dsn is not None:
            return self._dsn
        self.start()
        assert self._embedded is not None
        return self._embedded.dsn()


class OnlineReplay:
    """One project's revisions replayed into a database of `server`, so that a revision can
    run on the schema its ancestors build, with its statements captured."""

    def __init__(
        self, server: ReplayServer, project: AlembicProject, ordered: Sequence[RevisionFile]
    ) -> None:
        self._server = server
        self._project = project
        self._ordered = list(ordered)
        self._database: _Database | None = None
        self._failed_chains: list[_FailedChain] = []

    def capture(self, revision: RevisionFile) -> Recorder:
        """Bring the database to exactly `revision`'s ancestors, then run it and record what it
        executes. Raises `ChainFailed` or `RevisionFailed`."""
        chain = ancestors(revision, self._ordered)
        database = self._database_for(chain)
        for earlier in chain:
            if earlier.file in database.applied:
                continue
            try:
                database.run(earlier, self._project)
            except RevisionFailed as failure:
                failed = ChainFailed(earlier, failure)
                if database.origin is not None:
                    replayed = (*database.replayed, earlier.file)
                    self._failed_chains.append(_FailedChain(database.origin, replayed, failed))
                self.close()
                raise failed from failure
        try:
            return database.run(revision, self._project, capture=True)
        except RevisionFailed:
            self.close()
            raise

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._server.drop_database(self._database.dsn)
            self._database = None

    def _database_for(self, chain: list[RevisionFile]) -> _Database:
        """The current database when all it holds is part of `chain` (revisions replay in
        order, so it usually is); a fresh one otherwise, e.g. on another branch.

        A fresh database replays `chain` from its start. When an earlier replay began the
        same way on a fresh database, with the server's shared objects (roles, tablespaces)
        as they are now, and failed, this one would replay the same revisions in the same
        order and fail the same way: its `ChainFailed` is raised again instead."""
        wanted = {revision.file for revision in chain}
        if self._database is not None and not self._database.applied <= wanted:
            self.close()
        if self._database is None:
            origin = self._server.cluster_state()
            files = tuple(revision.file for revision in chain)
            for failed in self._failed_chains:
                if failed.origin == origin and files[: len(failed.replayed)] == failed.replayed:
                    raise ChainFailed(failed.error.revision, failed.error.failure)
            self._database = _Database(self._server.new_database(), origin)
        return self._database


@dataclass(frozen=True)
class _FailedChain:
    """A replay that failed: the server's shared objects when its fresh database was made,
    the revisions it ran in order (the last one failed), and its failure."""

    origin: str
    replayed: tuple[Path, ...]
    error: ChainFailed


class _Database:
    """A connection to one replay database and the revisions already run on it."""

    def __init__(self, dsn: str, origin: str | None = None) -> None:
        self.dsn = dsn
        self.origin = origin
        """The server's shared objects when this database was made (`cluster_state()`)."""
        self.applied: set[Path] = set()
        self.replayed: list[Path] = []
        """The revisions run on it, in order."""
        self._recorder: Recorder | None = None
        self._engine = engine(dsn)
        from sqlalchemy import event

        event.listen(self._engine, "before_cursor_execute", self._before_cursor_execute)
        event.listen(self._engine, "commit", self._commit)
        event.listen(self._engine, "do_execute", _execute)
        event.listen(
            self._engine,
            "do_execute_no_params",
            lambda cursor, statement, context: _execute(cursor, statement, None, context),
        )
        self._connection: Connection = self._engine.connect()
        # As pg_dump does: a function body naming something the replay server lacks (an
        # extension's function) must not stop the history from replaying.
        self._connection.exec_driver_sql("SET check_function_bodies = off")
        self._connection.commit()
        self._connection.execute = _executing_strings(self._connection)  # type: ignore[method-assign]

    def run(
        self, revision: RevisionFile, project: AlembicProject, capture: bool = False
    ) -> Recorder:
        """Run the revision as Alembic does, in a transaction. A revision that fails only
        because it runs CONCURRENTLY inside that transaction (the failure its unit reports)
        runs again statement by statement, so that the schema after it still gets built."""
        try:
            return self._run(revision, project, capture, autocommit=False)
        except RevisionFailed as failure:
            if sqlstate(failure.error) != _ACTIVE_SQL_TRANSACTION:
                raise
            return self._run(revision, project, capture, autocommit=True)

    def _run(
        self, revision: RevisionFile, project: AlembicProject, capture: bool, autocommit: bool
    ) -> Recorder:
        from alembic.runtime.migration import MigrationContext

        # Ends a transaction SQLAlchemy began on its own, which Alembic would take for the
        # caller's (and `autocommit_block()` then fails); isolation changes need none open.
        self._connection.commit()
        self._connection.execution_options(
            isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED"
        )
        context = MigrationContext.configure(connection=self._connection)
        recorder = Recorder(revision)
        execute = context.impl._exec

        def execute_known(construct: Any, *args: Any, **kwargs: Any) -> Any:
            # `op.execute(myapp.sql.FUNCTION)` with the application not installed: noted by
            # the recorder, not sent to the server.
            if recorder.executes_unknown(construct):
                return None
            with recorder.executing(construct):
                return execute(construct, *args, **kwargs)

        context.impl._exec = execute_known  # type: ignore[method-assign]
        self._recorder = recorder if capture else None
        try:
            run_upgrade(revision, project, context, self._recorder, wrap=context.begin_transaction)
        finally:
            self._recorder = None
        self.applied.add(revision.file)
        self.replayed.append(revision.file)
        return recorder

    def _commit(self, connection: Any) -> None:
        if self._recorder is not None:
            self._recorder.commit()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._connection.close()
        self._engine.dispose()

    def _before_cursor_execute(
        self,
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        recorder = self._recorder
        if recorder is None or _introspecting(recorder):
            return
        if executemany:
            parameters = parameters[0] if parameters else None
        recorder.record(literal_sql(cursor, statement, parameters))


def _executing_strings(connection: Connection) -> Any:
    """`connection.execute`, also taking SQL as a string (`op.get_bind().execute("UPDATE …")`)
    as SQLAlchemy 1.x did, which the histories that ran on it use."""
    execute = connection.execute

    def execute_any(statement: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(statement, str):
            return connection.exec_driver_sql(statement, *args, **kwargs)
        return execute(statement, *args, **kwargs)

    return execute_any


def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """Where the replay's driver (psycopg) would differ from the project's, run the statement
    here; None lets SQLAlchemy run it as usual.

    - Raw driver SQL without parameters (`exec_driver_sql("… format('%I', …)")`) runs without
      any, so `%` stays literal as with asyncpg or psycopg2.
    - `CREATE EXTENSION` may fail quietly when the replay server lacks the extension (the
      embedded server has no pgcrypto; gen_random_uuid() is built in since PostgreSQL 13),
      so that the rest of the history still replays.
    - A column type that stands for code that could not be imported
      (`"<unknown type myapp.types.UUID>"`, recorded as such) is created as `text`, so that
      the tables of the history still get built.
    """
    if _UNKNOWN_TYPE.search(statement):
        cursor.execute(_UNKNOWN_TYPE.sub("text", statement), *((parameters,) if parameters else ()))
        return True
    extension = _CREATE_EXTENSION.match(statement) is not None
    raw = getattr(context, "compiled", None) is None
    if not extension and (parameters or not raw):
        return None
    arguments = (parameters,) if parameters else ()
    if not extension:
        cursor.execute(statement, *arguments)
        return True
    # Inside the revision's transaction (the driver begins one before the first statement
    # unless in autocommit) a failed statement would abort it: fence it.
    fenced = not cursor.connection.autocommit
    if fenced:
        cursor.execute("SAVEPOINT bgmigrate_create_extension")
    try:
        cursor.execute(statement, *arguments)
    except Exception as error:
        if sqlstate(error) not in _MISSING_EXTENSION:
            raise
        if fenced:
            cursor.execute("ROLLBACK TO SAVEPOINT bgmigrate_create_extension")
    if fenced:
        cursor.execute("RELEASE SAVEPOINT bgmigrate_create_extension")
    return True


def replay_alembic(project_path: Path | str, dsn: str) -> list[str]:
    """Run every revision of the Alembic project at `project_path` against the database at
    `dsn`, base to heads, as `alembic upgrade heads` would (without the project's env.py and
    without writing `alembic_version`). Returns the revision ids run, in order. Raises
    `ReplayError` naming the revision that failed and why."""
    path = Path(project_path)
    project = find_project(path)
    if project is None:
        raise ReplayError(
            f"{path}: not an Alembic project: name its alembic.ini, its script directory "
            "(with env.py and versions/) or its versions directory."
        )
    ordered = order_revisions(project.revisions())
    database = _Database(dsn)
    try:
        for revision in ordered:
            try:
                database.run(revision, project)
            except RevisionFailed as failure:
                raise ReplayError(
                    f"{revision.path}:{failure.location.line}: replaying this revision failed "
                    f"({failure}); the schema after it cannot be built."
                ) from failure
    finally:
        database.close()
    return [revision.revision for revision in ordered]


def _introspecting(recorder: Recorder) -> bool:
    """Whether the statement about to run comes from SQLAlchemy's own introspection, called
    by the revision (between the revision's frame and here)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename != recorder.locator.filename:
        if _INTROSPECTION.search(frame.f_code.co_filename):
            return True
        frame = frame.f_back
    return False


def _with_dbname(dsn: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(dsn), "dbname": name})
