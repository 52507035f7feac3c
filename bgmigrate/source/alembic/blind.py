"""Data-blind rendering: the last resort for a revision that neither renders offline nor can
be replayed into PostgreSQL (say its tables come from the application's `create_all`, not
from a revision).

The revision runs against the offline migration context as if it were online:
`context.is_offline_mode()` answers False and `op.get_bind()` returns a `RecordingConnection`,
which records what the revision executes and returns no rows. What it emits through `op.…`
renders to SQL as offline. Branches that depend on the rows read are not followed; the unit
says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bgmigrate.source.alembic.capture import Recorder, run_upgrade
from bgmigrate.source.alembic.dbapi import inline_literals
from bgmigrate.source.alembic.offline import offline_context, render_sql
from bgmigrate.source.alembic.project import AlembicProject
from bgmigrate.source.alembic.revision import RevisionFile
from bgmigrate.source.unit import Location

if TYPE_CHECKING:
    from alembic.ddl.impl import DefaultImpl

__all__ = ["BlindRun", "EmptyResult", "RecordingConnection", "render_blind"]


@dataclass(frozen=True)
class BlindRun:
    recorder: Recorder
    first_read: Location | None
    """The call whose rows the revision first asked for; None when it asked for none."""


def render_blind(revision: RevisionFile, project: AlembicProject) -> BlindRun:
    """Run the revision's `upgrade()` data-blind and record what it emits. Raises
    `RevisionFailed` when it fails even so (it inspects the schema, needs a row it reads…)."""
    context, recorder = offline_context(revision)
    connection = RecordingConnection(recorder, context.impl)
    with _as_if_online(connection):
        run_upgrade(revision, project, context, recorder)
    return BlindRun(recorder, connection.first_read)


class RecordingConnection:
    """What `op.get_bind()` returns in a data-blind run: each statement executed on it is
    recorded at the revision's call, with its values inlined as literals where they have a
    literal form, and returns an `EmptyResult`."""

    def __init__(self, recorder: Recorder, impl: DefaultImpl) -> None:
        self._recorder = recorder
        self._impl = impl
        self.dialect = impl.dialect
        self.first_read: Location | None = None

    def execute(self, statement: Any, *multiparams: Any, **params: Any) -> EmptyResult:
        """SQLAlchemy 2's `execute(statement, parameters)` and 1.4's `execute(statement,
        *multiparams, **params)`, where a string is driver-level SQL."""
        params.pop("execution_options", None)
        if self._recorder.executes_unknown(statement):
            return EmptyResult(lambda: None)
        parameters = _one_parameter_set(multiparams, params)
        if isinstance(statement, str):
            return self._run(inline_literals(statement, parameters))
        return self._run(render_sql(self._impl, _with_values(statement, parameters)))

    def exec_driver_sql(
        self, statement: str, parameters: Any = None, execution_options: Any = None
    ) -> EmptyResult:
        return self._run(inline_literals(statement, _one_parameter_set((parameters,), {})))

    def scalar(self, statement: Any, *multiparams: Any, **params: Any) -> None:
        return self.execute(statement, *multiparams, **params).scalar()

    def scalars(self, statement: Any, *multiparams: Any, **params: Any) -> EmptyResult:
        return self.execute(statement, *multiparams, **params)

    def commit(self) -> None:
        self._recorder.commit()

    def close(self) -> None:
        """Closing it (a `Session(bind=…)` the revision closes) ends nothing here."""

    def connect(self) -> RecordingConnection:
        """Itself: Alembic extensions that accept an engine or a connection from `get_bind()`
        (alembic_postgresql_enum) connect to it."""
        return self

    def __enter__(self) -> RecordingConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def _run_ddl_visitor(
        self, visitorcallable: Any, element: Any, connection: Any = None, **kwargs: Any
    ) -> None:
        """`Enum.create(bind)`, `Table.create(bind)`, `metadata.create_all(bind)`: the DDL
        executed on this connection as SQLAlchemy's mock connection (Alembic's offline mode)
        runs it, without checking first what exists, since nothing does here."""
        kwargs["checkfirst"] = False
        visitorcallable(self.dialect, self, **kwargs).traverse_single(element)

    def _run(self, sql: str) -> EmptyResult:
        location = self._recorder.locator.current()
        self._recorder.record(sql)
        return EmptyResult(lambda: self._read(location))

    def inspector(self) -> EmptySchema:
        location = self._recorder.locator.current()
        return EmptySchema(lambda: self._read(location))

    def _read(self, location: Location | None) -> None:
        if self.first_read is None:
            self.first_read = location


class EmptySchema:
    """What `sa.inspect(op.get_bind())` gives in a data-blind run: a database with nothing in
    it. `get_table_names()`, `get_indexes(…)` and the like are empty, `has_table(…)` is False,
    and a table reflected from it has no columns. Asking counts as a read."""

    default_schema_name = "public"

    def __init__(self, on_read: Callable[[], None]) -> None:
        self._on_read = on_read

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("has_"):
            answer: Any = False
        elif name == "get_pk_constraint":
            answer = {"constrained_columns": [], "name": None}
        elif name in {"get_table_comment", "get_table_options"}:
            answer = {}
        elif name.startswith("get_"):
            answer = []
        elif name == "reflect_table":
            answer = None
        else:
            raise AttributeError(name)

        def read(*args: Any, **kwargs: Any) -> Any:
            self._on_read()
            return answer

        return read


class EmptyResult:
    """A result without rows, as SQLAlchemy's `Result` and `CursorResult` answer then.
    Asking it for rows (or for `rowcount`) counts as a read of its statement."""

    def __init__(self, on_read: Callable[[], None]) -> None:
        self._on_read = on_read

    @property
    def rowcount(self) -> int:
        self._on_read()
        return 0

    def __iter__(self) -> Iterator[Any]:
        self._on_read()
        return iter(())

    def _none(self, *args: Any, **kwargs: Any) -> None:
        self._on_read()

    def _nothing(self, *args: Any, **kwargs: Any) -> list[Any]:
        self._on_read()
        return []

    def _no_result_found(self) -> None:
        from sqlalchemy.exc import NoResultFound

        self._on_read()
        raise NoResultFound("No row was found when one was required")

    def _itself(self, *args: Any, **kwargs: Any) -> EmptyResult:
        return self

    def close(self) -> None:
        pass

    _attributes: dict[str, Any] = {}  # noqa: RUF012 - read by the ORM's `Query`, never written
    """What an ORM `Query` asks of a session's result (here: plain rows)."""

    scalar = first = fetchone = one_or_none = scalar_one_or_none = _none
    fetchall = fetchmany = all = _nothing
    one = scalar_one = _no_result_found
    mappings = scalars = columns = tuples = unique = _itself


