"""The PostgreSQL front end: one statement's text → typed operations.

Statements are parsed by libpg_query (shipped in pglast), the PostgreSQL server's own grammar,
so every statement a migration can hold is understood exactly. The tree is read in
libpg_query's JSON form: building it is about ten times faster than pglast's Python node
objects, and nothing downstream of this package sees parser nodes anyway.

A statement the vocabulary does not model becomes `Unknown`, named after its parser node; a
statement the grammar rejects becomes `SyntaxErrorOp`, located at the error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate

from bgmigrate.parse.libpg_query import ParseError, parse_json
from bgmigrate.parse.operations import (
    AddDomainConstraint,
    AlterEnum,
    AlterEnumAction,
    AlterFunction,
    CallFunction,
    CreateIndex,
    CreateObject,
    CreateTable,
    DataChange,
    DropIndex,
    DropObject,
    DropTable,
    LockTable,
    Name,
    Operation,
    RefreshMaterializedView,
    Reindex,
    RenameColumn,
    RenameObject,
    RenameTable,
    SetGuc,
    SyntaxErrorOp,
    TableRewrite,
    Transaction,
    TransactionAction,
    Truncate,
    Unknown,
    Volatility,
)
from bgmigrate.parse.pg_context import Context
from bgmigrate.parse.pg_nodes import (
    Node,
    constant_text,
    kind_name,
    object_name,
    qualified_name,
    range_var_name,
    read_tables,
    strings,
    unwrap,
)
from bgmigrate.parse.pg_tables import (
    alter_table,
    check_text,
    constraint_kind,
    create_table,
)
from bgmigrate.parse.statement_text import StatementText
from bgmigrate.source.unit import Statement

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from bgmigrate.parse.plpgsql import EmbeddedStatement

__all__ = ["parse_function_body", "parse_statement", "parse_statements"]

Mapper = Callable[[Context, Node], list[Operation]]

_TRANSACTION_ACTIONS = {
    "TRANS_STMT_BEGIN": TransactionAction.BEGIN,
    "TRANS_STMT_START": TransactionAction.BEGIN,
    "TRANS_STMT_COMMIT": TransactionAction.COMMIT,
    "TRANS_STMT_ROLLBACK": TransactionAction.ROLLBACK,
    "TRANS_STMT_SAVEPOINT": TransactionAction.SAVEPOINT,
    "TRANS_STMT_RELEASE": TransactionAction.RELEASE,
    "TRANS_STMT_ROLLBACK_TO": TransactionAction.ROLLBACK_TO,
    "TRANS_STMT_PREPARE": TransactionAction.PREPARE,
}

# LOCK TABLE modes, numbered as in PostgreSQL's lockdefs.h.
_LOCK_MODES = {
    1: "ACCESS SHARE",
    2: "ROW SHARE",
    3: "ROW EXCLUSIVE",
    4: "SHARE UPDATE EXCLUSIVE",
    5: "SHARE",
    6: "SHARE ROW EXCLUSIVE",
    7: "EXCLUSIVE",
    8: "ACCESS EXCLUSIVE",
}

# Objects whose names live inside a table's namespace: `DROP TRIGGER tr ON t` names (t, tr).
_TABLE_SCOPED = frozenset(
    {"OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE", "OBJECT_TABCONSTRAINT"}
)

_decode = json.JSONDecoder().raw_decode
"""libpg_query's JSON, one object and nothing around it: what `json.loads` checks before
and after decoding it has nothing to find (5.4 → 4.6 µs for an ADD COLUMN)."""


def parse_statement(statement: Statement, *, verbatim: bool = True) -> list[Operation]:
    """The operations of one statement, in the order it performs them. `verbatim` False when
    the statement's text is not the file's (see `StatementText`)."""
    text = StatementText(statement, verbatim=verbatim)
    try:
        tree, _ = _decode(parse_json(statement.sql))
    except ParseError as error:
        position = error.index
        location = statement.location if position is None else text.location(position, position)
        return [SyntaxErrorOp(statement, location, error.message)]
    except UnicodeEncodeError as error:  # a lone surrogate: no encoding can represent it
        message = f'invalid byte sequence for encoding "UTF8": {error.reason}'
        return [SyntaxErrorOp(statement, text.location(error.start, error.start), message)]
    return _operations(text, tree.get("stmts", []))


def parse_statements(statements: Sequence[Statement]) -> list[list[Operation]]:
    """Each statement's operations, as `parse_statement` gives them.

    The statements are parsed in one call, joined by semicolons, when each one turns out to
    be exactly one statement of that text, starting at its first character and ending at the
    semicolon after it: then each tree is the tree of the statement alone, its locations
    shifted by where the statement starts (`StatementText`'s `base`). A call per statement
    costs more than the parsing of a short one. Otherwise (a syntax error, a statement
    holding several, or none) each is parsed alone."""
    if len(statements) < 2:
        return [parse_statement(statement) for statement in statements]
    try:
        tree, _ = _decode(parse_json(";".join(statement.sql for statement in statements)))
    except (ParseError, UnicodeEncodeError):
        return [parse_statement(statement) for statement in statements]
    raw_statements = tree.get("stmts", [])
    sizes = [
        len(sql) if sql.isascii() else len(sql.encode("utf-8"))
        for sql in (statement.sql for statement in statements)
    ]
    # In UTF-8 bytes, as libpg_query counts: where each starts, and its `stmt_len` (up to the
    # semicolon after it; 0, none, for the last, which runs to the end of the text).
    starts = list(accumulate((size + 1 for size in sizes[:-1]), initial=0))
    lengths = [*sizes[:-1], 0]
    if len(raw_statements) != len(statements) or any(
        raw.get("stmt_location", 0) != start or raw.get("stmt_len", 0) != length
        for raw, start, length in zip(raw_statements, starts, lengths, strict=True)
    ):
        return [parse_statement(statement) for statement in statements]
    return [
        _operations(StatementText(statement, base=start), [raw])
        for statement, start, raw in zip(statements, starts, raw_statements, strict=True)
    ]


def _operations(text: StatementText, raw_statements: list[Node]) -> list[Operation]:
    """The operations of the statements libpg_query read in `text`."""
    statement = text.statement
    operations: list[Operation] = []
    for raw in raw_statements:
        if len(raw_statements) == 1:
            whole = statement.location
        else:
            start = raw.get("stmt_location", 0)
            length = raw.get("stmt_len", 0)
            whole = text.span_location(start, start + length if length else None)
        node_type, fields = unwrap(raw["stmt"])
        mapper = _MAPPERS.get(node_type)
        context = Context(text, whole)
        operations.extend(
            mapper(context, fields) if mapper else _unknown(context, node_type, fields)
        )
    return operations


def _unknown(context: Context, node_type: str, fields: Node) -> list[Operation]:
    tables: list[Name] = []
    if isinstance(fields.get("relation"), dict) and "relname" in fields["relation"]:
        tables.append(range_var_name(fields["relation"]))
    relations = fields.get("relations", ())
    tables.extend(range_var_name(node["RangeVar"]) for node in relations if "RangeVar" in node)
    return [Unknown(context.statement, context.whole, node_type, tuple(tables))]


def _option_enabled(options: list[Node] | None, name: str) -> bool:
    """Whether a parenthesised option list (`VACUUM (FULL)`, `REINDEX (CONCURRENTLY)`)
    turns `name` on: given alone, or with a true value."""
    for node in options or ():
        option = node["DefElem"]
        if option.get("defname") != name:
            continue
        if "arg" not in option:
            return True
        # A Boolean, Integer or String node; false and 0 leave its value out.
        value = next(iter(unwrap(option["arg"])[1].values()), False)
        return str(value).lower() not in ("false", "off", "0", "no")
    return False


# -- tables and indexes -------------------------------------------------------------------


def _create_table_as(context: Context, statement: Node) -> list[Operation]:
    name = range_var_name(statement["into"]["rel"])
    if statement.get("objtype") == "OBJECT_MATVIEW":
        return [CreateObject(context.statement, context.whole, "materialized view", name)]
    exists = statement.get("if_not_exists", False)
    return [
        CreateTable(context.statement, context.whole, name, if_not_exists=exists, as_select=True)
    ]


def _index_columns(context: Context, statement: Node) -> tuple[tuple[str, ...], str | None]:
    """The indexed columns (expressions as written) and the WHERE predicate's text."""
    elements = [node["IndexElem"] for node in statement.get("indexParams", ())]
    if "whereClause" not in statement and all("name" in element for element in elements):
        # Plain columns: the tree names them all, and the text is not scanned for tokens.
        return tuple(element["name"] for element in elements), None
    text = context.text
    after_table = context.token_at(statement["relation"]["location"])
    last = text.statement_end(after_table)
    opening = text.find("ASCII_40", after_table, last)
    if opening is None:
        return (), None
    closing = text.matching_close(opening)
    spans = text.elements(opening + 1)
    columns = []
    for index, element in enumerate(elements):
        if "name" in element:
            columns.append(element["name"])
        elif index < len(spans):
            columns.append(_expression_text(context, *spans[index]))
    where = None
    if "whereClause" in statement:
        keyword = text.find("WHERE", closing + 1, last)
        where = text.text(keyword + 1, last) if keyword is not None else None
    return tuple(columns), where


def _expression_text(context: Context, first: int, last: int) -> str:
    """An index expression without its trailing opclass, ordering or collation: the
    parenthesised expression, or the function call."""
    text = context.text
    if text.names[first] == "ASCII_40":
        return text.text(first + 1, text.matching_close(first) - 1)
    opening = text.find("ASCII_40", first, last)
    return text.text(first, text.matching_close(opening) if opening is not None else last)


def _create_index(context: Context, statement: Node) -> list[Operation]:
    relation = statement["relation"]
    name = statement.get("idxname")
    columns, where = _index_columns(context, statement)
    index = CreateIndex(
        context.statement,
        context.whole,
        table=range_var_name(relation),
        name=Name(name, relation.get("schemaname")) if name else None,
        columns=columns,
        unique=statement.get("unique", False),
        concurrently=statement.get("concurrent", False),
        if_not_exists=statement.get("if_not_exists", False),
        where_sql=where,
        method=statement.get("accessMethod", "btree"),
        only=not relation.get("inh", False),
    )
    return [index]


def _reindex(context: Context, statement: Node) -> list[Operation]:
    target = statement["kind"].removeprefix("REINDEX_OBJECT_").lower()
    if "relation" in statement:
        name: Name | None = range_var_name(statement["relation"])
    else:
        name = Name(statement["name"]) if "name" in statement else None
    concurrently = _option_enabled(statement.get("params"), "concurrently")
    return [Reindex(context.statement, context.whole, target, name, concurrently)]


def _drop(context: Context, statement: Node) -> list[Operation]:
    remove = statement["removeType"]
    objects = statement.get("objects", ())
    table = None
    if remove in _TABLE_SCOPED:
        paths = [strings(node["List"]["items"]) for node in objects]
        names = tuple(Name(path[-1]) for path in paths)
        table = qualified_name(paths[0][:-1]) if paths and len(paths[0]) > 1 else None
    else:
        names = tuple(object_name(node) for node in objects)
    cascade = statement.get("behavior") == "DROP_CASCADE"
    if_exists = statement.get("missing_ok", False)
    located = (context.statement, context.whole)
    if remove == "OBJECT_TABLE":
        return [DropTable(*located, names, if_exists, cascade)]
    if remove == "OBJECT_INDEX":
        concurrently = statement.get("concurrent", False)
        return [DropIndex(*located, names, concurrently, if_exists, cascade)]
    return [DropObject(*located, kind_name(remove), names, cascade, table)]


def _rename(context: Context, statement: Node) -> list[Operation]:
    rename = statement["renameType"]
    new_name = statement.get("newname", "")
    subname = statement.get("subname", "")
    located = (context.statement, context.whole)
    table = range_var_name(statement["relation"]) if "relation" in statement else None
    if rename == "OBJECT_COLUMN" and table is not None:
        return [RenameColumn(*located, table, subname, new_name)]
    if rename == "OBJECT_TABLE" and table is not None:
        return [RenameTable(*located, table, new_name)]
    kind = kind_name(rename)
    if rename in _TABLE_SCOPED or rename == "OBJECT_ATTRIBUTE":
        return [RenameObject(*located, kind, Name(subname), new_name, table)]
    if table is not None:
        return [RenameObject(*located, kind, table, new_name)]
    if "object" in statement:
        owner = object_name(statement["object"])
        if rename == "OBJECT_DOMCONSTRAINT":
            return [RenameObject(*located, kind, Name(subname), new_name, owner)]
        return [RenameObject(*located, kind, owner, new_name)]
    return [RenameObject(*located, kind, Name(subname), new_name)]


def _truncate(context: Context, statement: Node) -> list[Operation]:
    tables = tuple(range_var_name(node["RangeVar"]) for node in statement.get("relations", ()))
    cascade = statement.get("behavior") == "DROP_CASCADE"
    return [Truncate(context.statement, context.whole, tables, cascade)]


def _vacuum(context: Context, statement: Node) -> list[Operation]:
    full = statement.get("is_vacuumcmd") and _option_enabled(statement.get("options"), "full")
    if not full:
        return _unknown(context, "VacuumStmt", statement)
    relations = [node["VacuumRelation"]["relation"] for node in statement.get("rels", ())]
    tables: list[Name | None] = [range_var_name(relation) for relation in relations] or [None]
    return [
        TableRewrite(context.statement, context.whole, table, "VACUUM FULL") for table in tables
    ]


def _cluster(context: Context, statement: Node) -> list[Operation]:
    table = range_var_name(statement["relation"]) if "relation" in statement else None
    return [TableRewrite(context.statement, context.whole, table, "CLUSTER")]


def _refresh(context: Context, statement: Node) -> list[Operation]:
    view = range_var_name(statement["relation"])
    concurrently = bool(statement.get("concurrent"))
    return [RefreshMaterializedView(context.statement, context.whole, view, concurrently)]


def _lock(context: Context, statement: Node) -> list[Operation]:
    tables = tuple(range_var_name(node["RangeVar"]) for node in statement.get("relations", ()))
    mode = _LOCK_MODES.get(statement.get("mode", 8), "ACCESS EXCLUSIVE")
    return [LockTable(context.statement, context.whole, tables, mode)]


# -- data -----------------------------------------------------------------------------------


def _update_or_delete(kind: str) -> Mapper:
    def mapper(context: Context, statement: Node) -> list[Operation]:
        table = range_var_name(statement["relation"])
        has_where = "whereClause" in statement
        reads = read_tables(statement)
        return [DataChange(context.statement, context.whole, kind, table, has_where, reads)]

    return mapper


def _insert(context: Context, statement: Node) -> list[Operation]:
    query = statement.get("selectStmt", {}).get("SelectStmt")
    if query is None or "valuesLists" in query:
        return _unknown(context, "InsertStmt", statement)
    table = range_var_name(statement["relation"])
    has_where = "whereClause" in query
    reads = read_tables(statement)
    return [DataChange(context.statement, context.whole, "insert", table, has_where, reads)]


def _set_config(context: Context, statement: Node) -> list[Operation] | None:
    """`SELECT set_config('lock_timeout', '2s', true)`: the function form of SET [LOCAL]."""
    targets = statement.get("targetList", ())
    if len(targets) != 1 or "fromClause" in statement:
        return None
    call = targets[0]["ResTarget"].get("val", {}).get("FuncCall")
    if call is None or strings(call["funcname"]) not in (
        ["set_config"],
        ["pg_catalog", "set_config"],
    ):
        return None
    arguments = [constant_text(argument) for argument in call.get("args", ())]
    if len(arguments) != 3 or arguments[0] is None:
        return None
    name, value, local = arguments
    return [SetGuc(context.statement, context.whole, name.lower(), value, local == "true")]


def _select(context: Context, statement: Node) -> list[Operation]:
    if "intoClause" in statement:
        table = range_var_name(statement["intoClause"]["rel"])
        return [CreateTable(context.statement, context.whole, table, as_select=True)]
    known = _set_config(context, statement)
    if known is not None:
        return known
    return _unknown(context, "SelectStmt", statement) + _called(context, statement)


def _do(context: Context, statement: Node) -> list[Operation]:
    """A DO block: the operations of the statements it runs, each at its own place."""
    from bgmigrate.parse.plpgsql import do_block_statements

    operations = _embedded_operations(do_block_statements(context, statement) or ())
    return operations or _unknown(context, "DoStmt", statement)


def _embedded_operations(embedded: Iterable[EmbeddedStatement]) -> list[Operation]:
    operations: list[Operation] = []
    for inner in embedded:
        operations.extend(
            op
            for op in parse_statement(inner.statement, verbatim=inner.verbatim)
            if not isinstance(op, SyntaxErrorOp)  # dynamic SQL filled with placeholders
        )
    return operations


# -- types, settings, transactions ----------------------------------------------------------


def _alter_enum(context: Context, statement: Node) -> list[Operation]:
    name = qualified_name(strings(statement.get("typeName")))
    located = (context.statement, context.whole)
    if "oldVal" in statement:
        action = AlterEnumAction.RENAME_VALUE
        return [AlterEnum(*located, name, action, statement["oldVal"], statement.get("newVal"))]
    return [AlterEnum(*located, name, AlterEnumAction.ADD_VALUE, statement.get("newVal", ""))]


def _alter_domain(context: Context, statement: Node) -> list[Operation]:
    constraint = statement.get("def", {}).get("Constraint")
    kind = constraint_kind(constraint["contype"]) if constraint else None
    if statement.get("subtype") != "C" or kind is None:
        return _unknown(context, "AlterDomainStmt", statement)
    domain = AddDomainConstraint(
        context.statement,
        context.whole,
        domain=qualified_name(strings(statement.get("typeName"))),
        kind=kind,
        name=constraint.get("conname"),
        not_valid=constraint.get("skip_validation", False),
        check_sql=check_text(context, constraint)
        if constraint["contype"] == "CONSTR_CHECK"
        else None,
    )
    return [domain]


def _set(context: Context, statement: Node) -> list[Operation]:
    kind = statement["kind"]
    name = statement.get("name", "").lower()
    local = statement.get("is_local", False)
    located = (context.statement, context.whole)
    if kind == "VAR_SET_VALUE":
        values = [constant_text(argument) for argument in statement.get("args", ())]
        value = ", ".join(value for value in values if value is not None)
        return [SetGuc(*located, name, value, local)]
    if kind in ("VAR_SET_DEFAULT", "VAR_RESET"):
        return [SetGuc(*located, name, None, local)]
    if kind == "VAR_RESET_ALL":
        return [SetGuc(*located, "all", None, local)]
    return _unknown(context, "VariableSetStmt", statement)


def _transaction(context: Context, statement: Node) -> list[Operation]:
    action = _TRANSACTION_ACTIONS.get(statement["kind"])
    if action is None:  # COMMIT PREPARED / ROLLBACK PREPARED act on another transaction
        return _unknown(context, "TransactionStmt", statement)
    savepoint = statement.get("savepoint_name")
    return [Transaction(context.statement, context.whole, action, savepoint)]


# -- other objects --------------------------------------------------------------------------


def _creates(kind: str, name_of: Callable[[Node], Name], table_field: str | None = None) -> Mapper:
    """A mapper for a CREATE of some other object, named by `name_of` (and created on the
    table in `table_field`, for triggers, rules and policies)."""

    def mapper(context: Context, statement: Node) -> list[Operation]:
        table = range_var_name(statement[table_field]) if table_field else None
        return [CreateObject(context.statement, context.whole, kind, name_of(statement), table)]

    return mapper


def _create_function(context: Context, statement: Node) -> list[Operation]:
    name = qualified_name(strings(statement["funcname"]))
    if statement.get("is_procedure"):
        return [CreateObject(context.statement, context.whole, "procedure", name)]
    volatility = _declared_volatility(statement.get("options", ())) or Volatility.VOLATILE
    replaces = bool(statement.get("replace"))
    return [
        CreateObject(context.statement, context.whole, "function", name, None, volatility, replaces)
    ]


def _alter_function(context: Context, statement: Node) -> list[Operation]:
    name = qualified_name(strings(statement["func"]["objname"]))
    volatility = _declared_volatility(statement.get("actions", ()))
    return [AlterFunction(context.statement, context.whole, name, volatility)]


def _declared_volatility(options: list[Node]) -> Volatility | None:
    """The volatility a function's options (`STABLE`, `IMMUTABLE`, `VOLATILE`) declare."""
    for option in options:
        if option["DefElem"]["defname"] == "volatility":
            return Volatility(option["DefElem"]["arg"]["String"]["sval"])
    return None


def parse_function_body(created: CreateObject) -> list[Operation]:
    """The operations the PL/pgSQL body of a function `created` runs when it is called
    (parsed on demand: only a function the same migration calls needs it)."""
    from bgmigrate.parse.plpgsql import function_body_statements

    statement = created.statement
    text = StatementText(statement)
    for raw in json.loads(parse_json(statement.sql)).get("stmts", ()):
        node_type, fields = unwrap(raw["stmt"])
        if (
            node_type == "CreateFunctionStmt"
            and qualified_name(strings(fields["funcname"])) == created.name
        ):
            embedded = function_body_statements(Context(text, created.location), fields)
            return _embedded_operations(embedded or ())
    return []


def _call(context: Context, statement: Node) -> list[Operation]:
    name = qualified_name(strings(statement["funccall"]["funcname"]))
    return [CallFunction(context.statement, context.whole, name)]


def _called(context: Context, statement: Node) -> list[Operation]:
    """The functions a SELECT calls at the top of its select list (`SELECT f(…) FROM …`)."""
    calls = (
        target["ResTarget"].get("val", {}).get("FuncCall")
        for target in statement.get("targetList", ())
    )
    return [
        CallFunction(context.statement, context.whole, qualified_name(strings(call["funcname"])))
        for call in calls
        if call is not None
    ]


def _define(context: Context, statement: Node) -> list[Operation]:
    name = qualified_name(strings(statement.get("defnames")))
    return [CreateObject(context.statement, context.whole, kind_name(statement["kind"]), name)]


def _schema_name(statement: Node) -> Name:
    return Name(statement.get("schemaname") or statement.get("authrole", {}).get("rolename", ""))


def _list_name(field: str) -> Callable[[Node], Name]:
    return lambda statement: qualified_name(strings(statement.get(field)))


def _range_var(field: str) -> Callable[[Node], Name]:
    return lambda statement: range_var_name(statement[field])


_MAPPERS: dict[str, Mapper] = {
    "CreateStmt": create_table,
    "AlterTableStmt": alter_table,
    "CreateTableAsStmt": _create_table_as,
    "SelectStmt": _select,
    "IndexStmt": _create_index,
    "ReindexStmt": _reindex,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "TruncateStmt": _truncate,
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "LockStmt": _lock,
    "RefreshMatViewStmt": _refresh,
    "UpdateStmt": _update_or_delete("update"),
    "DeleteStmt": _update_or_delete("delete"),
    "InsertStmt": _insert,
    "DoStmt": _do,
    "CallStmt": _call,
    "AlterEnumStmt": _alter_enum,
    "AlterDomainStmt": _alter_domain,
    "VariableSetStmt": _set,
    "TransactionStmt": _transaction,
    "CreateFunctionStmt": _create_function,
    "AlterFunctionStmt": _alter_function,
    "DefineStmt": _define,
    "CreateSeqStmt": _creates("sequence", _range_var("sequence")),
    "ViewStmt": _creates("view", _range_var("view")),
    "CreateTrigStmt": _creates("trigger", lambda s: Name(s["trigname"]), "relation"),
    "RuleStmt": _creates("rule", lambda s: Name(s["rulename"]), "relation"),
    "CreatePolicyStmt": _creates("policy", lambda s: Name(s["policy_name"]), "table"),
    "CreateSchemaStmt": _creates("schema", _schema_name),
    "CreateExtensionStmt": _creates("extension", lambda s: Name(s["extname"])),
    "CreateDomainStmt": _creates("domain", _list_name("domainname")),
    "CreateEnumStmt": _creates("type", _list_name("typeName")),
    "CreateRangeStmt": _creates("type", _list_name("typeName")),
    "CompositeTypeStmt": _creates("type", _range_var("typevar")),
}
