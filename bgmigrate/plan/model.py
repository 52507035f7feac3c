"""The plan: ordered phases of steps, a backfill and checks, as the plan file holds them.

A plan is data. The planner builds one, the renderers print it, the executor applies it; only
the executor touches a database. Every field maps one to one onto the plan file of
`plans.md` (TOML or JSON), and `checksum` seals everything else so that `apply` can refuse a
plan edited after its review.

Construction validates: a `Plan`, `PlanPhase`, `Step` or `Backfill` that exists is a plan the
executor can run. Problems raise `PlanError` naming the field (`phases[1].backfill.key`).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "PHASE_KINDS",
    "PHASE_ORDER",
    "PLAN_VERSION",
    "Backfill",
    "Plan",
    "PlanError",
    "PlanPhase",
    "Step",
    "load_plan",
]

PLAN_VERSION = 1
PHASE_ORDER: tuple[str, ...] = ("expand", "backfill", "deploy", "contract")
PHASE_KINDS: Mapping[str, str] = {
    "expand": "db",
    "backfill": "db",
    "deploy": "app",
    "contract": "db",
}
APPROVAL = "approval"
"""The requirement, besides earlier phases, that a recorded approval of this exact plan gives."""

PhaseName = Literal["expand", "backfill", "deploy", "contract"]
PhaseKind = Literal["db", "app"]

_PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_CONCURRENTLY = re.compile(r"\bconcurrently\b", re.IGNORECASE)
_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}")


class PlanError(ValueError):
    """A plan that cannot be read or run as written; the message names the field at fault."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.problem = message
        super().__init__(f"{field}: {message}" if field else message)

    def under(self, prefix: str) -> PlanError:
        """The same problem, located inside `prefix` (`phases[1]` + `backfill.key`)."""
        if self.field is None:
            return PlanError(self.problem, prefix)
        joiner = "" if self.field.startswith("[") else "."
        return PlanError(self.problem, f"{prefix}{joiner}{self.field}")


@contextmanager
def _inside(prefix: str) -> Iterator[None]:
    try:
        yield
    except PlanError as error:
        raise error.under(prefix) from None


_Item = TypeVar("_Item")


def _parse_list(value: object, field: str, parse: Callable[[object], _Item]) -> tuple[_Item, ...]:
    """`value` as a list of items, each parsed by `parse`; errors name the item's index."""
    if not isinstance(value, list):
        raise PlanError(f"expected a list of {field}, got {value!r}", field)
    parsed = []
    for index, item in enumerate(value):
        with _inside(f"{field}[{index}]"):
            parsed.append(parse(item))
    return tuple(parsed)


