"""missing-imports: an Alembic revision analysed without some of what it imports."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Operation


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # The Alembic source reports it when a revision ran with stand-ins for imports that
    # failed; no operation triggers it.
    yield from ()


RULE = Rule(
    name="missing-imports",
    category=Category.ROBUSTNESS,
    severity=Severity.INFO,
    summary="An Alembic revision analysed without modules it imports, which are not "
    "installed where bgmigrate runs: what they decide is treated as unknown.",
    why="""\
pre-commit runs bgmigrate in an environment of its own, holding bgmigrate and nothing else, and
so does a CI job that only runs `pip install bgmigrate`. Revisions that import the application's
dependencies (`sqlalchemy_utils`, `flask`, an Alembic extension such as
`alembic_postgresql_enum`) cannot import them there. bgmigrate still runs such a revision: each
name it could not import becomes an opaque stand-in, and every `op.…` call is rendered and
checked as usual. What the missing code would have decided is unknown: a custom column type
renders as `"<unknown type myapp.db.types.UUID>"` and the findings on that statement say so,
a loop over the application's constants runs no time, and an extension's operation
(`op.sync_enum_values`) runs nothing. The finding names each failed import and its line.""",
    safe_alternative="""\
Install what the revisions import where bgmigrate runs: in .pre-commit-config.yaml, list the
distributions under the hook's `additional_dependencies` (the finding gives the exact line); in
CI, `pip install` them beside bgmigrate. Or keep revisions self-contained: copy the few
constants and types a revision needs instead of importing them, which also keeps old revisions
working after the application changes.""",
    visits=(),
    check=check,
    flagged=(
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n"
            "from shop_legacy.types import Money\n\nrevision = 'a1'\ndown_revision = None\n\n\n"
            "def upgrade():\n"
            "    op.add_column('orders', sa.Column('total', Money(), nullable=True))\n",
            line=3,
            note="The column is still checked; its type is unknown.",
        ),
        Example(
            language="python",
            sql="from alembic import op\nfrom shop_legacy.models import STATUSES\n\n"
            "revision = 'a1'\ndown_revision = None\n\n\ndef upgrade():\n"
            "    for status in STATUSES:\n"
            "        op.execute(f\"INSERT INTO statuses VALUES ('{status}')\")\n"
            "    op.drop_index('ix_orders_status')\n",
            line=2,
            note="The loop over the application's constants runs no time; the rest is checked.",
        ),
        Example(
            language="python",
            sql="from alembic import op\n\n"
            "revision = 'a1'\ndown_revision = None\n\n\ndef upgrade():\n"
            "    op.sync_enum_values('public', 'status', ['new', 'paid'], [])\n",
            line=8,
            note="An Alembic extension's operation, the extension not installed: it runs nothing.",
        ),
    ),
    passing=(
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('refunds', sa.Column('total', sa.Numeric(12, 2)))\n",
            note="Imports only Alembic and SQLAlchemy.",
        ),
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    if op.get_bind().dialect.name != 'postgresql':\n"
            "        from shop_sqlite import helpers\n"
            "        helpers.rebuild(op)\n"
            "    op.create_table('refunds', sa.Column('total', sa.Numeric(12, 2)))\n",
            note="The import is on another dialect's branch, which is not followed.",
        ),
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n"
            "from sqlalchemy.dialects import postgresql\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('refunds', sa.Column('id', postgresql.UUID()))\n",
            note="SQLAlchemy's own PostgreSQL types are installed with bgmigrate.",
        ),
    ),
)
