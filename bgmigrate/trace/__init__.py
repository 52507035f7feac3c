"""`bgmigrate trace`: run a proposed migration on a throwaway copy of the schema and record
what PostgreSQL really does (locks, rewrites, scans, errors), and whether the app's queries
keep working."""

from bgmigrate.trace.model import RelationLock, StatementTrace, TraceResult
from bgmigrate.trace.queries import AppQuery, read_queries
from bgmigrate.trace.run import (
    NEW_QUERY_FAILS,
    OLD_QUERY_FAILS,
    trace_in_session,
    trace_migration,
    trace_on,
)

__all__ = [
    "NEW_QUERY_FAILS",
    "OLD_QUERY_FAILS",
    "AppQuery",
    "RelationLock",
    "StatementTrace",
    "TraceResult",
    "read_queries",
    "trace_in_session",
    "trace_migration",
    "trace_on",
]
