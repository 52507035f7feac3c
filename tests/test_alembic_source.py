"""The Alembic source: revisions → units whose statements point at the `op.…` calls."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from python_versions import INSTRUCTION_POSITIONS

from bgmigrate.source.alembic import (
    DATA_BLIND_REVISION,
    UNANALYSABLE_REVISION,
    alembic_units,
    find_project,
    read_revision,
    replay_alembic,
)
from bgmigrate.source.alembic.graph import order_revisions
from bgmigrate.source.errors import SourceError
from bgmigrate.source.unit import Phase, Unit, UnitKind

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "alembic_app"
VERSIONS = APP / "migrations" / "versions"

# Each fixture revision's statements: (line, column, end line, end column) of the `op.` call,
# the transaction block, and the SQL exactly as rendered.
EXPECTED = {
    "0001_create_users": [
        (
            (19, 5, 25, 5),
            1,
            "CREATE TABLE users (\n    id SERIAL NOT NULL, \n    email VARCHAR(255) NOT NULL, \n"
            "    name TEXT, \n    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, \n"
            "    PRIMARY KEY (id)\n)",
        ),
        ((26, 5, 26, 70), 1, "CREATE UNIQUE INDEX ix_users_email ON users (email)"),
    ],
    "0002_add_nickname": [
        ((19, 5, 19, 80), 1, "ALTER TABLE users ADD COLUMN nickname VARCHAR(100)"),
    ],
    "0003_index_users_name": [
        ((20, 5, 20, 55), 1, "CREATE INDEX ix_users_name ON users (name)"),
    ],
    "0004_index_users_email_lower": [
        (
            (20, 9, 25, 9),
            None,
            "CREATE INDEX CONCURRENTLY ix_users_email_lower ON users (lower(email))",
        ),
    ],
    "0005_add_api_token": [
        (
            (20, 5, 28, 5),
            1,
            "ALTER TABLE users ADD COLUMN api_token UUID DEFAULT gen_random_uuid() NOT NULL",
        ),
    ],
    "0006_add_status": [
        ((19, 5, 19, 78), 1, "ALTER TABLE users ADD COLUMN status VARCHAR(20) NOT NULL"),
    ],
    "0007_rename_nickname": [
        ((19, 5, 19, 72), 1, "ALTER TABLE users RENAME nickname TO display_name"),
    ],
    "0008_orders": [
        (
            (19, 5, 24, 5),
            1,
            "CREATE TABLE orders (\n    id SERIAL NOT NULL, \n    user_id INTEGER NOT NULL, \n"
            "    total NUMERIC(10, 2) NOT NULL, \n    PRIMARY KEY (id)\n)",
        ),
    ],
    "0009_audit_log": [
        (
            (19, 5, 25, 5),
            1,
            "CREATE TABLE audit_log (\n    id SERIAL NOT NULL, \n    user_id INTEGER NOT NULL, \n"
            "    action VARCHAR(50) NOT NULL, \n    note TEXT, \n    PRIMARY KEY (id)\n)",
        ),
    ],
    "0010_merge": [],
    "0011_backfill_display_name": [
        (
            (20, 15, 24, 5),
            1,
            "SELECT coalesce(mode() WITHIN GROUP (ORDER BY display_name), 'customer') FROM users",
        ),
        (
            (25, 5, 28, 5),
            1,
            "UPDATE users SET display_name = 'customer' WHERE display_name IS NULL",
        ),
    ],
    "0012_full_name": [
        ((19, 5, 19, 54), 1, "DROP INDEX ix_users_name"),
        ((20, 5, 20, 35), 1, "ALTER TABLE users DROP COLUMN name"),
        ((21, 5, 21, 76), 1, "ALTER TABLE users ADD COLUMN full_name TEXT"),
    ],
    "0013_drop_audit_note": [
        ((21, 5, 21, 39), 1, "ALTER TABLE audit_log DROP COLUMN note"),
    ],
    "0014_orders_user_fk": [
        (
            (19, 5, 19, 86),
            1,
            "ALTER TABLE orders ADD CONSTRAINT fk_orders_user_id FOREIGN KEY(user_id) "
            "REFERENCES users (id)",
        ),
    ],
    "0015_orders_batch": [
        (
            (20, 9, 20, 82),
            1,
            "ALTER TABLE orders ADD COLUMN shipped_at TIMESTAMP WITHOUT TIME ZONE",
        ),
        ((21, 9, 21, 63), 1, "CREATE INDEX ix_orders_user_id ON orders (user_id)"),
    ],
    "0016_orders_total_index": [
        ((20, 5, 20, 59), 1, "CREATE INDEX ix_orders_total ON orders (total)"),
    ],
}


@pytest.fixture(scope="module")
def app_units(pg_dsn: str) -> dict[str, Unit]:
    """The fixture project's units by revision file stem, rendered once for the module."""
    return {Path(unit.path).stem: unit for unit in alembic_units([APP], dsn=pg_dsn)}


def write_revision(
    directory: Path, revision: str, body: str, *, down: str | None = None, head: str = ""
) -> Path:
    """A revision file `revision.py` whose `upgrade()` runs `body`; `head` goes above it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{revision}.py"
    path.write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n"
        + textwrap.dedent(head)
        + f"\nrevision = {revision!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )
    return path


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` that contains `text`."""
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def sqlalchemy_url(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = conninfo_to_dict(dsn)
    query = {key: str(params[key]) for key in ("host", "port") if params.get(key)}
    url = URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=params.get("password") or None,
        database=params.get("dbname"),
        query=query,
    )
    return url.render_as_string(hide_password=False)


