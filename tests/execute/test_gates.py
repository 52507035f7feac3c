"""Gates before contract: old app sessions, the health endpoint, verify queries still true."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import psycopg
import pytest

from bgmigrate.execute.errors import GateRefused, UsageError, VerifyFailed
from bgmigrate.execute.executor import apply_phase, approve_phase
from bgmigrate.execute.gates import check_health, glob_to_like
from bgmigrate.execute.options import GateOptions
from bgmigrate.plan.model import Plan


@pytest.fixture
def ready_for_contract(users_db: str, rename_plan: Plan, reporter: Any) -> str:
    for phase in ("expand", "backfill"):
        apply_phase(rename_plan, phase, users_db, reporter=reporter)
    approve_phase(rename_plan, "contract", users_db, by="alice")
    return users_db


def email_column_exists(query: Any) -> bool:
    rows = query(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = 'users' AND column_name = 'email'"
    )
    return rows == [(1,)]


def test_old_app_session_blocks_contract(
    ready_for_contract: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    gates = GateOptions(old_app_name="shop-blue*")
    with psycopg.connect(ready_for_contract, application_name="shop-blue-7") as old_app:
        pid = old_app.info.backend_pid
        with pytest.raises(GateRefused, match="1 session\\(s\\) of the old app") as caught:
            apply_phase(rename_plan, "contract", ready_for_contract, gates=gates, reporter=reporter)
    assert f"pid {pid}, application_name 'shop-blue-7'" in str(caught.value)
    assert email_column_exists(query)

    apply_phase(rename_plan, "contract", ready_for_contract, gates=gates, reporter=reporter)
    assert not email_column_exists(query)
    assert "gate passed: no session of the old app ('shop-blue*')" in [
        e["message"] for e in reporter.of("gate")
    ]


def test_new_app_session_does_not_block_contract(
    ready_for_contract: str, rename_plan: Plan, reporter: Any
) -> None:
    gates = GateOptions(old_app_name="shop-blue*")
    with psycopg.connect(ready_for_contract, application_name="shop-green-1"):
        result = apply_phase(
            rename_plan, "contract", ready_for_contract, gates=gates, reporter=reporter
        )
    assert result.outcome == "done"


def test_glob_matches_literally_apart_from_star_and_question_mark() -> None:
    assert glob_to_like("shop_blue*") == "shop\\_blue%"
    assert glob_to_like("50%-?") == "50\\%-_"
    assert glob_to_like("a\\b") == "a\\\\b"


def test_like_wildcards_in_the_glob_are_literal(
    ready_for_contract: str, rename_plan: Plan, reporter: Any
) -> None:
    gates = GateOptions(old_app_name="shop_blue")
    with psycopg.connect(ready_for_contract, application_name="shopXblue"):
        result = apply_phase(
            rename_plan, "contract", ready_for_contract, gates=gates, reporter=reporter
        )
    assert result.outcome == "done"


class Health:
    """A tiny health endpoint on 127.0.0.1 answering `body` with `status`."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.status = 200
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(health.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(health.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, data: object, status: int = 200) -> None:
        self.body, self.status = json.dumps(data).encode(), status


@pytest.fixture
def health() -> Iterator[Health]:
    endpoint = Health()
    endpoint.thread.start()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def test_health_gate_refuses_while_the_old_version_is_live(
    ready_for_contract: str, rename_plan: Plan, reporter: Any, health: Health, query: Any
) -> None:
    health.answer({"environment": "blue", "version": "1.0.0"})
    gates = GateOptions(health_url=health.url, expect_version="1.1.0")
    with pytest.raises(GateRefused, match=r"reports version 1\.0\.0 \(environment blue\) live"):
        apply_phase(rename_plan, "contract", ready_for_contract, gates=gates, reporter=reporter)
    assert email_column_exists(query)

    health.answer({"environment": "green", "version": "1.1.0"})
    apply_phase(rename_plan, "contract", ready_for_contract, gates=gates, reporter=reporter)
    assert "gate passed: version 1.1.0 live in green" in [e["message"] for e in reporter.of("gate")]


def test_health_gate_refuses_an_error_status(health: Health) -> None:
    health.answer({"version": "1.1.0"}, status=503)
    with pytest.raises(GateRefused, match="answered HTTP 503"):
        check_health(health.url, "1.1.0", timeout=2)


def test_health_gate_refuses_an_answer_without_version(health: Health) -> None:
    health.answer({"environment": "green"})
    with pytest.raises(GateRefused, match='did not answer JSON with a "version" field'):
        check_health(health.url, "1.1.0", timeout=2)


def test_health_gate_refuses_an_unreachable_endpoint() -> None:
    with pytest.raises(GateRefused, match="cannot reach health endpoint"):
        check_health("http://127.0.0.1:9/health", "1.1.0", timeout=1)


def test_health_url_credentials_are_not_shown() -> None:
    with pytest.raises(GateRefused) as caught:
        check_health("http://deploy:hunter2@127.0.0.1:9/health", "1.1.0", timeout=1)
    assert "hunter2" not in str(caught.value)
    assert "deploy:***@127.0.0.1" in str(caught.value)


def test_health_url_must_be_http() -> None:
    with pytest.raises(UsageError, match="http:// or https://"):
        check_health("file:///etc/passwd", "1.1.0", timeout=1)


def test_health_url_and_expected_version_go_together() -> None:
    with pytest.raises(UsageError, match="go together"):
        GateOptions(health_url="http://127.0.0.1/health")


def test_contract_is_refused_when_the_data_diverged_since_backfill(
    ready_for_contract: str, rename_plan: Plan, reporter: Any, query: Any
) -> None:
    query("ALTER TABLE public.users DISABLE TRIGGER users_sync_email")
    query("UPDATE public.users SET email = 'changed@example.com' WHERE id = 7")
    with pytest.raises(VerifyFailed, match="verify query of the backfill phase is False"):
        apply_phase(rename_plan, "contract", ready_for_contract, reporter=reporter)
    assert email_column_exists(query)
