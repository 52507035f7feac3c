"""The SQL a PL/pgSQL body runs: the statements of a `DO` block, where they are written.

Projects put their riskiest DDL in `DO $$ … $$` blocks (conditional renames, type changes,
index builds), so the checker reads them like top-level statements. libpg_query's PL/pgSQL
parser gives each embedded statement's text and the line it starts on; the text is found again
in the body from that line, so that each statement is located at its own line and column.

The body of a `CREATE FUNCTION … LANGUAGE plpgsql` is read the same way, for when the same
migration calls the function (see `check.calls`).

`EXECUTE` of a constant string, or of `format()` with a constant template, is read too: `%I`
and `%L` arguments that are not constants become placeholders named after the argument
(`"<tbl>"`), and a statement that does not parse once filled in is left unread. Such dynamic
statements are located at the `EXECUTE`'s argument: their text is not the file's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from bgmigrate.parse.libpg_query import ParseError, parse_json, parse_plpgsql_json
from bgmigrate.parse.pg_context import Context
from bgmigrate.parse.pg_nodes import Node, constant_text, strings, unwrap
from bgmigrate.source.unit import Statement

__all__ = ["EmbeddedStatement", "do_block_statements", "function_body_statements"]

# %[position$][flags][width]type, as format() reads it (width `*` forms are left unread).
_FORMAT_SPEC = re.compile(r"%(?:(\d+)\$)?-?\d*([IsL%])")


class EmbeddedStatement:
    """A statement a body runs; `verbatim` when its text is the file's text at `location`."""

    __slots__ = ("statement", "verbatim")

    def __init__(self, statement: Statement, verbatim: bool) -> None:
        self.statement = statement
        self.verbatim = verbatim


def do_block_statements(context: Context, fields: Node) -> list[EmbeddedStatement] | None:
    """The statements of a `DO` block in the order they are written, or None when the block
    is not PL/pgSQL or its body does not parse."""
    body_option, body = _body(fields.get("args", ()))
    if body_option is None or body is None:
        return None
    delimiter = _unused_delimiter(body)
    wrapped = "CREATE FUNCTION do_block() RETURNS void LANGUAGE plpgsql AS "
    wrapped += f"{delimiter}{body}{delimiter}"
    return _statements(context, wrapped, body_option, body)


def function_body_statements(context: Context, fields: Node) -> list[EmbeddedStatement] | None:
    """The statements a `CREATE FUNCTION … LANGUAGE plpgsql` body runs when called, or None
    for another language or a body that does not parse. Parameters and variables used as
    format() arguments become placeholders (`"<tablename>"`)."""
    body_option, body = _body(fields.get("options", ()))
    if body_option is None or body is None:
        return None
    return _statements(context, context.text.sql, body_option, body)


def _body(options: Iterable[Node]) -> tuple[Node | None, str | None]:
    """The `AS` option of a DO block or function and its PL/pgSQL text; (None, None) for
    another language."""
    by_name = {unwrap(node)[1]["defname"]: unwrap(node)[1] for node in options}
    language = by_name.get("language", {}).get("arg", {}).get("String", {}).get("sval")
    body_option = by_name.get("as")
    if body_option is None or (language or "plpgsql").lower() != "plpgsql":
        return None, None
    argument = body_option["arg"]
    if "List" in argument:  # CREATE FUNCTION: a list of one string (two for C functions)
        items = argument["List"].get("items", ())
        argument = items[0] if len(items) == 1 else {}
    return body_option, argument.get("String", {}).get("sval")


def _statements(
    context: Context, function_sql: str, body_option: Node, body: str
) -> list[EmbeddedStatement] | None:
    try:
        functions = json.loads(parse_plpgsql_json(function_sql))
    except ParseError:
        return None
    if len(functions) != 1:
        return None
    body_offset = _body_offset(context, body_option.get("arg_location", -1), body)
    located = _Body(context, body, body_offset)
    return list(located.statements(functions[0]["PLpgSQL_function"].get("action", {})))


def _unused_delimiter(body: str) -> str:
    tag = "do_body"
    while f"${tag}$" in body:
        tag += "_"
    return f"${tag}$"


def _body_offset(context: Context, byte_location: int, body: str) -> int | None:
    """The character offset of the body in the statement's text, when the string constant
    holds it verbatim (dollar-quoted, or single-quoted without escapes)."""
    if byte_location < 0:
        return None
    text = context.text
    token = context.token_at(byte_location)
    literal = text.text(token, token)
    start = text.sql.find(literal, text.char_offset(byte_location))
    if literal.startswith("$"):
        opening = literal[: literal.index("$", 1) + 1]
        return start + len(opening) if literal[len(opening) :].startswith(body) else None
    return start + 1 if literal == f"'{body}'" else None