def alembic_upgrade(project: Path, dsn: str) -> subprocess.CompletedProcess[str]:
    """`alembic upgrade head` for real, through the project's own env.py."""
    config = str(project / "alembic.ini")
    url = f"url={sqlalchemy_url(dsn)}"
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", config, "-x", url, "upgrade", "head"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def columns(dsn: str, table: str) -> list[str]:
    import psycopg

    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    return [row[0] for row in rows]


# Rendering: statements, SQL and the `.py` line of the call that produced each


@pytest.mark.parametrize("revision", sorted(EXPECTED))
def test_fixture_revision_renders_each_statement_at_its_op_call(
    app_units: dict[str, Unit], revision: str
) -> None:
    unit = app_units[revision]
    rendered = [
        (
            (s.location.line, s.location.column, s.location.end_line, s.location.end_column),
            s.transaction,
            s.sql,
        )
        for s in unit.statements
    ]
    expected = EXPECTED[revision]
    if not INSTRUCTION_POSITIONS:
        # Python 3.10 places a call by its line and start alone: where its last line ends
        # is not known there.
        rendered = [((*place[:3], 0), *rest) for place, *rest in rendered]
        expected = [((*place[:3], 0), *rest) for place, *rest in expected]
    assert rendered == expected
    assert unit.kind is UnitKind.ALEMBIC
    assert unit.problems == []
    assert [s.index for s in unit.statements] == list(range(len(unit.statements)))
    assert all(s.path == unit.path for s in unit.statements)


def test_unit_keeps_the_revision_text_for_reports(app_units: dict[str, Unit]) -> None:
    unit = app_units["0007_rename_nickname"]
    assert unit.text == (VERSIONS / "0007_rename_nickname.py").read_text()
    assert 'op.alter_column("users", "nickname"' in unit.text.splitlines()[18]


def test_batch_alter_table_statements_point_at_their_batch_op_lines(
    app_units: dict[str, Unit],
) -> None:
    # Alembic runs a batch's operations when the `with` block ends (line 19); each statement
    # still points at the batch_op call that asked for it.
    path = VERSIONS / "0015_orders_batch.py"
    lines = [s.location.line for s in app_units["0015_orders_batch"].statements]
    assert lines == [
        line_of(path, "batch_op.add_column"),
        line_of(path, "batch_op.create_index"),
    ]


def test_statements_inside_autocommit_block_run_outside_the_transaction(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        op.add_column("users", sa.Column("a", sa.Integer()))
        with op.get_context().autocommit_block():
            op.create_index("ix_a", "users", ["a"], postgresql_concurrently=True)
            op.execute("ALTER TYPE mood ADD VALUE 'meh'")
        op.add_column("users", sa.Column("b", sa.Integer()))
        """,
    )
    (unit,) = alembic_units([path])
    assert [(s.sql, s.transaction) for s in unit.statements] == [
        ("ALTER TABLE users ADD COLUMN a INTEGER", 1),
        ("CREATE INDEX CONCURRENTLY ix_a ON users (a)", None),
        ("ALTER TYPE mood ADD VALUE 'meh'", None),
        # Alembic commits before the block and begins a new transaction after it.
        ("ALTER TABLE users ADD COLUMN b INTEGER", 2),
    ]


def test_explicit_commit_in_raw_sql_ends_the_revision_transaction(tmp_path: Path) -> None:
    # The old idiom before CONCURRENTLY: with psycopg2 the statements after it run outside
    # any transaction block, as after COMMIT in a SQL file.
    path = write_revision(
        tmp_path,
        "r1",
        """
        op.add_column("users", sa.Column("a", sa.Integer()))
        op.execute("COMMIT")
        op.create_index("ix_a", "users", ["a"], postgresql_concurrently=True)
        """,
    )
    (unit,) = alembic_units([path])
    assert [s.transaction for s in unit.statements] == [1, 1, None]


def test_concurrently_outside_autocommit_block_is_in_the_transaction_and_fails_for_real(
    tmp_path: Path, fresh_db: str
) -> None:
    project = tmp_path / "alembic_app"
    shutil.copytree(APP, project, ignore=shutil.ignore_patterns("__pycache__"))
    path = write_revision(
        project / "migrations" / "versions",
        "0017_index_orders_shipped",
        """
        op.create_index(
            "ix_orders_shipped_at", "orders", ["shipped_at"], postgresql_concurrently=True
        )
        """,
        down="0016_orders_total_index",
    )
    (unit,) = alembic_units([path])
    (statement,) = unit.statements
    assert statement.sql == "CREATE INDEX CONCURRENTLY ix_orders_shipped_at ON orders (shipped_at)"
    assert statement.transaction == 1
    assert statement.location.line == line_of(path, "op.create_index(")

    result = alembic_upgrade(project, fresh_db)
    assert result.returncode != 0
    assert "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in result.stderr
    assert "0016_orders_total_index -> 0017_index_orders_shipped" in result.stderr


def test_execute_with_several_statements_gives_each_the_call_location(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        op.execute(
            \"\"\"
            SET lock_timeout = '2s';
            -- the old app still reads nickname
            UPDATE users SET status = 'a;b' WHERE status IS NULL;
            \"\"\"
        )
        """,
    )
    (unit,) = alembic_units([path])
    call = line_of(path, "op.execute(")
    assert [(s.sql, s.location.line, s.location.end_line) for s in unit.statements] == [
        ("SET lock_timeout = '2s'", call, call + 6),
        ("UPDATE users SET status = 'a;b' WHERE status IS NULL", call, call + 6),
    ]


