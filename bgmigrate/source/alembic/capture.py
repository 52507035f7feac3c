"""Recording the SQL a revision emits, each statement with the `op.…` call that produced it.

Shared by the offline renderer and the online replay: both run the revision's `upgrade()`
with Alembic's `op` bound to a migration context, and hand every statement to a `Recorder`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bgmigrate.source.alembic.failures import describe
from bgmigrate.source.alembic.locate import CallLocator
from bgmigrate.source.alembic.project import AlembicProject
from bgmigrate.source.alembic.revision import RevisionFile
from bgmigrate.source.sql import split_sql
from bgmigrate.source.transactions import transaction_blocks
from bgmigrate.source.unit import Location, Statement

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from bgmigrate.source.alembic.stubs import ImportStubs

__all__ = [
    "Captured",
    "Recorder",
    "RevisionFailed",
    "import_environment",
    "run_upgrade",
]

_module_numbers = itertools.count(1)


@dataclass(frozen=True)
class Captured:
    """One statement a revision ran: its SQL, the call that ran it, whether Alembic ran it
    inside `autocommit_block()`, and the stretch of the revision it ran in (a commit or an
    autocommit block ends a stretch)."""

    sql: str
    location: Location
    autocommit: bool
    stretch: int
    unknowns: tuple[str, ...] = ()
    """What in `sql` stands for code that could not be imported (`type myapp.types.UUID`)."""
    existing_type: str = ""
    """For a column type change, the column's type before it as the call declares it
    (`existing_type`), in SQL; "" when it does not."""
    existing_default: str = ""
    """For `SET NOT NULL`, the column's DEFAULT as the call declares it
    (`existing_server_default`), in SQL; "" when it does not."""


class RevisionFailed(Exception):
    """A revision that could not be imported or whose `upgrade()` raised."""

    def __init__(
        self, stage: str, error: BaseException, location: Location, stubs: ImportStubs
    ) -> None:
        super().__init__(describe(error))
        self.stage = stage
        """`import` or `upgrade`."""
        self.error = error
        self.location = location
        self.stubs = stubs
        """The stand-ins the failed run used for what the revision could not import."""


class Recorder:
    """Collects captured statements while a revision's `upgrade()` runs."""

    def __init__(self, revision: RevisionFile) -> None:
        self.locator = CallLocator(revision)
        self.captured: list[Captured] = []
        self._autocommit_depth = 0
        self._stretch = 0
        self._batch_location: Location | None = None
        self._existing = _Existing()
        self.stubs: ImportStubs | None = None
        """The stand-ins the run used for what the revision could not import."""

    def record(self, sql: str) -> None:
        """Record `sql` (possibly several statements, as in `op.execute("…; …")`) at the
        revision's call on the stack, or at the batch operation Alembic is running. SQL run
        while no code of the revision is on the stack is not the revision's."""
        location = self._batch_location or self.locator.current()
        if location is None:
            return
        autocommit = self._autocommit_depth > 0
        self.captured.extend(
            Captured(
                piece.sql,
                location,
                autocommit,
                self._stretch,
                _unknowns(piece.sql),
                self._existing.type,
                self._existing.default,
            )
            for piece in split_sql(sql)
        )

    @contextlib.contextmanager
    def executing(self, construct: object) -> Iterator[None]:
        """While Alembic executes `construct`: what an `ALTER COLUMN` declares of the column
        before it (`existing_type`, `existing_server_default`) is recorded with its statement."""
        self._existing = _existing(construct)
        try:
            yield
        finally:
            self._existing = _Existing()

    def executes_unknown(self, construct: object) -> bool:
        """Whether `construct`, about to be executed, stands for code that could not be
        imported (`op.execute(myapp.sql.CREATE_FUNCTION)`); if so it is noted instead of
        recorded, since its SQL is unknown."""
        from bgmigrate.source.alembic.stubs import Unknown

        if not isinstance(construct, Unknown):
            return False
        if self.stubs is not None:  # (None while an ancestor is replayed, uncaptured)
            self.stubs.executed(construct)
        return True

    def commit(self) -> None:
        """The revision committed (`op.get_bind().commit()`): what follows runs in a new
        transaction, which SQLAlchemy begins on the next statement."""
        self._stretch += 1

    def statements(self, path: str, first_index: int = 0) -> list[Statement]:
        """The captured statements as a unit's, numbered into transaction blocks.

        Alembic runs a revision inside one transaction on PostgreSQL; `autocommit_block()`
        commits it and starts a new one afterwards, and so does a commit on the connection.
        Within each stretch, the revision's own COMMIT/BEGIN (`op.execute("COMMIT")`) count as
        they do in a SQL file.
        """
        blocks: list[int | None] = []
        opened = 0
        for (_, autocommit), stretch in itertools.groupby(
            self.captured, key=lambda c: (c.stretch, c.autocommit)
        ):
            numbers = transaction_blocks(
                (c.sql for c in stretch), assume_in_transaction=not autocommit
            )
            distinct = sorted({n for n in numbers if n is not None})
            renumber = {n: opened + i + 1 for i, n in enumerate(distinct)}
            blocks.extend(renumber.get(n) if n is not None else None for n in numbers)
            opened += len(distinct)
        return [
            Statement(
                captured.sql,
                path,
                captured.location,
                index,
                block,
                unknowns=captured.unknowns,
                existing_type=captured.existing_type,
                existing_default=captured.existing_default,
            )
            for index, (captured, block) in enumerate(
                zip(self.captured, blocks, strict=True), start=first_index
            )
        ]

    @contextlib.contextmanager
    def watching(self, context: MigrationContext) -> Iterator[None]:
        """Track `autocommit_block()` on `context` and locate `batch_alter_table` operations
        at their own calls (Alembic runs them all when the `with` block ends)."""
        from alembic.operations import batch

        original_autocommit = context.autocommit_block

        @contextlib.contextmanager
        def autocommit_block() -> Iterator[None]:
            with original_autocommit():
                self._autocommit_depth += 1
                self._stretch += 1
                try:
                    yield
                finally:
                    self._autocommit_depth -= 1
                    self._stretch += 1

        original_init = batch.BatchOperationsImpl.__init__
        recorder = self

        def init(impl: Any, *args: Any, **kwargs: Any) -> None:
            original_init(impl, *args, **kwargs)
            impl.batch = _LocatedBatch(recorder)

        context.autocommit_block = autocommit_block  # type: ignore[method-assign]
        batch.BatchOperationsImpl.__init__ = init  # type: ignore[method-assign]
        try:
            yield
        finally:
            batch.BatchOperationsImpl.__init__ = original_init  # type: ignore[method-assign]
            del context.autocommit_block


