"""The check engine: walks units in order, parses statements, runs rules, applies suppressions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from bgmigrate.check.calls import with_called_bodies
from bgmigrate.check.context import Context, RunState, UnitState, track
from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.holds import merge_long_hold, record_locks
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule, Violation
from bgmigrate.parse.operations import CreateObject, Operation
from bgmigrate.source.unit import Location, Statement, Unit
from bgmigrate.values import Value, field, frozen_value, replace

__all__ = [
    "CheckSettings",
    "Parse",
    "SelectionError",
    "check_units",
    "checked_units",
    "parse_unit",
    "select_rules",
]

UNUSED_IGNORE = "unused-ignore"


class SelectionError(ValueError):
    """A rule or category name that the catalog does not have."""


@frozen_value
class CheckSettings(Value):
    """What a check is run with: the PostgreSQL version, the active rules, the reported units."""

    pg_version: int = 16
    rules: tuple[Rule, ...] = ()
    """The active rules, already selected and with their severities overridden."""
    report: Callable[[Unit], bool] = field(default=lambda unit: True)
    """Units whose findings are reported; the others only give context (`--since`)."""
    change: Callable[[Unit], bool] = field(default=lambda unit: False)
    """Units of the change being checked (added since `--since`): they deploy together, so
    what one of them creates is new, empty and unused, to the ones after it."""
    lock_timeout_set_by_runner: Callable[[Unit], bool] = field(default=lambda unit: False)
    """Units whose runner sets lock_timeout before running them (the config's
    `lock_timeout_set_by_runner`): they start with it in force."""


def select_rules(
    catalog: Mapping[str, Rule],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    severity: Mapping[str, Severity] | None = None,
) -> tuple[Rule, ...]:
    """The active rules: `select` narrows to names or categories (all when empty), `ignore`
    removes names or categories, `severity` overrides a rule's default."""
    categories = {rule.category.value for rule in catalog.values()}
    for word in (*select, *ignore, *(severity or {})):
        if word not in catalog and word not in categories:
            raise SelectionError(f"unknown rule or category {word!r}")

    def named(rule: Rule, words: Sequence[str]) -> bool:
        return rule.name in words or rule.category.value in words

    active = []
    for rule in catalog.values():
        if (select and not named(rule, select)) or named(rule, ignore):
            continue
        override = (severity or {}).get(rule.name)
        if override is not None:
            rule = _with_severity(rule, override)
        active.append(rule)
    return tuple(active)


def _with_severity(rule: Rule, severity: Severity) -> Rule:

    return replace(rule, severity=severity)


def check_units(
    units: Iterable[Unit], settings: CheckSettings, parse: Parse | None = None
) -> CheckResult:
    """Check `units` in order; earlier units are production context for later ones.

    `parse` gives each statement's operations, in statement order (default: parse them here);
    a runner that parsed the units in worker processes hands their operations in."""
    checked: list[CheckedUnit] = []
    findings: list[Finding] = []
    for unit, found in checked_units(units, settings, parse):
        checked.append(unit)
        findings.extend(found)
    position = {unit.path: index for index, unit in reversed(list(enumerate(checked)))}
    findings.sort(key=lambda f: (position[f.path], f.location.line, f.location.column))
    return CheckResult(units=checked, findings=findings, pg_version=settings.pg_version)


def checked_units(
    units: Iterable[Unit], settings: CheckSettings, parse: Parse | None = None
) -> Iterator[tuple[CheckedUnit, list[Finding]]]:
    """`check_units` as it goes: each unit once checked, with its reported findings in
    location order, so that a report can be written without holding the run's findings.
    `check_units`' order is this one's wherever units sharing a path follow each other."""
    parse = parse or parse_unit
    dispatch = _Dispatch(settings.rules)
    run = RunState()
    change = UnitState()
    """What the change's units so far created: new to its next unit."""
    for unit in units:
        in_change = settings.change(unit)
        state = UnitState.after(change) if in_change else UnitState()
        # The runner's session setting is in force until the unit itself changes it.
        state.lock_timeout_session = settings.lock_timeout_set_by_runner(unit)
        ctx = Context(unit=unit, pg_version=settings.pg_version, run=run, state=state)
        unit_findings = [
            _finding(rule, Violation(p.message), unit, p.location, "")
            for p in unit.problems
            if (rule := dispatch.by_name.get(p.rule)) is not None
        ]
        functions: dict[str, CreateObject | None] = {}
        parsed = [
            (statement, with_called_bodies(operations, functions))
            for statement, operations in zip(unit.statements, parse(unit), strict=True)
        ]
        ctx.operations = [op for _, operations in parsed for op in operations]
        for statement, operations in parsed:
            ctx.statement = statement
            for op in operations:
                for rule in dispatch.rules_for(op) if not statement.context else ():
                    for found in rule.check(op, ctx):
                        violation = (
                            merge_long_hold(found, op, ctx) if rule.lengthens_lock else found
                        )
                        if violation is None:
                            continue
                        location = violation.location or op.location
                        written = op.statement.written or op.statement.sql
                        unit_findings.append(
                            _finding(
                                rule, _with_unknowns(violation, statement), unit, location, written
                            )
                        )
                track(op, ctx)
                record_locks(op, ctx)
        if in_change:
            change = state
        reported = _suppress(unit, unit_findings, dispatch) if settings.report(unit) else []
        reported.sort(key=lambda f: (f.location.line, f.location.column))
        yield CheckedUnit.of(unit, keep_text=bool(reported)), reported


