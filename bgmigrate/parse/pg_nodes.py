"""Reading libpg_query's JSON parse tree: names, types and constants.

In that form a node stored in a generic field is wrapped in its type (`{"RangeVar": {...}}`),
a node stored in a typed field is not, and fields holding false, zero or an empty list are
left out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from bgmigrate.parse.operations import Generated, Name, TypeName

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Node",
    "constant_text",
    "kind_name",
    "object_name",
    "qualified_name",
    "range_var_name",
    "read_tables",
    "strings",
    "type_name",
    "unwrap",
]

if TYPE_CHECKING:
    Node = dict[str, Any]
else:
    Node = dict  # the same alias at run time, without typing's Any

# The types `serial` & co. are shorthands for an integer column filled from a new sequence.
_SERIAL_TYPES = {
    "smallserial": "int2",
    "serial2": "int2",
    "serial": "int4",
    "serial4": "int4",
    "bigserial": "int8",
    "serial8": "int8",
}

_KIND_NAMES = {
    "OBJECT_MATVIEW": "materialized view",
    "OBJECT_TABCONSTRAINT": "constraint",
    "OBJECT_DOMCONSTRAINT": "domain constraint",
    "OBJECT_FDW": "foreign data wrapper",
    "OBJECT_FOREIGN_SERVER": "server",
    "OBJECT_STATISTIC_EXT": "statistics",
}


def unwrap(node: Node) -> tuple[str, Node]:
    """The type name and the fields of a wrapped node."""
    ((node_type, fields),) = node.items()
    return node_type, fields


def strings(nodes: list[Node] | None) -> list[str]:
    """The values of a list of `String` nodes (qualified names, column lists)."""
    return [node["String"].get("sval", "") for node in nodes or () if "String" in node]


def kind_name(object_type: str) -> str:
    """`OBJECT_MATVIEW` → `materialized view`, `OBJECT_FOREIGN_TABLE` → `foreign table`."""
    return _KIND_NAMES.get(object_type) or object_type.removeprefix("OBJECT_").lower().replace(
        "_", " "
    )


def range_var_name(range_var: Node) -> Name:
    return _shared_name(range_var.get("relname", ""), range_var.get("schemaname"))


def read_tables(statement: Node) -> tuple[Name, ...]:
    """The tables a DML statement reads besides its target (`relation`): every table named
    in it, once each, except the common table expressions it defines."""
    fields = {key: value for key, value in statement.items() if key != "relation"}
    named: list[Node] = []
    ctes: set[str | None] = set()
    for kind, node in _nodes(fields):
        if kind == "RangeVar":
            named.append(node)
        elif kind == "CommonTableExpr":
            ctes.add(node.get("ctename"))
    tables = [
        range_var_name(node)
        for node in named
        if node.get("schemaname") is not None or node.get("relname") not in ctes
    ]
    return tuple(dict.fromkeys(tables))


def _nodes(tree: Any) -> Iterator[tuple[str, Node]]:
    """(type, fields) of every wrapped node in `tree`, depth first.

    A stack rather than recursion: nested generators cost each node once per level above it
    (a DML statement's tree is deep). Lists and dicts are pushed in reverse so that they pop
    in order; a wrapped node is pushed as a (type, fields) tuple above its fields, which JSON
    never holds, so that it is yielded before its subtree is walked."""
    pending: list[Any] = [tree]
    while pending:
        item = pending.pop()
        if isinstance(item, tuple):
            yield item
        elif isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, dict):
            for key, value in reversed(item.items()):
                # Only what may hold a node: most values are locations, names and flags.
                if isinstance(value, dict):
                    pending.append(value)
                    if key[:1].isupper():
                        pending.append((key, value))
                elif isinstance(value, list):
                    pending.append(value)


def qualified_name(parts: list[str]) -> Name:
    """`["s", "t"]` → s.t; only the last two parts of a longer name count."""
    if not parts:
        return Name("")
    return Name(parts[-1], parts[-2] if len(parts) > 1 else None)


def object_name(node: Node) -> Name:
    """The name of the object a DROP, COMMENT or RENAME designates, in any of the forms the
    grammar uses for it (a qualified name, a type, a function with its arguments…)."""
    node_type, fields = unwrap(node)
    if node_type == "String":
        return Name(fields.get("sval", ""))
    if node_type == "List":
        return qualified_name(strings(fields.get("items")))
    if node_type == "TypeName":
        return qualified_name(strings(fields.get("names")))
    if node_type == "ObjectWithArgs":
        return qualified_name(strings(fields.get("objname")))
    if node_type == "RangeVar":
        return range_var_name(fields)
    return Name(node_type)


def _modifier(node: Node) -> int | None:
    constant = node.get("A_Const", {})
    integer = constant.get("ival")
    return integer.get("ival", 0) if integer is not None else None


def type_name(node: Node) -> tuple[TypeName, Generated | None]:
    """A column type normalised to PostgreSQL's internal name, and `SERIAL` when the type is a
    serial shorthand (which then stands for its integer type)."""
    # Every column of every CREATE TABLE comes here: the common case (no modifiers, no array
    # bounds) builds nothing it does not return.
    parts = strings(node.get("names"))
    name = parts[-1] if parts else ""
    schema = parts[-2] if len(parts) > 1 else None
    generated = None
    if schema is None and name in _SERIAL_TYPES:
        name, generated = _SERIAL_TYPES[name], Generated.SERIAL
    if schema == "pg_catalog":
        schema = None
    typmods = node.get("typmods")
    modifiers = (
        tuple(value for value in map(_modifier, typmods) if value is not None) if typmods else ()
    )
    bounds = node.get("arrayBounds")
    return _shared_type(name, schema, modifiers, len(bounds) if bounds else 0), generated


# Types and table names as shared objects: a history names a few dozen types, and each table
# several times, thousands of times over; a worker process sends a shared object once per
# batch instead of once per column or statement. Frozen values, so sharing them is safe.
_shared_type = functools.lru_cache(maxsize=1024)(TypeName)
_shared_name = functools.lru_cache(maxsize=1024)(Name)


def constant_text(node: Node) -> str | None:
    """The value of a constant as text (`'2s'` → `2s`, `5000` → `5000`), or None for anything
    that is not a constant."""
    node_type, fields = unwrap(node)
    if node_type == "TypeCast":
        return constant_text(fields["arg"])
    if node_type != "A_Const" or fields.get("isnull"):
        return None
    for kind in ("sval", "ival", "fval", "bsval"):
        if kind in fields:
            return str(fields[kind].get(kind, 0 if kind == "ival" else ""))
    if "boolval" in fields:
        return "true" if fields["boolval"].get("boolval") else "false"
    return None