class _Body:
    """A DO block's body and where it stands in the statement's text."""

    def __init__(self, context: Context, body: str, offset: int | None) -> None:
        self.context = context
        self.body = body
        self.offset = offset
        self.line_starts = [0] + [index + 1 for index, c in enumerate(body) if c == "\n"]

    def statements(self, node: object) -> Iterator[EmbeddedStatement]:
        """Depth first, in the order the body writes them: IF branches and loops included."""
        if isinstance(node, list):
            for item in node:
                yield from self.statements(item)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "PLpgSQL_stmt_execsql":
                query = value["sqlstmt"]["PLpgSQL_expr"]["query"]
                found = self._place(query, value.get("lineno", 1), verbatim=True)
                if found is not None:
                    yield found
            elif key == "PLpgSQL_stmt_dynexecute":
                expression = value["query"]["PLpgSQL_expr"]["query"]
                sql = _constant_sql(expression)
                if sql is not None:
                    placed = self._place(expression, value.get("lineno", 1), verbatim=False)
                    if placed is not None:
                        statement = placed.statement
                        yield EmbeddedStatement(_with_sql(statement, sql), verbatim=False)
            else:
                yield from self.statements(value)

    def _place(self, text: str, lineno: int, *, verbatim: bool) -> EmbeddedStatement | None:
        outer = self.context.statement
        start = None
        if self.offset is not None:
            line_start = self.line_starts[min(max(lineno, 1), len(self.line_starts)) - 1]
            found = self.body.find(text, line_start)
            start = None if found < 0 else self.offset + found
        if start is None:
            location = self.context.whole
            verbatim = False
        else:
            location = self.context.text.location(start, start + max(len(text), 1) - 1)
        statement = Statement(
            sql=text,
            path=outer.path,
            location=location,
            index=outer.index,
            transaction=outer.transaction,
        )
        return EmbeddedStatement(statement, verbatim)


def _with_sql(statement: Statement, sql: str) -> Statement:
    return Statement(
        sql, statement.path, statement.location, statement.index, statement.transaction
    )


def _constant_sql(expression: str) -> str | None:
    """The SQL an `EXECUTE` argument stands for: a string constant, or `format()` of a
    constant template; None when it cannot be read."""
    try:
        tree = json.loads(parse_json(f"SELECT {expression}"))
    except ParseError:
        return None
    statements = tree.get("stmts", ())
    if len(statements) != 1:
        return None
    targets = statements[0]["stmt"].get("SelectStmt", {}).get("targetList", ())
    if len(targets) != 1:
        return None
    value = targets[0]["ResTarget"].get("val", {})
    constant = constant_text(value)
    if constant is not None:
        return constant
    call = value.get("FuncCall")
    if call is None or strings(call["funcname"]) not in (["format"], ["pg_catalog", "format"]):
        return None
    arguments = call.get("args", ())
    template = constant_text(arguments[0]) if arguments else None
    if template is None:
        return None
    return _format(template, [_argument(node) for node in arguments[1:]])


def _argument(node: Node) -> tuple[str | None, str]:
    """A format() argument: its constant value (None when it is not one) and a name for it."""
    constant = constant_text(node)
    fields = node.get("ColumnRef", {}).get("fields", ())
    name = ".".join(strings(fields)) if fields else "?"
    return constant, name


def _format(template: str, arguments: list[tuple[str | None, str]]) -> str | None:
    """format()'s result, with an unknown identifier (`"<name>"`) or literal for each argument
    that is not a constant; None when the template asks for an argument it is not given."""
    parts: list[str] = []
    position = 0
    following = 0
    for match in _FORMAT_SPEC.finditer(template):
        parts.append(template[position : match.start()])
        position = match.end()
        explicit, kind = match.groups()
        if kind == "%":
            parts.append("%")
            continue
        index = int(explicit) - 1 if explicit else following
        following = index + 1
        if index >= len(arguments):
            return None
        value, name = arguments[index]
        if kind == "L":
            parts.append(_literal(value if value is not None else f"<{name}>"))
        elif value is None:
            parts.append(f'"<{name}>"')
        else:
            parts.append(_identifier(value) if kind == "I" else value)
    parts.append(template[position:])
    return "".join(parts)


def _identifier(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
