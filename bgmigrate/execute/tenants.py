"""One plan, many tenant schemas: the plan made for one schema, rewritten for another.

A plan written for `tenant_0.users` names its schema wherever it names an object: in the
steps, their undo statements, the backfill, the verify queries and the function bodies of the
sync triggers. `plan_for_schema` replaces every schema-qualified reference to that schema (an
identifier followed by a dot, quoted or not) by the tenant's schema, and gives the result an id
of its own, `<plan id>.<schema>`, so that each schema keeps its own state, gates and lock in
its database. The rewrite is textual on qualified names: an unqualified name, or an alias
spelled like the schema and followed by a dot, would not be told apart; the planner qualifies
every name it writes and uses no such aliases.
"""

from __future__ import annotations

import re
from typing import Any

from bgmigrate.execute.errors import UsageError
from bgmigrate.plan.model import Plan

__all__ = ["plan_for_schema", "plan_schema", "plan_table"]

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")
_QUALIFIED = re.compile(r'^(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))\.')


def _quoted(name: str) -> str:
    if _PLAIN_IDENTIFIER.fullmatch(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def plan_table(plan: Plan) -> str:
    """The table the plan changes, as its SQL names it (`tenant_0.users`)."""
    table = plan.target.get("table")
    if not isinstance(table, str):
        raise UsageError(f"plan {plan.id} names no target table, so it cannot run per schema")
    return table


def plan_schema(plan: Plan) -> str:
    """The schema the plan was made for, from its target table."""
    table = plan_table(plan)
    match = _QUALIFIED.match(table)
    if match is None:
        raise UsageError(
            f"plan {plan.id} names its table {table} without a schema: make the plan for one "
            "tenant schema (bgmigrate plan rename tenant_0.users.email email_address) to run it "
            "with --each-schema"
        )
    quoted, plain = match.groups()
    return quoted.replace('""', '"') if quoted is not None else plain.lower()


def plan_for_schema(plan: Plan, schema: str) -> Plan:
    """`plan` rewritten to change `schema` instead of the schema it was made for, and sealed.

    PlanError when `plan` was edited after it was sealed: the rewrite's own checksum would
    otherwise vouch for an edit nobody reviewed."""
    plan.verify_checksum()
    source = plan_schema(plan)
    plan_id = f"{plan.id}.{schema}"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", schema):
        raise UsageError(
            f"schema {schema!r} has characters a plan id cannot hold ({plan_id}): rename it, or "
            "leave it out of --each-schema"
        )
    # The schema as SQL may spell it: bare when it needs no quotes, and always quoted.
    spellings = {_quoted(source), '"' + source.replace('"', '""') + '"'}
    names = "|".join(re.escape(spelling) for spelling in sorted(spellings))
    pattern = re.compile(rf'(?<![\w$."])(?:{names})(?=\s*\.)')
    replacement = _quoted(schema)

    def rewrite(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda _: replacement, value)
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        return value

    data = plan.to_dict()
    data["id"] = plan_id
    data["target"] = rewrite(data["target"])
    data["phases"] = rewrite(data["phases"])
    data.pop("checksum", None)
    return Plan.from_dict(data).with_checksum()
