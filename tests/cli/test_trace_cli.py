"""`bgmigrate trace` end to end on the bundled fixtures: JSON contract, text table, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bgmigrate.check.report.json_report import finding_entry

REPO = Path(__file__).resolve().parents[2]


def bgmigrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgmigrate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_json_shows_locks_and_the_old_queries_the_fixture_migrations_break(pg_dsn):
    run = bgmigrate(
        "trace",
        "fixtures/sql_app/proposed/0011_rename_users_email.sql",
        "fixtures/sql_app/proposed/0014_orders_quantity_bigint.sql",
        "--schema-from",
        "fixtures/sql_app/migrations",
        "--old-queries",
        "fixtures/app_queries/old.sql",
        "--format",
        "json",
        "--dsn",
        pg_dsn,
    )
    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)
    _validate(document)
    assert [(f["rule"], f["path"], f["line"]) for f in document["findings"]] == [
        ("old-version-query-fails", "fixtures/sql_app/proposed/0011_rename_users_email.sql", 3)
    ] * 2
    assert document["findings"][1]["message"].startswith(
        "After this statement the old version's query `INSERT INTO users (email, name) VALUES "
        '($1, $2)` (fixtures/app_queries/old.sql:3) fails: column "email" of relation'
    )
    assert set(document["findings"][0]) == set(finding_entry(_any_finding()))
    rename = document["statements"][1]
    assert rename["locks"] == [{"relation": "public.users", "mode": "AccessExclusiveLock"}]
    assert set(rename) == {
        "path",
        "line",
        "sql",
        "locks",
        "rewritten",
        "scanned",
        "duration_ms",
        "error",
    }
    retype = document["statements"][3]
    assert retype["sql"] == "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint"
    assert "public.orders" in retype["rewritten"] and retype["scanned"] == ["public.orders"]
    foreign_key = document["statements"][4]
    assert {lock["relation"]: lock["mode"] for lock in foreign_key["locks"]}["public.users"] == (
        "ShareRowExclusiveLock"
    )


def _validate(document: object) -> None:
    """Against trace-result.schema.json, whose findings are check-result.schema.json's."""
    import jsonschema
    from referencing import Registry, Resource

    schemas = [
        json.loads((REPO / path).read_text(encoding="utf-8"))
        for path in (
            "bgmigrate/trace/trace-result.schema.json",
            "bgmigrate/check/report/check-result.schema.json",
        )
    ]
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    jsonschema.Draft202012Validator(schemas[0], registry=registry).validate(document)


def _any_finding():
    from bgmigrate.check.finding import Category, Finding, Severity
    from bgmigrate.source.unit import Location

    location = Location(1, 1, 1, 1)
    return Finding("r", Category.COMPAT, Severity.ERROR, "p", location, "s", "m", "a")


def test_the_text_table_highlights_what_each_lock_blocks(pg_dsn):
    run = bgmigrate(
        "trace",
        "fixtures/sql_app/proposed/0013_orders_indexes.sql",
        "--schema-from",
        "fixtures/sql_app/migrations",
        "--dsn",
        pg_dsn,
    )
    assert run.returncode == 0, run.stderr
    assert "ShareLock on public.orders" in run.stdout
    assert "blocks writes" in run.stdout
    assert "1 statements traced, 0 failed, 0 findings" in run.stdout


def test_help_has_an_example_and_says_where_trace_runs():
    run = bgmigrate("trace", "--help")
    assert run.returncode == 0
    assert "bgmigrate trace fixtures/sql_app/proposed/0011_rename_users_email.sql" in run.stdout
    assert "never reads DATABASE_URL" in run.stdout
    assert "--old-queries fixtures/app_queries/old.sql" in run.stdout
    assert (REPO / "fixtures/app_queries/old.sql").is_file()


def test_without_a_history_it_is_one_line_and_exit_2():
    run = bgmigrate("trace", "fixtures/sql_app/proposed/0013_orders_indexes.sql")
    assert run.returncode == 2
    assert run.stderr.startswith("bgmigrate: error:")
    assert "--schema-from" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_missing_queries_file_is_one_line_and_exit_2(pg_dsn):
    run = bgmigrate(
        "trace",
        "fixtures/sql_app/proposed/0013_orders_indexes.sql",
        "--schema-from",
        "fixtures/sql_app/migrations",
        "--old-queries",
        "nowhere.sql",
        "--dsn",
        pg_dsn,
    )
    assert run.returncode == 2
    assert run.stderr == "bgmigrate: error: nowhere.sql: No such file or directory\n"


def test_an_alembic_revision_is_traced_at_its_op_call(pg_dsn, tmp_path):
    history = tmp_path / "0001_users.sql"
    history.write_text("CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);\n")
    run = bgmigrate(
        "trace",
        "fixtures/alembic_app/migrations/versions/0003_index_users_name.py",
        "--schema-from",
        str(history),
        "--format",
        "json",
        "--dsn",
        pg_dsn,
    )
    assert run.returncode == 0, run.stderr
    [statement] = json.loads(run.stdout)["statements"]
    assert statement["path"] == "fixtures/alembic_app/migrations/versions/0003_index_users_name.py"
    assert (statement["line"], statement["sql"]) == (
        20,
        "CREATE INDEX ix_users_name ON users (name)",
    )
    assert statement["locks"] == [{"relation": "public.users", "mode": "ShareLock"}]


def test_an_unreachable_scratch_server_is_one_line_and_exit_2():
    run = bgmigrate(
        "trace",
        "fixtures/sql_app/proposed/0013_orders_indexes.sql",
        "--schema-from",
        "fixtures/sql_app/migrations",
        "--dsn",
        "postgresql://nobody@127.0.0.1:1/scratch",
    )
    assert run.returncode == 2
    assert run.stderr.startswith("bgmigrate: error: cannot use the scratch server --dsn names: ")
    assert len(run.stderr.strip().splitlines()) == 1
