"""The lock model (`check.locks`) against what PostgreSQL takes, read from pg_locks.

Each statement runs in a transaction that is rolled back; the strongest lock the backend holds
on each relation the model names must be the mode the model gives it.
"""

from __future__ import annotations

from test_parse_postgres import strongest_lock

from bgmigrate.check.locks import table_locks
from bgmigrate.parse.postgres import parse_statement
from bgmigrate.source.unit import Location, Statement

_SCHEMA = (
    "CREATE TABLE t (id int PRIMARY KEY, a int);"
    "ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0);"
    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"
    "CREATE POLICY pol ON t USING (true);"
    "CREATE TABLE p (id int) PARTITION BY LIST (id);"
    "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);"
    "CREATE TABLE p2 (id int);"
    "CREATE INDEX p_idx ON ONLY p (id);"
    "CREATE INDEX p1_idx ON p1 (id);"
)

STATEMENTS = [
    "DROP TRIGGER tr ON t",
    "CREATE TRIGGER tr2 AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()",
    "ALTER TABLE t DISABLE TRIGGER tr",
    "ALTER TABLE t REPLICA IDENTITY FULL",
    "ALTER TRIGGER tr ON t RENAME TO tr3",
    "ALTER TABLE t RENAME CONSTRAINT a_pos TO a_positive",
    "CREATE POLICY pol2 ON t USING (true)",
    "DROP POLICY pol ON t",
    "CREATE RULE r AS ON UPDATE TO t DO ALSO NOTHING",
    "ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (2)",
    "ALTER TABLE p DETACH PARTITION p1",
    "ALTER INDEX p_idx ATTACH PARTITION p1_idx",
    "CREATE TABLE p3 PARTITION OF p FOR VALUES IN (3)",
]


def test_each_modelled_lock_is_the_one_postgresql_takes(fresh_db: str) -> None:
    import psycopg

    mismatches = []
    with psycopg.connect(fresh_db) as connection:
        connection.execute(_SCHEMA)
        connection.commit()
        for sql in STATEMENTS:
            (op,) = parse_statement(Statement(sql, "m.sql", Location(1, 1, 1, len(sql)), 0))
            locks = table_locks(op)
            if not locks:
                mismatches.append((sql, "no lock modelled", ""))
            connection.execute(sql)
            for lock in locks:
                taken = strongest_lock(connection, str(lock.table))
                if taken != lock.mode.value.title().replace(" ", "") + "Lock":
                    mismatches.append((sql, lock.mode.value, taken))
            connection.rollback()
    assert mismatches == []
