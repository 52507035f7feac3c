"""The executor through a real PgBouncer in transaction pooling mode, in front of the embedded
server: a rename of 100,000 rows while the old version's workload runs through the same pooler,
and a second executor refused while the first runs.

Skipped, with the reason, where the `pgbouncer` binary is not installed (Debian package
`pgbouncer`; `.ci/run` installs it when it can).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bgmigrate.execute.errors import ExecutorBusy
from bgmigrate.execute.executor import apply_phase, approve_phase
from bgmigrate.execute.locking import lock_holder
from bgmigrate.execute.options import ApplyOptions

from .conftest import build_rename_plan, create_users_table

ROWS = 100_000


def _pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or shutil.which(
        "pgbouncer", path="/usr/sbin:/usr/local/sbin:/usr/bin"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _open_to_other_users(socket_directory: str) -> None:
    """PgBouncer refuses to run as root, so it runs as nobody; the embedded server's socket
    sits in a private temporary directory, which nobody must be able to enter."""
    path = Path(socket_directory)
    for directory in (path, *path.parents):
        if directory == Path("/"):
            break
        mode = directory.stat().st_mode
        directory.chmod(mode | stat.S_IXOTH)


@pytest.fixture(scope="module")
def pooled(pg_dsn: str) -> Iterator[Callable[[str], str]]:
    """Starts PgBouncer (pool_mode = transaction) before the test server; yields a function
    turning a direct DSN into the same database's DSN through the pooler."""
    binary = _pgbouncer_binary()
    if binary is None:
        pytest.skip(
            "pgbouncer is not installed (apt-get install pgbouncer; .ci/run installs it when "
            "it can)"
        )
    server = conninfo_to_dict(pg_dsn)
    host = str(server.get("host") or "localhost")
    if host.startswith("/") and os.geteuid() == 0:
        _open_to_other_users(host)
    directory = Path(tempfile.mkdtemp(prefix="bgmigrate-pgbouncer-"))
    directory.chmod(0o755)
    port = _free_port()
    user = str(server.get("user") or "postgres")
    backend = f"host={host} port={server.get('port') or 5432} user={user}"
    if server.get("password"):
        backend += f" password={server['password']}"
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n* = {backend}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
    )
    for path in directory.iterdir():
        path.chmod(0o644)
    command = [binary, *(["-u", "nobody"] if os.geteuid() == 0 else []), str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0]
                raise AssertionError(f"pgbouncer did not start: {output}") from None
            time.sleep(0.05)

    def through_pooler(dsn: str) -> str:
        params = conninfo_to_dict(dsn)
        return make_conninfo(host="127.0.0.1", port=str(port), dbname=params["dbname"], user=user)

    yield through_pooler
    process.terminate()
    process.communicate(timeout=10)
    shutil.rmtree(directory, ignore_errors=True)


class OldVersion:
    """The old app through the pooler: reads and writes `email`, counting every error."""

    def __init__(self, dsn: str, workers: int = 2) -> None:
        self.dsn = dsn
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.queries = 0
        self.next_id = ROWS + 1
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def __enter__(self) -> OldVersion:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _run(self) -> None:
        # An app behind a transaction pooler turns server-side prepared statements off too.
        with psycopg.connect(self.dsn, autocommit=True, prepare_threshold=None) as conn:
            while not self.stop.is_set():
                key = random.randint(1, ROWS)
                with self.lock:
                    new_id, self.next_id = self.next_id, self.next_id + 1
                try:
                    conn.execute("SELECT email FROM public.users WHERE id = %s", [key])
                    conn.execute(
                        "UPDATE public.users SET email = %s WHERE id = %s",
                        [f"changed{key}@example.com", key],
                    )
                    conn.execute(
                        "INSERT INTO public.users (id, email) VALUES (%s, %s)",
                        [new_id, f"new{new_id}@example.com"],
                    )
                    self.queries += 3
                except psycopg.Error as error:
                    self.errors.append(str(error))
                time.sleep(0.002)


SLOW = ApplyOptions(batch_size=500, target_batch_seconds=0.02, pause_ratio=2)


def test_rename_through_pgbouncer_while_the_old_version_runs(
    fresh_db: str, pooled: Callable[[str], str], reporter: object
) -> None:
    create_users_table(fresh_db, rows=ROWS)
    pooler = pooled(fresh_db)
    plan = build_rename_plan()
    with OldVersion(pooler) as old:
        # CONCURRENTLY cannot run in a transaction: it goes to the direct connection
        expand = apply_phase(plan, "expand", pooler, reporter=reporter, direct_dsn=fresh_db)
        assert expand.steps_run == 4

        outcome: list[object] = []
        first = threading.Thread(
            target=lambda: outcome.append(
                apply_phase(plan, "backfill", pooler, options=SLOW, reporter=reporter)
            )
        )
        first.start()
        with psycopg.connect(fresh_db, autocommit=True) as observer:
            deadline = time.monotonic() + 30
            while lock_holder(observer, plan.id) is None:
                assert time.monotonic() < deadline and first.is_alive(), outcome
                time.sleep(0.01)
            # The same plan and database, through the same pooler: refused, naming the first.
            # Two server connections, one pinned by the lock: a session lock would be found
            # re-entrant on the other one by about every other attempt.
            for _ in range(6):
                with pytest.raises(ExecutorBusy, match="'bgmigrate apply rename-users-email'"):
                    apply_phase(plan, "backfill", pooler, reporter=reporter)
            assert first.is_alive(), "refused while the first one was still running"
        first.join()
        assert old.queries > 100
    assert old.errors == [], old.errors[:3]
    assert getattr(outcome[0], "outcome", None) == "done"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM public.users WHERE email_address IS DISTINCT FROM email"
        ).fetchone() == (0,)
        total = conn.execute("SELECT count(*) FROM public.users").fetchone()
        assert total is not None and total[0] > ROWS, "the old version's inserts are there"

    approve_phase(plan, "contract", pooler, by="alice")
    assert apply_phase(plan, "contract", pooler, reporter=reporter).outcome == "done"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
            " ORDER BY column_name"
        ).fetchall()
    assert columns == [("email_address",), ("id",), ("updates",)]