def _one_parameter_set(multiparams: tuple[Any, ...], params: dict[str, Any]) -> Any:
    """The values of one execution: keyword values (1.4), a dict, the first of a list of
    dicts (an executemany, recorded once, as the replay records it), or positional values."""
    if params:
        return params
    given = [value for value in multiparams if value is not None]
    if not given:
        return None
    first = given[0]
    if isinstance(first, list):
        return first[0] if first else None
    if len(given) == 1 or isinstance(first, dict):
        return first
    return tuple(given)  # 1.4's `execute(sql, value, value)`


def _with_values(statement: Any, parameters: Any) -> Any:
    """A SQLAlchemy construct with the values given beside it bound in, for rendering."""
    from sqlalchemy.sql.dml import ValuesBase
    from sqlalchemy.sql.elements import TextClause

    if not isinstance(parameters, dict) or not parameters:
        return statement
    if isinstance(statement, ValuesBase):  # insert/update: values for their columns
        return statement.values(parameters)
    if isinstance(statement, TextClause):
        # `bindparams` types each value (a literal needs a type); it takes only the names
        # the text has, as SQLAlchemy ignores the others.
        names = statement.compile().params.keys()
        return statement.bindparams(**{k: v for k, v in parameters.items() if k in names})
    return statement.params(parameters)


@contextlib.contextmanager
def _as_if_online(connection: RecordingConnection) -> Iterator[None]:
    """`context.is_offline_mode()` False and `op.get_bind()` / `context.get_bind()` the
    recording connection, while Alembic's own operations keep the offline context."""
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext

    def bind(self: Any) -> RecordingConnection:
        return connection

    def offline(self: Any) -> bool:
        return False

    from sqlalchemy.engine.reflection import Inspector
    from sqlalchemy.orm import Session

    original_execute = Session.execute

    def session_execute(session: Session, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """An ORM session on the recording connection (`Session(bind=op.get_bind())`, for a
        data migration with the revision's own models) executes on it, as a connection
        would; SQLAlchemy's sessions otherwise need a real one."""
        if session.bind is not connection:
            return original_execute(session, statement, *args, **kwargs)
        parameters = args[0] if args else kwargs.get("params")
        return connection.execute(statement, parameters)

    original_from_engine = Inspector.from_engine.__func__  # type: ignore[attr-defined]

    def from_engine(cls: type, bind: Any) -> Any:
        if bind is connection:
            return connection.inspector()
        return original_from_engine(cls, bind)

    with contextlib.ExitStack() as stack:
        stack.enter_context(_registered_inspection(RecordingConnection))
        stack.enter_context(_replaced(Inspector, "from_engine", classmethod(from_engine)))
        stack.enter_context(_replaced(Session, "execute", session_execute))
        stack.enter_context(_replaced(Operations, "get_bind", bind))
        stack.enter_context(_replaced(EnvironmentContext, "get_bind", bind))
        stack.enter_context(_replaced(EnvironmentContext, "is_offline_mode", offline))
        yield


@contextlib.contextmanager
def _registered_inspection(cls: type[RecordingConnection]) -> Iterator[None]:
    """`sa.inspect(connection)` (and a table reflected with `autoload_with=connection`) on a
    recording connection: its empty schema."""
    from sqlalchemy import inspection

    inspection._registrars[cls] = cls.inspector
    try:
        yield
    finally:
        del inspection._registrars[cls]


@contextlib.contextmanager
def _replaced(cls: type, name: str, value: Any) -> Iterator[None]:
    """`cls.name` replaced where it is defined (a base class, maybe: batch operations inherit
    `get_bind` too), and restored."""
    owner = next(klass for klass in cls.__mro__ if name in vars(klass))
    original = vars(owner)[name]
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)
