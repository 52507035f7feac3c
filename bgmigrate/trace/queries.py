"""The app's own queries (`--old-queries`, `--new-queries`): run with values bound to their
parameters' types, each in a subtransaction that is rolled back, so nothing they write stays."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bgmigrate.source.sql import split_sql
from bgmigrate.values import Value, frozen_value

if TYPE_CHECKING:
    import psycopg

__all__ = ["AppQuery", "QueryRunner", "read_queries"]

# A value PostgreSQL accepts as input for each type category (pg_type.typcategory), in text
# form: the server converts it to the parameter's type as it would an app's bound value.
_SAMPLE_BY_CATEGORY = {
    "N": "1",
    "S": "x",
    "B": "true",
    "D": "2000-01-01",
    "T": "1 day",
    "A": "{}",
    "I": "127.0.0.1",
    "V": "1",
}
_SAMPLE_BY_TYPE = {
    "uuid": "00000000-0000-0000-0000-000000000001",
    "json": "{}",
    "jsonb": "{}",
    "bytea": "\\x00",
}
_SAVEPOINT = b"bgmigrate_trace_query"


@frozen_value
class AppQuery(Value):
    """One statement of a queries file, where it stands in that file."""

    sql: str
    path: str
    line: int

    @property
    def label(self) -> str:
        first = " ".join(self.sql.split())
        return first if len(first) <= 80 else first[:79] + "…"


def read_queries(path: Path) -> list[AppQuery]:
    """The queries in a file, split as psql would split them."""
    text = path.read_text(encoding="utf-8")
    return [AppQuery(piece.sql, str(path), piece.location.line) for piece in split_sql(text)]


class QueryRunner:
    """Runs app queries on the trace's own connection, inside its current transaction (or a
    transaction of their own when none is open), leaving no trace of them behind."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self._connection = connection
        self._values: dict[AppQuery, list[bytes | None]] = {}

    def bind(self, query: AppQuery) -> str | None:
        """Choose the query's parameter values from its parameters' types as the server infers
        them now; PostgreSQL's error when it cannot even prepare the query."""
        pgconn = self._connection.pgconn
        with self._subtransaction():
            prepared = pgconn.prepare(b"", query.sql.encode())
            error = _error(prepared)
            if error is not None:
                return error
            described = pgconn.describe_prepared(b"")
            types = [described.param_type(i) for i in range(described.nparams)]
            self._values[query] = [self._sample(oid) for oid in types]
        return None

    def run(self, query: AppQuery) -> str | None:
        """Run the bound query and roll it back: None when it succeeded, else the error."""
        pgconn = self._connection.pgconn
        with self._subtransaction():
            return _error(pgconn.exec_params(query.sql.encode(), self._values.get(query, [])))

    def _sample(self, oid: int) -> bytes | None:
        row = self._connection.execute(
            "SELECT t.typname, t.typcategory, (SELECT e.enumlabel FROM pg_enum e "
            "WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder LIMIT 1) "
            "FROM pg_type t WHERE t.oid = %s",
            (oid,),
        ).fetchone()
        if row is None:
            return None
        name, category, first_label = row
        sample = first_label or _SAMPLE_BY_TYPE.get(name) or _SAMPLE_BY_CATEGORY.get(category)
        return None if sample is None else sample.encode()

    def _subtransaction(self) -> _Subtransaction:
        return _Subtransaction(self._connection)


class _Subtransaction:
    """A savepoint in the open transaction, or a transaction of its own; rolled back on exit."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self._pgconn = connection.pgconn
        self._own = False

    def __enter__(self) -> None:
        from psycopg import pq

        self._own = self._pgconn.transaction_status == pq.TransactionStatus.IDLE
        self._pgconn.exec_(b"BEGIN" if self._own else b"SAVEPOINT " + _SAVEPOINT)

    def __exit__(self, *exc: object) -> None:
        self._pgconn.exec_(b"ROLLBACK" if self._own else b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT)
        if not self._own:
            self._pgconn.exec_(b"RELEASE SAVEPOINT " + _SAVEPOINT)


def _error(result: object) -> str | None:
    from psycopg import pq

    status = result.status  # type: ignore[attr-defined]
    if status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return None
    message = result.error_message.decode(errors="replace").strip()  # type: ignore[attr-defined]
    return message.removeprefix("ERROR:").strip().splitlines()[0] if message else "failed"
