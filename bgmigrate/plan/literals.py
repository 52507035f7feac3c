"""Whether a constant given on the command line (`--backfill 'abc'`) fits the column's type.

PostgreSQL refuses `UPDATE users SET age = 'abc'` for an integer column, and an integer
constant for a boolean one (there is no assignment cast); the planner refuses them too rather
than write a plan whose backfill fails halfway through a deploy. Only constants are judged,
for the types whose input rules are simple and certain; an expression, or a type not listed
here, is left to PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from bgmigrate.plan.model import PlanError

if TYPE_CHECKING:
    from bgmigrate.parse.operations import TypeName

__all__ = ["check_constant_fits"]

_INTEGER_RANGES = {"int2": 2**15, "int4": 2**31, "int8": 2**63}
_DECIMAL_TYPES = frozenset({"numeric", "float4", "float8"})
_SPECIAL_NUMBERS = frozenset({"nan", "infinity", "+infinity", "-infinity", "inf", "-inf"})
_BOOLEAN_WORDS = frozenset(
    {"t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0"}
)
_NUMBERS_REFUSED_BY = frozenset(
    {"bool", "uuid", "json", "jsonb", "date", "timestamp", "timestamptz", "time", "timetz"}
    | {"interval", "bytea", "inet", "cidr", "macaddr"}
)
"""Built-in types with no assignment cast from a number (a domain over integer has one)."""


def check_constant_fits(text: str, type_: TypeName, what: str) -> None:
    """PlanError when `text` is a constant PostgreSQL would refuse to store as `type_`."""
    if type_.schema is not None or type_.array_dimensions:
        return
    constant = _constant(text)
    if constant is None:
        return
    kind, value = constant
    if kind == "number" and type_.name in _NUMBERS_REFUSED_BY:
        raise PlanError(
            f"{what} {text} is a number and the column is {type_}: PostgreSQL has no "
            f"assignment cast from a number to {type_}; give a {type_} value"
        )
    if kind == "string" and not _string_fits(value, type_.name):
        raise PlanError(
            f"{what} {text} is not a valid {type_}: PostgreSQL would refuse it "
            f"(invalid input syntax for type {type_})"
        )


def _constant(text: str) -> tuple[str, str] | None:
    """('string', value) for a quoted literal, ('number', digits) for a numeric one."""
    from bgmigrate.parse.libpg_query import parse_json

    tree = json.loads(parse_json(f"SELECT ({text})"))
    value: dict[str, Any] = tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]
    node = value["ResTarget"]["val"].get("A_Const")
    if node is None or node.get("isnull"):
        return None
    if "sval" in node:
        return "string", node["sval"].get("sval", "")
    if "ival" in node or "fval" in node:
        return "number", text
    return None


def _string_fits(value: str, type_name: str) -> bool:
    stripped = value.strip()
    if type_name in _INTEGER_RANGES:
        try:
            number = int(stripped)
        except ValueError:
            return False
        limit = _INTEGER_RANGES[type_name]
        return -limit <= number < limit
    if type_name in _DECIMAL_TYPES:
        if stripped.lower() in _SPECIAL_NUMBERS:
            return True
        try:
            Decimal(stripped)
        except InvalidOperation:
            return False
        return True
    if type_name == "bool":
        return stripped.lower() in _BOOLEAN_WORDS
    if type_name == "uuid":
        try:
            uuid.UUID(stripped)
        except ValueError:
            return False
        return True
    if type_name in ("json", "jsonb"):
        try:
            json.loads(value)
        except ValueError:
            return False
        return True
    return True
