"""Alembic revisions checked where the application's libraries are not installed, as
pre-commit runs bgmigrate: every revision still analysed, the same findings at the same lines
as with them installed, and each failed import named with its line and how to install it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bgmigrate.check.engine import CheckSettings, check_units, select_rules
from bgmigrate.check.runner import CheckOptions, run_check
from bgmigrate.rules import CATALOG
from bgmigrate.source.alembic import UNANALYSABLE_REVISION, alembic_units

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "alembic_tenant_app"
CORE = "storefront/db/revisions/core/versions"
TENANT = "storefront/db/revisions/tenant/versions"

HAZARDS = [
    ("add-not-null-column-without-default", f"{CORE}/c0002_order_customer.py", 14),
    ("create-index-non-concurrently", f"{CORE}/c0002_order_customer.py", 15),
    ("rename-column", f"{CORE}/c0002_order_customer.py", 18),
    ("change-column-type", f"{CORE}/c0002_order_customer.py", 20),
    ("concurrently-in-transaction", f"{CORE}/c0003_order_statuses.py", 18),
    ("unbatched-backfill", f"{CORE}/c0003_order_statuses.py", 22),
    ("add-unique-constraint-without-index", f"{CORE}/c0004_currency.py", 14),
    ("drop-column", f"{TENANT}/t0001_cart_owner.py", 14),
]
"""Every finding on the fixture but the notes on missing imports, in report order."""

NOTES = [
    ("missing-imports", f"{CORE}/c0001_create_orders.py", 6),
    ("missing-imports", f"{CORE}/c0002_order_customer.py", 6),
    ("missing-imports", f"{CORE}/c0003_order_statuses.py", 6),
    ("missing-imports", f"{CORE}/c0004_currency.py", 6),
    ("missing-imports", f"{TENANT}/t0001_cart_owner.py", 6),
]


def _check_without_libraries() -> list:
    return run_check(CheckOptions(paths=("storefront",), cwd=APP)).findings


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


def _check_in_subprocess(
    *, pythonpath: str | None = None, python: Path | str = sys.executable
) -> list[tuple[str, str, int]]:
    """`bgmigrate check storefront --format json` on the fixture, run by `python`: its findings."""
    env = _clean_environment()
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    result = subprocess.run(
        [str(python), "-m", "bgmigrate", "check", "storefront", "--format", "json"],
        cwd=APP,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    return [(f["rule"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def test_every_revision_is_analysed_without_the_applications_libraries() -> None:
    found = [(f.rule, f.path, f.location.line) for f in _check_without_libraries()]
    assert sorted(found, key=lambda f: (f[1], f[2])) == sorted(
        HAZARDS + NOTES, key=lambda f: (f[1], f[2])
    )


def test_same_findings_with_the_libraries_installed() -> None:
    with_them = _check_in_subprocess(pythonpath=str(APP / "vendor"))
    assert with_them == HAZARDS
    without = _check_in_subprocess()
    assert [f for f in without if f[0] != "missing-imports"] == HAZARDS


def test_a_verdict_on_an_unknown_value_says_so() -> None:
    by_place = {(f.path, f.location.line): f for f in _check_without_libraries()}
    index = by_place[(f"{CORE}/c0002_order_customer.py", 15)]
    assert index.message.endswith(
        "(value `storefront.db.naming.index_name` is not installed: treated as unknown.)"
    )
    retype = by_place[(f"{CORE}/c0002_order_customer.py", 20)]
    assert retype.message.startswith(
        "Changing orders.status from text to <unknown type storefront.db.types.UUID> is not known "
        "to be binary-coercible"
    )
    assert retype.message.endswith(
        "(type `storefront.db.types.UUID` is not installed: treated as unknown.)"
    )
    rename = by_place[(f"{CORE}/c0002_order_customer.py", 18)]
    assert "not installed" not in rename.message
    # Its statement adds a column of that type, but the verdict holds whatever the type.
    added = by_place[(f"{CORE}/c0002_order_customer.py", 14)]
    assert added.message == (
        "Adding orders.customer_id as NOT NULL without a DEFAULT fails on a table that has rows "
        "(NotNullViolation), and where it succeeds it breaks the version still running (blue): "
        "its INSERTs into orders that do not name customer_id are rejected."
    )


def test_missing_imports_name_the_line_and_the_pre_commit_line() -> None:
    by_place = {(f.path, f.location.line, f.rule): f for f in _check_without_libraries()}
    note = by_place[(f"{CORE}/c0003_order_statuses.py", 6, "missing-imports")]
    assert note.message == (
        "This revision was analysed without `storefront.models` (line 6: ModuleNotFoundError: No "
        "module named 'shopkit_types'): what that code would decide (a column type, a name, a "
        "list of values) is treated as unknown, findings that depend on it say so, and a loop "
        "over its values runs no time. `op.sync_enum_values` (line 16) is not an Alembic "
        "operation here: it comes from an extension env.py imports (`alembic_shop_enum`), "
        "which is not installed, so the statements it runs are not checked. To analyse it "
        "fully in pre-commit, install them into the hook's environment: "
        "`additional_dependencies: [shopkit_types, alembic_shop_enum]` under "
        "`- id: bgmigrate` in .pre-commit-config.yaml (in CI, `pip install` them beside "
        "bgmigrate)."
    )


def test_dialect_branch_is_read_on_its_postgresql_side() -> None:
    units = alembic_units([APP / CORE / "c0003_order_statuses.py"])
    (unit,) = units
    own = [s for s in unit.statements if not s.context]
    assert [(s.location.line, s.sql) for s in own] == [
        (13, "CREATE TABLE order_statuses (\n    name TEXT NOT NULL, \n    PRIMARY KEY (name)\n)"),
        (18, "CREATE INDEX CONCURRENTLY ix_orders_amount ON orders (amount)"),
        (
            22,
            'UPDATE orders SET status="<unknown value storefront.models.ORDER_STATUSES[…]>" '
            "WHERE orders.status IS NULL",
        ),
    ]
    assert own[2].unknowns == ("value storefront.models.ORDER_STATUSES[…]",)


def test_env_py_statements_are_context_never_findings() -> None:
    # The tenant env.py runs `SET lock_timeout = '3s'` (no require-lock-timeout on the drop)
    # and an f-string `set search_path to "{schema}"` per tenant (not SQL until it runs).
    (unit,) = alembic_units([APP / TENANT / "t0001_cart_owner.py"])
    context = [s for s in unit.statements if s.context]
    assert [(s.sql, Path(s.path).name, s.location.line) for s in context] == [
        ("SET lock_timeout = '3s'", "env.py", 17)
    ]
    findings = _check_without_libraries()
    assert all(f.path.endswith(".py") and "env.py" not in f.path for f in findings)
    assert "require-lock-timeout" not in {f.rule for f in findings}
    assert "syntax-error" not in {f.rule for f in findings}


def test_each_environment_of_an_alembic_ini_is_its_own_project() -> None:
    from bgmigrate.source.alembic.project import project_of_revision

    core = project_of_revision(APP / CORE / "c0001_create_orders.py")
    tenant = project_of_revision(APP / TENANT / "t0001_cart_owner.py")
    assert core.version_dirs == (APP / CORE,)
    assert tenant.version_dirs == (APP / TENANT,)
    assert core.environment.plugins == ("alembic_shop_enum",)
    assert tenant.environment.plugins == ()
    assert APP in {Path(p) for p in tenant.sys_path}


def test_a_version_directory_for_another_database_is_skipped_once(tmp_path: Path) -> None:
    script = tmp_path / "migrations"
    (script / "versions" / "sqlite").mkdir(parents=True)
    (script / "env.py").write_text("from alembic import context\n")
    for number in (1, 2):
        down = repr(f"s{number - 1}") if number > 1 else None
        (script / "versions" / "sqlite" / f"s{number}.py").write_text(
            f"from alembic import op\n\nrevision = 's{number}'\ndown_revision = {down}\n\n\n"
            "def upgrade():\n    op.execute('PRAGMA foreign_keys = OFF')\n"
        )
    (unit,) = alembic_units([script / "versions" / "sqlite"])
    assert Path(unit.path).name == "s1.py"
    assert unit.statements == []
    (problem,) = unit.problems
    assert problem.rule == UNANALYSABLE_REVISION
    assert problem.message == (
        "Not checked: sqlite/ holds the revisions for SQLite, not PostgreSQL (2 revisions "
        "skipped, this one included); bgmigrate checks the history that runs on PostgreSQL."
    )


def _unit_of_revision(directory: Path, imports: str, body: str):
    """The unit of a revision `r1` that imports `imports` and runs `body` in `upgrade()`."""
    revision = directory / "versions" / "r1.py"
    revision.parent.mkdir()
    revision.write_text(
        f"from alembic import op\n{imports}\n\nrevision = 'r1'\ndown_revision = None\n\n\n"
        f"def upgrade():\n{body}"
    )
    (unit,) = alembic_units([revision])
    return unit


def test_a_loop_that_only_missing_code_would_end_gives_up(tmp_path: Path) -> None:
    unit = _unit_of_revision(
        tmp_path,
        "from shop_cache import redis",
        "    removed = 1\n    while removed > 0:\n"
        "        removed = min(100, redis.zcard('done'))\n    op.drop_table('tasks')\n",
    )
    (problem,) = unit.problems
    assert problem.rule == UNANALYSABLE_REVISION
    assert problem.location.line == 2
    assert problem.message.startswith(
        "This revision cannot be checked: it used values of `shop_cache.redis.zcard`, which "
        "could not be imported, more than 100,000 times, as a loop that only that code would "
        "end does"
    )


@pytest.mark.slow
def test_check_in_a_fresh_virtualenv_holding_only_bgmigrate(tmp_path: Path) -> None:
    """As pre-commit installs the hook: `pip install .` of the checkout into a new virtualenv,
    nothing else; then the fixture is checked there."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    env = _clean_environment()
    # A copy of the checkout: pip builds in it (no build/ or egg-info left in the tree).
    source = tmp_path / "source"
    _copy_tracked(REPO, source)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(source)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    absent = subprocess.run(
        [str(python), "-c", "import shopkit_types"], env=env, capture_output=True, check=False
    )
    assert absent.returncode != 0  # the application's library is not there
    found = _check_in_subprocess(python=python)
    assert [f for f in found if f[0] != "missing-imports"] == HAZARDS
    assert sorted(f for f in found if f[0] == "missing-imports") == sorted(NOTES)


