"""The binary-coercibility table, checked twice: against its verdicts, and against a real
PostgreSQL whose table and index files (`relfilenode`) must survive every BINARY change."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from bgmigrate.check.coercion import Coercion, coercion, same_type
from bgmigrate.parse.operations import TypeName

BINARY, TIMEZONE, REWRITE = Coercion.BINARY, Coercion.TIMEZONE, Coercion.REWRITE

CASES = [
    ("varchar(10)", "text", BINARY),
    ("varchar(10)", "varchar(20)", BINARY),
    ("varchar(10)", "varchar", BINARY),
    ("varchar(10)", "varchar(10)", BINARY),
    ("varchar", "text", BINARY),
    ("text", "varchar", BINARY),
    ("text", "text", BINARY),
    ("int4", "int4", BINARY),
    ("numeric(10,2)", "numeric(12,2)", BINARY),
    ("numeric(10,2)", "numeric", BINARY),
    ("numeric(10)", "numeric(12)", BINARY),
    ("varbit(5)", "varbit(10)", BINARY),
    ("varbit(5)", "varbit", BINARY),
    ("cidr", "inet", BINARY),
    ("timestamp(3)", "timestamp(6)", BINARY),
    ("timestamp(3)", "timestamp", BINARY),
    ("timestamptz(3)", "timestamptz", BINARY),
    ("time(3)", "time(6)", BINARY),
    ("timetz(3)", "timetz", BINARY),
    ("timestamp", "timestamptz", TIMEZONE),
    ("timestamptz", "timestamp", TIMEZONE),
    ("timestamp(3)", "timestamptz(6)", TIMEZONE),
    ("varchar(20)", "varchar(10)", REWRITE),
    ("varchar", "varchar(10)", REWRITE),
    ("text", "varchar(10)", REWRITE),
    ("numeric(10,2)", "numeric(12,3)", REWRITE),
    ("numeric(10,2)", "numeric(8,2)", REWRITE),
    ("numeric", "numeric(10,2)", REWRITE),
    ("varbit(10)", "varbit(5)", REWRITE),
    ("varbit", "varbit(5)", REWRITE),
    ("bit(5)", "varbit", REWRITE),
    ("inet", "cidr", REWRITE),
    ("int4", "int8", REWRITE),
    ("int2", "int4", REWRITE),
    ("int8", "int4", REWRITE),
    ("float4", "float8", REWRITE),
    ("timestamp(6)", "timestamp(3)", REWRITE),
    ("time(6)", "time(3)", REWRITE),
    ("timestamptz(6)", "timestamp(3)", REWRITE),
    ("bpchar(10)", "bpchar(20)", REWRITE),
    ("bpchar(10)", "text", REWRITE),
    ("varchar(10)[]", "text[]", REWRITE),
    ("varchar(10)[]", "varchar(20)[]", REWRITE),
    ("int4", "oid", REWRITE),
]


def _type(spelling: str) -> TypeName:
    """`numeric(10,2)[]` → TypeName('numeric', modifiers=(10, 2), array_dimensions=1)."""
    match = re.fullmatch(r"(\w+)(?:\(([\d,]+)\))?((?:\[\])*)", spelling)
    assert match, spelling
    name, modifiers, arrays = match.groups()
    return TypeName(
        name,
        modifiers=tuple(int(m) for m in modifiers.split(",")) if modifiers else (),
        array_dimensions=len(arrays) // 2,
    )


@pytest.mark.parametrize(("old", "new", "verdict"), CASES, ids=[f"{o}->{n}" for o, n, _ in CASES])
def test_coercion_verdict(old: str, new: str, verdict: Coercion) -> None:
    assert coercion(_type(old), _type(new)) is verdict


def test_pg_catalog_qualified_builtin_is_the_same_type_as_unqualified() -> None:
    qualified = TypeName("varchar", "pg_catalog", (10,))
    assert same_type(qualified, TypeName("varchar", None, (10,)))
    assert coercion(qualified, TypeName("text")) is BINARY


def test_user_defined_types_are_binary_only_when_unchanged() -> None:
    email = TypeName("email", "app")
    assert coercion(email, TypeName("email", "app")) is BINARY
    assert coercion(email, TypeName("text")) is REWRITE
    assert coercion(TypeName("text"), TypeName("text", "app")) is REWRITE


@pytest.fixture(scope="module")
def pg(pg_dsn: str) -> Iterator[object]:
    """A connection working in a schema of its own, in a time zone other than UTC."""
    import psycopg

    schema = f"coercion_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path = {schema}")
        conn.execute("SET TimeZone = 'America/New_York'")
        yield conn
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _files_kept(conn, old: str, new: str) -> tuple[bool, bool]:
    """Whether the table's file and its column index's file survive the type change."""
    conn.execute("DROP TABLE IF EXISTS retyped")
    conn.execute(f"CREATE TABLE retyped (id int PRIMARY KEY, c {old})")
    conn.execute("INSERT INTO retyped VALUES (1, NULL)")
    conn.execute("CREATE INDEX retyped_c_idx ON retyped (c)")
    files = (
        "SELECT (SELECT relfilenode FROM pg_class WHERE oid = 'retyped'::regclass),"
        " (SELECT relfilenode FROM pg_class WHERE oid = 'retyped_c_idx'::regclass)"
    )
    table_before, index_before = conn.execute(files).fetchone()
    conn.execute(f"ALTER TABLE retyped ALTER COLUMN c TYPE {new}")
    table_after, index_after = conn.execute(files).fetchone()
    return table_before == table_after, index_before == index_after


@pytest.mark.parametrize(
    ("old", "new", "verdict"),
    [case for case in CASES if case[2] is not TIMEZONE],
    ids=[f"{o}->{n}" for o, n, v in CASES if v is not TIMEZONE],
)
def test_postgresql_keeps_table_and_index_files_exactly_for_binary_verdicts(
    pg, old: str, new: str, verdict: Coercion
) -> None:
    kept = _files_kept(pg, old, new)
    if verdict is BINARY:
        assert kept == (True, True)
    else:
        assert kept != (True, True)


@pytest.mark.parametrize(
    ("old", "new"),
    [(o, n) for o, n, v in CASES if v is TIMEZONE],
    ids=[f"{o}->{n}" for o, n, v in CASES if v is TIMEZONE],
)
def test_timezone_verdicts_rewrite_unless_utc_and_rebuild_indexes_even_then(
    pg, old: str, new: str
) -> None:
    assert _files_kept(pg, old, new) == (False, False)
    pg.execute("SET TimeZone = 'UTC'")
    try:
        assert _files_kept(pg, old, new) == (True, False)
    finally:
        pg.execute("SET TimeZone = 'America/New_York'")


def test_text_to_citext_keeps_the_table_but_rebuilds_indexes() -> None:
    from bgmigrate.check.coercion import Coercion, coercion
    from bgmigrate.parse.operations import TypeName

    assert coercion(TypeName("text"), TypeName("citext")) is Coercion.INDEXES
    assert coercion(TypeName("varchar"), TypeName("citext")) is Coercion.INDEXES
    assert coercion(TypeName("varchar", modifiers=(10,)), TypeName("citext")) is Coercion.REWRITE