def _text(value: object, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        expected = "a non-empty string" + (" or nothing" if optional else "")
        raise PlanError(f"expected {expected}, got {value!r}", name)
    return value


def _texts(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise PlanError(f"expected a list of strings, got {value!r}", name)
    for index, item in enumerate(value):
        _text(item, f"{name}[{index}]")
    return tuple(value)


def _set(instance: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields (lists to tuples) in __post_init__.
    object.__setattr__(instance, name, value)


@dataclass(frozen=True)
class Step:
    """One SQL statement of a phase, run in its own short transaction.

    `transactional=False` marks statements PostgreSQL refuses inside a transaction block
    (`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, …): the executor runs them in
    autocommit and they must be safe to run again after a crash (`IF NOT EXISTS` forms).
    `undo` reverses the step for `rollback`; None when the step cannot be undone.
    """

    sql: str
    transactional: bool = True
    undo: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        _text(self.sql, "sql")
        if not isinstance(self.transactional, bool):
            raise PlanError(f"expected true or false, got {self.transactional!r}", "transactional")
        _text(self.undo, "undo", optional=True)
        _text(self.description, "description", optional=True)
        if self.transactional and _CONCURRENTLY.search(self.sql):
            raise PlanError(
                "a CONCURRENTLY statement cannot run inside a transaction block: "
                "set transactional = false for this step",
                "transactional",
            )

    @property
    def undo_transactional(self) -> bool:
        """Whether `undo` can run in a transaction: not when it is a CONCURRENTLY statement."""
        return self.undo is not None and not _CONCURRENTLY.search(self.undo)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sql": self.sql, "transactional": self.transactional}
        if self.undo is not None:
            data["undo"] = self.undo
        if self.description is not None:
            data["description"] = self.description
        return data

    @classmethod
    def from_dict(cls, data: object) -> Step:
        fields = _fields(data, required={"sql"}, optional={"transactional", "undo", "description"})
        return cls(**fields)


@dataclass(frozen=True)
class Backfill:
    """Copy data in keyset batches: `UPDATE table SET <set> WHERE <where>` over `key` ranges.

    `table` is SQL as it appears in the steps (`public.users`); `key` names the columns of a
    unique, non-null key (the primary key) as the catalog spells them; `set` is the SET list and
    `where` the condition a row still to be copied meets, so that a repeated update is a no-op
    (`email_address IS DISTINCT FROM email`). `batch_size` is the first batch's size; the
    executor then adapts it to a target batch duration.
    """

    table: str
    key: tuple[str, ...]
    set: str
    where: str
    batch_size: int | None = None

    def __post_init__(self) -> None:
        _text(self.table, "table")
        key = _texts(self.key, "key")
        if not key:
            raise PlanError("expected at least one key column (the primary key)", "key")
        if len(set(key)) != len(key):
            raise PlanError(f"a key column appears twice in {list(key)}", "key")
        _set(self, "key", key)
        _text(self.set, "set")
        _text(self.where, "where")
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, int)
            or self.batch_size < 1
        ):
            raise PlanError(f"expected a positive integer, got {self.batch_size!r}", "batch_size")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "table": self.table,
            "key": list(self.key),
            "set": self.set,
            "where": self.where,
        }
        if self.batch_size is not None:
            data["batch_size"] = self.batch_size
        return data

    @classmethod
    def from_dict(cls, data: object) -> Backfill:
        fields = _fields(data, required={"table", "key", "set", "where"}, optional={"batch_size"})
        return cls(**fields)


@dataclass(frozen=True)
class PlanPhase:
    """One phase. A db phase runs `steps` in order; the backfill phase first runs its batches,
    then its steps (`VALIDATE CONSTRAINT` after the data is in place); `verify` must then hold
    for the phase to count as done. An app phase carries `instructions` for the deploy only.
    `requires` names earlier phases and `approval`."""

    name: PhaseName
    kind: PhaseKind
    steps: tuple[Step, ...] = ()
    backfill: Backfill | None = None
    verify: str | None = None
    instructions: str | None = None
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in PHASE_KINDS:
            raise PlanError(f"expected one of {', '.join(PHASE_ORDER)}, got {self.name!r}", "name")
        expected_kind = PHASE_KINDS[self.name]
        if self.kind != expected_kind:
            raise PlanError(
                f"the {self.name} phase is of kind {expected_kind!r}, got {self.kind!r}", "kind"
            )
        if isinstance(self.steps, str) or not isinstance(self.steps, Sequence):
            raise PlanError(f"expected a list of steps, got {self.steps!r}", "steps")
        for index, step in enumerate(self.steps):
            if not isinstance(step, Step):
                raise PlanError(f"expected a Step, got {step!r}", f"steps[{index}]")
        _set(self, "steps", tuple(self.steps))
        if self.backfill is not None and not isinstance(self.backfill, Backfill):
            raise PlanError(f"expected a Backfill, got {self.backfill!r}", "backfill")
        _text(self.verify, "verify", optional=True)
        _text(self.instructions, "instructions", optional=True)
        _set(self, "requires", _texts(self.requires, "requires"))
        self._check_shape()

    def _check_shape(self) -> None:
        if self.kind == "app":
            for name in ("steps", "backfill", "verify"):
                if getattr(self, name):
                    raise PlanError(
                        f"the {self.name} phase is done by the app, not the database: "
                        f"move {name} to a db phase",
                        name,
                    )
            if self.instructions is None:
                raise PlanError(
                    f"the {self.name} phase needs instructions for the deploy", "instructions"
                )
            return
        if self.backfill is not None and self.name != "backfill":
            raise PlanError(
                f"a backfill belongs in the backfill phase, not in {self.name}", "backfill"
            )
        if not (self.steps or self.backfill or self.verify):
            raise PlanError(
                f"the {self.name} phase has nothing to run: give it steps, a backfill or a "
                "verify query, or leave the phase out",
                "steps",
            )

    @property
    def is_db(self) -> bool:
        return self.kind == "db"

    @property
    def needs_approval(self) -> bool:
        """Contract always needs an approval of the exact plan; other phases when they ask."""
        return self.name == "contract" or APPROVAL in self.requires

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.requires:
            data["requires"] = list(self.requires)
        if self.verify is not None:
            data["verify"] = self.verify
        if self.instructions is not None:
            data["instructions"] = self.instructions
        if self.backfill is not None:
            data["backfill"] = self.backfill.to_dict()
        if self.steps:
            data["steps"] = [step.to_dict() for step in self.steps]
        return data

    @classmethod
    def from_dict(cls, data: object) -> PlanPhase:
        fields = _fields(
            data,
            required={"name", "kind"},
            optional={"steps", "backfill", "verify", "instructions", "requires"},
        )
        if "steps" in fields:
            fields["steps"] = _parse_list(fields["steps"], "steps", Step.from_dict)
        if "backfill" in fields:
            with _inside("backfill"):
                fields["backfill"] = Backfill.from_dict(fields["backfill"])
        return cls(**fields)


