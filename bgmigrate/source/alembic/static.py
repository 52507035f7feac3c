"""The SQL of the simplest revisions, read from their `ast` without importing Alembic or
SQLAlchemy (together 300 ms of a one-file check).

A revision qualifies when its module only imports `op`, `sqlalchemy` and its PostgreSQL
dialect (plus typing helpers), assigns literals and defines undecorated functions; and its
`upgrade()` is made only of `op.…(…)` calls with literal arguments, optionally inside
`with op.get_context().autocommit_block():`. Each call must be one this module renders
exactly as Alembic's offline PostgreSQL mode does (the differential tests compare both);
anything else — an unknown operation, keyword, type or value, a name, a loop, a helper —
makes `render_static` return None and the revision is rendered by Alembic itself.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from bgmigrate.source.alembic.capture import Captured, Recorder
from bgmigrate.source.alembic.project import AlembicProject
from bgmigrate.source.alembic.revision import RevisionFile
from bgmigrate.source.sql import split_sql

__all__ = ["render_static"]


def render_static(revision: RevisionFile, project: AlembicProject) -> Recorder | None:
    """What Alembic's offline rendering would record for `revision`, or None when the
    revision does anything this module does not render exactly."""
    if any(_changes_op(plugin) for plugin in project.environment.plugins):
        return None  # an extension may change what `op` does
    if sys.version_info < (3, 11):
        return None  # without instruction positions, the replayed call's location may differ
    try:
        names = _module_names(revision.tree)
        upgrade = _upgrade(revision.tree)
        recorder = Recorder(revision)
        recorder.captured = list(_Renderer(names, recorder).body(upgrade.body))
    except _GiveUp:
        return None
    return recorder


class _GiveUp(Exception):
    """The revision does something the static rendering does not reproduce exactly."""


# Extensions that only add operations of their own (`op.sync_enum_values`, which this module
# does not render, so a revision calling one goes to Alembic) and autogenerate hooks: they
# leave the SQL of Alembic's own operations as it is. warehouse's env.py imports this one.
_OPERATIONS_ONLY_EXTENSIONS = frozenset({"alembic_postgresql_enum"})


def _changes_op(plugin: str) -> bool:
    return plugin.split(".")[0] not in _OPERATIONS_ONLY_EXTENSIONS


# --- the module: what its names are bound to ---------------------------------------------

_TYPING_MODULES = frozenset({"typing", "collections.abc"})
_BUILTIN_ANNOTATIONS = frozenset({"str", "int", "bool", "tuple", "list", "None"})


@dataclass(frozen=True)
class _Names:
    op: frozenset[str]
    sqlalchemy: frozenset[str]
    postgresql: frozenset[str]
    postgresql_types: dict[str, str]
    """Types imported from the dialect (`from sqlalchemy.dialects.postgresql import CITEXT`):
    the name bound to the type's name."""


def _module_names(tree: ast.Module) -> _Names:
    """The names the revision binds to `op`, `sqlalchemy` and its PostgreSQL dialect; gives up
    on any other import (it could fail, or do anything) and any other module-level code."""
    op: set[str] = set()
    sqlalchemy: set[str] = set()
    postgresql: set[str] = set()
    postgresql_types: dict[str, str] = {}
    typing: set[str] = set()
    lazy_annotations = False
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == "__future__":
                lazy_annotations |= any(a.name == "annotations" for a in node.names)
                continue
            for alias in node.names:
                bound = alias.asname or alias.name
                if node.module == "alembic" and alias.name == "op":
                    op.add(bound)
                elif node.module == "sqlalchemy.dialects" and alias.name == "postgresql":
                    postgresql.add(bound)
                elif node.module == "sqlalchemy.dialects.postgresql" and alias.name in (
                    _POSTGRESQL_TYPES.keys() | _POSTGRESQL_PARAMETERISED
                ):
                    postgresql_types[bound] = alias.name
                elif node.module in _TYPING_MODULES and alias.name != "*":
                    typing.add(bound)
                else:
                    raise _GiveUp
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name != "sqlalchemy":
                    raise _GiveUp
                sqlalchemy.add(alias.asname or alias.name)
        elif not _harmless(node, typing, lazy_annotations):
            raise _GiveUp
    bound = [op, sqlalchemy, postgresql, set(postgresql_types), typing, _assigned(tree)]
    if sum(len(names) for names in bound) != len(set().union(*bound)):
        raise _GiveUp  # one name bound twice: which binding `upgrade()` sees depends on order
    return _Names(frozenset(op), frozenset(sqlalchemy), frozenset(postgresql), postgresql_types)


