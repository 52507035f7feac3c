"""`bgmigrate plan OPERATION …`: wiring from the command line to `bgmigrate.plan`.

Every command reads the current schema (`--dsn`, `--schema-from`, `DATABASE_URL`, else the
config's `paths`), builds the plan for one intent and renders it (`--format`, `--out`).
Exit codes: 0 the plan is written; 1 it is written but has blockers (the executor refuses it
until they are solved); 2 it could not be made (bad intent, missing schema, bad option).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bgmigrate.cli.errors import fail

if TYPE_CHECKING:
    from bgmigrate.config import Config as ProjectConfig
    from bgmigrate.plan.operations import PlanOperation
    from bgmigrate.plan.render import RenderedFile
    from bgmigrate.plan.schema import Schema

__all__ = ["app"]

DEFAULT_PG_VERSION = 16

app = typer.Typer(
    name="plan",
    help="Plan a schema change as expand / backfill / deploy / contract phases that keep both "
    "app versions working.\n\n"
    "  bgmigrate plan rename users.email email_address --schema-from migrations/\n\n"
    "Exit codes: 0 the plan is written; 1 it is written but has blockers; 2 it could not be "
    "made.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


class PlanFormat(str, Enum):
    toml = "toml"
    json = "json"
    text = "text"
    markdown = "markdown"
    sql = "sql"
    alembic = "alembic"


class DualWriteMode(str, Enum):
    trigger = "trigger"
    app = "app"


Dsn = Annotated[
    str | None,
    typer.Option(
        "--dsn",
        help="Read the schema from this database (read-only). Default: DATABASE_URL when "
        "--schema-from is not given.",
        show_default=False,
    ),
]
SchemaFrom = Annotated[
    list[Path] | None,
    typer.Option(
        "--schema-from",
        help="Replay these migrations (a directory, read as `check` reads it: the tool's order, "
        "forward parts only; SQL files; an Alembic project or its alembic.ini) or a pg_dump "
        "--schema-only file into a throwaway PostgreSQL. Repeatable. Default: `paths` (and "
        "`alembic_ini`) from the config, else the migrations found where tools put them "
        "(alembic.ini, migrations/ …).",
        show_default=False,
    ),
]
OutputFormat = Annotated[
    PlanFormat,
    typer.Option(
        "--format",
        help="toml (the plan file), json, text, markdown (a PR description), sql (one file per "
        "db phase), alembic (one revision per db phase).",
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Write here instead of stdout: a file, or a directory for sql (created) and "
        "alembic (the project's versions directory: the revisions chain after its head).",
        show_default=False,
    ),
]
DualWrite = Annotated[
    DualWriteMode,
    typer.Option(
        "--dual-write",
        help="trigger: the database keeps both shapes in sync; app: the new version writes "
        "both itself.",
    ),
]
PgVersion = Annotated[
    int | None,
    typer.Option(
        "--pg-version",
        help="Target PostgreSQL major version (default: config, else the --dsn server, else 16).",
        show_default=False,
    ),
]
Config = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (default: the nearest one).", show_default=False),
]


class _Run:
    """The options every plan command shares."""

    def __init__(
        self,
        dsn: str | None,
        schema_from: list[Path] | None,
        output_format: PlanFormat,
        out: Path | None,
        dual_write: DualWriteMode,
        pg_version: int | None,
        config: Path | None,
    ) -> None:
        self.dsn = dsn
        self.schema_from = schema_from or []
        self.output_format = output_format
        self.out = out
        self.dual_write = dual_write
        self.pg_version = pg_version
        self.config_file = config

    def __call__(self, operation: Callable[[Schema], PlanOperation]) -> None:
        from bgmigrate.config import ConfigError
        from bgmigrate.plan.identifiers import IdentifierError
        from bgmigrate.plan.introspect import SchemaSourceError
        from bgmigrate.plan.model import PlanError
        from bgmigrate.plan.schema import SchemaLookupError

        try:
            self._run(operation)
        except (
            PlanError,
            SchemaLookupError,
            SchemaSourceError,
            IdentifierError,
            ConfigError,
        ) as error:
            fail(str(error))

    def _run(self, operation: Callable[[Schema], PlanOperation]) -> None:
        from bgmigrate.config import load_config
        from bgmigrate.plan.operations import PlanOptions, build_plan
        from bgmigrate.plan.render import FORMATS

        format_ = FORMATS[self.output_format.value]
        if format_.directory and self.out is None:
            fail(
                f"--format {format_.name} writes {format_.summary}: give --out DIRECTORY"
                + (" (the project's versions directory)" if format_.name == "alembic" else "")
            )
        config = load_config(self.config_file)
        schema, server_version = self._schema(config)
        pg_version = self.pg_version or config.pg_version or server_version or DEFAULT_PG_VERSION
        options = PlanOptions(dual_write=self.dual_write.value, pg_version=pg_version)
        plan = build_plan(operation(schema), schema, options)
        files = format_.render(plan, self.out)
        self._write(files, directory=format_.directory)
        if plan.blockers:
            sys.stderr.write(
                f"bgmigrate: the plan {plan.id} has {len(plan.blockers)} blocker(s); "
                "`bgmigrate apply` refuses it until they are solved:\n"
            )
            for blocker in plan.blockers:
                sys.stderr.write(f"  - {blocker}\n")
            raise typer.Exit(1)

    def _schema(self, config: ProjectConfig) -> tuple[Schema, int | None]:
        from bgmigrate.plan.introspect import introspect
        from bgmigrate.plan.replay import schema_from_paths

        if self.dsn and self.schema_from:
            fail("give either --dsn or --schema-from, not both")
        if self.dsn:
            schema = introspect(self.dsn)
            return schema, schema.major_version
        if self.schema_from:
            return schema_from_paths(self.schema_from, config_file=self.config_file), None
        environment = os.environ.get("DATABASE_URL")
        if environment:
            schema = introspect(environment)
            return schema, schema.major_version
        paths = [config.root / path for path in config.paths]
        if config.alembic_ini:
            paths.append(config.root / config.alembic_ini)
        if paths:
            return schema_from_paths(paths, config_file=self.config_file), None
        return schema_from_paths(_well_known_migrations(), config_file=self.config_file), None

    def _write(self, files: list[RenderedFile], *, directory: bool) -> None:
        if self.out is None:
            for file in files:
                sys.stdout.write(file.text)
            return
        if directory or self.out.is_dir():
            # An alembic.ini names its project: the revisions go beside it, in its versions.
            base = self.out.parent if self.out.is_file() else self.out
            for file in files:
                path = base / file.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(file.text, encoding="utf-8")
                sys.stdout.write(f"{path}\n")
            return
        (file,) = files
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(file.text, encoding="utf-8")
        sys.stdout.write(f"{self.out}\n")


def _well_known_migrations() -> list[Path]:
    """With no schema source given: the migrations where tools put them, as `check` finds
    them, said in one line on stderr."""
    from bgmigrate.source.wellknown import NothingFound, find_well_known

    try:
        found = find_well_known(Path.cwd())
    except NothingFound as nothing:
        fail(
            f"no schema to plan against ({nothing.where}): give --dsn URL (or set "
            "DATABASE_URL) to read a database, or --schema-from PATH to replay a migrations "
            "directory or a `pg_dump --schema-only` file, or set `paths` (or `alembic_ini`) "
            "under [tool.bgmigrate] in pyproject.toml"
        )
    paths = [*found.alembic_inis, *found.directories]
    chosen = ", ".join(os.path.relpath(path) for path in paths)
    sys.stderr.write(f"bgmigrate: replaying {chosen} for the schema (found with no source given)\n")
    return paths


Build = Callable[["Schema"], "PlanOperation"]
"""What a plan command returns: how to make its operation once the schema is known."""


def _shared_options(
    dsn: Dsn = None,
    schema_from: SchemaFrom = None,
    output_format: OutputFormat = PlanFormat.toml,
    out: Out = None,
    dual_write: DualWrite = DualWriteMode.trigger,
    pg_version: PgVersion = None,
    config: Config = None,
) -> None:
    """The options every plan command takes after its own; declared once, here."""


Define = Callable[..., Build]


def _plan_command(name: str | None = None) -> Callable[[Define], Define]:
    """Register a plan command: its own arguments come from `define`, followed by the shared
    options of `_shared_options`; `define` returns how to build the operation, and `_Run`
    reads the schema, plans and renders."""

    def register(define: Define) -> Define:
        own = inspect.signature(define, eval_str=True).parameters
        shared = inspect.signature(_shared_options, eval_str=True).parameters

        @functools.wraps(define)
        def command(**arguments: Any) -> None:
            options = {key: arguments.pop(key) for key in shared}
            _Run(**options)(define(**arguments))

        parameters = [*own.values(), *shared.values()]
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        app.command(name)(command)
        return define

    return register


def _path(text: str) -> tuple[str, ...]:
    from bgmigrate.plan.identifiers import IdentifierError, parse_identifier_path

    try:
        return parse_identifier_path(text)
    except IdentifierError as error:
        fail(str(error))


def _name(text: str) -> str:
    parts = _path(text)
    if len(parts) != 1:
        fail(f"expected a single name, got {text!r} (double-quote a name that has a dot)")
    return parts[0]


def _column(text: str) -> tuple[tuple[str, ...], str]:
    parts = _path(text)
    if len(parts) not in (2, 3):
        fail(f"expected table.column (or schema.table.column), got {text!r}")
    return parts[:-1], parts[-1]


def _list(text: str) -> tuple[str, ...]:
    return tuple(_name(part.strip()) for part in text.split(",") if part.strip())


@_plan_command()
def rename(
    target: Annotated[str, typer.Argument(help="table.column, or a table", show_default=False)],
    new_name: Annotated[str, typer.Argument(help="The new name.", show_default=False)],
) -> Build:
    """Rename a column (users.email email_address) or a table (users customers).

    bgmigrate plan rename users.email email_address --schema-from migrations/
    """
    from bgmigrate.plan.operations import rename_operation

    parts, name = _path(target), _name(new_name)
    return lambda schema: rename_operation(schema, parts, name)


@_plan_command()
def retype(
    target: Annotated[str, typer.Argument(help="table.column", show_default=False)],
    new_type: Annotated[str, typer.Argument(help="The new type, e.g. bigint.", show_default=False)],
    using: Annotated[
        str | None,
        typer.Option(help="The new value from the old one (default: a cast).", show_default=False),
    ] = None,
) -> Build:
    """Change a column's type without rewriting the table under a lock.

    bgmigrate plan retype orders.quantity bigint --schema-from migrations/
    """
    from bgmigrate.plan.operations import Retype

    table, column = _column(target)
    return lambda schema: Retype(table, column, new_type, using)


@_plan_command("add-column")
def add_column(
    target: Annotated[str, typer.Argument(help="table.column", show_default=False)],
    column_type: Annotated[str, typer.Argument(help="Its type, e.g. text.", show_default=False)],
    not_null: Annotated[bool, typer.Option("--not-null", help="Make it NOT NULL.")] = False,
    default: Annotated[
        str | None, typer.Option(help="Default for new rows (SQL).", show_default=False)
    ] = None,
    backfill: Annotated[
        str | None,
        typer.Option(
            help="Value of existing rows and of rows the old version inserts (SQL).",
            show_default=False,
        ),
    ] = None,
) -> Build:
    """Add a column, NOT NULL included.

    bgmigrate plan add-column users.phone text --not-null --backfill "''"
    """
    from bgmigrate.plan.operations import AddColumn

    table, column = _column(target)
    return lambda schema: AddColumn(table, column, column_type, not_null, default, backfill)


@_plan_command("set-not-null")
def set_not_null(
    target: Annotated[str, typer.Argument(help="table.column", show_default=False)],
    backfill: Annotated[
        str | None,
        typer.Option(
            help="Value for the NULLs, existing and written meanwhile (SQL).", show_default=False
        ),
    ] = None,
) -> Build:
    """Make a column NOT NULL without a long lock.

    bgmigrate plan set-not-null users.email --backfill "''"
    """
    from bgmigrate.plan.operations import SetNotNull

    table, column = _column(target)
    return lambda schema: SetNotNull(table, column, backfill)


@_plan_command()
def drop(
    target: Annotated[str, typer.Argument(help="table.column, or a table", show_default=False)],
) -> Build:
    """Drop a column or a table once no running version uses it.

    bgmigrate plan drop users.legacy_flag
    """
    from bgmigrate.plan.operations import drop_operation

    parts = _path(target)
    return lambda schema: drop_operation(schema, parts)


@_plan_command()
def split(
    table: Annotated[str, typer.Argument(help="The table to split.", show_default=False)],
    into: Annotated[str, typer.Option(help="The new table.", show_default=False)],
    columns: Annotated[
        str, typer.Option(help="The columns to move, comma-separated.", show_default=False)
    ],
    key: Annotated[
        str | None,
        typer.Option(
            help="The new table's key column (default: user_id for users).", show_default=False
        ),
    ] = None,
) -> Build:
    """Move columns to a new table keyed by the old one's primary key.

    bgmigrate plan split users --into user_profiles --columns bio,avatar_url
    """
    from bgmigrate.plan.operations import Split

    parts, new_table, moved = _path(table), _name(into), _list(columns)
    key_name = _name(key) if key else None
    return lambda schema: Split(parts, new_table, moved, key_name)


@_plan_command("add-foreign-key")
def add_foreign_key(
    target: Annotated[str, typer.Argument(help="table.column", show_default=False)],
    references: Annotated[
        str, typer.Argument(help="The referenced table.column", show_default=False)
    ],
    on_delete: Annotated[
        str | None,
        typer.Option(
            help="cascade, restrict, set null, set default or no action.", show_default=False
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Constraint name.", show_default=False)] = None,
) -> Build:
    """Add a foreign key without blocking writes.

    bgmigrate plan add-foreign-key orders.user_id users.id
    """
    from bgmigrate.plan.operations import AddForeignKey

    table, column = _column(target)
    parent, key = _column(references)
    constraint = _name(name) if name else None
    return lambda schema: AddForeignKey(table, column, parent, key, on_delete, constraint)


@_plan_command("add-unique")
def add_unique(
    target: Annotated[str, typer.Argument(help="table.column", show_default=False)],
    name: Annotated[str | None, typer.Option(help="Constraint name.", show_default=False)] = None,
) -> Build:
    """Make a column unique without blocking writes.

    bgmigrate plan add-unique users.email
    """
    from bgmigrate.plan.operations import AddUnique

    table, column = _column(target)
    constraint = _name(name) if name else None
    return lambda schema: AddUnique(table, column, constraint)


@_plan_command("add-index")
def add_index(
    target: Annotated[str, typer.Argument(help="table.column", show_default=False)],
    name: Annotated[str | None, typer.Option(help="Index name.", show_default=False)] = None,
    using: Annotated[
        str | None, typer.Option(help="Index method (default btree).", show_default=False)
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="Predicate of a partial index (SQL).", show_default=False)
    ] = None,
) -> Build:
    """Add an index without blocking writes.

    bgmigrate plan add-index users.email
    """
    from bgmigrate.plan.operations import AddIndex

    table, column = _column(target)
    index = _name(name) if name else None
    return lambda schema: AddIndex(table, (column,), index, using, where)
