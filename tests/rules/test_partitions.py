"""Partitioned tables: an index build on the parent, its recipe run on a real PostgreSQL, and
DETACH PARTITION."""

from __future__ import annotations

from bgmigrate.check.api import check_sql

PARTITIONED = (
    "CREATE TABLE events (id bigint, kind text, at date) PARTITION BY RANGE (at);\n"
    "CREATE TABLE events_2024 PARTITION OF events\n"
    "  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
    "CREATE TABLE events_2025 PARTITION OF events\n"
    "  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
)


def _reported(sql: str) -> list[tuple[str, int, str]]:
    result = check_sql(sql, before=PARTITIONED)
    return [(f.rule, f.location.line, f.message) for f in result.findings]


def test_index_on_a_partitioned_parent_names_every_partition_in_its_recipe(fresh_db: str) -> None:
    import psycopg

    [finding] = check_sql(
        "SET lock_timeout = '2s';\nCREATE UNIQUE INDEX events_id_at_key ON events (id, at);",
        before=PARTITIONED,
    ).findings
    assert (finding.rule, finding.location.line) == ("create-index-non-concurrently", 2)
    assert finding.message == (
        "CREATE UNIQUE INDEX events_id_at_key on events (id, at): events is partitioned, so "
        "this builds the index on every partition, each under a SHARE lock that blocks all "
        "writes (INSERT, UPDATE, DELETE) to it, held until the statement ends; on a "
        "partitioned table it cannot run CONCURRENTLY. Build it partition by partition and "
        "attach the pieces."
    )
    recipe = [line for line in finding.safe_alternative.splitlines() if not line.startswith("--")]
    assert recipe == [
        "CREATE UNIQUE INDEX IF NOT EXISTS events_id_at_key ON ONLY events (id, at);",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_2024_events_id_at_key "
        "ON events_2024 (id, at);",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_2025_events_id_at_key "
        "ON events_2025 (id, at);",
        "ALTER INDEX events_id_at_key ATTACH PARTITION events_2024_events_id_at_key;",
        "ALTER INDEX events_id_at_key ATTACH PARTITION events_2025_events_id_at_key;",
    ]
    # The recipe passes the check, and on PostgreSQL it ends with a valid parent index.
    assert check_sql("SET lock_timeout = '2s';\n" + recipe[0], before=PARTITIONED).findings == []
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute(PARTITIONED)
        for statement in recipe:
            connection.execute(statement)
        (valid,) = connection.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_id_at_key'::regclass"
        ).fetchone()
    assert valid


def test_concurrently_on_a_partitioned_parent_is_reported_as_failing() -> None:
    [(rule, line, message)] = _reported("CREATE INDEX CONCURRENTLY events_kind ON events (kind);")
    assert (rule, line) == ("create-index-non-concurrently", 1)
    assert "cannot build an index on a partitioned table CONCURRENTLY" in message


def test_index_on_only_the_parent_is_instant() -> None:
    assert _reported("SET lock_timeout = '2s';\nCREATE INDEX e_kind ON ONLY events (kind);") == []


def test_detach_partition_takes_both_tables_and_names_them() -> None:
    [(rule, line, message)] = _reported(
        "SET lock_timeout = '2s';\nALTER TABLE events DETACH PARTITION events_2024;"
    )
    assert (rule, line) == ("detach-partition-non-concurrently", 2)
    assert message.startswith(
        "Detaching events_2024 from events takes an ACCESS EXCLUSIVE lock on both"
    )


def test_creating_a_partition_of_an_existing_parent_needs_a_lock_timeout() -> None:
    sql = (
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO (MAXVALUE);"
    )
    [(rule, line, message)] = _reported(sql)
    assert (rule, line) == ("require-lock-timeout", 1)
    assert message.startswith("This statement needs an ACCESS EXCLUSIVE lock on events")


def test_a_parent_index_over_partition_indexes_built_before_is_not_reported() -> None:
    # The recipe's middle step done first: PostgreSQL attaches the existing indexes.
    sql = (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS e24_kind ON events_2024 (kind);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS e25_kind ON events_2025 (kind);\n"
        "SET lock_timeout = '2s';\n"
        "CREATE INDEX IF NOT EXISTS events_kind ON events (kind);"
    )
    assert _reported(sql) == []
    # One partition left out: the parent's index still builds it.
    [(rule, line, _)] = _reported(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS e24_kind ON events_2024 (kind);\n"
        "SET lock_timeout = '2s';\n"
        "CREATE INDEX IF NOT EXISTS events_kind ON events (kind);"
    )
    assert (rule, line) == ("create-index-non-concurrently", 3)


def test_with_partitions_made_by_a_function_indexes_on_tables_named_after_the_parent_count() -> (
    None
):
    before = (
        "CREATE TABLE wal (tenant_id uuid, at timestamptz) PARTITION BY HASH (tenant_id);\n"
        "SELECT create_hash_partitions('wal', 2);"
    )
    sql = (
        "CREATE INDEX CONCURRENTLY wal_0_at ON wal_0 (tenant_id, at);\n"
        "CREATE INDEX CONCURRENTLY wal_1_at ON wal_1 (tenant_id, at);\n"
        "SET lock_timeout = '2s';\n"
        "CREATE INDEX wal_at ON wal (tenant_id, at);"
    )
    assert check_sql(sql, before=before).findings == []
