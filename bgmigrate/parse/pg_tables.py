"""CREATE TABLE and ALTER TABLE: column definitions, constraints, one operation per action.

An `ALTER TABLE` with several actions yields one operation per action, each located at its
own action's text. The parse tree has no location for an action, so the statement's tokens
are split at the top-level commas after the table name and the i-th action is given the i-th
piece.
"""

from __future__ import annotations

import json

from bgmigrate.parse.libpg_query import ParseError, parse_json
from bgmigrate.parse.operations import (
    AddColumn,
    AddConstraint,
    AlterColumnType,
    AttachPartition,
    ColumnDefinition,
    ConstraintKind,
    CreateTable,
    DetachPartition,
    DropColumn,
    DropConstraint,
    DropDefault,
    DropNotNull,
    Generated,
    InlineConstraint,
    Name,
    Operation,
    OtherAlterTable,
    SetDefault,
    SetNotNull,
    TableRewrite,
    TypeName,
    ValidateConstraint,
)
from bgmigrate.parse.pg_context import Context
from bgmigrate.parse.pg_nodes import Node, kind_name, range_var_name, strings, type_name, unwrap
from bgmigrate.parse.volatility import column_default
from bgmigrate.source.unit import Location

__all__ = [
    "ACCESS_EXCLUSIVE",
    "SHARE_ROW_EXCLUSIVE",
    "SHARE_UPDATE_EXCLUSIVE",
    "alter_table",
    "check_text",
    "column_default",
    "constraint_kind",
    "create_table",
]

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"

_CONSTRAINT_KINDS = {
    "CONSTR_CHECK": ConstraintKind.CHECK,
    "CONSTR_FOREIGN": ConstraintKind.FOREIGN_KEY,
    "CONSTR_UNIQUE": ConstraintKind.UNIQUE,
    "CONSTR_PRIMARY": ConstraintKind.PRIMARY_KEY,
    "CONSTR_EXCLUSION": ConstraintKind.EXCLUDE,
    "CONSTR_NOTNULL": ConstraintKind.NOT_NULL,
}

# Actions that rewrite the whole table (and its indexes) under ACCESS EXCLUSIVE.
_REWRITES = {
    "AT_SetLogged": "SET LOGGED",
    "AT_SetUnLogged": "SET UNLOGGED",
    "AT_SetTableSpace": "SET TABLESPACE",
    "AT_SetAccessMethod": "SET ACCESS METHOD",
    "AT_SetExpression": "SET EXPRESSION",
}

