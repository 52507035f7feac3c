"""SQL fragments a user types on the command line (`--backfill "''"`, `--using`, a type): each
must be exactly one expression, or one type, so that it cannot smuggle a second statement into
a plan. Also what the planner needs to know about them: volatility, a type's normal form.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bgmigrate.plan.model import PlanError

if TYPE_CHECKING:
    from bgmigrate.parse.operations import TypeName

__all__ = [
    "check_expression",
    "check_type",
    "is_volatile",
    "parse_type",
]


def _parse_single_select(sql: str, what: str, text: str, kind: str) -> dict[str, Any]:
    from bgmigrate.parse.libpg_query import ParseError, parse_json

    try:
        tree = json.loads(parse_json(sql))
    except ParseError as error:
        raise PlanError(f"{what} {text!r} is not valid SQL: {error.message}") from None
    statements = tree.get("stmts", [])
    select = statements[0]["stmt"].get("SelectStmt") if len(statements) == 1 else None
    targets = (select or {}).get("targetList", [])
    if len(targets) != 1 or set(select) - {"targetList", "limitOption", "op"}:
        raise PlanError(f"{what} {text!r} must be a single {kind}")
    return targets[0]["ResTarget"]["val"]


def check_expression(text: str, what: str) -> str:
    """`text` stripped, after making sure it is one SQL expression (no statement, no
    subquery-free trick such as `1; DROP TABLE users`); PlanError naming `what` otherwise."""
    stripped = text.strip()
    if not stripped:
        raise PlanError(f"{what} is empty: give an SQL expression, e.g. \"''\" or 'now()'")
    # Parenthesised so that a trailing clause (`1 FROM users`) cannot hide in the select.
    _parse_single_select(f"SELECT ({stripped})", what, stripped, "SQL expression")
    return stripped


def check_type(text: str) -> str:
    """`text` stripped, after making sure it is one type name (`bigint`, `varchar(255)`,
    `numeric(12, 2)`, `text[]`)."""
    stripped = text.strip()
    if not stripped:
        raise PlanError("the type is empty: give a PostgreSQL type such as bigint or text")
    value = _parse_single_select(
        f"SELECT NULL::{stripped}", "the type", stripped, "type name, such as bigint"
    )
    if "TypeCast" not in value or "A_Const" not in value["TypeCast"].get("arg", {}):
        raise PlanError(f"the type {stripped!r} must be a single type name, such as bigint")
    return stripped


def _tree(text: str) -> dict[str, Any]:
    from bgmigrate.parse.libpg_query import parse_json

    statement = json.loads(parse_json(f"SELECT ({text})"))["stmts"][0]["stmt"]
    return statement["SelectStmt"]["targetList"][0]["ResTarget"]["val"]


def is_volatile(text: str) -> bool:
    """Whether evaluating the expression once per row differs from evaluating it once
    (`gen_random_uuid()`, `clock_timestamp()`, a user function): such a default rewrites the
    table when added with the column."""
    from bgmigrate.parse.operations import Volatility
    from bgmigrate.parse.volatility import expression_volatility

    volatility, _ = expression_volatility(_tree(text))
    return volatility in (Volatility.VOLATILE, Volatility.UNKNOWN)


def parse_type(text: str) -> TypeName:
    """`text` (already checked by `check_type`) as the checker's normalised type name:
    `integer`, `int` and `int4` are all `int4`; `character varying(255)` is `varchar(255)`."""
    from bgmigrate.parse.libpg_query import parse_json
    from bgmigrate.parse.pg_nodes import type_name

    statement = json.loads(parse_json(f"SELECT NULL::{text}"))["stmts"][0]["stmt"]
    cast = statement["SelectStmt"]["targetList"][0]["ResTarget"]["val"]["TypeCast"]
    return type_name(cast["typeName"])[0]