class _LocatedBatch(list):  # type: ignore[type-arg]
    """A batch's queued operations, each remembering the call that queued it; while Alembic
    replays the queue, the recorder locates each statement at its operation's call."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self._recorder = recorder
        self._locations: list[Location | None] = []

    def append(self, entry: Any) -> None:
        self._locations.append(self._recorder.locator.current())
        super().append(entry)

    def __iter__(self) -> Iterator[Any]:
        try:
            for entry, location in zip(super().__iter__(), self._locations, strict=False):
                self._recorder._batch_location = location
                yield entry
        finally:
            self._recorder._batch_location = None


def run_upgrade(
    revision: RevisionFile,
    project: AlembicProject,
    context: MigrationContext,
    recorder: Recorder | None = None,
    wrap: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> None:
    """Import `revision` fresh and run its `upgrade()` with `op` (and `alembic.context`) bound
    to `context`, inside `wrap()` (e.g. a transaction). Raises `RevisionFailed`."""
    from alembic.operations import Operations

    from bgmigrate.source.alembic.stubs import ImportStubs

    locator = recorder.locator if recorder is not None else CallLocator(revision)
    watching = recorder.watching(context) if recorder is not None else contextlib.nullcontext()
    stubs = ImportStubs(locator.filename)
    if recorder is not None:
        recorder.stubs = stubs
    with (
        Operations.context(context),
        _environment(context),
        _quiet(),
        _on_sys_path(project),
        stubs.counting(),
    ):
        _import_quietly(project.environment.plugins)
        try:
            module = _import(revision, stubs)
        except (Exception, SystemExit) as error:
            raise RevisionFailed("import", error, locator.of_traceback(error), stubs) from error
        try:
            with wrap(), watching, stubs.operations_of_extensions():
                module.upgrade(**_arguments_from_env(module.upgrade))
        except (Exception, SystemExit) as error:
            raise RevisionFailed("upgrade", error, locator.of_traceback(error), stubs) from error
        finally:
            sys.modules.pop(module.__name__, None)


def _arguments_from_env(upgrade: Callable[..., Any]) -> dict[str, Any]:
    """What an `upgrade(op, tables, tester)` gets from env.py's `context.run_migrations(op=…,
    tables=…)` (a custom script template, as Quay's): Alembic's `op`, and stand-ins for the
    rest, which env.py builds from the application."""
    import inspect

    import alembic.op

    from bgmigrate.source.alembic.stubs import Unknown

    return {
        name: alembic.op if name == "op" else Unknown(f"env.py's {name}")
        for name, parameter in inspect.signature(upgrade).parameters.items()
        if parameter.default is parameter.empty
        and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }


def import_environment(project: AlembicProject) -> None:
    """Import what the project's env.py imports, as running it would have: for revisions that
    use the application's modules without importing them. Modules that fail are skipped."""
    with _quiet(), _on_sys_path(project):
        _import_quietly(project.environment.imports)


def _import_quietly(names: Iterable[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception, SystemExit):
            importlib.import_module(name)


def _import(revision: RevisionFile, stubs: ImportStubs) -> ModuleType:
    """A fresh module for the revision, under a name no other module has, whose imports
    that fail give `stubs`' stand-ins."""
    name = f"_bgmigrate_revision_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(name, revision.file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__builtins__ = stubs.builtins()  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@contextlib.contextmanager
def _environment(context: MigrationContext) -> Iterator[None]:
    """`alembic.context` as env.py would leave it, for revisions that ask it
    (`context.is_offline_mode()`, `context.get_x_argument()`)."""
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext

    environment = EnvironmentContext(Config(), None, as_sql=context.as_sql)  # type: ignore[arg-type]
    environment._migration_context = context
    with environment:
        yield


@contextlib.contextmanager
def _on_sys_path(project: AlembicProject) -> Iterator[None]:
    """The project's directories first on `sys.path` while its revisions run, as Alembic's
    `prepend_sys_path` puts them; restored afterwards."""
    saved = list(sys.path)
    sys.path[:0] = [str(path.resolve()) for path in project.sys_path]
    try:
        yield
    finally:
        sys.path[:] = saved


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Revisions and the application code they import print, warn and log tracebacks of
    their own ("Starting data migration…"); none of it may reach bgmigrate's output (its
    JSON, the findings a hook prints)."""
    discarded = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(discarded),
        contextlib.redirect_stderr(discarded),
    ):
        warnings.simplefilter("ignore")
        yield


@dataclass(frozen=True)
class _Existing:
    """What an `ALTER COLUMN` construct declares of the column before it, as PostgreSQL
    SQL: its type, for a type change; its DEFAULT, for `SET NOT NULL`; "" when not declared."""

    type: str = ""
    default: str = ""


def _existing(construct: object) -> _Existing:
    """What `construct` declares of its column; nothing for other constructs, nor what stands
    for code that could not be imported or cannot be rendered."""
    from alembic.ddl.base import ColumnNullable
    from alembic.ddl.postgresql import PostgresqlColumnType
    from sqlalchemy import Column, Integer
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    try:  # the application's own types and defaults may fail in any way
        if isinstance(construct, PostgresqlColumnType) and construct.existing_type is not None:
            declared = _Existing(type=str(construct.existing_type.compile(dialect=dialect)))
        elif isinstance(construct, ColumnNullable) and not construct.nullable:
            default = construct.existing_server_default
            if default is None or default is False:  # (identity: a SQL expression's == is SQL)
                return _Existing()
            column = Column("x", Integer, server_default=default)
            compiler = dialect.ddl_compiler(dialect, None)
            declared = _Existing(default=compiler.get_column_default_string(column) or "")
        else:
            return _Existing()
    except Exception:
        return _Existing()
    return _Existing() if "<unknown " in declared.type + declared.default else declared


def _unknowns(sql: str) -> tuple[str, ...]:
    if "<unknown " not in sql:
        return ()
    from bgmigrate.source.alembic.stubs import UNKNOWN_IN_SQL

    return tuple(dict.fromkeys(f"{kind} {name}" for kind, name in UNKNOWN_IN_SQL.findall(sql)))
