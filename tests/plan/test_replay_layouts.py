"""`--schema-from` on histories laid out by migration tools: the replay reads them as `check`
does (the tool's order, forward parts only, templates substituted, other engines left out) and
runs each migration in the tool's transaction mode. Every history below fails to replay, or
builds another schema, when its files run whole in filename order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bgmigrate.cli.app import app, mount_plan_and_execute
from bgmigrate.plan.identifiers import QualifiedName
from bgmigrate.plan.introspect import SchemaSourceError
from bgmigrate.plan.replay import schema_from_paths
from bgmigrate.plan.schema import Schema

GOOSE = {
    "db/migrations/00001_create_accounts.sql": """\
-- +goose Up
CREATE TABLE accounts (id bigint PRIMARY KEY, name text);
-- +goose StatementBegin
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION touch();
DROP TABLE accounts;
""",
    "db/migrations/00002_index_name.sql": """\
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);

-- +goose Down
DROP INDEX CONCURRENTLY accounts_name_idx;
""",
    "db/migrations/00010_add_owner.sql": """\
-- +goose Up
ALTER TABLE accounts ADD COLUMN owner text;

-- +goose Down
ALTER TABLE accounts DROP COLUMN owner;
CREATE TABLE down_ran (id int);
""",
    "db/migrations/00011_seed.go": "package migrations\n",
}
DIESEL = {
    "migrations/00000000000000_diesel_initial_setup/up.sql": (
        "CREATE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$\n"
        "BEGIN\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n"
    ),
    "migrations/00000000000000_diesel_initial_setup/down.sql": (
        "DROP FUNCTION diesel_set_updated_at();\n"
    ),
    "migrations/2023-01-10-120000_create_posts/up.sql": (
        "CREATE TABLE posts (id bigserial PRIMARY KEY, title text NOT NULL, body text);\n"
    ),
    "migrations/2023-01-10-120000_create_posts/down.sql": "DROP TABLE posts;\n",
    "migrations/2023-02-01-090000_index_title/up.sql": (
        "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);\n"
    ),
    "migrations/2023-02-01-090000_index_title/metadata.toml": "run_in_transaction = false\n",
    "migrations/2023-02-01-090000_index_title/down.sql": "DROP INDEX posts_title_idx;\n",
    "migrations/2023-03-05-080000_rename_body/up.sql": (
        "ALTER TABLE posts RENAME COLUMN body TO content;\n"
    ),
    "migrations/2023-03-05-080000_rename_body/down.sql": (
        "ALTER TABLE posts RENAME COLUMN content TO body;\nCREATE TABLE down_ran (id int);\n"
    ),
}
DBMATE = {
    "db/migrations/20230101000000_create_events.sql": """\
-- migrate:up
CREATE TABLE events (id bigint PRIMARY KEY, kind text);

-- migrate:down
DROP TABLE events;
""",
    "db/migrations/20230201000000_index_kind.sql": """\
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);

-- migrate:down
DROP INDEX events_kind_idx;
""",
    "db/migrations/20230301000000_rename_kind.sql": """\
-- migrate:up
ALTER TABLE events RENAME COLUMN kind TO type;

