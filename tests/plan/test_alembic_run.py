"""The rendered Alembic revisions run under Alembic itself: `alembic upgrade` applies the phases
one revision at a time (autocommit blocks, the batched DO block with its COMMITs), and the
result is the intended final schema."""

from __future__ import annotations

import psycopg

from bgmigrate.plan.introspect import introspect
from bgmigrate.plan.operations import PlanOptions, build_plan
from bgmigrate.plan.render import render

from .bluegreen import catalog, final_catalog
from .scenarios import SCENARIOS

ENV = """
import psycopg
from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

dsn = context.config.get_main_option("bgmigrate_dsn")
engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn),
                       poolclass=NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""


def test_rendered_revisions_run_under_alembic(fresh_db, pg_dsn, tmp_path):
    from alembic import command
    from alembic.config import Config

    operation, scenario = SCENARIOS["rename-column"]
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute(scenario.setup)
    plan = build_plan(operation, introspect(fresh_db), PlanOptions())
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV)
    for file in render(plan, "alembic", versions):
        (versions / file.name).write_text(file.text)
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "migrations"))
    config.set_main_option("bgmigrate_dsn", fresh_db)

    command.upgrade(config, "+1")  # expand
    with psycopg.connect(fresh_db) as connection:
        copied = connection.execute(
            "INSERT INTO users (name, email) VALUES ('a', 'aa@x.org') RETURNING email_address"
        ).fetchone()
    assert copied == ("aa@x.org",)
    command.upgrade(config, "head")  # backfill, contract
    tables = scenario.tables
    assert catalog(fresh_db, tables) == final_catalog(pg_dsn, scenario.final, tables)
