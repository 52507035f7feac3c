"""How volatile an expression is: whether `ADD COLUMN … DEFAULT <expr>` rewrites the table.

PostgreSQL (≥ 11) stores a non-volatile default once in the catalog; a volatile one must be
evaluated for every existing row, which rewrites the table. An expression is as volatile as the
worst function it calls. Built-in functions come from `builtin_functions.txt`, generated from a
real server's `pg_proc` by `scripts/generate_builtin_functions.py`; any other function is
UNKNOWN, which rules treat as volatile.

Expressions are parse trees in libpg_query's JSON form (`{"FuncCall": {...}}`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from bgmigrate.parse.operations import Volatility

__all__ = ["builtin_volatility", "expression_volatility"]

_BUILTINS_FILE = Path(__file__).with_name("builtin_functions.txt")

# Worse classes rank higher. A function known to be volatile is a surer verdict than one we
# know nothing about, so VOLATILE outranks UNKNOWN.
_RANK = {
    Volatility.IMMUTABLE: 0,
    Volatility.STABLE: 1,
    Volatility.UNKNOWN: 2,
    Volatility.VOLATILE: 3,
}


@cache
def _builtins() -> dict[str, Volatility]:
    table: dict[str, Volatility] = {}
    for line in _BUILTINS_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, volatility = line.split("\t")
            table[name] = Volatility(volatility)
    return table


def builtin_volatility(name: str) -> Volatility | None:
    """The volatility of the `pg_catalog` function `name` (its most volatile overload), or
    None when PostgreSQL has no built-in function of that name."""
    return _builtins().get(name)


def _function_volatility(call: dict[str, Any]) -> tuple[Volatility, str]:
    parts = [part["String"]["sval"] for part in call["funcname"]]
    name = parts[-1]
    schema = parts[-2] if len(parts) > 1 else None
    known = builtin_volatility(name) if schema in (None, "pg_catalog") else None
    return known or Volatility.UNKNOWN, ".".join(parts)


def expression_volatility(expression: Any) -> tuple[Volatility, str | None]:
    """The volatility of an expression tree and, when it is VOLATILE or UNKNOWN, the name of
    the first function responsible (for messages).

    Constants and casts of constants are IMMUTABLE; `CURRENT_TIMESTAMP` and the other SQL
    value functions are STABLE, like `now()`.
    """
    worst, culprit = Volatility.IMMUTABLE, None
    pending = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        children = []
        for key, value in node.items():
            children.append(value)
            if key == "FuncCall":
                volatility, name = _function_volatility(value)
            elif key == "SQLValueFunction":
                volatility, name = Volatility.STABLE, None
            else:
                continue
            if _RANK[volatility] > _RANK[worst]:
                worst, culprit = volatility, name
        pending.extend(reversed(children))
    if worst in (Volatility.IMMUTABLE, Volatility.STABLE):
        culprit = None
    return worst, culprit