-- migrate:down
ALTER TABLE events RENAME COLUMN type TO kind;
CREATE TABLE down_ran (id int);
""",
}
_FLYWAY = "src/main/resources/db/migration"
FLYWAY = {
    f"{_FLYWAY}/V1__create_customers.sql": (
        "CREATE TABLE ${schema}.customers (id bigint PRIMARY KEY, email text NOT NULL);\n"
    ),
    f"{_FLYWAY}/V1_9__add_phone.sql": "ALTER TABLE ${schema}.customers ADD COLUMN phone text;\n",
    f"{_FLYWAY}/U1_9__add_phone.sql": (
        "ALTER TABLE ${schema}.customers DROP COLUMN phone;\nCREATE TABLE down_ran (id int);\n"
    ),
    # Version 1.10 comes after 1.9, though `V1_10` sorts before `V1_9` by name.
    f"{_FLYWAY}/release_1_1/V1_10__index_phone.sql": (
        "CREATE INDEX CONCURRENTLY customers_phone_idx ON ${schema}.customers (phone);\n"
    ),
    f"{_FLYWAY}/release_1_1/V1_10__index_phone.sql.conf": "executeInTransaction=false\n",
}
POPX = {
    "migrations/20210101000000_identities.up.sql": (
        "CREATE TABLE identities (id uuid PRIMARY KEY, traits jsonb NOT NULL);\n"
    ),
    "migrations/20210101000000_identities.down.sql": "DROP TABLE identities;\n",
    "migrations/20210201000000_identity_state.up.sql": (
        "ALTER TABLE identities ADD COLUMN state text;\n"
    ),
    "migrations/20210201000000_identity_state.postgres.up.sql": (
        "ALTER TABLE identities ADD COLUMN state text NOT NULL DEFAULT 'active';\n"
    ),
    "migrations/20210201000000_identity_state.mysql.up.sql": (
        "ALTER TABLE identities ADD COLUMN state VARCHAR(16) NOT NULL, ALGORITHM=INPLACE;\n"
    ),
    "migrations/20210201000000_identity_state.down.sql": (
        "ALTER TABLE identities DROP COLUMN state;\n"
    ),
    "migrations/20210301000000_index_state.postgres.autocommit.up.sql": (
        "CREATE INDEX CONCURRENTLY identities_state_idx ON identities (state);\n"
    ),
    "migrations/20210401000000_messages.up.sql": (
        '{{ if eq .Dialect "postgres" }}\n'
        'CREATE TABLE {{ index .Options "Namespace" }}.courier_messages (id uuid PRIMARY KEY);\n'
        "{{ end }}\n"
    ),
}
LIQUIBASE = {
    "src/main/resources/db/changelog/db.changelog-master.xml": """\
<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
    <changeSet id="1" author="alice">
        <createTable tableName="customers">
            <column name="id" type="bigint"><constraints primaryKey="true"/></column>
            <column name="email" type="varchar(255)"><constraints nullable="false"/></column>
        </createTable>
        <rollback><dropTable tableName="customers"/></rollback>
    </changeSet>
    <changeSet id="2" author="alice">
        <addColumn tableName="customers">
            <column name="phone" type="varchar(32)"/>
        </addColumn>
        <rollback>
            ALTER TABLE customers DROP COLUMN phone;
            CREATE TABLE down_ran (id int);
        </rollback>
    </changeSet>
    <changeSet id="3" author="bob" runInTransaction="false">
        <sql>CREATE INDEX CONCURRENTLY customers_phone_idx ON customers (phone)</sql>
    </changeSet>
    <changeSet id="4" author="bob" dbms="mysql">
        <sql>ALTER TABLE customers ADD COLUMN nickname VARCHAR(16), ALGORITHM=INPLACE</sql>
    </changeSet>