def _assigned(tree: ast.Module) -> set[str]:
    """The names module-level assignments and functions other than `upgrade` bind."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.FunctionDef) and node.name != "upgrade":
            names.add(node.name)
    return names


def _harmless(node: ast.stmt, typing: set[str], lazy_annotations: bool) -> bool:
    """A docstring, a literal assignment to a new name, or an undecorated function: module
    code that cannot fail nor change what `upgrade()` does."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
        return (
            node.value is not None
            and _is_literal(node.value)
            and all(isinstance(t, ast.Name) and t.id != "upgrade" for t in targets)
            and (annotation is None or lazy_annotations or _known_names(annotation, typing))
        )
    if isinstance(node, ast.FunctionDef):
        arguments = node.args
        annotations = [a.annotation for a in arguments.args + arguments.kwonlyargs]
        annotations += [node.returns]
        return (
            not node.decorator_list
            and all(_is_literal(d) for d in arguments.defaults)
            and all(d is None or _is_literal(d) for d in arguments.kw_defaults)
            and (lazy_annotations or all(a is None or _known_names(a, typing) for a in annotations))
        )
    return False


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _known_names(annotation: ast.expr, typing: set[str]) -> bool:
    """An annotation evaluated at import time that only names builtins and typing imports."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id not in typing | _BUILTIN_ANNOTATIONS:
            return False
        if not isinstance(
            node,
            (ast.Name, ast.Subscript, ast.Tuple, ast.Constant, ast.BinOp, ast.BitOr, ast.Load),
        ):
            return False
    return True


def _upgrade(tree: ast.Module) -> ast.FunctionDef:
    """The module's only `def upgrade()`, taking no arguments."""
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"]
    if len(found) != 1:
        raise _GiveUp
    arguments = found[0].args
    if arguments.args or arguments.posonlyargs or arguments.kwonlyargs:
        raise _GiveUp
    if arguments.vararg or arguments.kwarg:
        raise _GiveUp
    return found[0]


# --- values: literals and the few SQLAlchemy objects with a fixed rendering ---------------


@dataclass(frozen=True)
class _Text:
    """`sa.text("…")`: SQL rendered as written."""

    sql: str


@dataclass(frozen=True)
class _Type:
    """A column type, as PostgreSQL DDL spells it."""

    ddl: str
    create: str = ""
    """The `CREATE TYPE` `op.create_table` runs before its table (an enum's), or ""."""


@dataclass(frozen=True)
class _Column:
    name: str
    type: _Type
    nullable: bool | None
    """None when not written: NOT NULL in a primary key, nullable elsewhere."""
    server_default: str | _Text | None
    primary_key: bool = False
    comment: str | None = None
    """Set with a `COMMENT ON COLUMN` after the column is made, even when empty."""


_SIMPLE_TYPES = {
    "Integer": "INTEGER",
    "BigInteger": "BIGINT",
    "SmallInteger": "SMALLINT",
    "Text": "TEXT",
    "Boolean": "BOOLEAN",
    "Date": "DATE",
    "Float": "FLOAT",
    "JSON": "JSON",
    "TEXT": "TEXT",
    "BOOLEAN": "BOOLEAN",
    "INTEGER": "INTEGER",
    "BIGINT": "BIGINT",
    "DATE": "DATE",
}
_POSTGRESQL_TYPES = {"CITEXT": "CITEXT", "INET": "INET"}
# Types of the PostgreSQL dialect whose arguments `_parameterised_type` reads.
_POSTGRESQL_PARAMETERISED = frozenset({"UUID", "TIMESTAMP", "JSONB", "ARRAY", "ENUM"})
# `sa.true()` / `sa.false()` (or `sa.sql.…`), as server defaults.
_BOOLEAN_CONSTANTS = frozenset({"true", "false"})

# SQLAlchemy's bind parameters in textual SQL (`:name`), which Alembic renders as `$n`
# placeholders, and their escape (`\:`); SQL with either is left to Alembic.
_BIND_PARAMETER = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])", re.UNICODE)


def _sql_text(value: object) -> str:
    if not isinstance(value, str) or _BIND_PARAMETER.search(value) or "\\" in value:
        raise _GiveUp
    return value