@dataclass(frozen=True)
class Plan:
    """A reviewed change as ordered phases; see `plans.md` for the file it maps onto.

    `target` describes what the plan changes (`{"table": "public.users", "column": "email",
    "to": "email_address"}`); `blockers` lists what the planner could not carry along (the
    executor refuses a plan that still has any); `notes` are remarks for the reviewer.
    """

    id: str
    operation: str
    target: Mapping[str, Any]
    pg_version: int
    phases: tuple[PlanPhase, ...]
    checksum: str | None = None
    blockers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    version: int = PLAN_VERSION

    def __post_init__(self) -> None:
        if self.version != PLAN_VERSION:
            raise PlanError(
                f"this bgmigrate reads plan version {PLAN_VERSION}, got {self.version!r}",
                "version",
            )
        _text(self.id, "id")
        if not _PLAN_ID.fullmatch(self.id):
            raise PlanError(
                f"expected letters, digits, '.', '_' or '-' (starting with a letter or digit), "
                f"got {self.id!r}",
                "id",
            )
        _text(self.operation, "operation")
        _set(self, "target", _check_target(self.target))
        if isinstance(self.pg_version, bool) or not isinstance(self.pg_version, int):
            raise PlanError(
                f"expected a PostgreSQL major version, got {self.pg_version!r}", "pg_version"
            )
        if not 9 <= self.pg_version <= 99:
            raise PlanError(
                f"expected a PostgreSQL major version such as 16, got {self.pg_version}",
                "pg_version",
            )
        if self.checksum is not None and (
            not isinstance(self.checksum, str) or not _CHECKSUM.fullmatch(self.checksum)
        ):
            raise PlanError(
                f"expected 'sha256:' and 64 hex digits, got {self.checksum!r}", "checksum"
            )
        _set(self, "blockers", _texts(self.blockers, "blockers"))
        _set(self, "notes", _texts(self.notes, "notes"))
        self._check_phases()

    def _check_phases(self) -> None:
        if isinstance(self.phases, str) or not isinstance(self.phases, Sequence):
            raise PlanError(f"expected a list of phases, got {self.phases!r}", "phases")
        if not self.phases:
            raise PlanError("a plan needs at least one phase", "phases")
        seen: list[str] = []
        for index, phase in enumerate(self.phases):
            where = f"phases[{index}]"
            if not isinstance(phase, PlanPhase):
                raise PlanError(f"expected a PlanPhase, got {phase!r}", where)
            if phase.name in seen:
                raise PlanError(f"the {phase.name} phase appears twice", f"{where}.name")
            if seen and PHASE_ORDER.index(phase.name) < PHASE_ORDER.index(seen[-1]):
                raise PlanError(
                    f"the {phase.name} phase comes after {seen[-1]}: phases run in the order "
                    f"{', '.join(PHASE_ORDER)}",
                    f"{where}.name",
                )
            for position, requirement in enumerate(phase.requires):
                if requirement != APPROVAL and requirement not in seen:
                    raise PlanError(
                        f"{requirement!r} is neither an earlier phase of this plan "
                        f"({', '.join(seen) or 'none'}) nor {APPROVAL!r}",
                        f"{where}.requires[{position}]",
                    )
            seen.append(phase.name)
        _set(self, "phases", tuple(self.phases))

    # -- access --------------------------------------------------------------------------

    def phase(self, name: str) -> PlanPhase:
        """The phase called `name`; PlanError when the plan has none."""
        for phase in self.phases:
            if phase.name == name:
                return phase
        names = ", ".join(phase.name for phase in self.phases)
        raise PlanError(f"plan {self.id} has no {name} phase (it has: {names})", "phase")

    def phases_before(self, name: str) -> tuple[PlanPhase, ...]:
        """The phases of this plan that come before the phase called `name`."""
        self.phase(name)
        index = [phase.name for phase in self.phases].index(name)
        return self.phases[:index]

    # -- checksum ------------------------------------------------------------------------

    def compute_checksum(self) -> str:
        """`sha256:` and the hex digest of the canonical JSON of everything but `checksum`."""
        body = self.to_dict()
        body.pop("checksum", None)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def with_checksum(self) -> Plan:
        """This plan sealed with the checksum of its current content."""
        return replace(self, checksum=self.compute_checksum())

    def verify_checksum(self) -> None:
        """PlanError unless the plan carries a checksum and its content still matches it."""
        if self.checksum is None:
            raise PlanError(
                "the plan has no checksum: write plans with `bgmigrate plan`, which seals them",
                "checksum",
            )
        actual = self.compute_checksum()
        if actual != self.checksum:
            raise PlanError(
                f"the plan was edited after it was written: its content hashes to {actual}, "
                f"not to the recorded {self.checksum}. Regenerate it with `bgmigrate plan` "
                "(or review the edit and seal it again) before applying it",
                "checksum",
            )

    # -- dict / TOML / JSON --------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": self.version,
            "id": self.id,
            "operation": self.operation,
            "target": dict(self.target),
            "pg_version": self.pg_version,
        }
        if self.checksum is not None:
            data["checksum"] = self.checksum
        if self.blockers:
            data["blockers"] = list(self.blockers)
        if self.notes:
            data["notes"] = list(self.notes)
        data["phases"] = [phase.to_dict() for phase in self.phases]
        return data

    @classmethod
    def from_dict(cls, data: object) -> Plan:
        fields = _fields(
            data,
            required={"version", "id", "operation", "target", "pg_version", "phases"},
            optional={"checksum", "blockers", "notes"},
        )
        fields["phases"] = _parse_list(fields["phases"], "phases", PlanPhase.from_dict)
        return cls(**fields)

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(self.to_dict(), multiline_strings=True)

    @classmethod
    def from_toml(cls, text: str) -> Plan:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise PlanError(f"not a valid TOML plan file: {error}") from None
        return cls.from_dict(data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Plan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PlanError(f"not a valid JSON plan file: {error}") from None
        return cls.from_dict(data)


def load_plan(path: Path | str) -> Plan:
    """Read a plan file: JSON when it ends in `.json` or starts with `{`, TOML otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanError(f"cannot read plan file {path}: {error.strerror or error}") from None
    try:
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            return Plan.from_json(text)
        return Plan.from_toml(text)
    except PlanError as error:
        raise PlanError(f"{path}: {error}") from None


def _fields(data: object, *, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise PlanError(f"expected a table of fields, got {data!r}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise PlanError(f"unknown field (allowed: {allowed})", unknown[0])
    missing = sorted(required - set(data))
    if missing:
        raise PlanError("required field is missing", missing[0])
    return dict(data)


def _check_target(target: object) -> dict[str, Any]:
    if not isinstance(target, Mapping) or not target:
        raise PlanError(
            f"expected a non-empty table such as {{ table = ... }}, got {target!r}", "target"
        )
    for key, value in target.items():
        if not isinstance(key, str) or not key:
            raise PlanError(f"expected string keys, got {key!r}", "target")
        scalar = (str, int, float, bool)
        if isinstance(value, scalar):
            continue
        if isinstance(value, list) and all(isinstance(item, scalar) for item in value):
            continue
        raise PlanError(
            f"expected a string, number, boolean or list of them, got {value!r}", f"target.{key}"
        )
    return dict(target)