</databaseChangeLog>
""",
}

PUBLIC = "public"


def _expect_goose(schema: Schema) -> None:
    accounts = _table(schema, "accounts")
    assert [column.name for column in accounts.columns] == ["id", "name", "owner"]
    assert "accounts_name_idx" in _indexes(schema, "accounts")


def _expect_diesel(schema: Schema) -> None:
    posts = _table(schema, "posts")
    assert [column.name for column in posts.columns] == ["id", "title", "content"]
    assert "posts_title_idx" in _indexes(schema, "posts")


def _expect_dbmate(schema: Schema) -> None:
    assert [column.name for column in _table(schema, "events").columns] == ["id", "type"]
    assert "events_kind_idx" in _indexes(schema, "events")


def _expect_flyway(schema: Schema) -> None:
    # `${schema}` reads `schema_`, as `check` parses it: the replay makes that schema.
    customers = schema.table(QualifiedName("schema_", "customers"))
    assert [column.name for column in customers.columns] == ["id", "email", "phone"]
    assert "customers_phone_idx" in _indexes(schema, "customers", "schema_")


def _expect_popx(schema: Schema) -> None:
    identities = _table(schema, "identities")
    assert [column.name for column in identities.columns] == ["id", "traits", "state"]
    assert identities.column("state").not_null  # the postgres file, not the neutral one
    assert "identities_state_idx" in _indexes(schema, "identities")
    assert QualifiedName("namespace_", "courier_messages") in schema.tables


def _expect_liquibase(schema: Schema) -> None:
    customers = _table(schema, "customers")
    assert [column.name for column in customers.columns] == ["id", "email", "phone"]
    assert "customers_phone_idx" in _indexes(schema, "customers")


HISTORIES = {
    "goose": (GOOSE, "db/migrations", _expect_goose),
    "diesel": (DIESEL, "migrations", _expect_diesel),
    "dbmate": (DBMATE, "db/migrations", _expect_dbmate),
    "flyway": (FLYWAY, _FLYWAY, _expect_flyway),
    "popx": (POPX, "migrations", _expect_popx),
    "liquibase": (LIQUIBASE, "src/main/resources/db/changelog", _expect_liquibase),
}
# A statement of the next migration that needs the forward parts' schema, per history.
NEXT_MIGRATION = {
    "goose": "ALTER TABLE accounts DROP COLUMN owner;",
    "diesel": "ALTER TABLE posts ALTER COLUMN content SET NOT NULL;",
    "dbmate": "ALTER TABLE events DROP COLUMN type;",
    "flyway": "ALTER TABLE schema_.customers DROP COLUMN phone;",
    "popx": "ALTER TABLE identities ALTER COLUMN state DROP DEFAULT;",
    "liquibase": "ALTER TABLE customers DROP COLUMN phone;",
}
# A column the forward parts add, for `plan rename`.
ADDED_COLUMN = {
    "goose": "accounts.owner",
    "diesel": "posts.content",
    "dbmate": "events.type",
    "flyway": "customers.phone",
    "popx": "identities.state",
    "liquibase": "customers.phone",
}


def _history(root: Path, tool: str) -> Path:
    files, directory, _ = HISTORIES[tool]
    for name, text in files.items():
        path = root / tool / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / tool / directory


def _table(schema: Schema, name: str):
    return schema.table(QualifiedName(PUBLIC, name))


def _indexes(schema: Schema, table: str, namespace: str = PUBLIC) -> set[str]:
    return {index.name.name for index in schema.table(QualifiedName(namespace, table)).indexes}


@pytest.mark.parametrize("tool", HISTORIES)
def test_a_tools_history_replays_its_forward_parts_in_its_order(tool, tmp_path, pg_dsn):
    schema = schema_from_paths([_history(tmp_path, tool)], server_dsn=pg_dsn)
    HISTORIES[tool][2](schema)
    assert QualifiedName(PUBLIC, "down_ran") not in schema.tables  # no down part ran


def test_a_sqitch_project_replays_deploy_scripts_in_plan_order_not_revert(pg_dsn):
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "layouts" / "sqitch"
    schema = schema_from_paths([fixtures], server_dsn=pg_dsn)
    users = schema.table(QualifiedName("flipr", "users"))
    assert users.has_column("created_at")  # deploy/users.sql renamed it; revert/ did not run
    assert not users.has_column("timestamp")
    assert QualifiedName("flipr", "flips") in schema.tables


def test_a_migration_the_tool_wraps_in_a_transaction_fails_as_it_would(tmp_path, pg_dsn):
    """goose wraps each migration: CONCURRENTLY without `NO TRANSACTION` fails there."""
    history = _history(tmp_path, "goose")
    (history / "00012_index_owner.sql").write_text(
        "-- +goose Up\nCREATE INDEX CONCURRENTLY accounts_owner_idx ON accounts (owner);\n"
    )
    with pytest.raises(
        SchemaSourceError,
        match=r"00012_index_owner\.sql:2 failed: CREATE INDEX CONCURRENTLY cannot run inside a "
        "transaction block",
    ):
        schema_from_paths([history], server_dsn=pg_dsn)


def test_a_foreign_role_in_a_wrapped_migration_is_left_out(tmp_path, pg_dsn):
    history = _history(tmp_path, "dbmate")
    (history / "20230401000000_grant.sql").write_text(
        "-- migrate:up\nGRANT SELECT ON events TO no_such_role;\n"
        "ALTER TABLE events ADD COLUMN source text;\n-- migrate:down\n"
    )
    schema = schema_from_paths([history], server_dsn=pg_dsn)
    assert _table(schema, "events").has_column("source")


def _cli(*args: str):
    mount_plan_and_execute()
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("tool", HISTORIES)
def test_plan_schema_from_plans_against_the_forward_schema(tool, tmp_path, monkeypatch):
    history = _history(tmp_path, tool)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    column = ADDED_COLUMN[tool]
    result = _cli(
        "plan", "rename", column, "renamed", "--schema-from", str(history), "--format", "text"
    )
    assert result.exit_code == 0, result.stderr
    table, name = column.split(".")
    namespace = "schema_" if tool == "flyway" else PUBLIC
    assert result.stdout.startswith(
        f"plan rename-{table}-{name}: rename-column {namespace}.{column} → renamed"
    )


@pytest.mark.parametrize("tool", HISTORIES)
def test_trace_schema_from_runs_the_next_migration_on_the_forward_schema(
    tool, tmp_path, monkeypatch, pg_dsn
):
    history = _history(tmp_path, tool)
    monkeypatch.chdir(tmp_path)
    proposed = tmp_path / "next.sql"
    proposed.write_text(NEXT_MIGRATION[tool] + "\n")
    result = _cli(
        "trace", str(proposed), "--schema-from", str(history), "--format", "json", "--dsn", pg_dsn
    )
    assert result.exit_code == 0, result.stderr
    statements = json.loads(result.stdout)["statements"]
    assert [(s["sql"], s["error"]) for s in statements] == [(NEXT_MIGRATION[tool][:-1], None)]


def test_a_changelog_that_does_not_parse_stops_the_replay(tmp_path, pg_dsn):
    history = _history(tmp_path, "liquibase")
    master = history / "db.changelog-master.xml"
    master.write_text(master.read_text().replace("</databaseChangeLog>", ""))
    with pytest.raises(
        SchemaSourceError, match=r"db\.changelog-master\.xml: Liquibase cannot read this changelog"
    ):
        schema_from_paths([history], server_dsn=pg_dsn)


def test_plan_reads_the_history_with_the_config_it_is_given(tmp_path, monkeypatch):
    """`assume_in_transaction`: the runner wraps each plain file, as `check` assumes."""
    history = tmp_path / "migrations"
    history.mkdir()
    (history / "1_users.sql").write_text("CREATE TABLE users (id int PRIMARY KEY, email text);\n")
    (history / "2_index.sql").write_text(
        "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"
    )
    config = tmp_path / "settings" / "bgmigrate.toml"
    config.parent.mkdir()
    config.write_text("assume_in_transaction = true\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    plain = _cli("plan", "rename", "users.email", "mail", "--schema-from", str(history))
    assert plain.exit_code == 0, plain.stderr
    wrapped = _cli(
        "plan",
        "rename",
        "users.email",
        "mail",
        "--schema-from",
        str(history),
        "--config",
        str(config),
    )
    assert wrapped.exit_code == 2
    assert (
        "2_index.sql:1 failed: CREATE INDEX CONCURRENTLY cannot run inside a transaction block"
        in (wrapped.stderr)
    )


def test_a_dump_in_a_plain_directory_replays_without_its_meta_commands_and_roles(tmp_path, pg_dsn):
    (tmp_path / "0_schema.sql").write_text(
        "\\restrict abc123\n"
        "CREATE TABLE public.users (id integer NOT NULL, email text);\n"
        "ALTER TABLE public.users OWNER TO someone_else;\n"
        "\\unrestrict abc123\n"
    )
    (tmp_path / "1_phone.sql").write_text(
        "BEGIN;\nALTER TABLE users ADD COLUMN phone text;\n"
        "GRANT SELECT ON users TO app_reader;\nCOMMIT;\n"
    )
    schema = schema_from_paths([tmp_path], server_dsn=pg_dsn)
    assert [column.name for column in _table(schema, "users").columns] == ["id", "email", "phone"]