def _copy_tracked(repo: Path, target: Path) -> None:
    """The checkout's files as git sees them (tracked and new, not ignored)."""
    import shutil

    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = repo / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_an_unknown_models_table_name_stays_unknown_in_sql(tmp_path: Path) -> None:
    unit = _unit_of_revision(
        tmp_path,
        "from shop_models import Order",
        '    op.execute(f"DELETE FROM {Order.__tablename__} WHERE total < 0")\n',
    )
    (statement,) = unit.statements
    assert statement.sql == (
        'DELETE FROM "<unknown value shop_models.Order.__tablename__>" WHERE total < 0'
    )
    assert statement.unknowns == ("value shop_models.Order.__tablename__",)
    assert [p.rule for p in unit.problems] == ["missing-imports"]


def test_a_history_with_unknown_column_types_still_replays(tmp_path: Path, pg_dsn: str) -> None:
    """A revision that reads data is replayed on its ancestors' tables, even where they have
    columns of a type that could not be imported (created as text on the replay server)."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "r1.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\nfrom shop_types import Money\n\n"
        "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n"
        "    op.create_table('orders', sa.Column('id', sa.Integer(), primary_key=True),\n"
        "                    sa.Column('total', Money()))\n"
    )
    (versions / "r2.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        "revision = 'r2'\ndown_revision = 'r1'\n\n\ndef upgrade():\n"
        "    count = op.get_bind().execute(sa.text('SELECT count(*) FROM orders')).scalar()\n"
        "    if count == 0:\n"
        "        op.drop_column('orders', 'total')\n"
    )
    first, second = alembic_units([versions], dsn=pg_dsn)
    assert [p.rule for p in first.problems] == ["missing-imports"]
    assert second.problems == []
    assert [(s.location.line, s.sql) for s in second.statements] == [
        (9, "SELECT count(*) FROM orders"),
        (11, "ALTER TABLE orders DROP COLUMN total"),
    ]


def test_upgrade_taking_what_env_py_passes_runs_with_them_unknown(tmp_path: Path) -> None:
    """Quay's template: `upgrade(op, tables, tester)`, given by env.py's `run_migrations`;
    and a star import of a library that is not installed (`from peewee import *`)."""
    revision = tmp_path / "versions" / "r1.py"
    revision.parent.mkdir()
    revision.write_text(
        "import sqlalchemy as sa\nfrom peewee import *\n\nrevision = 'r1'\ndown_revision = None\n"
        "\n\ndef upgrade(op, tables, tester):\n"
        "    op.add_column('repository', sa.Column('kind', TextField(), nullable=False))\n"
        "    if not tester.is_testing():\n"
        "        op.create_index('ix_repository_kind', 'repository', ['kind'])\n"
    )
    (unit,) = alembic_units([revision])
    assert [(s.location.line, s.sql, s.unknowns) for s in unit.statements] == [
        (
            9,
            'ALTER TABLE repository ADD COLUMN kind "<unknown type peewee.TextField>" NOT NULL',
            ("type peewee.TextField",),
        ),
        (11, "CREATE INDEX ix_repository_kind ON repository (kind)", ()),
    ]
    assert [(p.rule, p.location.line) for p in unit.problems] == [("missing-imports", 2)]


def test_sql_given_as_a_string_to_the_connection_replays(tmp_path: Path, pg_dsn: str) -> None:
    """SQLAlchemy 1.x's `bind.execute("UPDATE …")`, still found in histories that ran on it."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "r1.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'r1'\n"
        "down_revision = None\n\n\ndef upgrade():\n"
        "    op.create_table('queue', sa.Column('id', sa.Text(), primary_key=True),\n"
        "                    sa.Column('state', sa.Text()))\n"
        "    bind = op.get_bind()\n"
        "    bind.execute(\"UPDATE queue SET state = id WHERE state = ''\")\n"
    )
    (versions / "r2.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = 'r2'\n"
        "down_revision = 'r1'\n\n\ndef upgrade():\n"
        "    if op.get_bind().execute(sa.text('SELECT count(*) FROM queue')).scalar() == 0:\n"
        "        op.drop_column('queue', 'state')\n"
    )
    first, second = alembic_units([versions], dsn=pg_dsn)
    assert (first.problems, second.problems) == ([], [])
    assert first.statements[-1].sql == "UPDATE queue SET state = id WHERE state = ''"
    assert first.statements[-1].location.line == 12
    assert [s.sql for s in second.statements] == [
        "SELECT count(*) FROM queue",
        "ALTER TABLE queue DROP COLUMN state",
    ]


