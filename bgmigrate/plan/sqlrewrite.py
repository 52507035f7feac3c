"""Definitions rewritten for a moved column: an index, a constraint or a view that PostgreSQL
printed for `users.email`, reissued for `users.email_address` (or another table).

Rewriting works on the parse tree (pglast, the server's own grammar), never on text, so a
column named like a keyword, a string literal that happens to contain the name, or a column of
another table with the same name is never touched by mistake. A definition the rewriter cannot
follow with certainty raises `RewriteError`; the planner turns that into a blocker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bgmigrate.plan.identifiers import QualifiedName, quote_ident

__all__ = [
    "RewriteError",
    "rewrite_constraint",
    "rewrite_index",
    "rewrite_view",
    "row_expression",
]


class RewriteError(ValueError):
    """A definition whose references the rewriter cannot follow with certainty."""


def _parse(sql: str) -> Any:
    from pglast import parse_sql

    statements = parse_sql(sql)
    if len(statements) != 1:
        raise RewriteError(f"expected one statement, got {len(statements)}: {sql}")
    return statements[0].stmt


def _deparse(node: Any) -> str:
    from pglast.stream import RawStream

    return RawStream()(node)


def _strings(values: Any, renames: Mapping[str, str]) -> Any:
    """A list of `String` nodes (column name lists) with names renamed."""
    from pglast import ast

    if not values:
        return values
    return tuple(
        ast.String(sval=renames.get(value.sval, value.sval))
        if isinstance(value, ast.String)
        else value
        for value in values
    )


def _rename_refs(node: Any, rename: Callable[[tuple[str, ...]], str | None]) -> None:
    """Rename, in place, every ColumnRef under `node` for which `rename(fields)` gives a name."""
    from pglast import ast
    from pglast.visitors import Visitor

    class Renamer(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, parent: Any, ref: Any) -> Any:
            fields = tuple(f.sval if isinstance(f, ast.String) else None for f in ref.fields)
            if None in fields:  # `t.*`
                return None
            new_name = rename(fields)  # type: ignore[arg-type]
            if new_name is None:
                return None
            return ast.ColumnRef(
                fields=(*ref.fields[:-1], ast.String(sval=new_name)), location=ref.location
            )

        def visit_IndexElem(self, parent: Any, element: Any) -> None:
            if element.name is not None:
                new_name = rename((element.name,))
                if new_name is not None:
                    element.name = new_name

    Renamer()(node)


def rewrite_index(
    definition: str,
    *,
    name: str,
    renames: Mapping[str, str] | None = None,
    table: QualifiedName | None = None,
) -> str:
    """`definition` (from `pg_get_indexdef`) as `CREATE … INDEX CONCURRENTLY IF NOT EXISTS
    name`, with the indexed table's columns renamed and, when given, on another `table`."""
    from pglast import ast

    statement = _parse(definition)
    if not isinstance(statement, ast.IndexStmt):
        raise RewriteError(f"not an index definition: {definition}")
    statement.idxname = name
    statement.concurrent = True
    statement.if_not_exists = True
    if table is not None:
        statement.relation = ast.RangeVar(
            schemaname=table.schema, relname=table.name, inh=True, relpersistence="p"
        )
    if renames:
        # Key columns, expressions, INCLUDE and WHERE all name the indexed table's columns.
        _rename_refs(
            statement, lambda fields: renames.get(fields[-1]) if len(fields) == 1 else None
        )
    return _deparse(statement)