def test_raw_sql_keeps_percent_signs_and_casts(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        op.execute("UPDATE users SET name = name || '%' WHERE id::text LIKE '1%'")
        """,
    )
    (unit,) = alembic_units([path])
    assert [s.sql for s in unit.statements] == [
        "UPDATE users SET name = name || '%' WHERE id::text LIKE '1%'"
    ]


def test_bound_values_render_as_literals_or_numbered_parameters(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        users = sa.table("users", sa.column("status", sa.String()))
        op.execute(users.update().values(status="active"))
        op.execute(sa.text("UPDATE users SET status = :status WHERE id = :id"))
        op.execute(sa.text("UPDATE users SET status = :s WHERE name LIKE '5%' AND id = :id"))
        """,
    )
    (unit,) = alembic_units([path])
    assert [s.sql for s in unit.statements] == [
        "UPDATE users SET status='active'",
        # No value to render: placeholders PostgreSQL's parser accepts.
        "UPDATE users SET status = $1 WHERE id = $2",
        "UPDATE users SET status = $1 WHERE name LIKE '5%' AND id = $2",
    ]


def test_statement_in_a_helper_function_points_at_the_op_call_in_the_helper(
    tmp_path: Path,
) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        for table in ("users", "orders"):
            _add_updated_at(table)
        """,
        head="""

        def _add_updated_at(table):
            op.add_column(table, sa.Column("updated_at", sa.DateTime()))
        """,
    )
    (unit,) = alembic_units([path])
    helper_line = line_of(path, "op.add_column(table")
    assert [(s.sql, s.location.line) for s in unit.statements] == [
        ("ALTER TABLE users ADD COLUMN updated_at TIMESTAMP WITHOUT TIME ZONE", helper_line),
        ("ALTER TABLE orders ADD COLUMN updated_at TIMESTAMP WITHOUT TIME ZONE", helper_line),
    ]


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        note = "café"; op.execute(f"COMMENT ON TABLE users IS '{note}'")
        """,
    )
    (unit,) = alembic_units([path])
    (statement,) = unit.statements
    line = path.read_text().splitlines()[statement.location.line - 1]
    assert line[statement.location.column - 1 :].startswith("op.execute(")
    assert line[statement.location.end_column - 1] == ")"


def test_revision_output_reaches_neither_stdout_nor_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        'print("migrating users")\nprint("Traceback (most recent call last):", file=sys.stderr)'
        '\nop.drop_table("legacy")',
        head="import sys\n",
    )
    (unit,) = alembic_units([path])
    assert [s.sql for s in unit.statements] == ["DROP TABLE legacy"]
    assert capsys.readouterr() == ("", "")


