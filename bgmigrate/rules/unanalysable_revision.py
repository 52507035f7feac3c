"""unanalysable-revision: an Alembic revision bgmigrate could not turn into SQL."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Operation


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # The Alembic source reports it when neither offline rendering nor a replay into an
    # embedded PostgreSQL could run the revision; no operation triggers it.
    yield from ()


RULE = Rule(
    name="unanalysable-revision",
    category=Category.ROBUSTNESS,
    severity=Severity.INFO,
    summary="An Alembic revision bgmigrate could not render to SQL, so nothing in it was checked.",
    why="""\
bgmigrate renders each revision's `upgrade()` offline, and replays the revision chain into an
embedded PostgreSQL when the revision needs a database (it reads data through `op.get_bind()`,
or inspects the schema). What the revision imports but cannot import where bgmigrate runs is
replaced by stand-ins (see `missing-imports`). When it still cannot run — it hands `op` or its
connection to code that is not installed, it raises on purpose, or it is not valid Python — none
of its statements were checked: a hazard in it would pass unseen. The finding says why it failed
and at which line, and which imports failed with the `additional_dependencies` line that installs
them.""",
    safe_alternative="""\
Run bgmigrate where the application's packages are importable (the same virtualenv as
`alembic upgrade`), or keep revisions self-contained: copy the few constants a revision needs
instead of importing application modules, which also keeps old revisions working after the
application changes.""",
    visits=(),
    check=check,
    flagged=(
        Example(
            language="python",
            sql="from alembic import op\nfrom shop_legacy import tiers\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n    tiers.migrate(op)\n",
            line=2,
            note="`op` goes to application code that is not importable where bgmigrate runs.",
        ),
        Example(
            language="python",
            sql="from alembic import op\n\nrevision = 'a1'\ndown_revision = None\n\n\n"
            "def upgrade():\n    raise RuntimeError('run scripts/backfill_tiers.py first')\n",
            line=8,
        ),
        Example(
            language="python",
            sql="from alembic import op\n\nrevision = 'a1'\ndown_revision = None\n\n\n"
            "def upgrade(:\n    op.drop_table('tiers')\n",
            line=7,
            note="Not valid Python.",
        ),
    ),
    passing=(
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('tiers', sa.Column('id', sa.BigInteger, primary_key=True))\n",
        ),
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.execute(\"SET lock_timeout = '2s'\")\n"
            "    op.add_column('users', sa.Column('tier', sa.Text()))\n",
        ),
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('tiers', sa.Column('id', sa.BigInteger, primary_key=True))\n"
            "    rows = op.get_bind().execute(sa.text('SELECT count(*) FROM tiers')).scalar()\n"
            "    if rows:\n        raise RuntimeError('tiers is not empty')\n",
            note="Reads data through op.get_bind(): analysed by replaying it into PostgreSQL.",
        ),
    ),
)