# How the other actions are written, for OtherAlterTable.action.
_LABELS = {
    "AT_AddColumn": "ADD COLUMN",
    "AT_DropColumn": "DROP COLUMN",
    "AT_AlterColumnType": "ALTER COLUMN TYPE",
    "AT_ColumnDefault": "ALTER COLUMN DEFAULT",
    "AT_SetNotNull": "SET NOT NULL",
    "AT_DropNotNull": "DROP NOT NULL",
    "AT_AddConstraint": "ADD CONSTRAINT",
    "AT_AlterConstraint": "ALTER CONSTRAINT",
    "AT_ValidateConstraint": "VALIDATE CONSTRAINT",
    "AT_DropConstraint": "DROP CONSTRAINT",
    "AT_SetStatistics": "SET STATISTICS",
    "AT_SetOptions": "SET (attribute_option)",
    "AT_ResetOptions": "RESET (attribute_option)",
    "AT_SetStorage": "SET STORAGE",
    "AT_SetCompression": "SET COMPRESSION",
    "AT_DropExpression": "DROP EXPRESSION",
    "AT_AddIdentity": "ADD GENERATED AS IDENTITY",
    "AT_SetIdentity": "SET GENERATED / sequence option",
    "AT_DropIdentity": "DROP IDENTITY",
    "AT_ChangeOwner": "OWNER TO",
    "AT_ClusterOn": "CLUSTER ON",
    "AT_DropCluster": "SET WITHOUT CLUSTER",
    "AT_SetRelOptions": "SET (storage_parameter)",
    "AT_ResetRelOptions": "RESET (storage_parameter)",
    "AT_EnableTrig": "ENABLE TRIGGER",
    "AT_EnableAlwaysTrig": "ENABLE ALWAYS TRIGGER",
    "AT_EnableReplicaTrig": "ENABLE REPLICA TRIGGER",
    "AT_DisableTrig": "DISABLE TRIGGER",
    "AT_EnableTrigAll": "ENABLE TRIGGER ALL",
    "AT_DisableTrigAll": "DISABLE TRIGGER ALL",
    "AT_EnableTrigUser": "ENABLE TRIGGER USER",
    "AT_DisableTrigUser": "DISABLE TRIGGER USER",
    "AT_EnableRule": "ENABLE RULE",
    "AT_EnableAlwaysRule": "ENABLE ALWAYS RULE",
    "AT_EnableReplicaRule": "ENABLE REPLICA RULE",
    "AT_DisableRule": "DISABLE RULE",
    "AT_AddInherit": "INHERIT",
    "AT_DropInherit": "NO INHERIT",
    "AT_AddOf": "OF",
    "AT_DropOf": "NOT OF",
    "AT_ReplicaIdentity": "REPLICA IDENTITY",
    "AT_EnableRowSecurity": "ENABLE ROW LEVEL SECURITY",
    "AT_DisableRowSecurity": "DISABLE ROW LEVEL SECURITY",
    "AT_ForceRowSecurity": "FORCE ROW LEVEL SECURITY",
    "AT_NoForceRowSecurity": "NO FORCE ROW LEVEL SECURITY",
    "AT_GenericOptions": "OPTIONS",
    "AT_AlterColumnGenericOptions": "ALTER COLUMN OPTIONS",
    "AT_AttachPartition": "ATTACH PARTITION",
    "AT_DetachPartition": "DETACH PARTITION",
    "AT_DetachPartitionFinalize": "DETACH PARTITION FINALIZE",
    **_REWRITES,
}

# The lock each action takes on the table when it is not ACCESS EXCLUSIVE (PostgreSQL's
# AlterTableGetLockLevel; checked against pg_locks in the tests).
_LOCKS = {
    "AT_SetStatistics": SHARE_UPDATE_EXCLUSIVE,
    "AT_SetOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ResetOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ClusterOn": SHARE_UPDATE_EXCLUSIVE,
    "AT_DropCluster": SHARE_UPDATE_EXCLUSIVE,
    "AT_SetRelOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ResetRelOptions": SHARE_UPDATE_EXCLUSIVE,
    "AT_ValidateConstraint": SHARE_UPDATE_EXCLUSIVE,
    "AT_AttachPartition": SHARE_UPDATE_EXCLUSIVE,
    "AT_DetachPartitionFinalize": SHARE_UPDATE_EXCLUSIVE,
    "AT_EnableTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableAlwaysTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableReplicaTrig": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrig": SHARE_ROW_EXCLUSIVE,
    "AT_EnableTrigAll": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrigAll": SHARE_ROW_EXCLUSIVE,
    "AT_EnableTrigUser": SHARE_ROW_EXCLUSIVE,
    "AT_DisableTrigUser": SHARE_ROW_EXCLUSIVE,
}

_TABLE_OBJECTS = frozenset({"OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"})
# A foreign table has no local rows: nothing is scanned, rewritten or validated, so of its
# actions only a dropped column still matters beyond the lock (the old version's queries).
_FOREIGN_TABLE_TYPED = frozenset({"AT_DropColumn"})
_PARTITION_ACTIONS = frozenset(
    {"AT_AttachPartition", "AT_DetachPartition", "AT_DetachPartitionFinalize"}
)


def constraint_kind(contype: str) -> ConstraintKind | None:
    return _CONSTRAINT_KINDS.get(contype)


def check_text(context: Context, constraint: Node) -> str:
    """The expression inside a CHECK constraint's parentheses, as written."""
    text = context.text
    first = context.token_at(constraint["location"])
    keyword = text.find_in_statement("CHECK", first)
    if keyword is None:
        return ""
    closing = text.matching_close(keyword + 1)
    return text.text(keyword + 2, closing - 1)