def test_revision_asking_alembic_context_for_offline_mode_renders(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        if context.is_offline_mode():
            op.execute("UPDATE users SET status = 'active'")
        """,
        head="from alembic import context\n",
    )
    (unit,) = alembic_units([path])
    assert [s.sql for s in unit.statements] == ["UPDATE users SET status = 'active'"]


# Revisions that need a database


def test_revision_reading_rows_is_replayed_and_its_sql_captured(
    app_units: dict[str, Unit],
) -> None:
    # Offline, `bind.execute(…)` returns nothing to read; replayed on PostgreSQL after its
    # ancestors, the revision reads 'customer' and updates with it as a bound value.
    unit = app_units["0011_backfill_display_name"]
    path = VERSIONS / "0011_backfill_display_name.py"
    assert [(s.location.line, s.sql) for s in unit.statements] == [
        (
            line_of(path, "default = bind.execute("),
            "SELECT coalesce(mode() WITHIN GROUP (ORDER BY display_name), 'customer') FROM users",
        ),
        (
            line_of(path, "    bind.execute("),
            "UPDATE users SET display_name = 'customer' WHERE display_name IS NULL",
        ),
    ]


def test_replay_captures_statements_but_not_sqlalchemy_introspection(
    tmp_path: Path, pg_dsn: str
) -> None:
    write_revision(
        tmp_path,
        "r1",
        'op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))',
    )
    path = write_revision(
        tmp_path,
        "r2",
        """
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
        if "email" not in columns:
            op.add_column("users", sa.Column("email", sa.Text()))
        """,
        down="r1",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert unit.problems == []
    assert [(s.sql, s.location.line, s.transaction) for s in unit.statements] == [
        ("ALTER TABLE users ADD COLUMN email TEXT", line_of(path, "op.add_column"), 1)
    ]


def test_commit_on_the_connection_starts_a_new_transaction(tmp_path: Path) -> None:
    # Warehouse's idiom before an autocommit block; SQLAlchemy begins a new transaction on
    # the next statement.
    path = write_revision(
        tmp_path,
        "r1",
        """
        op.add_column("users", sa.Column("a", sa.Integer()))
        op.get_bind().commit()
        op.add_column("users", sa.Column("b", sa.Integer()))
        """,
    )
    (unit,) = alembic_units([path])
    assert [s.transaction for s in unit.statements] == [1, 2]


def test_replay_survives_extensions_and_function_bodies_the_server_lacks(
    tmp_path: Path, pg_dsn: str
) -> None:
    write_revision(
        tmp_path,
        "r1",
        """
        op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        op.execute(
            "CREATE FUNCTION bucket(t text) RETURNS text LANGUAGE sql "
            "AS $$ SELECT substr(encode(some_extension_hash(t), 'hex'), 1, 1) $$"
        )
        op.create_table("projects", sa.Column("name", sa.Text()))
        """,
    )
    path = write_revision(
        tmp_path,
        "r2",
        """
        if op.get_bind().execute(sa.text("SELECT count(*) FROM projects")).scalar() == 0:
            op.add_column("projects", sa.Column("bucket", sa.Text()))
        """,
        down="r1",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert unit.problems == []
    assert [s.sql for s in unit.statements][-1] == "ALTER TABLE projects ADD COLUMN bucket TEXT"


def test_replay_runs_revisions_in_a_transaction_unless_concurrently_needs_none(
    tmp_path: Path, pg_dsn: str
) -> None:
    write_revision(tmp_path, "r1", 'op.create_table("users", sa.Column("email", sa.Text()))')
    write_revision(
        tmp_path,
        "r2",
        """
        op.execute("LOCK TABLE users IN SHARE MODE")  # needs a transaction
        op.add_column("users", sa.Column("name", sa.Text()))
        """,
        down="r1",
    )
    write_revision(
        tmp_path,
        "r3",
        'op.create_index("ix_email", "users", ["email"], postgresql_concurrently=True)',
        down="r2",
    )
    path = write_revision(
        tmp_path,
        "r4",
        """
        rows = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()
        op.execute(f"COMMENT ON TABLE users IS '{rows} users'")
        """,
        down="r3",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert unit.problems == []
    assert [s.sql for s in unit.statements][-1] == "COMMENT ON TABLE users IS '0 users'"


def test_alembic_extensions_that_env_py_imports_are_active(tmp_path: Path) -> None:
    # An extension registers operations on import (alembic_postgresql_enum adds
    # op.sync_enum_values); env.py imports it, revisions only call it.
    (tmp_path / "alembic_shout.py").write_text(
        textwrap.dedent(
            """
            from alembic.operations import MigrateOperation, Operations

            @Operations.register_operation("shout")
            class ShoutOp(MigrateOperation):
                def __init__(self, text):
                    self.text = text

                @classmethod
                def shout(cls, operations, text):
                    return operations.invoke(cls(text))

            @Operations.implementation_for(ShoutOp)
            def shout(operations, operation):
                operations.execute(f"NOTIFY shouts, '{operation.text.upper()}'")
            """
        )
    )
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    script_dir = tmp_path / "migrations"
    script_dir.mkdir()
    (script_dir / "env.py").write_text("import alembic_shout  # noqa: F401\n")
    path = write_revision(script_dir / "versions", "r1", 'op.shout("hello")')
    (unit,) = alembic_units([path])
    assert unit.problems == []
    assert [s.sql for s in unit.statements] == ["NOTIFY shouts, 'HELLO'"]


def test_migrations_in_a_plain_folder_inside_the_package_find_the_package(
    tmp_path: Path,
) -> None:
    # Netflix/dispatch keeps them in src/dispatch/database/revisions/tenant/versions.
    package = tmp_path / "src" / "shop"
    revisions = package / "db" / "revisions" / "tenant"
    (revisions / "versions").mkdir(parents=True)
    for directory in (package, package / "db", package / "db" / "revisions"):
        (directory / "__init__.py").write_text("")
    (package / "types.py").write_text("import sqlalchemy as sa\nMONEY = sa.Numeric(12, 2)\n")
    (revisions / "env.py").write_text("")
    path = write_revision(
        revisions / "versions",
        "r1",
        'op.add_column("orders", sa.Column("total", MONEY))',
        head="from shop.types import MONEY\n",
    )
    (unit,) = alembic_units([path])
    assert unit.problems == []


def test_revision_using_a_module_only_env_py_imports_renders(tmp_path: Path) -> None:
    # Prefect's revisions call prefect.server.utilities.database.UUID() after `import prefect`:
    # only env.py's imports make the submodule an attribute.
    package = tmp_path / "shop"
    (package / "db" / "versions").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (package / "__init__.py").write_text("")
    (package / "types.py").write_text("import sqlalchemy as sa\nMONEY = sa.Numeric(12, 2)\n")
    (package / "db" / "env.py").write_text("from alembic import context\nimport shop.types\n")
    path = write_revision(
        package / "db" / "versions",
        "r1",
        'op.add_column("orders", sa.Column("total", shop.types.MONEY))',
        head="import shop\n",
    )
    (unit,) = alembic_units([path])
    assert unit.problems == []
    assert [s.sql for s in unit.statements] == [
        "ALTER TABLE orders ADD COLUMN total NUMERIC(12, 2)"
    ]


def test_raw_driver_sql_keeps_percent_signs_on_replay(tmp_path: Path, pg_dsn: str) -> None:
    # Prefect runs `exec_driver_sql("… format('%I.%I', …)")` on asyncpg; psycopg would read
    # `%I` as a placeholder were it given parameters.
    write_revision(tmp_path, "r1", 'op.create_table("order", sa.Column("id", sa.Integer()))')
    path = write_revision(
        tmp_path,
        "r2",
        """
        name = op.get_bind().exec_driver_sql("SELECT format('%I', 'order')").scalar()
        op.execute(f"ALTER TABLE {name} ADD COLUMN total numeric")
        """,
        down="r1",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert unit.problems == []
    assert [s.sql for s in unit.statements] == [
        "SELECT format('%I', 'order')",
        'ALTER TABLE "order" ADD COLUMN total numeric',
    ]


def test_session_settings_in_env_py_come_first_in_every_revision(tmp_path: Path) -> None:
    # Warehouse's env.py runs `SET lock_timeout = 4000` on the connection before migrating.
    script_dir = tmp_path / "migrations"
    script_dir.mkdir()
    (script_dir / "env.py").write_text(
        "from sqlalchemy import text\n\n\ndef run(connection):\n"
        '    connection.execute(text("SET lock_timeout = 4000"))\n'
        "    connection.execute(text(\"SET LOCAL statement_timeout = '1s'\"))\n"
    )
    path = write_revision(script_dir / "versions", "r1", 'op.drop_column("users", "name")')
    (unit,) = alembic_units([path])
    setting, drop = unit.statements
    assert (setting.sql, setting.path, setting.transaction) == (
        "SET lock_timeout = 4000",
        str(script_dir / "env.py"),
        None,
    )
    assert (setting.location.line, setting.location.column) == (5, 29)
    assert (drop.sql, drop.path, drop.index, drop.transaction) == (
        "ALTER TABLE users DROP COLUMN name",
        unit.path,
        1,
        1,
    )


def test_application_package_holding_the_migrations_is_importable(tmp_path: Path) -> None:
    package = tmp_path / "src" / "shop"
    (package / "migrations" / "versions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "__init__.py").write_text("")
    (package / "types.py").write_text("import sqlalchemy as sa\nMONEY = sa.Numeric(12, 2)\n")
    (package / "migrations" / "env.py").write_text("")
    path = write_revision(
        package / "migrations" / "versions",
        "r1",
        'op.add_column("orders", sa.Column("total", MONEY))',
        head="from shop.types import MONEY\n",
    )
    (unit,) = alembic_units([path])
    assert unit.problems == []
    assert [s.sql for s in unit.statements] == [
        "ALTER TABLE orders ADD COLUMN total NUMERIC(12, 2)"
    ]


def test_revision_importing_a_missing_module_is_analysed_with_the_type_unknown(
    tmp_path: Path,
) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        'op.add_column("users", sa.Column("tier", tiers.TierType()))',
        head="from shop_legacy import tiers\n",
    )
    (unit,) = alembic_units([path])
    (problem,) = unit.problems
    assert problem.rule == "missing-imports"
    assert problem.message.startswith(
        "This revision was analysed without `shop_legacy` (line 3: ModuleNotFoundError: No "
        "module named 'shop_legacy'): "
    )
    assert problem.message.endswith(
        "`additional_dependencies: [shop_legacy]` under `- id: bgmigrate` in "
        ".pre-commit-config.yaml (in CI, `pip install` them beside bgmigrate)."
    )
    assert problem.location.line == line_of(path, "from shop_legacy")
    (statement,) = unit.statements
    assert statement.sql == (
        'ALTER TABLE users ADD COLUMN tier "<unknown type shop_legacy.tiers.TierType>"'
    )
    assert statement.unknowns == ("type shop_legacy.tiers.TierType",)
    assert statement.location.line == line_of(path, "op.add_column")


def test_revision_handing_op_to_missing_code_is_unanalysable(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path, "r1", "tiers.migrate(op)", head="from shop_legacy import tiers\n"
    )
    (unit,) = alembic_units([path])
    (problem,) = unit.problems
    assert problem.rule == UNANALYSABLE_REVISION
    assert problem.message.startswith(
        "This revision cannot be checked: it passes the migration's `op` or connection to "
        f"`shop_legacy.tiers.migrate`, which could not be imported, so the statements that "
        f"code runs are unknown (line {line_of(path, 'tiers.migrate')}). It ran without what "
        "could not be imported: `shop_legacy` (line 3: ModuleNotFoundError: No module named "
        "'shop_legacy'). To analyse it fully in pre-commit"
    )
    assert problem.location.line == line_of(path, "from shop_legacy")
    assert unit.statements == []


def test_unanalysable_revision_does_not_stop_the_run(tmp_path: Path, pg_dsn: str) -> None:
    write_revision(
        tmp_path,
        "r1",
        'op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))',
    )
    # Offline, replayed, and data-blind (it needs a row that no revision inserts): it fails
    # all three ways.
    broken = write_revision(
        tmp_path,
        "r2",
        """
        bind = op.get_bind()
        ids = [row.id for row in bind.execute(sa.text("SELECT id FROM customers"))]
        op.execute(f"UPDATE users SET id = {ids[0]}")
        """,
        down="r1",
    )
    write_revision(tmp_path, "r3", 'op.drop_table("users")', down="r2")
    units = alembic_units([tmp_path], dsn=pg_dsn)
    assert [Path(u.path).name for u in units] == ["r1.py", "r2.py", "r3.py"]
    (problem,) = units[1].problems
    assert problem.rule == UNANALYSABLE_REVISION
    assert "without a database failed (TypeError" in problem.message
    assert 'relation "customers" does not exist' in problem.message
    blind_line = line_of(broken, "op.execute")
    assert (
        f"run with its reads returning no rows, it failed as well (IndexError: list index out "
        f"of range, line {blind_line})" in problem.message
    )
    assert problem.location.line == line_of(broken, "ids = [row.id")
    assert units[1].statements == []
    assert [s.sql for s in units[2].statements] == ["DROP TABLE users"]


def test_revision_whose_ancestors_cannot_be_replayed_is_analysed_data_blind_saying_why(
    tmp_path: Path, pg_dsn: str
) -> None:
    write_revision(tmp_path, "r1", "raise RuntimeError('needs the billing service')")
    path = write_revision(
        tmp_path,
        "r2",
        "op.get_bind().execute(sa.text('SELECT 1')).scalar()",
        down="r1",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    (problem,) = unit.problems
    assert problem.rule == DATA_BLIND_REVISION
    assert "replaying the earlier revision r1.py failed" in problem.message
    assert "RuntimeError: needs the billing service" in problem.message
    assert [s.sql for s in unit.statements] == ["SELECT 1"]


# Revisions that can be run neither offline nor on a replay: data-blind


def test_revision_reading_a_table_no_revision_creates_is_analysed_data_blind(
    tmp_path: Path, pg_dsn: str
) -> None:
    # indico's pattern: offline mode refused, and the tables read come from the application's
    # create_all, so the replay fails too. Run data-blind, every read returns no rows.
    path = write_revision(
        tmp_path,
        "r1",
        """
        if context.is_offline_mode():
            raise Exception("This upgrade is only possible in online mode")
        conn = op.get_bind()
        conn.execute(sa.text("UPDATE rooms SET note = :note"), {"note": "it's"})
        default_id = conn.execute(sa.text("SELECT id FROM locations WHERE is_default")).scalar()
        if default_id is not None:
            op.execute("UPDATE rooms SET location_id = 1")
        for row in conn.exec_driver_sql(
            "SELECT id FROM rooms WHERE name LIKE 'A%%' AND id != %s", (7,)
        ):
            op.execute(f"UPDATE rooms SET name = 'x' WHERE id = {row.id}")
        labels = sa.table("labels", sa.column("title", sa.Text), sa.column("color", sa.Text))
        conn.execute(labels.insert(), [{"title": "new", "color": "red"}, {"title": "b"}])
        op.create_index("ix_rooms_name", "rooms", ["name"])
        with op.batch_alter_table("rooms") as batch_op:
            batch_op.add_column(sa.Column("capacity", sa.Integer()))
        sa.Enum("small", "large", name="room_size").create(conn, checkfirst=True)
        with conn.connect() as same:  # as Alembic extensions bridging engines and connections
            same.execute(sa.text("DELETE FROM labels WHERE color IS NULL"))
        """,
        head="from alembic import context\n",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert [(s.location.line, s.sql, s.transaction) for s in unit.statements] == [
        (line_of(path, 'conn.execute(sa.text("UPDATE'), "UPDATE rooms SET note = 'it''s'", 1),
        (
            line_of(path, "default_id = "),
            "SELECT id FROM locations WHERE is_default",
            1,
        ),
        (
            line_of(path, "for row in conn"),
            "SELECT id FROM rooms WHERE name LIKE 'A%' AND id != 7",
            1,
        ),
        (
            line_of(path, "conn.execute(labels.insert()"),
            "INSERT INTO labels (title, color) VALUES ('new', 'red')",
            1,
        ),
        (line_of(path, "op.create_index"), "CREATE INDEX ix_rooms_name ON rooms (name)", 1),
        (line_of(path, "batch_op.add_column"), "ALTER TABLE rooms ADD COLUMN capacity INTEGER", 1),
        (line_of(path, "sa.Enum("), "CREATE TYPE room_size AS ENUM ('small', 'large')", 1),
        (line_of(path, "same.execute"), "DELETE FROM labels WHERE color IS NULL", 1),
    ]
    (problem,) = unit.problems
    assert problem.rule == DATA_BLIND_REVISION
    assert problem.location.line == line_of(path, "default_id = ")
    assert (
        f"its reads through `op.get_bind()` returned no rows (the first at line "
        f"{line_of(path, 'default_id = ')}), so branches that depend on data were not "
        "followed" in problem.message
    )
    assert "only possible in online mode" in problem.message
    assert 'relation "rooms" does not exist' in problem.message


def test_data_blind_revision_is_checked_and_says_so(tmp_path: Path, pg_dsn: str) -> None:
    from bgmigrate.check.engine import CheckSettings, check_units, select_rules
    from bgmigrate.rules import CATALOG

    path = write_revision(
        tmp_path,
        "r1",
        """
        if context.is_offline_mode():
            raise Exception("This upgrade is only possible in online mode")
        rows = op.get_bind().execute(sa.text("SELECT id FROM equipment")).fetchall()
        op.create_index("ix_equipment_name", "equipment", ["name"])
        """,
        head="from alembic import context\n",
    )
    result = check_units(
        alembic_units([path], dsn=pg_dsn), CheckSettings(rules=select_rules(CATALOG))
    )
    assert [(f.rule, f.location.line, f.severity.value) for f in result.findings] == [
        ("data-blind-revision", line_of(path, "rows = "), "info"),
        ("create-index-non-concurrently", line_of(path, "op.create_index"), "error"),
        ("require-lock-timeout", line_of(path, "op.create_index"), "warning"),
    ]


def test_revision_that_reads_no_rows_is_data_blind_where_its_replay_failed(
    tmp_path: Path, pg_dsn: str
) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        if context.is_offline_mode():
            raise Exception("online only")
        op.get_bind().execute(sa.text("DELETE FROM settings WHERE module = 'labels'"))
        """,
        head="from alembic import context\n",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    (problem,) = unit.problems
    assert problem.rule == DATA_BLIND_REVISION
    assert "read no rows, so nothing it ran depended on data" in problem.message
    assert 'relation "settings" does not exist' in problem.message
    assert problem.location.line == line_of(path, "DELETE FROM settings")
    assert [s.sql for s in unit.statements] == ["DELETE FROM settings WHERE module = 'labels'"]


def test_revision_refusing_offline_mode_that_replays_is_not_data_blind(
    tmp_path: Path, pg_dsn: str
) -> None:
    write_revision(
        tmp_path,
        "r1",
        'op.create_table("locations", sa.Column("id", sa.Integer(), primary_key=True))',
    )
    path = write_revision(
        tmp_path,
        "r2",
        """
        if context.is_offline_mode():
            raise Exception("This upgrade is only possible in online mode")
        count = op.get_bind().execute(sa.text("SELECT count(*) FROM locations")).scalar()
        op.add_column("locations", sa.Column("rooms", sa.Integer(), server_default=str(count)))
        """,
        down="r1",
        head="from alembic import context\n",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert unit.problems == []
    assert [s.sql for s in unit.statements] == [
        "SELECT count(*) FROM locations",
        "ALTER TABLE locations ADD COLUMN rooms INTEGER DEFAULT '0'",
    ]


def test_data_blind_run_leaves_alembic_as_it_was(tmp_path: Path, pg_dsn: str) -> None:
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext

    before = (Operations.get_bind, EnvironmentContext.get_bind, EnvironmentContext.is_offline_mode)
    path = write_revision(
        tmp_path, "r1", "op.get_bind().execute(sa.text('SELECT 1 FROM nowhere')).first()"
    )
    (blind,) = alembic_units([path], dsn=pg_dsn)
    assert [p.rule for p in blind.problems] == [DATA_BLIND_REVISION]
    after = (Operations.get_bind, EnvironmentContext.get_bind, EnvironmentContext.is_offline_mode)
    assert after == before


# Discovery and order


def test_project_is_found_from_ini_script_dir_versions_dir_and_revision_file() -> None:
    expected = VERSIONS.resolve()
    for path in (
        APP,
        APP / "alembic.ini",
        APP / "migrations",
        VERSIONS,
        VERSIONS / "0003_index_users_name.py",
    ):
        project = find_project(path)
        assert project is not None, path
        assert [d.resolve() for d in project.version_dirs] == [expected], path
    assert APP.resolve() in find_project(APP).sys_path  # prepend_sys_path = .


def test_path_that_is_not_alembic_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text("print('hello')\n")
    with pytest.raises(SourceError, match="not an Alembic revision or project"):
        alembic_units([tmp_path])


def test_revision_that_is_not_valid_python_is_unanalysable(tmp_path: Path) -> None:
    path = tmp_path / "r1.py"
    path.write_text("revision = 'r1'\ndown_revision = None\n\ndef upgrade(:\n    pass\n")
    (unit,) = alembic_units([path])
    (problem,) = unit.problems
    assert problem.rule == UNANALYSABLE_REVISION
    assert "not valid Python (SyntaxError" in problem.message
    assert problem.location.line == 4


def test_pyproject_tool_alembic_names_the_script_location(tmp_path: Path) -> None:
    versions = tmp_path / "db" / "versions"
    write_revision(versions, "r1", 'op.drop_table("legacy")')
    (tmp_path / "db" / "env.py").write_text("")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/db"\nprepend_sys_path = ["."]\n'
    )
    project = find_project(tmp_path)
    assert project is not None
    assert [d.resolve() for d in project.version_dirs] == [versions.resolve()]


def test_branches_come_before_their_merge(app_units: dict[str, Unit]) -> None:
    assert list(app_units) == sorted(EXPECTED)


def test_order_does_not_depend_on_how_files_are_listed(tmp_path: Path) -> None:
    write_revision(tmp_path, "base", "pass")
    write_revision(tmp_path, "b_left", "pass", down="base")
    write_revision(tmp_path, "a_right", "pass", down="base")
    write_revision(tmp_path, "a_right_2", "pass", down="a_right")
    merge = tmp_path / "merge.py"
    merge.write_text(
        "revision = 'merge'\ndown_revision = ('b_left', 'a_right_2')\n\ndef upgrade():\n    pass\n"
    )
    revisions = [read_revision(path) for path in sorted(tmp_path.glob("*.py"))]
    orders = {
        tuple(r.revision for r in order_revisions(listing))
        for listing in (revisions, revisions[::-1], revisions[2:] + revisions[:2])
    }
    # One order; a branch stays together; the merge waits for both parents.
    assert orders == {("base", "a_right", "a_right_2", "b_left", "merge")}


def test_revision_whose_parent_is_missing_is_a_root(tmp_path: Path) -> None:
    write_revision(tmp_path, "child", "pass", down="parent_elsewhere")
    write_revision(tmp_path, "grandchild", "pass", down="child")
    write_revision(tmp_path, "another_root", "pass")
    ordered = order_revisions(read_revision(p) for p in sorted(tmp_path.glob("*.py")))
    assert [r.revision for r in ordered] == ["another_root", "child", "grandchild"]


def test_revisions_named_one_by_one_keep_the_graph_order() -> None:
    files = [VERSIONS / "0012_full_name.py", VERSIONS / "0002_add_nickname.py"]
    units = alembic_units(files)
    assert [Path(u.path).name for u in units] == ["0002_add_nickname.py", "0012_full_name.py"]


def test_depends_on_orders_like_down_revision(tmp_path: Path) -> None:
    write_revision(tmp_path, "b", "pass", head="depends_on = 'c'\n")
    write_revision(tmp_path, "c", "pass")
    ordered = order_revisions(read_revision(p) for p in sorted(tmp_path.glob("*.py")))
    assert [r.revision for r in ordered] == ["c", "b"]


def test_files_that_are_not_revisions_are_not_read_as_revisions(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("revision = 'x'\n")  # no upgrade()
    (tmp_path / "broken.py").write_text("revision = 'y'\ndef upgrade(:\n")
    assert read_revision(tmp_path / "helpers.py") is None
    assert read_revision(tmp_path / "broken.py") is None
    assert read_revision(VERSIONS / "0010_merge.py").down_revisions == (
        "0008_orders",
        "0009_audit_log",
    )


# Tags


def test_phase_from_a_module_variable(app_units: dict[str, Unit]) -> None:
    assert app_units["0013_drop_audit_note"].phase is Phase.CONTRACT
    assert app_units["0012_full_name"].phase is Phase.EXPAND


def test_phase_from_a_comment(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path, "r1", 'op.drop_table("legacy")', head="# bgmigrate: phase=contract\n"
    )
    (unit,) = alembic_units([path])
    assert unit.phase is Phase.CONTRACT
    assert unit.problems == []


def test_ignore_tag_above_the_op_call_covers_its_statement(app_units: dict[str, Unit]) -> None:
    unit = app_units["0016_orders_total_index"]
    (tag,) = unit.suppressions
    assert tag.rules == ("create-index-non-concurrently",)
    assert tag.reason == "orders holds a few hundred rows"
    assert tag.line == 19
    (statement,) = unit.statements
    assert tag.covers("create-index-non-concurrently", "locking", statement.location)
    assert not tag.covers("drop-column", "compat", statement.location)


def test_ignore_tag_at_the_end_of_the_call_and_file_wide_ignore(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        op.add_column(
            "users", sa.Column("status", sa.Text(), nullable=False)
        )  # bgmigrate: ignore add-not-null-column-without-default -- users is empty
        op.drop_column("users", "name")
        """,
        head="# bgmigrate: ignore-file drop-column -- name was never read\n",
    )
    (unit,) = alembic_units([path])
    file_tag, line_tag = unit.suppressions
    add, drop = unit.statements
    assert file_tag.line is None and file_tag.reason == "name was never read"
    assert line_tag.covers("add-not-null-column-without-default", "compat", add.location)
    assert not line_tag.covers("drop-column", "compat", add.location)
    assert file_tag.covers("drop-column", "compat", drop.location)


def test_malformed_tags_are_problems_with_their_location(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r1",
        """
        # bgmigrate: phase=contract
        op.drop_table("legacy")
        """,
        head='bgmigrate_phase = "shrink"\n',
    )
    (unit,) = alembic_units([path])
    messages = {problem.location.line: problem.message for problem in unit.problems}
    assert set(messages) == {line_of(path, "bgmigrate_phase"), line_of(path, "# bgmigrate")}
    assert '"shrink"' in messages[line_of(path, "bgmigrate_phase")]
    assert "has no effect" in messages[line_of(path, "# bgmigrate")]
    assert unit.phase is Phase.EXPAND


# Against a real database


def test_alembic_upgrade_head_runs_for_real(fresh_db: str) -> None:
    result = alembic_upgrade(APP, fresh_db)
    assert result.returncode == 0, result.stderr
    assert columns(fresh_db, "users") == [
        "id",
        "email",
        "created_at",
        "display_name",
        "api_token",
        "status",
        "full_name",
    ]
    assert columns(fresh_db, "orders") == ["id", "user_id", "total", "shipped_at"]
    assert columns(fresh_db, "audit_log") == ["id", "user_id", "action"]


def test_replay_alembic_builds_the_schema_alembic_builds(fresh_db: str) -> None:
    assert replay_alembic(APP, fresh_db) == sorted(EXPECTED)
    assert columns(fresh_db, "users") == [
        "id",
        "email",
        "created_at",
        "display_name",
        "api_token",
        "status",
        "full_name",
    ]
    assert columns(fresh_db, "orders") == ["id", "user_id", "total", "shipped_at"]


def test_replay_alembic_names_the_revision_that_fails(tmp_path: Path, fresh_db: str) -> None:
    write_revision(tmp_path, "r1", 'op.create_table("t", sa.Column("id", sa.Integer()))')
    failing = write_revision(tmp_path, "r2", 'op.drop_column("t", "missing")', down="r1")
    line = line_of(failing, "op.drop_column")
    with pytest.raises(SourceError, match=rf"r2\.py:{line}: replaying this revision failed"):
        replay_alembic(tmp_path, fresh_db)


# Cost


def test_reading_revisions_imports_neither_alembic_nor_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "from bgmigrate.source.alembic import find_project, read_revision\n"
        f"project = find_project({str(APP)!r})\n"
        "assert len(project.revisions()) == 16\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'alembic', 'sqlalchemy', 'psycopg'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.stdout.strip() == "[]"
