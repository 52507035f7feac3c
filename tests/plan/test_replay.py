from pathlib import Path

import pytest

from bgmigrate.plan.identifiers import QualifiedName
from bgmigrate.plan.introspect import SchemaSourceError
from bgmigrate.plan.replay import schema_from_paths

USERS = QualifiedName("public", "users")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_replaying_the_fixture_migrations_gives_their_final_schema(pg_dsn):
    schema = schema_from_paths([FIXTURES / "sql_app" / "migrations"], server_dsn=pg_dsn)
    users = schema.table(USERS)
    assert not users.has_column("legacy_flag")  # dropped by the last migration
    assert users.column("name").not_null  # SET NOT NULL through the validated check
    orders = schema.table(QualifiedName("public", "orders"))
    assert "orders_created_at_idx" in {index.name.name for index in orders.indexes}


def test_a_pg_dump_file_with_psql_meta_commands_and_foreign_roles_replays(tmp_path, pg_dsn):
    dump = tmp_path / "schema.sql"
    dump.write_text(
        "\\restrict abc123\n"
        "SET statement_timeout = 0;\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        "CREATE TABLE public.users (id integer NOT NULL, email text);\n"
        "ALTER TABLE public.users OWNER TO someone_else;\n"
        "ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);\n"
        "GRANT SELECT ON TABLE public.users TO app_reader;\n"
        "\\unrestrict abc123\n"
    )
    schema = schema_from_paths([dump], server_dsn=pg_dsn)
    assert schema.table(USERS).primary_key == ("id",)


def test_a_failing_migration_names_its_file_and_line(tmp_path, pg_dsn):
    (tmp_path / "001.sql").write_text(
        "CREATE TABLE a (id int);\n\nALTER TABLE b ADD COLUMN x int;\n"
    )
    with pytest.raises(
        SchemaSourceError, match=r"001\.sql:3 failed: relation \"b\" does not exist"
    ):
        schema_from_paths([tmp_path], server_dsn=pg_dsn)


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(SchemaSourceError, match="no such file or directory"):
        schema_from_paths([tmp_path / "nope"])


def test_an_empty_directory_says_what_it_looked_for(tmp_path, pg_dsn):
    with pytest.raises(
        SchemaSourceError,
        match=r"holds no migrations \(SQL files, Alembic revisions or Liquibase changelogs\)",
    ):
        schema_from_paths([tmp_path], server_dsn=pg_dsn)


@pytest.mark.parametrize("where", ["alembic_app", "alembic_app/alembic.ini"])
def test_an_alembic_project_replays_to_its_heads(where, pg_dsn):
    schema = schema_from_paths([FIXTURES / where], server_dsn=pg_dsn)
    assert USERS in schema.tables
    assert "alembic_version" not in {name.name for name in schema.tables}