class _Values:
    """Evaluates argument expressions made of literals, `sa.text`, `sa.Column` and types."""

    def __init__(self, names: _Names) -> None:
        self._names = names

    def value(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, (str, bool, int)):
                return node.value
            raise _GiveUp
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(element) for element in node.elts]
        if isinstance(node, ast.Call):
            return self._call(node)
        return self._type(node, (), {})

    def _call(self, node: ast.Call) -> object:
        arguments = [self.value(a) for a in _positional(node)]
        keywords = {k.arg: self.value(k.value) for k in _keywords(node)}
        if _attribute_of(node.func, self._names.op, "f"):
            # `op.f("ix_t_a")`: the name as given, kept from any naming convention, which the
            # rendering has none of (env.py's `target_metadata` is not loaded).
            (name,) = _bind(arguments, keywords, ["name"], required=1).values()
            if not isinstance(name, str):
                raise _GiveUp
            return name
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "now"
            and self._is_sqlalchemy(node.func.value, "func")
        ):
            _bind(arguments, keywords, [])
            return _Text("now()")  # `sa.func.now()`, as a server default
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in _BOOLEAN_CONSTANTS
            and (self._is_sqlalchemy(node.func) or self._is_sqlalchemy(node.func.value, "sql"))
        ):
            _bind(arguments, keywords, [])
            return _Text(node.func.attr)
        if self._is_sqlalchemy(node.func, "text"):
            (sql,) = _bind(arguments, keywords, ["text"], required=1).values()
            return _Text(_sql_text(sql))
        if self._is_sqlalchemy(node.func, "Column"):
            return _column(arguments, keywords)
        if isinstance(node.func, ast.Attribute) and self._is_sqlalchemy(node.func):
            constraint = _TABLE_CONSTRAINTS.get(node.func.attr)
            if constraint is not None:
                return constraint(arguments, keywords)
        return self._type(node.func, arguments, keywords)

    def _type(self, node: ast.expr, arguments: list[object], keywords: dict[str, object]) -> _Type:
        dialect_type = self._postgresql_type(node)
        if dialect_type is not None:
            simple = _POSTGRESQL_TYPES.get(dialect_type)
            if simple is None and dialect_type in _POSTGRESQL_PARAMETERISED:
                return _parameterised_type(dialect_type, arguments, keywords)
        elif self._is_sqlalchemy(node) and isinstance(node, ast.Attribute):
            simple = _SIMPLE_TYPES.get(node.attr)
            if simple is None:
                return _parameterised_type(node.attr, arguments, keywords)
        else:
            raise _GiveUp
        if simple is None or arguments or keywords:
            raise _GiveUp
        return _Type(simple)

    def _is_sqlalchemy(self, node: ast.expr, attribute: str | None = None) -> bool:
        return _attribute_of(node, self._names.sqlalchemy, attribute)

    def _postgresql_type(self, node: ast.expr) -> str | None:
        """The name of the dialect's type `node` refers to (`postgresql.CITEXT`, `CITEXT`)."""
        if isinstance(node, ast.Name):
            return self._names.postgresql_types.get(node.id)
        if isinstance(node, ast.Attribute) and _attribute_of(node, self._names.postgresql, None):
            return node.attr
        return None


def _attribute_of(node: ast.expr, modules: frozenset[str], attribute: str | None) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
        and (attribute is None or node.attr == attribute)
    )


def _parameterised_type(name: str, arguments: list[object], keywords: dict[str, object]) -> _Type:
    if name in ("String", "VARCHAR"):
        (length,) = _bind(arguments, keywords, ["length"]).values() or (None,)
        if length is None:
            return _Type("VARCHAR")
        return _Type(f"VARCHAR({_positive(length)})")
    if name == "Numeric":
        bound = _bind(arguments, keywords, ["precision", "scale"])
        precision, scale = bound.get("precision"), bound.get("scale")
        if precision is None:
            if scale is not None:
                raise _GiveUp
            return _Type("NUMERIC")
        if scale is None:
            return _Type(f"NUMERIC({_positive(precision)})")
        if not isinstance(scale, int) or isinstance(scale, bool) or scale < 0:
            raise _GiveUp
        return _Type(f"NUMERIC({_positive(precision)}, {scale})")
    if name == "UUID":
        as_uuid = _bind(arguments, keywords, ["as_uuid"]).get("as_uuid", True)
        if not isinstance(as_uuid, bool):
            raise _GiveUp
        return _Type("UUID")  # how Python sees the values, not the column's type
    if name == "JSONB":
        # How Python reads `->>` and stores None: neither is in the column's DDL.
        bound = _bind(arguments, keywords, ["none_as_null", "astext_type"])
        if not isinstance(bound.get("none_as_null", False), bool) or not isinstance(
            bound.get("astext_type", _Type("TEXT")), _Type
        ):
            raise _GiveUp
        return _Type("JSONB")
    if name in ("Enum", "ENUM"):
        return _enum(arguments, keywords, ["name", "create_type"] if name == "ENUM" else ["name"])
    if name == "ARRAY":
        (item,) = _bind(arguments, keywords, ["item_type"], required=1).values()
        if not isinstance(item, _Type) or item.ddl.endswith("]") or item.create:
            raise _GiveUp  # an array of arrays has dimensions of its own
        return _Type(f"{item.ddl}[]")
    if name == "LargeBinary":
        length = _bind(arguments, keywords, ["length"]).get("length")
        if length is not None:
            _positive(length)  # for MySQL's BLOB sizes: PostgreSQL's BYTEA has none
        return _Type("BYTEA")
    if name in ("DateTime", "TIMESTAMP"):
        timezone = _bind(arguments, keywords, ["timezone"]).get("timezone", False)
        if not isinstance(timezone, bool):
            raise _GiveUp
        return _Type("TIMESTAMP WITH TIME ZONE" if timezone else "TIMESTAMP WITHOUT TIME ZONE")
    raise _GiveUp


def _enum(arguments: list[object], keywords: dict[str, object], accepted: list[str]) -> _Type:
    """`sa.Enum("a", "b", name="kind")` / `postgresql.ENUM(…, create_type=False)`: a named
    type of its own, made before the table that first uses it unless `create_type=False`."""
    bound = _bind([], keywords, [], accepted)
    name = _identifier(bound.get("name"))
    if not arguments:
        raise _GiveUp  # the values of a Python enum class, or none
    values = ", ".join(_literal(value) for value in arguments)
    if not _flag(bound.get("create_type", True)):
        return _Type(name)
    return _Type(name, f"CREATE TYPE {name} AS ENUM ({values})")


