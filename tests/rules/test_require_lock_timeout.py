"""require-lock-timeout beyond its examples: once per unit, which statement, which table."""

from __future__ import annotations

from bgmigrate.check.api import check_sql

RULE = "require-lock-timeout"


def _findings(sql: str, **options):
    return [f for f in check_sql(sql, **options).findings if f.rule == RULE]


def test_reported_once_per_unit_at_the_first_locking_statement() -> None:
    sql = (
        "CREATE TABLE tags (id bigint PRIMARY KEY);\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
        "CREATE INDEX users_nickname_idx ON users (nickname);\n"
        "ALTER TABLE orders ADD COLUMN note text;"
    )
    [finding] = _findings(sql)
    assert finding.location.line == 2
    assert "ACCESS EXCLUSIVE lock on users" in finding.message
    assert "all reads and writes" in finding.message


def test_each_unit_is_reported_on_its_own() -> None:
    before = "ALTER TABLE users ADD COLUMN nickname text;"
    assert len(_findings("ALTER TABLE users ADD COLUMN bio text;", before=before)) == 1


def test_share_lock_of_create_index_blocks_writes_only() -> None:
    [finding] = _findings("CREATE INDEX users_email_idx ON users (email);")
    assert "a SHARE lock on users" in finding.message
    assert "all writes (INSERT, UPDATE, DELETE)" in finding.message
    assert "reads" not in finding.message


def test_drop_index_names_the_index_for_its_unknown_table() -> None:
    [finding] = _findings("DROP INDEX users_email_idx;")
    assert "ACCESS EXCLUSIVE lock on the table of index users_email_idx" in finding.message


def test_reindex_index_names_the_index_for_its_unknown_table() -> None:
    [finding] = _findings("REINDEX INDEX users_email_idx;")
    assert "SHARE lock on the table of index users_email_idx" in finding.message


def test_inside_a_transaction_block_the_advice_is_set_local() -> None:
    [finding] = _findings("BEGIN;\nALTER TABLE users ADD COLUMN bio text;\nCOMMIT;")
    assert finding.safe_alternative.splitlines()[-1] == "SET LOCAL lock_timeout = '2s';"


def test_new_table_referencing_itself_locks_nothing_in_use() -> None:
    sql = "CREATE TABLE nodes (id bigint PRIMARY KEY, parent_id bigint REFERENCES nodes (id));"
    assert _findings(sql) == []


def test_foreign_key_of_a_new_table_locks_the_existing_table_it_references() -> None:
    sql = (
        "CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint,\n"
        "  FOREIGN KEY (order_id) REFERENCES orders (id));"
    )
    [finding] = _findings(sql)
    assert "SHARE ROW EXCLUSIVE lock on orders" in finding.message


def test_drop_index_names_the_table_when_the_run_created_the_index() -> None:
    [drop, timeout] = check_sql(
        "DROP INDEX users_email_idx;",
        before="CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
        "CREATE INDEX users_email_idx ON users (email);",
    ).findings
    assert (timeout.rule, drop.rule) == ("require-lock-timeout", "drop-index-non-concurrently")
    assert timeout.message.startswith(
        "This statement needs an ACCESS EXCLUSIVE lock on users and no lock_timeout is set"
    )
    assert drop.message.startswith(
        "DROP INDEX users_email_idx takes an ACCESS EXCLUSIVE lock on its table, users: all "
        "reads and writes to users, from both app versions"
    )


def test_lands_on_the_first_statement_of_the_complete_lock_model() -> None:
    cases = {
        "DROP TRIGGER users_audit ON users;": "an ACCESS EXCLUSIVE lock on users",
        "ALTER TABLE users DISABLE TRIGGER users_audit;": "a SHARE ROW EXCLUSIVE lock on users",
        "ALTER TABLE users REPLICA IDENTITY FULL;": "an ACCESS EXCLUSIVE lock on users",
        "ALTER INDEX events_idx ATTACH PARTITION events_2024_idx;": (
            "an ACCESS EXCLUSIVE lock on events_2024_idx"
        ),
        "ALTER TABLE users RENAME CONSTRAINT a TO b;": "an ACCESS EXCLUSIVE lock on users",
    }
    for statement, lock in cases.items():
        first = "CREATE TABLE notes (id bigint PRIMARY KEY);\nCOMMENT ON TABLE notes IS 'n';\n"
        sql = first + statement
        [finding] = [f for f in check_sql(sql).findings if f.rule == "require-lock-timeout"]
        assert finding.location.line == 3, statement
        assert finding.message.startswith(f"This statement needs {lock} and no"), statement


def _check_project(root, config: str) -> list[tuple[str, str]]:
    from bgmigrate.check.runner import CheckOptions, run_check

    (root / "pyproject.toml").write_text(f"[tool.bgmigrate]\n{config}\n", encoding="utf-8")
    for folder in ("goose", "flyway"):
        (root / folder).mkdir()
        (root / folder / "0001_add.sql").write_text(
            "ALTER TABLE users ADD COLUMN nickname text;\n", encoding="utf-8"
        )
    (root / "flyway" / "0002_reset.sql").write_text(
        "SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN bio text;\n", encoding="utf-8"
    )
    result = run_check(CheckOptions(paths=("goose", "flyway"), cwd=root))
    return [(f.path, f.message) for f in result.findings if f.rule == RULE]


def test_without_the_declaration_a_runner_set_timeout_is_reported_saying_how_to_declare_it(
    tmp_path,
) -> None:
    # The wall: every migration warned, with no way to say the runner sets it.
    found = _check_project(tmp_path, "pg_version = 16")
    assert [path for path, _ in found] == [
        "goose/0001_add.sql",
        "flyway/0001_add.sql",
        "flyway/0002_reset.sql",
    ]
    assert "`lock_timeout_set_by_runner = true` under [tool.bgmigrate]" in found[0][1]


def test_lock_timeout_set_by_runner_true_covers_every_migration(tmp_path) -> None:
    found = _check_project(tmp_path, "lock_timeout_set_by_runner = true")
    # A migration that turns the runner's timeout off is still reported.
    assert [path for path, _ in found] == ["flyway/0002_reset.sql"]


def test_lock_timeout_set_by_runner_paths_cover_only_those_migrations(tmp_path) -> None:
    found = _check_project(tmp_path, 'lock_timeout_set_by_runner = ["goose"]')
    assert [path for path, _ in found] == ["flyway/0001_add.sql", "flyway/0002_reset.sql"]


def test_lock_timeout_set_by_runner_of_the_wrong_type_is_a_config_error(tmp_path) -> None:
    import pytest

    from bgmigrate.check.runner import CheckProblem

    with pytest.raises(CheckProblem, match="'lock_timeout_set_by_runner' must be true, false"):
        _check_project(tmp_path, 'lock_timeout_set_by_runner = "yes"')