def rewrite_constraint(
    definition: str,
    *,
    table: QualifiedName,
    name: str,
    renames: Mapping[str, str] | None = None,
    referenced_renames: Mapping[str, str] | None = None,
    not_valid: bool = False,
) -> str:
    """`ALTER TABLE table ADD CONSTRAINT name <definition>` with the table's own columns
    renamed by `renames` and the referenced columns of a foreign key by `referenced_renames`.
    CHECK and FOREIGN KEY constraints come out `NOT VALID` when asked."""
    from pglast.enums import ConstrType

    own = dict(renames or {})
    referenced = dict(referenced_renames or {})
    statement = _parse(f"ALTER TABLE {table.sql} ADD CONSTRAINT {quote_ident(name)} {definition}")
    (command,) = statement.cmds
    constraint = command.def_
    if own:
        _rename_refs(constraint, lambda fields: own.get(fields[-1]) if len(fields) == 1 else None)
        constraint.keys = _strings(constraint.keys, own)
        constraint.fk_attrs = _strings(constraint.fk_attrs, own)
        constraint.fk_del_set_cols = _strings(constraint.fk_del_set_cols, own)
        constraint.including = _strings(constraint.including, own)
    if referenced:
        constraint.pk_attrs = _strings(constraint.pk_attrs, referenced)
    if not_valid:
        if constraint.contype not in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN):
            raise RewriteError(f"only CHECK and FOREIGN KEY constraints can be NOT VALID: {name}")
        constraint.skip_validation = True
        constraint.initially_valid = False
    return _deparse(statement)


def rewrite_view(
    view_name: QualifiedName,
    definition: str,
    *,
    table: QualifiedName,
    renames: Mapping[str, str],
    other_columns: Callable[[QualifiedName], frozenset[str]],
) -> str:
    """`CREATE OR REPLACE VIEW view_name AS <definition>` reading `table`'s renamed columns
    under their old output names, so that the view keeps its columns and its readers.

    `other_columns(relation)` gives the columns of any other relation the view reads, to tell
    whether an unqualified name could be theirs (then the view is not rewritten).
    """
    from pglast import ast
    from pglast.enums import ViewCheckOption
    from pglast.visitors import Visitor

    query = _parse(definition)
    relations: dict[str, QualifiedName] = {}
    ours: set[str] = set()

    class Relations(Visitor):  # type: ignore[misc]
        def visit_RangeVar(self, parent: Any, var: Any) -> None:
            relation = QualifiedName(var.schemaname or "public", var.relname)
            qualifier = var.alias.aliasname if var.alias else var.relname
            relations[qualifier] = relation
            if relation == table:
                ours.add(qualifier)
                ours.add(f"{relation.schema}.{relation.name}")

        def visit_JoinExpr(self, parent: Any, join: Any) -> None:
            used = {value.sval for value in join.usingClause or ()}
            if used & set(renames):
                raise RewriteError(f"view {view_name} joins with USING ({', '.join(sorted(used))})")

    Relations()(query)
    others = [relation for relation in relations.values() if relation != table]

    def rename(fields: tuple[str, ...]) -> str | None:
        column = fields[-1]
        if column not in renames:
            return None
        if len(fields) == 1:
            if any(column in other_columns(relation) for relation in others):
                raise RewriteError(
                    f"view {view_name} reads an unqualified {column!r} that more than one of "
                    "its tables has"
                )
            return renames[column]
        qualifier = ".".join(fields[:-1])
        return renames[column] if qualifier in ours else None

    class OutputNames(Visitor):  # type: ignore[misc]
        def visit_ResTarget(self, parent: Any, target: Any) -> None:
            value = target.val
            if target.name is None and isinstance(value, ast.ColumnRef):
                last = value.fields[-1]
                if isinstance(last, ast.String) and rename(tuple(f.sval for f in value.fields)):
                    target.name = last.sval

    OutputNames()(query)
    _rename_refs(query, rename)
    statement = ast.ViewStmt(
        view=ast.RangeVar(
            schemaname=view_name.schema, relname=view_name.name, inh=True, relpersistence="p"
        ),
        query=query,
        replace=True,
        withCheckOption=ViewCheckOption.NO_CHECK_OPTION,
    )
    return _deparse(statement)


def row_expression(expression: str, row: str = "new") -> str:
    """A user expression over a table's columns (`lower(email)`) as PL/pgSQL over a trigger's
    row (`lower(new.email)`)."""
    from pglast import ast
    from pglast.visitors import Visitor

    select = _parse(f"SELECT ({expression})")

    class Qualify(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, parent: Any, ref: Any) -> Any:
            if len(ref.fields) == 1 and isinstance(ref.fields[0], ast.String):
                return ast.ColumnRef(fields=(ast.String(sval=row), ref.fields[0]))
            return None

    Qualify()(select)
    return _deparse(select.targetList[0].val)
