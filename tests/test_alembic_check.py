"""Checking Alembic revisions end to end: each finding's rule at the `.py` line of its call."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgmigrate.check.engine import CheckSettings, check_units, select_rules
from bgmigrate.check.result import CheckResult
from bgmigrate.rules import CATALOG
from bgmigrate.source.alembic import UNANALYSABLE_REVISION, alembic_units

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "alembic_app"

# (revision, rule, line of the op call, suppressed) for every finding on the fixture project.
# Revisions 0001, 0002, 0004, 0008, 0009, 0010 and 0013 are safe: they have none.
EXPECTED = {
    ("0003_index_users_name", "create-index-non-concurrently", 20, False),
    ("0005_add_api_token", "add-column-volatile-default", 20, False),
    ("0006_add_status", "add-not-null-column-without-default", 19, False),
    ("0007_rename_nickname", "rename-column", 19, False),
    ("0011_backfill_display_name", "unbatched-backfill", 25, False),
    ("0012_full_name", "drop-index-non-concurrently", 19, False),
    ("0012_full_name", "drop-column", 20, False),
    ("0012_full_name", "possible-rename", 21, False),
    ("0014_orders_user_fk", "add-foreign-key-without-not-valid", 19, False),
    ("0015_orders_batch", "create-index-non-concurrently", 21, False),
    ("0016_orders_total_index", "create-index-non-concurrently", 20, True),
}


def check(units: list, *, ignore: tuple[str, ...] = ()) -> CheckResult:
    return check_units(units, CheckSettings(rules=select_rules(CATALOG, ignore=ignore)))


def findings(result: CheckResult) -> set[tuple[str, str, int, bool]]:
    return {(Path(f.path).stem, f.rule, f.location.line, f.suppressed) for f in result.findings}


@pytest.fixture(scope="module")
def app_result(pg_dsn: str) -> CheckResult:
    # Like most Alembic histories, the fixture never sets lock_timeout; that rule would add a
    # warning to every revision that locks an existing table, and is tested on its own.
    return check(alembic_units([APP], dsn=pg_dsn), ignore=("require-lock-timeout",))


def test_each_unsafe_revision_is_reported_at_its_op_call_and_safe_ones_are_not(
    app_result: CheckResult,
) -> None:
    assert findings(app_result) == EXPECTED


def test_findings_carry_the_revision_path_and_column_of_the_call(
    app_result: CheckResult,
) -> None:
    (rename,) = [f for f in app_result.findings if f.rule == "rename-column"]
    assert rename.path.endswith("migrations/versions/0007_rename_nickname.py")
    assert (rename.location.column, rename.location.end_line) == (5, 19)
    assert rename.statement == "ALTER TABLE users RENAME nickname TO display_name"


def test_missing_lock_timeout_is_reported_per_locking_revision(pg_dsn: str) -> None:
    result = check(
        alembic_units([APP / "migrations" / "versions" / "0002_add_nickname.py"], dsn=pg_dsn)
    )
    assert findings(result) == {("0002_add_nickname", "require-lock-timeout", 19, False)}


def test_set_local_lock_timeout_holds_for_the_revision_transaction(tmp_path: Path) -> None:
    path = tmp_path / "r1.py"
    path.write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n"
        "    op.execute(\"SET LOCAL lock_timeout = '2s'\")\n"
        "    op.add_column('users', sa.Column('nickname', sa.Text()))\n"
    )
    assert findings(check(alembic_units([path]))) == set()


def test_concurrently_outside_autocommit_block_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "r1.py"
    path.write_text(
        "from alembic import op\n\n"
        "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n"
        "    op.create_index('ix_users_created', 'users', ['created_at'],\n"
        "                    postgresql_concurrently=True)\n"
        "    with op.get_context().autocommit_block():\n"
        "        op.create_index('ix_users_email', 'users', ['email'],\n"
        "                        postgresql_concurrently=True)\n"
    )
    result = check(alembic_units([path]), ignore=("require-lock-timeout",))
    assert findings(result) == {("r1", "concurrently-in-transaction", 8, False)}


@pytest.mark.skipif(
    UNANALYSABLE_REVISION not in CATALOG,
    reason="the unanalysable-revision rule is not in the catalog",
)
def test_unanalysable_revision_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "r1.py"
    path.write_text(
        "from alembic import op\nfrom shop_legacy import tiers\n\n"
        "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n    tiers.migrate(op)\n"
    )
    result = check(alembic_units([path]))
    assert findings(result) == {("r1", UNANALYSABLE_REVISION, 2, False)}


def test_lock_timeout_set_in_env_py_covers_the_revisions(tmp_path: Path) -> None:
    script_dir = tmp_path / "migrations"
    (script_dir / "versions").mkdir(parents=True)
    (script_dir / "env.py").write_text(
        "from sqlalchemy import text\n\n\ndef run(connection):\n"
        '    connection.execute(text("SET lock_timeout = 4000"))\n'
    )
    path = script_dir / "versions" / "r1.py"
    path.write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n"
        "    op.add_column('users', sa.Column('nickname', sa.Text()))\n"
    )
    assert findings(check(alembic_units([path]))) == set()