def _positive(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _GiveUp
    return value


def _column(arguments: list[object], keywords: dict[str, object]) -> _Column:
    bound = _bind(
        arguments,
        keywords,
        ["name", "type_"],
        ["nullable", "server_default", "primary_key", "comment"],
        required=2,
    )
    name, type_ = bound["name"], bound["type_"]
    comment = bound.get("comment")
    if comment is not None:
        _literal(comment)
    nullable = bound.get("nullable")
    server_default = bound.get("server_default")
    if not isinstance(type_, _Type) or not isinstance(nullable, (bool, type(None))):
        raise _GiveUp
    if server_default is not None and not isinstance(server_default, (str, _Text)):
        raise _GiveUp
    primary_key = _flag(bound.get("primary_key", False))
    return _Column(_identifier(name), type_, nullable, server_default, primary_key, comment)


def _positional(node: ast.Call) -> list[ast.expr]:
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise _GiveUp
    return node.args


def _keywords(node: ast.Call) -> list[ast.keyword]:
    if any(k.arg is None for k in node.keywords):
        raise _GiveUp  # **kwargs
    return node.keywords


def _bind(
    arguments: list[object],
    keywords: dict[str, object],
    positional: list[str],
    keyword_only: Sequence[str] = (),
    *,
    required: int = 0,
) -> dict[str, object]:
    """Arguments by parameter name, as Python would bind them to a signature with
    `positional` parameters (the first `required` of them required) and `keyword_only` ones;
    gives up on anything Python would reject or the signature does not name."""
    if len(arguments) > len(positional):
        raise _GiveUp
    bound = dict(zip(positional, arguments, strict=False))
    for name, value in keywords.items():
        if name in bound or name not in positional + list(keyword_only):
            raise _GiveUp
        bound[name] = value
    if any(name not in bound for name in positional[:required]):
        raise _GiveUp
    return bound


# --- SQL: identifiers and literals as SQLAlchemy's PostgreSQL dialect writes them ----------

# sqlalchemy.dialects.postgresql.base.RESERVED_WORDS: these names are quoted.
_RESERVED = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization between binary both
    case cast check collate column constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full
    grant group having ilike in initially inner intersect into is isnull join leading left
    like limit localtime localtimestamp natural new not notnull null of off offset old on
    only or order outer over overlaps placing primary references returning right select
    session_user similar some symmetric table then to trailing true union unique user
    using variadic verbose when where window with
    """.split()  # noqa: SIM905 - a list of 100 strings reads worse
)
_PLAIN = re.compile(r"[a-z0-9_$]+")
# Names beyond these characters (quotes, dots, newlines…) or PostgreSQL's 63-byte limit are
# left to Alembic, which may reject or truncate them.
_SUPPORTED_NAME = re.compile(r"[A-Za-z0-9_$ -]{1,63}")


def _identifier(name: object) -> str:
    if not isinstance(name, str) or not _SUPPORTED_NAME.fullmatch(name):
        raise _GiveUp
    if name in _RESERVED or name[0] in "0123456789$" or not _PLAIN.fullmatch(name):
        return f'"{name}"'
    return name


def _table(name: object, schema: object) -> str:
    return _identifier(name) if schema is None else f"{_identifier(schema)}.{_identifier(name)}"


def _columns(names: object) -> str:
    if not isinstance(names, list) or not names:
        raise _GiveUp
    return ", ".join(_identifier(name) for name in names)


def _index_elements(elements: object) -> str:
    """An index's columns: names, or expressions in `sa.text(…)` written as given."""
    if not isinstance(elements, list) or not elements:
        raise _GiveUp
    return ", ".join(e.sql if isinstance(e, _Text) else _identifier(e) for e in elements)


def _default(value: object) -> str:
    if isinstance(value, _Text):
        return value.sql
    return _literal(value)


def _literal(value: object) -> str:
    """A string literal; one with a backslash (which SQLAlchemy doubles) is left to Alembic."""
    if isinstance(value, str) and "\\" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise _GiveUp


def _column_comment(table: str, column: str, comment: object) -> str:
    """`COMMENT ON COLUMN`, as Alembic emits it after adding or altering a column with
    `comment=` (None removes the comment)."""
    text = "NULL" if comment is None else _literal(comment)
    return f"COMMENT ON COLUMN {table}.{column} IS {text}"


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _GiveUp
    return value


# --- operations -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Altered:
    """An `ALTER COLUMN` with what the call declares of the column before it: its type for a
    type change (`existing_type`), its DEFAULT for `SET NOT NULL` (`existing_server_default`),
    each "" when not declared."""

    sql: str
    existing_type: str = ""
    existing_default: str = ""


_Operation = Callable[[list[object], dict[str, object]], list[str | _Altered]]


def _column_ddl(column: _Column, type_ddl: str | None = None) -> str:
    sql = f"{column.name} {type_ddl or column.type.ddl}"
    if column.server_default is not None:
        sql += f" DEFAULT {_default(column.server_default)}"
    if column.nullable is False:
        sql += " NOT NULL"
    return sql


def _add_column(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(arguments, keywords, ["table_name", "column"], ["schema"], required=2)
    column = bound["column"]
    if not isinstance(column, _Column) or column.primary_key:
        raise _GiveUp
    table = _table(bound["table_name"], bound.get("schema"))
    statements = [f"ALTER TABLE {table} ADD COLUMN {_column_ddl(column)}"]
    if column.comment is not None:
        statements.append(_column_comment(table, column.name, column.comment))
    return statements


# A one-column integer primary key without a DEFAULT or a foreign key is SQLAlchemy's
# autoincrement column: PostgreSQL's SERIAL types.
_SERIAL_TYPES = {"INTEGER": "SERIAL", "BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}


def _create_table(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    """`op.create_table(name, *columns_and_constraints, schema=…)`: the columns in order, then
    the primary key, then the other constraints in the order written, as SQLAlchemy does."""
    if not arguments or set(keywords) - {"schema"}:
        raise _GiveUp
    table = _table(arguments[0], keywords.get("schema"))
    columns = [item for item in arguments[1:] if isinstance(item, _Column)]
    constraints = [item for item in arguments[1:] if isinstance(item, _Constraint)]
    if not columns or len(columns) + len(constraints) != len(arguments) - 1:
        raise _GiveUp
    by_name = {column.name: column for column in columns}
    primary = [constraint for constraint in constraints if constraint.primary_key]
    keyed = [column.name for column in columns if column.primary_key]
    if len(by_name) != len(columns) or len(primary) + bool(keyed) > 1:
        raise _GiveUp
    if keyed:
        primary = [_Constraint(f"PRIMARY KEY ({', '.join(keyed)})", tuple(keyed), True)]
    key = primary[0].columns if primary else ()
    if any(by_name.get(name) is None or by_name[name].nullable for name in key):
        raise _GiveUp  # a key column written nullable=True renders otherwise
    referencing = {name for c in constraints if not c.primary_key for name in c.columns}
    serial = (
        by_name[key[0]]
        if len(key) == 1
        and by_name[key[0]].type.ddl in _SERIAL_TYPES
        and by_name[key[0]].server_default is None
        and key[0] not in referencing
        else None
    )
    enums = {column.type.ddl: column.type.create for column in columns if column.type.create}
    if len(enums) != sum(bool(column.type.create) for column in columns):
        raise _GiveUp  # one enum in two columns
    lines = [
        _column_ddl(
            replace(column, nullable=False) if column.name in key else column,
            _SERIAL_TYPES[column.type.ddl] if column is serial else None,
        )
        for column in columns
    ]
    lines += [c.ddl for c in primary] + [c.ddl for c in constraints if not c.primary_key]
    comments = [
        _column_comment(table, column.name, column.comment)
        for column in columns
        if column.comment is not None
    ]
    return [
        *enums.values(),
        f"CREATE TABLE {table} (\n\t" + ", \n\t".join(lines) + "\n)",
        *comments,
    ]


def _drop_column(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(arguments, keywords, ["table_name", "column_name"], ["schema"], required=2)
    table = _table(bound["table_name"], bound.get("schema"))
    return [f"ALTER TABLE {table} DROP COLUMN {_identifier(bound['column_name'])}"]


def _create_index(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(
        arguments,
        keywords,
        ["index_name", "table_name", "columns"],
        ["schema", "unique", "postgresql_concurrently"],
        required=3,
    )
    unique = " UNIQUE" if _flag(bound.get("unique", False)) else ""
    concurrently = " CONCURRENTLY" if _flag(bound.get("postgresql_concurrently", False)) else ""
    table = _table(bound["table_name"], bound.get("schema"))
    name = _identifier(bound["index_name"])
    elements = _index_elements(bound["columns"])
    return [f"CREATE{unique} INDEX{concurrently} {name} ON {table} ({elements})"]


def _drop_index(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(
        arguments,
        keywords,
        ["index_name", "table_name"],
        ["schema", "postgresql_concurrently"],
        required=1,
    )
    if bound.get("table_name") is not None:
        _identifier(bound["table_name"])
    concurrently = " CONCURRENTLY" if _flag(bound.get("postgresql_concurrently", False)) else ""
    return [f"DROP INDEX{concurrently} {_table(bound['index_name'], bound.get('schema'))}"]


def _alter_column(arguments: list[object], keywords: dict[str, object]) -> list[str | _Altered]:
    bound = _bind(
        arguments,
        keywords,
        ["table_name", "column_name"],
        [
            "nullable",
            "server_default",
            "new_column_name",
            "type_",
            "schema",
            "existing_type",
            "existing_server_default",
            "existing_nullable",
            "comment",
            "existing_comment",
        ],
        required=2,
    )
    for ignored, allowed in (
        ("existing_type", (_Type, type(None))),
        ("existing_server_default", (str, _Text, bool, type(None))),
        ("existing_nullable", (bool, type(None))),
        ("existing_comment", (str, type(None))),
    ):
        if not isinstance(bound.get(ignored), allowed):
            raise _GiveUp
    prefix = f"ALTER TABLE {_table(bound['table_name'], bound.get('schema'))} ALTER COLUMN "
    column = _identifier(bound["column_name"])
    statements: list[str | _Altered] = []
    type_, existing_type = bound.get("type_"), bound.get("existing_type")
    if type_ is not None:
        if not isinstance(type_, _Type):
            raise _GiveUp
        existing = existing_type.ddl if isinstance(existing_type, _Type) else ""
        statements.append(_Altered(f"{prefix}{column} TYPE {type_.ddl}", existing_type=existing))
    nullable = bound.get("nullable")
    if nullable is not None and _flag(nullable):
        statements.append(f"{prefix}{column} DROP NOT NULL")
    elif nullable is not None:
        existing_default = bound.get("existing_server_default")
        declared = "" if existing_default in (None, False) else _default(existing_default)
        statements.append(_Altered(f"{prefix}{column} SET NOT NULL", existing_default=declared))
    server_default = bound.get("server_default", False)
    if server_default is None:
        statements.append(f"{prefix}{column} DROP DEFAULT")
    elif server_default is not False:
        statements.append(f"{prefix}{column} SET DEFAULT {_default(server_default)}")
    if "comment" in bound:
        table = _table(bound["table_name"], bound.get("schema"))
        statements.append(_column_comment(table, column, bound["comment"]))
    new_name = bound.get("new_column_name")
    if new_name is not None:
        table = _table(bound["table_name"], bound.get("schema"))
        statements.append(f"ALTER TABLE {table} RENAME {column} TO {_identifier(new_name)}")
    return statements


def _rename_table(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(arguments, keywords, ["old_table_name", "new_table_name"], ["schema"], required=2)
    old = _table(bound["old_table_name"], bound.get("schema"))
    return [f"ALTER TABLE {old} RENAME TO {_identifier(bound['new_table_name'])}"]


def _drop_table(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(arguments, keywords, ["table_name"], ["schema"], required=1)
    return [f"DROP TABLE {_table(bound['table_name'], bound.get('schema'))}"]


def _execute(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    (sql,) = _bind(arguments, keywords, ["sqltext"], required=1).values()
    return [_sql_text(sql.sql if isinstance(sql, _Text) else sql)]


_REFERENTIAL_ACTIONS = frozenset({"RESTRICT", "CASCADE", "SET NULL", "NO ACTION", "SET DEFAULT"})
_INITIALLY = frozenset({"DEFERRED", "IMMEDIATE"})


def _phrase(value: object, allowed: frozenset[str]) -> str:
    if not isinstance(value, str) or value.upper() not in allowed:
        raise _GiveUp
    return value


def _create_foreign_key(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(
        arguments,
        keywords,
        ["constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"],
        [
            "onupdate",
            "ondelete",
            "deferrable",
            "initially",
            "source_schema",
            "referent_schema",
            "postgresql_not_valid",
        ],
        required=5,
    )
    local, remote = _columns(bound["local_cols"]), _columns(bound["remote_cols"])
    if local.count(",") != remote.count(","):
        raise _GiveUp
    source = _table(bound["source_table"], bound.get("source_schema"))
    referent = _table(bound["referent_table"], bound.get("referent_schema"))
    sql = f"ALTER TABLE {source} ADD {_constraint_name(bound['constraint_name'])}"
    sql += f"FOREIGN KEY({local}) REFERENCES {referent} ({remote})"
    sql += _foreign_key_options(bound)
    if _flag(bound.get("postgresql_not_valid", False)):
        sql += " NOT VALID"
    return [sql]


def _foreign_key_options(bound: dict[str, object]) -> str:
    sql = ""
    if bound.get("ondelete") is not None:
        sql += f" ON DELETE {_phrase(bound['ondelete'], _REFERENTIAL_ACTIONS)}"
    if bound.get("onupdate") is not None:
        sql += f" ON UPDATE {_phrase(bound['onupdate'], _REFERENTIAL_ACTIONS)}"
    if bound.get("deferrable") is not None:
        sql += " DEFERRABLE" if _flag(bound["deferrable"]) else " NOT DEFERRABLE"
    if bound.get("initially") is not None:
        sql += f" INITIALLY {_phrase(bound['initially'], _INITIALLY)}"
    return sql


@dataclass(frozen=True)
class _Constraint:
    """A table constraint of `op.create_table`, as its line of the CREATE TABLE."""

    ddl: str
    columns: tuple[str, ...] = ()
    primary_key: bool = False


def _constraint_name(name: object) -> str:
    """`CONSTRAINT name `, or nothing for a None name, which PostgreSQL then chooses.

    Alembic would name it by env.py's `target_metadata` naming convention, which bgmigrate's
    Alembic rendering does not load either (env.py is never run): both render it unnamed."""
    return "" if name is None else f"CONSTRAINT {_identifier(name)} "


def _primary_key_constraint(arguments: list[object], keywords: dict[str, object]) -> _Constraint:
    name = _bind([], keywords, [], ["name"]).get("name")
    ddl = f"{_constraint_name(name)}PRIMARY KEY ({_columns(arguments)})"
    return _Constraint(ddl, tuple(_identifier(column) for column in arguments), primary_key=True)


def _unique_constraint(arguments: list[object], keywords: dict[str, object]) -> _Constraint:
    name = _bind([], keywords, [], ["name"]).get("name")
    return _Constraint(f"{_constraint_name(name)}UNIQUE ({_columns(arguments)})")


def _foreign_key_constraint(arguments: list[object], keywords: dict[str, object]) -> _Constraint:
    bound = _bind(
        arguments,
        keywords,
        ["columns", "refcolumns"],
        ["name", "onupdate", "ondelete", "deferrable", "initially"],
        required=2,
    )
    references = bound["refcolumns"]
    if not isinstance(references, list) or not all(
        isinstance(r, str) and r.count(".") == 1 for r in references
    ):
        raise _GiveUp  # only "table.column": a schema-qualified one is left to Alembic
    tables = {reference.split(".")[0] for reference in references}
    local = _columns(bound["columns"])
    remote = _columns([reference.split(".")[1] for reference in references])
    if len(tables) != 1 or local.count(",") != remote.count(","):
        raise _GiveUp
    ddl = f"{_constraint_name(bound.get('name'))}FOREIGN KEY({local}) REFERENCES "
    ddl += f"{_identifier(tables.pop())} ({remote}){_foreign_key_options(bound)}"
    return _Constraint(ddl, tuple(local.split(", ")))


_TABLE_CONSTRAINTS = {
    "PrimaryKeyConstraint": _primary_key_constraint,
    "UniqueConstraint": _unique_constraint,
    "ForeignKeyConstraint": _foreign_key_constraint,
}


def _create_columns_constraint(kind: str) -> _Operation:
    """`op.create_unique_constraint` (`kind` UNIQUE) and `op.create_primary_key` (PRIMARY
    KEY): `ALTER TABLE … ADD [CONSTRAINT name] kind (columns)`."""

    def create(arguments: list[object], keywords: dict[str, object]) -> list[str | _Altered]:
        bound = _bind(
            arguments,
            keywords,
            ["constraint_name", "table_name", "columns"],
            ["schema"],
            required=3,
        )
        table = _table(bound["table_name"], bound.get("schema"))
        constraint = _constraint_name(bound["constraint_name"])
        return [f"ALTER TABLE {table} ADD {constraint}{kind} ({_columns(bound['columns'])})"]

    return create


def _create_check_constraint(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(
        arguments, keywords, ["constraint_name", "table_name", "condition"], ["schema"], required=3
    )
    condition = bound["condition"]
    sql = _sql_text(condition.sql if isinstance(condition, _Text) else condition)
    table = _table(bound["table_name"], bound.get("schema"))
    name = _identifier(bound["constraint_name"])
    return [f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({sql})"]


_CONSTRAINT_TYPES = frozenset({None, "foreignkey", "unique", "check", "primary"})


def _drop_constraint(arguments: list[object], keywords: dict[str, object]) -> list[str]:
    bound = _bind(
        arguments, keywords, ["constraint_name", "table_name", "type_"], ["schema"], required=2
    )
    if bound.get("type_") not in _CONSTRAINT_TYPES:
        raise _GiveUp
    table = _table(bound["table_name"], bound.get("schema"))
    return [f"ALTER TABLE {table} DROP CONSTRAINT {_identifier(bound['constraint_name'])}"]


_OPERATIONS: dict[str, _Operation] = {
    "add_column": _add_column,
    "drop_column": _drop_column,
    "create_index": _create_index,
    "drop_index": _drop_index,
    "alter_column": _alter_column,
    "rename_table": _rename_table,
    "drop_table": _drop_table,
    "create_table": _create_table,
    "execute": _execute,
    "create_foreign_key": _create_foreign_key,
    "create_unique_constraint": _create_columns_constraint("UNIQUE"),
    "create_primary_key": _create_columns_constraint("PRIMARY KEY"),
    "create_check_constraint": _create_check_constraint,
    "drop_constraint": _drop_constraint,
}


# `batch_op.…` in `with op.batch_alter_table(table, schema=…) as batch_op:`: the operation of
# `op` of the same name, given the batch's table and schema, with these parameters before its
# keywords. On PostgreSQL a batch never recreates the table: Alembic runs the operations as
# they are, in order, when the block ends.
_BATCH_OPERATIONS: dict[str, tuple[list[str], _Operation]] = {
    "add_column": (["column"], _add_column),
    "drop_column": (["column_name"], _drop_column),
    "alter_column": (["column_name"], _alter_column),
    "create_index": (["index_name", "columns"], _create_index),
    "drop_index": (["index_name"], _drop_index),
}
_BATCH_RECREATE = frozenset({"auto", "never"})
# What the batch gives each operation, which passing it again makes Alembic fail.
_BATCH_GIVES = frozenset({"table_name", "schema"})


# --- upgrade(): the calls in order, in and out of autocommit blocks ------------------------


class _Renderer:
    def __init__(self, names: _Names, recorder: Recorder) -> None:
        self._names = names
        self._bound = names.op | names.sqlalchemy | names.postgresql | names.postgresql_types.keys()
        self._values = _Values(names)
        self._locator = recorder.locator
        self._stretch = 0

    def body(self, statements: list[ast.stmt], autocommit: bool = False) -> Iterator[Captured]:
        for statement in statements:
            if isinstance(statement, ast.Pass):
                continue
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                if not isinstance(statement.value.value, str):
                    raise _GiveUp
                continue
            if self._is_commit(statement) and not autocommit:
                self._stretch += 1  # `op.get_bind().commit()`: a new transaction follows
            elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                yield from self._operation(statement.value, autocommit)
            elif isinstance(statement, ast.With) and self._is_batch(statement):
                yield from self._batch(statement, autocommit)
            elif isinstance(statement, ast.With) and not autocommit:
                yield from self._autocommit_block(statement)
            else:
                raise _GiveUp

    def _is_commit(self, statement: ast.stmt) -> bool:
        return (
            isinstance(statement, ast.Expr)
            and isinstance(call := statement.value, ast.Call)
            and not call.args
            and not call.keywords
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "commit"
            and isinstance(bind := call.func.value, ast.Call)
            and not bind.args
            and not bind.keywords
            and self._is_op(bind.func, "get_bind")
        )

    def _is_batch(self, statement: ast.With) -> bool:
        return (
            len(statement.items) == 1
            and isinstance(call := statement.items[0].context_expr, ast.Call)
            and self._is_op(call.func, "batch_alter_table")
        )

    def _batch(self, statement: ast.With, autocommit: bool) -> Iterator[Captured]:
        """`with op.batch_alter_table(…) as batch_op:` holding only `batch_op.…(…)` calls, each
        rendered as `op`'s operation on the batch's table, located at its own call."""
        (item,) = statement.items
        call = item.context_expr
        assert isinstance(call, ast.Call)
        if not isinstance(item.optional_vars, ast.Name) or item.optional_vars.id in self._bound:
            raise _GiveUp  # (a name the batch's operations need would be hidden)
        batch = item.optional_vars.id
        arguments = [self._values.value(a) for a in _positional(call)]
        keywords = {k.arg: self._values.value(k.value) for k in _keywords(call)}
        bound = _bind(arguments, keywords, ["table_name", "schema", "recreate"], required=1)
        if bound.get("recreate", "auto") not in _BATCH_RECREATE:
            raise _GiveUp
        table = {"table_name": bound["table_name"]}
        if bound.get("schema") is not None:
            table["schema"] = bound["schema"]
        for inner in statement.body:
            if not (
                isinstance(inner, ast.Expr)
                and isinstance(operation := inner.value, ast.Call)
                and isinstance(operation.func, ast.Attribute)
                and isinstance(operation.func.value, ast.Name)
                and operation.func.value.id == batch
                and operation.func.attr in _BATCH_OPERATIONS
            ):
                raise _GiveUp
            parameters, render = _BATCH_OPERATIONS[operation.func.attr]
            given = _bind(
                [self._values.value(a) for a in _positional(operation)],
                {k.arg: self._values.value(k.value) for k in _keywords(operation)},
                parameters,
                [k.arg for k in operation.keywords if k.arg not in _BATCH_GIVES],
            )
            yield from self._captured(operation, render([], given | table), autocommit)

    def _autocommit_block(self, statement: ast.With) -> Iterator[Captured]:
        """`with op.get_context().autocommit_block():`, whose statements run outside the
        revision's transaction, which ends before and begins anew after it."""
        if len(statement.items) != 1:
            raise _GiveUp
        (item,) = statement.items
        block = item.context_expr
        if not (
            item.optional_vars is None
            and isinstance(block, ast.Call)
            and not block.args
            and not block.keywords
            and isinstance(block.func, ast.Attribute)
            and block.func.attr == "autocommit_block"
            and isinstance(block.func.value, ast.Call)
            and not block.func.value.args
            and not block.func.value.keywords
            and self._is_op(block.func.value.func, "get_context")
        ):
            raise _GiveUp
        self._stretch += 1
        yield from self.body(statement.body, autocommit=True)
        self._stretch += 1

    def _operation(self, call: ast.Call, autocommit: bool) -> Iterator[Captured]:
        if not isinstance(call.func, ast.Attribute) or not self._is_op(call.func, call.func.attr):
            raise _GiveUp
        operation = _OPERATIONS.get(call.func.attr)
        if operation is None:
            raise _GiveUp
        arguments = [self._values.value(a) for a in _positional(call)]
        keywords = {k.arg: self._values.value(k.value) for k in _keywords(call)}
        yield from self._captured(call, operation(arguments, keywords), autocommit)  # type: ignore[arg-type]

    def _captured(
        self, call: ast.Call, emitted_sql: list[str | _Altered], autocommit: bool
    ) -> Iterator[Captured]:
        """The statements an operation emitted, located at its call."""
        location = self._locator.of_call(call)
        for emitted in emitted_sql:
            altered = emitted if isinstance(emitted, _Altered) else _Altered(emitted)
            for piece in split_sql(altered.sql.replace("\t", "    ")):
                yield Captured(
                    piece.sql,
                    location,
                    autocommit,
                    self._stretch,
                    existing_type=altered.existing_type,
                    existing_default=altered.existing_default,
                )

    def _is_op(self, node: ast.expr, attribute: str) -> bool:
        return _attribute_of(node, self._names.op, attribute)
