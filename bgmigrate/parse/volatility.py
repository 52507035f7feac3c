"""How volatile an expression is: whether `ADD COLUMN … DEFAULT <expr>` rewrites the table.

PostgreSQL (≥ 11) stores a non-volatile default once in the catalog; a volatile one must be
evaluated for every existing row, which rewrites the table. An expression is as volatile as the
worst function it calls. Built-in functions come from `builtin_functions.txt`, generated from a
real server's `pg_proc` by `scripts/generate_builtin_functions.py`; any other function is
UNKNOWN, which rules treat as volatile unless a `CREATE FUNCTION` earlier in the run declared
its volatility (`resolve_volatility`).

Expressions are parse trees in libpg_query's JSON form (`{"FuncCall": {...}}`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

from bgmigrate.parse.operations import ColumnDefault, Volatility

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "RANK",
    "builtin_volatility",
    "column_default",
    "expression_volatility",
    "resolve_volatility",
]

_BUILTINS_FILE = Path(__file__).with_name("builtin_functions.txt")

# Worse classes rank higher. A function known to be volatile is a surer verdict than one we
# know nothing about, so VOLATILE outranks UNKNOWN.
RANK = {
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


def _calls(expression: Any) -> Iterator[tuple[Volatility, str | None]]:
    """The volatility and name of every function call and SQL value function in the tree, in
    the order written."""
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
                yield _function_volatility(value)
            elif key == "SQLValueFunction":
                yield Volatility.STABLE, None
        pending.extend(reversed(children))


_BARE_CALL = frozenset({"funcname", "funcformat", "location"})
"""What a function call without arguments holds (`now()`, `gen_random_uuid()`)."""


def _default_calls(expression: Any) -> list[tuple[Volatility, str | None]]:
    """`list(_calls(expression))` for a DEFAULT, without walking the commonest ones: a
    constant calls nothing; a call without arguments, only its function."""
    if "A_Const" in expression:
        return []
    call = expression.get("FuncCall")
    if call is not None and call.keys() <= _BARE_CALL:
        return [_function_volatility(call)]
    return list(_calls(expression))


def _worst(calls: Iterable[tuple[Volatility, str | None]]) -> tuple[Volatility, str | None]:
    worst, culprit = Volatility.IMMUTABLE, None
    for volatility, name in calls:
        if RANK[volatility] > RANK[worst]:
            worst, culprit = volatility, name
    if worst in (Volatility.IMMUTABLE, Volatility.STABLE):
        culprit = None
    return worst, culprit


def expression_volatility(expression: Any) -> tuple[Volatility, str | None]:
    """The volatility of an expression tree and, when it is VOLATILE or UNKNOWN, the name of
    the first function responsible (for messages).

    Constants and casts of constants are IMMUTABLE; `CURRENT_TIMESTAMP` and the other SQL
    value functions are STABLE, like `now()`.
    """
    return _worst(_calls(expression))


def column_default(expression: Any, sql: str) -> ColumnDefault:
    """A DEFAULT expression's tree and text as the operation that adds it carries them."""
    calls = _default_calls(expression)
    volatility, culprit = _worst(calls)
    unknown = tuple(dict.fromkeys(name for kind, name in calls if kind is Volatility.UNKNOWN))
    if not unknown:
        return ColumnDefault(sql, volatility, culprit)
    known, _ = _worst(call for call in calls if call[0] is not Volatility.UNKNOWN)
    return ColumnDefault(sql, volatility, culprit, unknown, known)


def resolve_volatility(
    default: ColumnDefault, declared: Callable[[str], Volatility | None]
) -> tuple[Volatility, str | None]:
    """The volatility of a default once each function it calls that is not built in is
    looked up in `declared` (the volatility a `CREATE FUNCTION` of the run gave it, or None);
    what stays undeclared stays UNKNOWN."""
    if default.volatility is not Volatility.UNKNOWN:
        return default.volatility, default.volatile_function
    calls = [(default.known_volatility or Volatility.IMMUTABLE, None)]
    calls += [(declared(name) or Volatility.UNKNOWN, name) for name in default.unknown_functions]
    return _worst(calls)
