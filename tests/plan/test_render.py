"""The renderers: the plan file round-trips, SQL files and Alembic revisions are shaped for
their runner, the text and Markdown say who may run during each phase."""

from __future__ import annotations

import json
import re

import psycopg
import pytest

from bgmigrate.plan.introspect import introspect
from bgmigrate.plan.model import Plan, PlanError
from bgmigrate.plan.operations import PlanOptions, RenameColumn, build_plan
from bgmigrate.plan.render import FORMATS, render
from bgmigrate.plan.render.alembic_revisions import current_head

from .scenarios import SCENARIOS


@pytest.fixture(scope="module")
def plan(pg_dsn) -> Plan:
    import uuid

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    _, scenario = SCENARIOS["rename-column"]
    database = f"render_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    dsn = make_conninfo(**{**conninfo_to_dict(pg_dsn), "dbname": database})
    try:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(scenario.setup)
        schema = introspect(dsn)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    return build_plan(
        RenameColumn(("users",), "email", "email_address"), schema, PlanOptions(pg_version=16)
    )


def test_every_format_is_registered():
    assert set(FORMATS) == {"toml", "json", "text", "markdown", "sql", "alembic"}
    assert {name for name, f in FORMATS.items() if f.directory} == {"sql", "alembic"}


def test_plan_file_round_trips_with_a_valid_checksum(plan):
    (toml,) = render(plan, "toml")
    (as_json,) = render(plan, "json")
    assert toml.name == "rename-users-email.toml"
    for loaded in (Plan.from_toml(toml.text), Plan.from_json(as_json.text)):
        assert loaded == plan
        loaded.verify_checksum()
    assert json.loads(as_json.text)["target"] == {
        "table": "public.users",
        "column": "email",
        "to": "email_address",
    }


def test_sql_files_are_tagged_and_keep_concurrently_outside_transactions(plan):
    files = render(plan, "sql")
    assert [f.name for f in files] == [
        "01_rename-users-email_expand.sql",
        "02_rename-users-email_backfill.sql",
        "03_rename-users-email_contract.sql",
    ]
    for file, phase in zip(files, ("expand", "backfill", "contract"), strict=True):
        assert file.text.startswith(f"-- bgmigrate: phase={phase}\n")
        assert "SET lock_timeout = '2s';" in file.text
        in_transaction = False
        for line in file.text.splitlines():
            if line == "BEGIN;":
                in_transaction = True
            elif line == "COMMIT;":
                in_transaction = False
            elif "CONCURRENTLY" in line and not line.startswith("--"):
                assert not in_transaction, line
    backfill = files[1].text
    assert "DO $bgmigrate$" in backfill and "COMMIT;\n    END LOOP;" in backfill
    assert "RAISE EXCEPTION" in backfill  # the verify query stops the script when false


def test_backfill_block_walks_a_composite_key(plan):
    from bgmigrate.plan.model import Backfill
    from bgmigrate.plan.render.script import batched_update

    block = batched_update(
        Backfill(table="public.t", key=("a", "B c"), set="x = y", where="x IS DISTINCT FROM y")
    )
    assert '(a, "B c") > (bgmigrate_last_1, bgmigrate_last_2)' in block
    assert 'bgmigrate_last_2 public.t."B c"%TYPE;' in block


def test_alembic_revisions_chain_after_the_current_head(plan, tmp_path):
    (tmp_path / "0001_base.py").write_text(
        'revision = "0001"\ndown_revision = None\ndef upgrade():\n    pass\n'
    )
    assert current_head(tmp_path) == "0001"
    files = render(plan, "alembic", tmp_path)
    revisions = [re.search(r'^revision = "(\w+)"', f.text, re.M).group(1) for f in files]
    downs = [re.search(r"^down_revision = (.+)$", f.text, re.M).group(1) for f in files]
    assert downs == ['"0001"', f'"{revisions[0]}"', f'"{revisions[1]}"']
    phases = [re.search(r'^bgmigrate_phase = "(\w+)"', f.text, re.M).group(1) for f in files]
    assert phases == ["expand", "backfill", "contract"]
    for file in files:
        compile(file.text, file.name, "exec")
        assert "with op.get_context().autocommit_block():" in file.text


def test_alembic_render_refuses_a_project_with_several_heads(plan, tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.py").write_text(
            f'revision = "{name}"\ndown_revision = None\ndef upgrade():\n    pass\n'
        )
    with pytest.raises(PlanError, match="several heads"):
        render(plan, "alembic", tmp_path)


def test_alembic_strings_keep_backslashes_and_quotes():
    from bgmigrate.plan.render.alembic_revisions import _python_string

    for sql in ["SELECT E'a\\nb'", 'SELECT 1 AS "x"', 'SELECT \'"""\'', "SELECT '\\'"]:
        assert eval(_python_string(sql)) == sql


def test_text_shows_phases_and_what_each_version_may_do(plan):
    (text,) = render(plan, "text")
    for phase in ("expand", "backfill", "deploy", "contract"):
        assert f"── {phase} (" in text.text
    assert "old version (blue): keeps running, unchanged" in text.text
    assert "new version (green): the only version" in text.text


def test_markdown_has_a_mermaid_diagram_of_versions_and_states(plan):
    (markdown,) = render(plan, "markdown")
    assert "```mermaid\nflowchart LR" in markdown.text
    assert 'old(["old version (blue)"]) -.- s0 & s1 & s2 & s3' in markdown.text
    assert 'new(["new version (green)"]) -.- s2 & s3 & s4' in markdown.text
    assert "### contract" in markdown.text and "```sql" in markdown.text


def test_blockers_are_shown_first(plan):
    from dataclasses import replace

    blocked = replace(plan, blockers=("view public.v cannot be rewritten",)).with_checksum()
    assert "blockers" in render(blocked, "text")[0].text
    assert "> - view public.v cannot be rewritten" in render(blocked, "markdown")[0].text