def _default_text(context: Context, column: Node, default: Node) -> str:
    """A column's DEFAULT expression as written: from after the keyword to the next thing
    the column definition says (another constraint, a COLLATE clause) or its end."""
    text = context.text
    start = text.char_offset(default["location"])
    clauses = [unwrap(node)[1] for node in column.get("constraints", ())]
    clauses.append(column.get("collClause", {}))
    after = [
        offset
        for clause in clauses
        if clause.get("location", -1) >= 0
        and (offset := text.char_offset(clause["location"])) > start
    ]
    plain = text.plain_element_rest("DEFAULT", start, min(after, default=None))
    if plain is not None:
        return plain
    keyword = text.find_in_statement("DEFAULT", text.token_at(start))
    if keyword is None:
        return ""
    last = text.element_end(context.token_at(column["location"]))
    for offset in after:
        last = min(last, text.token_at(offset) - 1)
    return text.text(keyword + 1, last)


def _not_null_column(check: Node) -> str | None:
    """The column a CHECK proves non-null when it is exactly `col IS NOT NULL`."""
    test = check.get("NullTest")
    if test is None or test.get("nulltesttype") != "IS_NOT_NULL":
        return None
    fields = test["arg"].get("ColumnRef", {}).get("fields", [])
    names = strings(fields)
    return names[0] if len(fields) == 1 and len(names) == 1 else None


def _constraint_columns(constraint: Node) -> tuple[str, ...]:
    if constraint["contype"] == "CONSTR_FOREIGN":
        return tuple(strings(constraint.get("fk_attrs")))
    if constraint["contype"] == "CONSTR_EXCLUSION":
        elements = (pair["List"]["items"][0]["IndexElem"] for pair in constraint["exclusions"])
        return tuple(element["name"] for element in elements if "name" in element)
    return tuple(strings(constraint.get("keys")))


def _references(constraint: Node) -> Name | None:
    return range_var_name(constraint["pktable"]) if "pktable" in constraint else None


def _inline_constraint(
    context: Context, constraint: Node, kind: ConstraintKind
) -> InlineConstraint:
    return InlineConstraint(
        kind=kind,
        name=constraint.get("conname"),
        references=_references(constraint),
        referenced_columns=tuple(strings(constraint.get("pk_attrs"))),
        check_sql=check_text(context, constraint) if kind is ConstraintKind.CHECK else None,
        columns=_constraint_columns(constraint),
    )


def column_definition(context: Context, column: Node) -> ColumnDefinition:
    # A partition or typed table's column options (`PARTITION OF p (b NOT NULL)`) name no type.
    column_type, generated = type_name(column["typeName"]) if "typeName" in column else (None, None)
    not_null = False
    default = None
    constraints = []
    for node in column.get("constraints", ()):
        constraint = node["Constraint"]
        contype = constraint["contype"]
        kind = _CONSTRAINT_KINDS.get(contype)
        if contype == "CONSTR_DEFAULT":
            sql = _default_text(context, column, constraint)
            default = column_default(constraint["raw_expr"], sql)
        elif contype == "CONSTR_IDENTITY":
            generated = Generated.IDENTITY
        elif contype == "CONSTR_GENERATED":
            stored = constraint.get("generated_kind") == "s"
            generated = Generated.STORED if stored else Generated.VIRTUAL
        elif kind is ConstraintKind.NOT_NULL:
            not_null = True
        elif contype == "CONSTR_ATTR_NOT_ENFORCED" and _is_check(constraints[-1:]):
            # `CHECK (…) NOT ENFORCED` (PostgreSQL 18) is only written to the catalog: no row
            # is read, no other table locked.
            constraints.pop()
        elif kind is not None:
            not_null = not_null or kind is ConstraintKind.PRIMARY_KEY
            constraints.append(_inline_constraint(context, constraint, kind))
    return ColumnDefinition(
        name=column.get("colname", ""),
        type=column_type,
        not_null=not_null,
        default=default,
        generated=generated,
        constraints=tuple(constraints),
    )


def _is_check(constraints: list[InlineConstraint]) -> bool:
    return bool(constraints) and constraints[0].kind is ConstraintKind.CHECK


