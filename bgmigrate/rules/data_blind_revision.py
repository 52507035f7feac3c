"""data-blind-revision: an Alembic revision checked from a run whose reads returned no rows."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import Operation


def check(op: Operation, ctx: Context) -> Iterator[Violation]:
    # The Alembic source reports it when a revision could be run neither offline nor replayed
    # into PostgreSQL, and was run with `op.get_bind()` returning no rows; no operation
    # triggers it.
    yield from ()


_REFUSES_OFFLINE = (
    "from alembic import context, op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
    "down_revision = None\n\n\ndef upgrade():\n"
    "    if context.is_offline_mode():\n"
    "        raise Exception('This upgrade is only possible in online mode')\n"
)

RULE = Rule(
    name="data-blind-revision",
    category=Category.ROBUSTNESS,
    severity=Severity.INFO,
    summary="An Alembic revision checked without its data: its reads returned no rows, so "
    "branches that depend on data were not followed.",
    why="""\
bgmigrate renders each revision's `upgrade()` offline, and replays the revision chain into an
embedded PostgreSQL when the revision needs a database. Some histories cannot be replayed from
an empty database: their base schema comes from the application's `create_all` (a
`db prepare` command), not from a revision, so a revision reading those tables fails on the
replay. As a last resort bgmigrate runs such a revision *data-blind*: `context.is_offline_mode()`
answers False, `op.get_bind()` returns a connection that records each statement and returns no
rows, and everything the revision emits through `op.…` is rendered to SQL and checked as usual.

What depends on the rows read is not seen: a loop over the rows runs zero times, an `if` on a
count takes the empty branch. The statements the revision would run for existing rows (the
`UPDATE` per row, a `DELETE` when a setting exists) are not checked, nor is a schema change
made only when some row exists. The finding names the line of the first read.""",
    safe_alternative="""\
Review by hand the branches that depend on the rows read, from the line the finding names. To
have them checked, let the replay run the revision: create in a revision (or a baseline
revision) every table it reads, so that its ancestors build the schema it runs on. A data
migration can also keep its schema changes in one revision and its row-by-row work in another,
so that the schema changes never depend on data.""",
    visits=(),
    check=check,
    flagged=(
        Example(
            language="python",
            sql=_REFUSES_OFFLINE + "    conn = op.get_bind()\n"
            "    default_id = conn.execute(\n"
            "        sa.text('SELECT id FROM locations WHERE is_default')\n"
            "    ).scalar()\n"
            "    if default_id is not None:\n"
            "        conn.execute(\n"
            "            sa.text('UPDATE rooms SET location_id = :id'), {'id': default_id}\n"
            "        )\n"
            "    op.drop_column('rooms', 'legacy_location')\n",
            line=12,
            note="indico's pattern: the tables come from `create_all`, so no replay can run it.",
        ),
        Example(
            language="python",
            sql=_REFUSES_OFFLINE
            + "    rows = op.get_bind().execute(sa.text('SELECT id, token FROM oauth_tokens'))\n"
            "    for token_id, token in rows:\n"
            "        op.execute(sa.text('UPDATE oauth_tokens SET token = NULL WHERE id = :id')"
            ".bindparams(id=token_id))\n",
            line=11,
            note="The loop runs zero times: its UPDATEs are not checked.",
        ),
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('labels', sa.Column('id', sa.BigInteger, primary_key=True))\n"
            "    settings = op.get_bind().exec_driver_sql(\n"
            "        'SELECT name, value FROM settings WHERE module = %s', ('labels',)\n"
            "    ).fetchall()\n"
            "    for name, value in settings:\n"
            "        insert = sa.text('INSERT INTO labels (id) VALUES (:v)')\n"
            "        op.execute(insert.bindparams(v=value))\n",
            line=10,
            note="Offline, `exec_driver_sql` returns nothing to read; `settings` is not created "
            "by any revision, so the replay fails too.",
        ),
    ),
    passing=(
        Example(
            language="python",
            sql=_REFUSES_OFFLINE
            + "    op.create_table('tiers', sa.Column('id', sa.BigInteger, primary_key=True))\n"
            "    rows = op.get_bind().execute(sa.text('SELECT count(*) FROM tiers')).scalar()\n"
            "    if rows:\n        raise RuntimeError('tiers is not empty')\n",
            note="Refuses offline mode, but the table it reads is its own: analysed by replay.",
        ),
        Example(
            language="python",
            sql="from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('tiers', sa.Column('id', sa.BigInteger, primary_key=True))\n"
            '    op.execute("INSERT INTO tiers (id) VALUES (1)")\n',
            note="Writes data without reading any: rendered offline.",
        ),
        Example(
            language="python",
            sql="from alembic import context, op\nimport sqlalchemy as sa\n\nrevision = 'a1'\n"
            "down_revision = None\n\n\ndef upgrade():\n"
            "    op.create_table('tiers', sa.Column('id', sa.BigInteger, primary_key=True))\n"
            "    if not context.is_offline_mode():\n"
            "        op.get_bind().execute(sa.text('SELECT count(*) FROM tiers')).scalar()\n",
            note="Reads only online: rendered offline without the read.",
        ),
    ),
)