Parse = Callable[[Unit], Sequence[list[Operation]]]
"""A unit → each of its statements' operations, in statement order."""


def parse_unit(unit: Unit) -> list[list[Operation]]:
    """Each statement's operations, parsed in this process."""
    from bgmigrate.parse.postgres import parse_statements

    return parse_statements(unit.statements)


class _Dispatch:
    """Rules by the operation types they visit, resolved along each type's MRO once."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = rules
        self.by_name = {rule.name: rule for rule in rules}
        self.names_and_categories = set(self.by_name) | {rule.category.value for rule in rules}
        """What an ignore tag may name and still be in use this run."""
        self._cache: dict[type, tuple[Rule, ...]] = {}

    def rules_for(self, op: Operation) -> tuple[Rule, ...]:
        kind = type(op)
        if kind not in self._cache:
            self._cache[kind] = tuple(
                rule for rule in self.rules if any(issubclass(kind, v) for v in rule.visits)
            )
        return self._cache[kind]


def _finding(
    rule: Rule, violation: Violation, unit: Unit, location: Location, statement: str
) -> Finding:
    return Finding(
        rule=rule.name,
        category=rule.category,
        severity=rule.severity,
        path=unit.path,
        location=location,
        statement=statement,
        message=violation.message,
        safe_alternative=violation.safe_alternative or rule.plan_command or _first_step(rule),
    )


def _with_unknowns(violation: Violation, statement: Statement) -> Violation:
    """The violation, saying which of the statement's stand-ins for code that could not be
    imported its verdict depends on. A message names what its verdict judged (the table,
    column, type or index of the operation, where a stand-in shows as `<unknown type …>`):
    the stand-ins it names are those; the others (another column's type, a value the
    statement writes) do not change it, and are not mentioned."""
    named = [
        unknown for unknown in statement.unknowns if f"<unknown {unknown}>" in violation.message
    ]
    if not named:
        return violation
    notes = "; ".join(
        f"{kind} `{name}` is not installed: treated as unknown"
        for kind, _, name in (unknown.partition(" ") for unknown in named)
    )

    return replace(violation, message=f"{violation.message} ({notes}.)")


def _first_step(rule: Rule) -> str:
    return rule.safe_alternative.strip().splitlines()[0] if rule.safe_alternative.strip() else ""


def _suppress(unit: Unit, findings: list[Finding], dispatch: _Dispatch) -> list[Finding]:
    """Mark suppressed findings and report every ignore tag that suppressed nothing."""

    used: set[int] = set()
    result = []
    for finding in findings:
        for index, tag in enumerate(unit.suppressions):
            if tag.covers(finding.rule, finding.category.value, finding.location):
                used.add(index)
                finding = replace(finding, suppressed=True, suppression_reason=tag.reason)
                break
        result.append(finding)
    unused_rule = dispatch.by_name.get(UNUSED_IGNORE)
    if unused_rule is None:
        return result
    for index, tag in enumerate(unit.suppressions):
        if index in used or dispatch.names_and_categories.isdisjoint(tag.rules):
            # A tag for rules this run does not check (--select, --ignore) is not stale.
            continue
        named = ", ".join(tag.rules)
        scope = "this file" if tag.line is None else f"line {tag.line} or the line after it"
        message = f"This ignore of {named} suppresses nothing: no such finding on {scope}."
        result.append(_finding(unused_rule, Violation(message), unit, tag.location, ""))
    return result