def create_table(context: Context, statement: Node) -> list[Operation]:
    columns = []
    constraints = []
    for element in statement.get("tableElts", ()):
        element_type, fields = unwrap(element)
        if element_type == "ColumnDef":
            columns.append(column_definition(context, fields))
        elif element_type == "Constraint" and fields["contype"] in _CONSTRAINT_KINDS:
            kind = _CONSTRAINT_KINDS[fields["contype"]]
            constraints.append(_inline_constraint(context, fields, kind))
    table = CreateTable(
        context.statement,
        context.whole,
        table=range_var_name(statement["relation"]),
        columns=tuple(columns),
        constraints=tuple(constraints),
        if_not_exists=statement.get("if_not_exists", False),
        partitioned="partspec" in statement,
        partition_of=_partition_parent(statement),
    )
    return [table]


def _partition_parent(statement: Node) -> Name | None:
    if "partbound" not in statement:
        return None
    parents = statement.get("inhRelations", ())
    return range_var_name(parents[0]["RangeVar"]) if parents else None


class _AlterTable:
    """One ALTER TABLE statement: its table, and the token span of each of its actions."""

    def __init__(self, context: Context, statement: Node) -> None:
        self.context = context
        self.relation = statement["relation"]
        self.table = range_var_name(self.relation)
        self.commands = [node["AlterTableCmd"] for node in statement.get("cmds", ())]
        self._split: tuple[list[tuple[int, int]], bool] | None = None

    @property
    def _spans(self) -> tuple[list[tuple[int, int]], bool]:
        """Each action's (first, last) tokens, and whether the split matched the actions
        (if not, every action spans all of them)."""
        if self._split is None:
            self._split = self._split_actions()
        return self._split

    def _split_actions(self) -> tuple[list[tuple[int, int]], bool]:
        text = self.context.text
        names = text.names
        last_of_name = self.context.token_at(self.relation["location"])
        while last_of_name + 2 < len(names) and names[last_of_name + 1] == "ASCII_46":
            last_of_name += 2  # schema . name
        if last_of_name + 1 < len(names) and names[last_of_name + 1] == "ASCII_42":
            last_of_name += 1  # the `*` of inheritance
        first = last_of_name + 1
        spans = text.elements(first)
        if len(spans) == len(self.commands):
            return spans, True
        return [(first, text.statement_end(first))] * len(self.commands), False

    def location(self, index: int) -> Location:
        if len(self.commands) == 1:
            return self.context.whole
        spans, matched = self._spans
        return self.context.text.token_location(*spans[index]) if matched else self.context.whole

    def text_after(self, keyword: str, index: int) -> str | None:
        """The text of action `index` after its first top-level `keyword`."""
        first, last = self._spans[0][index]
        found = self.context.text.find(keyword, first, last)
        return None if found is None else self.context.text.text(found + 1, last)

    def operation(self, index: int, objtype: str) -> Operation:
        command = self.commands[index]
        subtype = command["subtype"]
        if subtype in _PARTITION_ACTIONS and objtype in (*_TABLE_OBJECTS, "OBJECT_INDEX"):
            return self._partition(index, subtype, command, objtype)
        foreign = objtype == "OBJECT_FOREIGN_TABLE"
        if objtype in _TABLE_OBJECTS and (not foreign or subtype in _FOREIGN_TABLE_TYPED):
            return self._table_action(index, command)
        label = f"ALTER {kind_name(objtype).upper()} {_LABELS.get(subtype, subtype)}"
        return self._other(index, subtype, label, command)

    def _partition(self, index: int, subtype: str, command: Node, objtype: str) -> Operation:
        partition = command["def"]["PartitionCmd"]
        name = range_var_name(partition["name"])
        located = (self.context.statement, self.location(index), self.table)
        if subtype == "AT_AttachPartition":
            return AttachPartition(*located, name, index=objtype == "OBJECT_INDEX")
        finalize = subtype == "AT_DetachPartitionFinalize"
        return DetachPartition(*located, name, partition.get("concurrent", False), finalize)

    def _other(self, index: int, subtype: str, label: str, command: Node) -> OtherAlterTable:
        lock = _LOCKS.get(subtype, ACCESS_EXCLUSIVE)
        if subtype == "AT_DetachPartition" and command["def"]["PartitionCmd"].get("concurrent"):
            lock = SHARE_UPDATE_EXCLUSIVE
        return OtherAlterTable(
            self.context.statement, self.location(index), self.table, label, lock
        )

    def _table_action(self, index: int, command: Node) -> Operation:
        statement, location, table = self.context.statement, self.location(index), self.table
        subtype = command["subtype"]
        column = command.get("name", "")
        definition = command.get("def")
        if subtype == "AT_AddColumn":
            added = column_definition(self.context, definition["ColumnDef"])
            missing_ok = command.get("missing_ok", False)
            identity = self._identity_added_later(index, added.name)
            return AddColumn(statement, location, table, added, missing_ok, identity)
        if subtype == "AT_DropColumn":
            cascade = command.get("behavior") == "DROP_CASCADE"
            return DropColumn(
                statement, location, table, column, cascade, command.get("missing_ok", False)
            )
        if subtype == "AT_AlterColumnType":
            new_type, _ = type_name(definition["ColumnDef"]["typeName"])
            using = (
                self.text_after("USING", index)
                if "raw_default" in definition["ColumnDef"]
                else None
            )
            existing = _declared_type(statement.existing_type)
            return AlterColumnType(statement, location, table, column, new_type, using, existing)
        if subtype == "AT_SetNotNull":
            existing_default = statement.existing_default or None
            return SetNotNull(statement, location, table, column, existing_default)
        if subtype == "AT_DropNotNull":
            return DropNotNull(statement, location, table, column)
        if subtype == "AT_ColumnDefault" and definition is None:
            return DropDefault(statement, location, table, column)
        if subtype == "AT_ColumnDefault":
            default = column_default(definition, self.text_after("DEFAULT", index) or "")
            return SetDefault(statement, location, table, column, default)
        if subtype == "AT_AddConstraint":
            return self._add_constraint(location, definition["Constraint"])
        if subtype == "AT_ValidateConstraint":
            return ValidateConstraint(statement, location, table, column)
        if subtype == "AT_DropConstraint":
            cascade = command.get("behavior") == "DROP_CASCADE"
            return DropConstraint(
                statement, location, table, column, command.get("missing_ok", False), cascade
            )
        if subtype in _REWRITES:
            return TableRewrite(statement, location, table, _REWRITES[subtype])
        return self._other(index, subtype, _LABELS.get(subtype, subtype), command)

    def _identity_added_later(self, index: int, column: str) -> bool:
        return any(
            later["subtype"] == "AT_AddIdentity" and later.get("name") == column
            for later in self.commands[index + 1 :]
        )

    def _add_constraint(self, location: Location, constraint: Node) -> AddConstraint:
        kind = _CONSTRAINT_KINDS[constraint["contype"]]
        is_check = kind is ConstraintKind.CHECK
        return AddConstraint(
            self.context.statement,
            location,
            self.table,
            kind,
            name=constraint.get("conname"),
            columns=_constraint_columns(constraint),
            not_valid=constraint.get("skip_validation", False),
            using_index=constraint.get("indexname"),
            references=_references(constraint),
            referenced_columns=tuple(strings(constraint.get("pk_attrs"))),
            check_sql=check_text(self.context, constraint) if is_check else None,
            not_null_column=_not_null_column(constraint["raw_expr"]) if is_check else None,
        )


def alter_table(context: Context, statement: Node) -> list[Operation]:
    alter = _AlterTable(context, statement)
    objtype = statement.get("objtype", "OBJECT_TABLE")
    return [alter.operation(index, objtype) for index in range(len(alter.commands))]


def _declared_type(sql: str) -> TypeName | None:
    """A type the source declares in SQL (`VARCHAR(100)`), normalised as a statement's own
    types are; None when there is none or it does not parse as a type."""
    if not sql:
        return None
    try:
        tree = json.loads(parse_json(f"SELECT NULL::{sql}"))
        (target,) = tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"]
        return type_name(target["ResTarget"]["val"]["TypeCast"]["typeName"])[0]
    except (ParseError, KeyError, ValueError):
        return None
