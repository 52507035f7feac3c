"""`op.alter_column(…, existing_type=…, existing_server_default=…)`: the revision's own word
for the column's type before a type change, and for its DEFAULT before SET NOT NULL, used
when the run does not know the column, whichever way the revision is read (statically,
rendered by Alembic, replayed into PostgreSQL)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from python_versions import needs_static_alembic

from bgmigrate.check.engine import CheckSettings, check_units, select_rules
from bgmigrate.rules import CATALOG
from bgmigrate.source.alembic import alembic_units
from bgmigrate.source.alembic.project import project_of_revision
from bgmigrate.source.alembic.revision import read_revision
from bgmigrate.source.alembic.static import render_static

HEADER = "from alembic import op\nimport sqlalchemy as sa\n\n"

REWRITE = (
    "A rewrite holds an ACCESS EXCLUSIVE lock on orders while every row and index is "
    "rewritten: the version still running (blue) cannot read or write orders until it is done."
)
INTEGER_TO_BIGINT = (
    "Changing orders.quantity from integer to bigint is not known to be binary-coercible: "
    f"PostgreSQL rewrites the table. {REWRITE}"
)
UNKNOWN_TO_BIGINT = (
    "The current type of orders.quantity is unknown (no earlier CREATE TABLE or ADD COLUMN in "
    "this run declares it), so changing it to bigint cannot be shown to be binary-coercible; "
    "assume a rewrite. Check this migration together with the one that created the table to "
    f"get a verdict. {REWRITE}"
)

# (the alter_column call, the finding's message or None).
CASES = [
    (
        'op.alter_column("orders", "quantity", type_=sa.BigInteger(), existing_type=sa.Integer())',
        INTEGER_TO_BIGINT,
    ),
    (
        'op.alter_column("orders", "quantity", type_=sa.String(200), existing_type=sa.String(100))',
        None,
    ),
    (
        'op.alter_column("orders", "quantity", type_=sa.Text(), existing_type=sa.String(100))',
        None,
    ),
    ('op.alter_column("orders", "quantity", type_=sa.BigInteger())', UNKNOWN_TO_BIGINT),
]
IDS = ["integer-to-bigint", "varchar-widened", "varchar-to-text", "no-existing-type"]


def _revision(directory: Path, body: str, *, revision: str = "r2", down: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{revision}.py"
    path.write_text(
        f"{HEADER}revision = {revision!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
        + textwrap.indent(body, "    ")
        + "\n",
        encoding="utf-8",
    )
    return path


def _findings(paths: list[Path], dsn: str | None = None) -> list[tuple[str, int, str]]:
    settings = CheckSettings(rules=select_rules(CATALOG, select=("change-column-type",)))
    result = check_units(alembic_units(paths, dsn=dsn), settings)
    return [(f.rule, f.location.line, f.message) for f in result.findings]


def _expected(message: str | None, line: int) -> list[tuple[str, int, str]]:
    return [] if message is None else [("change-column-type", line, message)]


@needs_static_alembic
@pytest.mark.parametrize(("call", "message"), CASES, ids=IDS)
def test_a_statically_read_revision_gives_the_old_type(
    tmp_path: Path, call: str, message: str | None
) -> None:
    path = _revision(tmp_path / "versions", call)
    revision = read_revision(path)
    assert revision is not None
    assert render_static(revision, project_of_revision(revision.file)) is not None
    assert _findings([path]) == _expected(message, line=9)


@pytest.mark.parametrize(("call", "message"), CASES, ids=IDS)
def test_a_revision_alembic_renders_gives_the_old_type(
    tmp_path: Path, call: str, message: str | None
) -> None:
    # A loop is beyond the static reading: Alembic renders the revision.
    path = _revision(tmp_path / "versions", f"for _ in range(1):\n    {call}")
    revision = read_revision(path)
    assert revision is not None
    assert render_static(revision, project_of_revision(revision.file)) is None
    assert _findings([path]) == _expected(message, line=10)


@pytest.mark.parametrize(("call", "message"), CASES, ids=IDS)
def test_batch_alter_table_gives_the_old_type(
    tmp_path: Path, call: str, message: str | None
) -> None:
    batched = call.replace('op.alter_column("orders", ', "batch.alter_column(")
    body = f'with op.batch_alter_table("orders") as batch:\n    {batched}'
    path = _revision(tmp_path / "versions", body)
    assert _findings([path]) == _expected(message, line=10)


def test_a_replayed_revision_gives_the_old_type(tmp_path: Path, pg_dsn: str) -> None:
    versions = tmp_path / "versions"
    _revision(
        versions,
        'op.create_table("orders", sa.Column("quantity", sa.Integer()))',
        revision="r1",
    )
    # Reading rows needs the database: the revision is replayed after r1, which the run does
    # not check, so only existing_type tells the column's type.
    path = _revision(
        versions,
        'if op.get_bind().execute(sa.text("SELECT count(*) FROM orders")).scalar() == 0:\n'
        '    op.alter_column("orders", "quantity", type_=sa.BigInteger(), '
        "existing_type=sa.Integer())",
        down="r1",
    )
    (unit,) = alembic_units([path], dsn=pg_dsn)
    assert unit.problems == []  # replayed, not read data-blind
    assert unit.statements[-1].existing_type == "INTEGER"
    assert _findings([path], dsn=pg_dsn) == [("change-column-type", 10, INTEGER_TO_BIGINT)]


def test_what_the_run_knows_of_the_column_comes_before_existing_type(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    first = _revision(
        versions,
        'op.create_table("orders", sa.Column("quantity", sa.String(100)))',
        revision="r1",
    )
    second = _revision(
        versions,
        'op.alter_column("orders", "quantity", type_=sa.Text(), existing_type=sa.Integer())',
        down="r1",
    )
    assert _findings([first, second]) == []


def _set_not_null(column: str, afterwards: str) -> str:
    return (
        f"SET NOT NULL on orders.{column} scans all of orders under an ACCESS EXCLUSIVE lock: "
        "the version still running (blue) cannot read or write orders during the scan, and "
        f"afterwards {afterwards}. No validated CHECK ({column} IS NOT NULL) precedes it in "
        "this run."
    )


SET_NOT_NULL = (
    'op.alter_column("orders", "quantity", nullable=False, existing_server_default=sa.text("0"))\n'
    'op.alter_column("orders", "status", nullable=False)'
)


BATCHED_SET_NOT_NULL = (
    'with op.batch_alter_table("orders") as batch:\n'
    '    batch.alter_column("quantity", nullable=False, existing_server_default=sa.text("0"))\n'
    '    batch.alter_column("status", nullable=False)'
)


@pytest.mark.parametrize(
    ("body", "first_line"),
    [
        (SET_NOT_NULL, 9),
        ("for _ in range(1):\n" + textwrap.indent(SET_NOT_NULL, "    "), 10),
        (BATCHED_SET_NOT_NULL, 10),
    ],
    ids=["static", "rendered", "batch"],
)
def test_set_not_null_names_the_default_the_revision_declares(
    tmp_path: Path, body: str, first_line: int
) -> None:
    path = _revision(tmp_path / "versions", body)
    settings = CheckSettings(rules=select_rules(CATALOG, select=("set-not-null",)))
    result = check_units(alembic_units([path]), settings)
    assert [(f.location.line, f.message) for f in result.findings] == [
        (
            first_line,
            _set_not_null(
                "quantity",
                "only its writes of an explicit NULL to quantity fail (INSERTs that leave it "
                "out get its DEFAULT 0)",
            ),
        ),
        (
            first_line + 1,
            _set_not_null(
                "status",
                "its writes of NULL to status fail, and so do its INSERTs that leave it out "
                "unless the column has a DEFAULT",
            ),
        ),
    ]


def test_an_existing_type_that_is_not_installed_leaves_the_old_type_unknown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "versions" / "r2.py"
    path.parent.mkdir()
    path.write_text(
        f"{HEADER}from shop_types import Quantity\n\n"
        "revision = 'r2'\ndown_revision = None\n\n\ndef upgrade():\n"
        '    op.alter_column("orders", "quantity", type_=sa.BigInteger(), '
        "existing_type=Quantity())\n",
        encoding="utf-8",
    )
    assert _findings([path]) == [("change-column-type", 11, UNKNOWN_TO_BIGINT)]
