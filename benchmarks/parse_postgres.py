"""How fast the PostgreSQL front end turns typical migration statements into operations.

Run from the repository root: `python benchmarks/parse_postgres.py [count]` (default 20,000
statements, one core). Prints the time to import the parser and the parsing throughput,
in CPU time too, which a busy machine does not inflate.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TYPICAL = [
    "SET lock_timeout = '2s'",
    "ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false",
    "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2) USING total::numeric(12,2)",
    "ALTER TABLE orders ALTER COLUMN status SET NOT NULL",
    "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
    "REFERENCES users (id) NOT VALID",
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk",
    "CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id) WHERE deleted_at IS NULL",
    "DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx",
    "CREATE TABLE audit_log (\n  id bigserial PRIMARY KEY,\n  user_id bigint NOT NULL "
    "REFERENCES users (id),\n  action text NOT NULL,\n  payload jsonb,\n"
    "  created_at timestamptz NOT NULL DEFAULT now()\n)",
    "ALTER TABLE users\n  ADD COLUMN first_name text,\n  ADD COLUMN last_name text,\n"
    "  DROP COLUMN legacy_name",
    "UPDATE users SET email_verified = true WHERE id BETWEEN 1 AND 10000",
    "ALTER TABLE users RENAME COLUMN email TO email_address",
    "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded'",
    "BEGIN",
    "COMMIT",
    "CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped')",
    "DROP TABLE IF EXISTS tmp_import",
    "COMMENT ON COLUMN users.email IS 'primary contact'",
    "ALTER TABLE orders ALTER COLUMN note SET DEFAULT ''",
]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    started = time.perf_counter()
    from bgmigrate.parse.postgres import parse_statement
    from bgmigrate.source.unit import Location, Statement

    parse_statement(Statement("SELECT 1", "m.sql", Location(1, 1, 1, 8), 0))
    imported = time.perf_counter() - started

    statements = [
        Statement(sql, "m.sql", Location(1, 1, 1, len(sql)), index)
        for index, sql in enumerate(TYPICAL[i % len(TYPICAL)] for i in range(count))
    ]
    started, cpu_started = time.perf_counter(), time.process_time()
    operations = sum(len(parse_statement(statement)) for statement in statements)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"import + first parse: {imported * 1000:.0f} ms")
    print(
        f"{count} statements → {operations} operations in {elapsed:.2f} s wall, {cpu:.2f} s CPU "
        f"({cpu / count * 1e6:.0f} µs CPU per statement)"
    )


if __name__ == "__main__":
    main()
