"""The plan data model: validation, file round trips and the checksum seal."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bgmigrate.plan.model import Backfill, Plan, PlanError, PlanPhase, Step, load_plan


def rename_plan() -> Plan:
    return Plan(
        id="rename-users-email",
        operation="rename-column",
        target={"table": "public.users", "column": "email", "to": "email_address"},
        pg_version=16,
        notes=["old and new columns are kept in sync by a trigger until contract"],
        phases=[
            PlanPhase(
                name="expand",
                kind="db",
                steps=[
                    Step(
                        sql="ALTER TABLE public.users ADD COLUMN email_address varchar(255)",
                        undo="ALTER TABLE public.users DROP COLUMN IF EXISTS email_address",
                        description="the new column, nullable",
                    ),
                    Step(
                        sql="CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_idx "
                        "ON public.users (email_address)",
                        transactional=False,
                        undo="DROP INDEX CONCURRENTLY IF EXISTS users_email_address_idx",
                    ),
                ],
            ),
            PlanPhase(
                name="backfill",
                kind="db",
                backfill=Backfill(
                    table="public.users",
                    key=["id"],
                    set="email_address = email",
                    where="email_address IS DISTINCT FROM email",
                    batch_size=500,
                ),
                verify="SELECT count(*) = 0 FROM public.users "
                "WHERE email_address IS DISTINCT FROM email",
            ),
            PlanPhase(
                name="deploy",
                kind="app",
                instructions="Deploy the version that reads email_address.\nThen retire blue.",
            ),
            PlanPhase(
                name="contract",
                kind="db",
                requires=["expand", "backfill", "approval"],
                steps=[Step(sql="ALTER TABLE public.users DROP COLUMN email")],
            ),
        ],
    ).with_checksum()


def test_plan_round_trips_through_toml() -> None:
    plan = rename_plan()
    assert Plan.from_toml(plan.to_toml()) == plan


def test_plan_round_trips_through_json() -> None:
    plan = rename_plan()
    assert Plan.from_json(plan.to_json()) == plan
    assert json.loads(plan.to_json())["checksum"] == plan.checksum


def test_load_plan_reads_toml_and_json_files(tmp_path: Path) -> None:
    plan = rename_plan()
    (tmp_path / "plan.toml").write_text(plan.to_toml())
    (tmp_path / "plan.json").write_text(plan.to_json())
    assert load_plan(tmp_path / "plan.toml") == plan
    assert load_plan(tmp_path / "plan.json") == plan


def test_load_plan_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"missing\.toml"):
        load_plan(tmp_path / "missing.toml")


def test_plan_file_matches_the_documented_layout() -> None:
    data = rename_plan().to_dict()
    assert list(data)[:5] == ["version", "id", "operation", "target", "pg_version"]
    assert data["phases"][1]["backfill"]["key"] == ["id"]
    assert data["phases"][0]["steps"][1]["transactional"] is False
    assert data["phases"][3]["requires"] == ["expand", "backfill", "approval"]


def test_checksum_is_sha256_of_canonical_json_without_the_checksum() -> None:
    import hashlib

    plan = rename_plan()
    body = plan.to_dict()
    del body["checksum"]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert plan.checksum == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _edits() -> list[tuple[str, Any]]:
    """One edit of each field of the plan, at every level."""

    def phase(plan: Plan, index: int, **changes: Any) -> Plan:
        phases = list(plan.phases)
        phases[index] = dataclasses.replace(phases[index], **changes)
        return dataclasses.replace(plan, phases=phases)

    def step(plan: Plan, **changes: Any) -> Plan:
        steps = list(plan.phases[0].steps)
        steps[0] = dataclasses.replace(steps[0], **changes)
        return phase(plan, 0, steps=steps)

    def backfill(plan: Plan, **changes: Any) -> Plan:
        return phase(plan, 1, backfill=dataclasses.replace(plan.phases[1].backfill, **changes))

    return [
        ("id", lambda p: dataclasses.replace(p, id="rename-users-email-2")),
        ("operation", lambda p: dataclasses.replace(p, operation="retype-column")),
        ("target", lambda p: dataclasses.replace(p, target={**p.target, "to": "mail"})),
        ("pg_version", lambda p: dataclasses.replace(p, pg_version=15)),
        ("blockers", lambda p: dataclasses.replace(p, blockers=["a view uses email"])),
        ("notes", lambda p: dataclasses.replace(p, notes=())),
        ("step sql", lambda p: step(p, sql="ALTER TABLE public.users ADD COLUMN e text")),
        ("step transactional", lambda p: step(p, transactional=False)),
        ("step undo", lambda p: step(p, undo=None)),
        ("step description", lambda p: step(p, description="changed")),
        ("backfill table", lambda p: backfill(p, table="users")),
        ("backfill key", lambda p: backfill(p, key=["id", "email"])),
        ("backfill set", lambda p: backfill(p, set="email_address = lower(email)")),
        ("backfill where", lambda p: backfill(p, where="email_address IS NULL")),
        ("backfill batch_size", lambda p: backfill(p, batch_size=None)),
        ("verify", lambda p: phase(p, 1, verify="SELECT true")),
        ("instructions", lambda p: phase(p, 2, instructions="Deploy green.")),
        ("requires", lambda p: phase(p, 3, requires=["expand", "approval"])),
        ("phases", lambda p: dataclasses.replace(p, phases=p.phases[:3])),
    ]


@pytest.mark.parametrize(("what", "edit"), _edits(), ids=[name for name, _ in _edits()])
def test_checksum_changes_when_any_field_changes(what: str, edit: Any) -> None:
    plan = rename_plan()
    edited = edit(plan)
    assert edited != plan
    assert edited.compute_checksum() != plan.checksum
    with pytest.raises(PlanError, match="edited after it was written"):
        edited.verify_checksum()


def test_verify_checksum_accepts_an_unchanged_plan() -> None:
    rename_plan().verify_checksum()


def test_verify_checksum_refuses_a_plan_without_checksum() -> None:
    plan = dataclasses.replace(rename_plan(), checksum=None)
    with pytest.raises(PlanError, match="no checksum") as caught:
        plan.verify_checksum()
    assert caught.value.field == "checksum"


def test_checksum_survives_the_toml_file() -> None:
    plan = rename_plan()
    Plan.from_toml(plan.to_toml()).verify_checksum()


def _bad(path: list[str | int], value: Any) -> dict[str, Any]:
    data = rename_plan().to_dict()
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()

INVALID = [
    (["version"], 2, "version", "plan version 1"),
    (["id"], "", "id", "non-empty string"),
    (["id"], "has space", "id", "letters, digits"),
    (["operation"], _DELETE, "operation", "required field is missing"),
    (["target"], {}, "target", "non-empty table"),
    (["target", "column"], {"nested": 1}, "target.column", "string, number"),
    (["pg_version"], "16", "pg_version", "major version"),
    (["checksum"], "md5:abc", "checksum", "sha256"),
    (["phases"], [], "phases", "at least one phase"),
    (["surprise"], 1, "surprise", "unknown field"),
    (["phases", 0, "name"], "prepare", "phases[0].name", "expand, backfill"),
    (["phases", 0, "kind"], "app", "phases[0].kind", "of kind 'db'"),
    (["phases", 0, "steps", 1, "sql"], "  ", "phases[0].steps[1].sql", "non-empty string"),
    (
        ["phases", 0, "steps", 1, "transactional"],
        True,
        "phases[0].steps[1].transactional",
        "CONCURRENTLY",
    ),
    (
        ["phases", 0, "steps", 0, "transactional"],
        "yes",
        "phases[0].steps[0].transactional",
        "true or false",
    ),
    (["phases", 0, "steps", 0, "undoo"], "x", "phases[0].steps[0].undoo", "unknown field"),
    (["phases", 1, "backfill", "key"], [], "phases[1].backfill.key", "at least one key"),
    (["phases", 1, "backfill", "key"], "id", "phases[1].backfill.key", "list of strings"),
    (["phases", 1, "backfill", "key"], ["id", "id"], "phases[1].backfill.key", "twice"),
    (["phases", 1, "backfill", "where"], _DELETE, "phases[1].backfill.where", "missing"),
    (["phases", 1, "backfill", "batch_size"], 0, "phases[1].backfill.batch_size", "positive"),
    (["phases", 2, "instructions"], _DELETE, "phases[2].instructions", "needs instructions"),
    (["phases", 2, "verify"], "SELECT true", "phases[2].verify", "done by the app"),
    (["phases", 3, "requires", 0], "deploy-later", "phases[3].requires[0]", "earlier phase"),
    (
        ["phases", 0, "backfill"],
        {"table": "t", "key": ["id"], "set": "a = b", "where": "true"},
        "phases[0].backfill",
        "belongs in the backfill phase",
    ),
    (["phases", 0, "steps"], [], "phases[0].steps", "nothing to run"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    INVALID,
    ids=[
        f"{'.'.join(map(str, p))}={'<deleted>' if v is _DELETE else repr(v)}"[:60]
        for p, v, _, _ in INVALID
    ],
)
def test_invalid_plan_is_rejected_naming_the_field(
    path: list[str | int], value: Any, field: str, message: str
) -> None:
    with pytest.raises(PlanError, match=message) as caught:
        Plan.from_dict(_bad(path, value))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_phases_out_of_order_are_rejected() -> None:
    data = rename_plan().to_dict()
    data["phases"][0], data["phases"][1] = data["phases"][1], data["phases"][0]
    with pytest.raises(PlanError, match="comes after backfill") as caught:
        Plan.from_dict(data)
    assert caught.value.field == "phases[1].name"


def test_duplicate_phase_is_rejected() -> None:
    data = rename_plan().to_dict()
    data["phases"].insert(1, data["phases"][0])
    with pytest.raises(PlanError, match="appears twice"):
        Plan.from_dict(data)


def test_invalid_toml_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="not a valid TOML plan file"):
        Plan.from_toml("version = = 1")


def test_contract_always_needs_approval() -> None:
    plan = rename_plan()
    assert plan.phase("contract").needs_approval
    assert not plan.phase("expand").needs_approval


def test_phase_lookup_names_the_phases_the_plan_has() -> None:
    plan = dataclasses.replace(rename_plan(), phases=rename_plan().phases[:1])
    with pytest.raises(PlanError, match=r"no contract phase \(it has: expand\)"):
        plan.phase("contract")


def test_constructors_normalise_lists_to_tuples() -> None:
    plan = rename_plan()
    assert isinstance(plan.phases, tuple)
    assert isinstance(plan.phases[0].steps, tuple)
    assert plan.phases[1].backfill is not None
    assert plan.phases[1].backfill.key == ("id",)
