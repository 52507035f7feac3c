"""Facts read from the server itself: which relations existed before the migration, the locks
a backend holds on them (pg_locks), their storage (relfilenodes) and their sequential-scan
counts (the cumulative statistics)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from bgmigrate.trace.model import LOCK_STRENGTH, RelationLock

if TYPE_CHECKING:
    import psycopg

__all__ = ["Relations", "strongest_locks"]

_USER_RELATIONS = """
SELECT c.oid, n.nspname, c.relname, c.relkind IN ('r', 'p')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND c.relkind IN ('r', 'p', 'm', 'i', 'I', 'S', 'v', 'f')
"""


class Relations:
    """The relations that existed before the migration, by oid, with their names then."""

    def __init__(self, connection: psycopg.Connection) -> None:
        rows = connection.execute(_USER_RELATIONS).fetchall()
        self.names: dict[int, str] = {oid: f"{schema}.{name}" for oid, schema, name, _ in rows}
        self.tables: tuple[tuple[str, str], ...] = tuple(
            (schema, name) for _, schema, name, table in rows if table
        )
        """Tables (plain or partitioned), which `LOCK TABLE` accepts."""
        self._oids = list(self.names)

    def held_locks(self, connection: psycopg.Connection, pid: int) -> set[tuple[int, str]]:
        """(relation oid, mode) of every lock `pid` holds or awaits on these relations."""
        rows = connection.execute(
            "SELECT relation::oid::int8, mode FROM pg_locks WHERE pid = %s "
            "AND locktype = 'relation' AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database()) AND relation = ANY(%s::oid[])",
            (pid, self._oids),
        ).fetchall()
        return {(oid, mode) for oid, mode in rows}

    def filenodes(self, connection: psycopg.Connection) -> dict[int, int | None]:
        """Each relation's current storage file; None once it is dropped (or has no storage)."""
        rows = connection.execute(
            "SELECT o, pg_relation_filenode(o) FROM unnest(%s::oid[]) AS o", (self._oids,)
        ).fetchall()
        return {int(oid): node for oid, node in rows}

    def scans(self, connection: psycopg.Connection, *, in_transaction: bool) -> dict[int, int]:
        """Sequential scans per table so far: the current transaction's own count (pending,
        unflushed) when `in_transaction`, else the flushed cumulative count."""
        view = "pg_stat_xact_user_tables" if in_transaction else "pg_stat_user_tables"
        rows = connection.execute(
            f"SELECT relid::int8, coalesce(seq_scan, 0) FROM {view} WHERE relid = ANY(%s::oid[])",
            (self._oids,),
        ).fetchall()
        return dict(rows)

    def changed(
        self, before: Mapping[int, int | None], after: Mapping[int, int | None]
    ) -> tuple[str, ...]:
        """The relations whose value went from one number to another (not from or to None)."""
        return tuple(
            sorted(
                self.names[oid]
                for oid, old in before.items()
                if old is not None and after.get(oid) is not None and after[oid] != old
            )
        )

    def scanned(self, before: Mapping[int, int], after: Mapping[int, int]) -> tuple[str, ...]:
        return tuple(
            sorted(self.names[oid] for oid, count in after.items() if count > before.get(oid, 0))
        )

    def locks(self, taken: Iterable[tuple[int, str]]) -> tuple[RelationLock, ...]:
        return strongest_locks((self.names[oid], mode) for oid, mode in taken)


def strongest_locks(taken: Iterable[tuple[str, str]]) -> tuple[RelationLock, ...]:
    """The strongest mode per relation, by relation name."""
    strongest: dict[str, str] = {}
    for relation, mode in taken:
        current = strongest.get(relation)
        if current is None or _strength(mode) > _strength(current):
            strongest[relation] = mode
    return tuple(RelationLock(relation, strongest[relation]) for relation in sorted(strongest))


def _strength(mode: str) -> int:
    return LOCK_STRENGTH.index(mode) if mode in LOCK_STRENGTH else -1