def test_an_unknown_exception_class_can_be_caught(tmp_path: Path) -> None:
    unit = _unit_of_revision(
        tmp_path,
        "from shop_errors import GoneError",
        "    try:\n        int('not a number')\n    except GoneError:\n        pass\n"
        "    except ValueError:\n        op.drop_table('legacy')\n",
    )
    assert [(s.location.line, s.sql) for s in unit.statements] == [(14, "DROP TABLE legacy")]


def test_only_findings_whose_verdict_names_an_unknown_say_so(tmp_path: Path) -> None:
    """Every statement below holds an unknown; only the verdicts on an unknown type or table
    say it is not installed, not those that hold whatever the column's type."""
    revision = tmp_path / "versions" / "r1.py"
    revision.parent.mkdir()
    revision.write_text(
        "import sqlalchemy as sa\nfrom alembic import op\nfrom shop_types import Money\n\n"
        "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n"
        "    op.add_column('orders', sa.Column('price', Money(), nullable=False))\n"
        "    op.alter_column('orders', 'total', type_=Money())\n"
        "    op.execute(f'ALTER TABLE {Money.table} RENAME total TO amount')\n"
    )
    rules = select_rules(CATALOG, ignore=("missing-imports",))
    result = check_units(alembic_units([revision]), CheckSettings(rules=rules))
    assert [(f.rule, f.location.line, f.message) for f in result.findings] == [
        (
            "add-not-null-column-without-default",
            10,
            "Adding orders.price as NOT NULL without a DEFAULT fails on a table that has rows "
            "(NotNullViolation), and where it succeeds it breaks the version still running "
            "(blue): its INSERTs into orders that do not name price are rejected.",
        ),
        (
            "require-lock-timeout",
            10,
            "This statement needs an ACCESS EXCLUSIVE lock on orders and no lock_timeout is "
            "set: while it waits behind any running query or open transaction on orders, all "
            "reads and writes on it from both app versions queue behind it, for as long as the "
            "wait lasts. Reported once per migration, at the first such statement. If your "
            "runner sets lock_timeout itself (the connection's options=-c lock_timeout=…, the "
            "migration tool's config, `bgmigrate apply`), declare it once: "
            "`lock_timeout_set_by_runner = true` under [tool.bgmigrate] (or a list of the paths "
            "it runs).",
        ),
        (
            "change-column-type",
            11,
            "The current type of orders.total is unknown (no earlier CREATE TABLE or ADD COLUMN "
            "in this run declares it), so changing it to <unknown type shop_types.Money> cannot "
            "be shown to be binary-coercible; assume a rewrite. Check this migration together "
            "with the one that created the table to get a verdict. A rewrite holds an ACCESS "
            "EXCLUSIVE lock on orders while every row and index is rewritten: the version still "
            "running (blue) cannot read or write orders until it is done. (type "
            "`shop_types.Money` is not installed: treated as unknown.)",
        ),
        (
            "rename-column",
            12,
            "Renaming <unknown value shop_types.Money.table>.total to amount breaks the version "
            "still running (blue): its queries name total, and the new version's queries fail "
            "until the rename has run. (value `shop_types.Money.table` is not installed: "
            "treated as unknown.)",
        ),
    ]
