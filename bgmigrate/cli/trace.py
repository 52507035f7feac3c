"""`bgmigrate trace PATH… --schema-from HISTORY`: wiring to bgmigrate.trace."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from bgmigrate.cli.errors import fail

__all__ = ["register"]


class TraceFormat(str, Enum):
    text = "text"
    json = "json"


def trace(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="The proposed migrations: what `bgmigrate check` accepts (SQL files, Alembic "
            "revisions or projects, directories).",
            show_default=False,
        ),
    ],
    schema_from: Annotated[
        list[Path] | None,
        typer.Option(
            "--schema-from",
            help="The history to replay first (migrations directory, SQL files, Alembic "
            "project, pg_dump file; a seed file of rows too). Repeatable; required.",
            show_default=False,
        ),
    ] = None,
    old_queries: Annotated[
        Path | None,
        typer.Option(
            "--old-queries",
            help="The running (old) version's SQL, one statement each, $1-style parameters: "
            "each must keep working after every statement.",
            show_default=False,
        ),
    ] = None,
    new_queries: Annotated[
        Path | None,
        typer.Option(
            "--new-queries",
            help="The new version's SQL: each must work once the migration has run.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        TraceFormat, typer.Option("--format", help="text (a table) or json.")
    ] = TraceFormat.text,
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn",
            help="A scratch PostgreSQL server to use instead of the embedded one: trace "
            "creates a new database there, replays and runs in it, then drops it.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Config file (default: the nearest one).", show_default=False
        ),
    ] = None,
    color: Annotated[
        bool | None,
        typer.Option("--color/--no-color", help="Colour text output (default: on a terminal)."),
    ] = None,
) -> None:
    """Run proposed migrations on a throwaway PostgreSQL and show what each statement really
    does: the locks it takes on existing tables, the tables it rewrites or scans in full, its
    time and errors, and which of the old version's queries it breaks.

    The history is replayed into an embedded PostgreSQL started for the purpose (or a new
    database on --dsn's server). Trace never runs anything on a database you did not give it
    for this: it never reads DATABASE_URL.

    Exit codes: 0 every statement ran and no query broke; 1 a statement failed or a query
    broke; 2 trace could not run.

    Example:

    \b
      bgmigrate trace fixtures/sql_app/proposed/0011_rename_users_email.sql \\
        --schema-from fixtures/sql_app/migrations \\
        --old-queries fixtures/app_queries/old.sql
    """
    import psycopg

    from bgmigrate.check.runner import CheckOptions, CheckProblem, read_units
    from bgmigrate.plan.introspect import SchemaSourceError
    from bgmigrate.source.errors import SourceError
    from bgmigrate.trace import read_queries, trace_migration
    from bgmigrate.trace.report import FORMATS

    if not schema_from:
        fail("give the history to replay first: --schema-from migrations/")
    try:
        options = CheckOptions(
            paths=tuple(paths),
            stdin_text=sys.stdin.read() if "-" in paths else None,
            config_file=config,
        )
        units = list(read_units(options))
        old = read_queries(old_queries) if old_queries else []
        new = read_queries(new_queries) if new_queries else []
        result = trace_migration(
            units,
            schema_from,
            server_dsn=dsn,
            old_queries=old,
            new_queries=new,
            config_file=config,
        )
    except (CheckProblem, SourceError, SchemaSourceError) as error:
        fail(str(error))
    except OSError as error:
        fail(f"{error.filename}: {error.strerror}")
    except psycopg.OperationalError as error:
        first = str(error).strip().splitlines()[0]
        fail(f"cannot use the scratch server --dsn names: {first}")
    use_color = sys.stdout.isatty() if color is None else color
    sys.stdout.write(FORMATS[output_format.value](result, color=use_color))
    failed = result.findings or any(s.error is not None for s in result.statements)
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    app.command("trace")(trace)
