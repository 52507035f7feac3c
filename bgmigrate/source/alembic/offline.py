"""Rendering a revision to PostgreSQL SQL without a database (Alembic's offline mode)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from bgmigrate.source.alembic.capture import Recorder, run_upgrade
from bgmigrate.source.alembic.dbapi import dollar_placeholders
from bgmigrate.source.alembic.project import AlembicProject
from bgmigrate.source.alembic.revision import RevisionFile

if TYPE_CHECKING:
    from alembic.ddl.impl import DefaultImpl
    from alembic.runtime.migration import MigrationContext

__all__ = ["offline_context", "render_offline", "render_sql"]


def render_offline(revision: RevisionFile, project: AlembicProject) -> Recorder:
    """Run the revision's `upgrade()` against an offline PostgreSQL migration context and
    record what it emits. Raises `RevisionFailed` when the revision needs a database (it
    reads rows through `op.get_bind()`, reflects tables…) or fails for any other reason.

    The revision does not run through the project's env.py, which may need the application
    and a database; `op` is bound the way env.py's offline branch binds it.
    """
    context, recorder = offline_context(revision)
    run_upgrade(revision, project, context, recorder)
    return recorder


def offline_context(revision: RevisionFile) -> tuple[MigrationContext, Recorder]:
    """An offline (`as_sql`) PostgreSQL migration context whose every statement goes, as SQL,
    to a new recorder for `revision`."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": io.StringIO(), "literal_binds": True},
        dialect_opts={"paramstyle": "named"},
    )
    recorder = Recorder(revision)
    impl = context.impl

    def execute(construct: Any, *args: Any, **kwargs: Any) -> None:
        if not recorder.executes_unknown(construct):
            with recorder.executing(construct):
                recorder.record(render_sql(impl, construct))

    # Alembic's as_sql path writes BEGIN/COMMIT around autocommit blocks and `;` after each
    # statement into a text buffer; the recorder wants each statement alone, with its caller.
    impl._exec = execute  # type: ignore[method-assign]
    impl.emit_begin = impl.emit_commit = lambda: None  # type: ignore[method-assign]
    # `op.get_bind().commit()` (before an autocommit block, say) ends the transaction.
    impl.connection.commit = recorder.commit  # type: ignore[union-attr]
    return context, recorder


def render_sql(impl: DefaultImpl, construct: Any) -> str:
    """A construct as PostgreSQL SQL: bound values as literals where SQLAlchemy can render
    them; `$n` parameters (which the parser accepts) for values the revision never gave
    (`text("… :id")`) or that have no literal form."""
    from sqlalchemy import exc, text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import DDLElement

    if isinstance(construct, str):
        construct = text(construct)
    if isinstance(construct, DDLElement):
        return _text(construct.compile(dialect=impl.dialect))
    with_placeholders = construct.compile(dialect=postgresql.dialect(paramstyle="format"))
    if not _has_missing_values(with_placeholders):
        try:
            return _text(
                construct.compile(dialect=impl.dialect, compile_kwargs={"literal_binds": True})
            )
        except (exc.CompileError, NotImplementedError, TypeError, ValueError):
            pass  # a value without a literal form
    return dollar_placeholders(_text(with_placeholders))


def _text(compiled: Any) -> str:
    return str(compiled).replace("\t", "    ")  # as `alembic upgrade --sql` prints it


def _has_missing_values(compiled: Any) -> bool:
    return any(
        bind.required and bind.value is None and bind.callable is None
        for bind in compiled.binds.values()
    )
