"""Regenerate `bgmigrate/parse/builtin_functions.txt` from a real PostgreSQL's `pg_proc`.

Starts the embedded PostgreSQL, reads the volatility of every function in `pg_catalog`, and
writes one `name<TAB>volatility` line per function name. An overloaded name gets the most
volatile class among its overloads: a default expression is judged by name alone, so assuming
the worst overload is the only answer that never hides a table rewrite.

Run from the repository root (with bgmigrate installed, or `PYTHONPATH=.`):
`python scripts/generate_builtin_functions.py`.
"""

from __future__ import annotations

from pathlib import Path

from bgmigrate.embedded import start_embedded_postgres

OUTPUT = Path(__file__).resolve().parent.parent / "bgmigrate" / "parse" / "builtin_functions.txt"

QUERY = """
    SELECT proname,
           CASE WHEN bool_or(provolatile = 'v') THEN 'volatile'
                WHEN bool_or(provolatile = 's') THEN 'stable'
                ELSE 'immutable' END
    FROM pg_proc
    WHERE pronamespace = 'pg_catalog'::regnamespace
    GROUP BY proname
    ORDER BY proname
"""


def main() -> None:
    import psycopg

    with start_embedded_postgres() as dsn, psycopg.connect(dsn) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        rows = connection.execute(QUERY).fetchall()
    lines = [f"# pg_catalog function volatility from PostgreSQL {version}; regenerate with"]
    lines.append("# scripts/generate_builtin_functions.py")
    lines.extend(f"{name}\t{volatility}" for name, volatility in rows)
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} functions from PostgreSQL {version} to {OUTPUT}")


if __name__ == "__main__":
    main()
