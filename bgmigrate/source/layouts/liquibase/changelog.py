"""An XML or YAML changelog's changesets → what runs forward on PostgreSQL.

Each changeSet runs in its own transaction unless `runInTransaction="false"`. Its `<sql>`
bodies are checked at their own lines; its other changes are rendered as the statements
Liquibase sends (`render`), each located at its element. A changeset or change whose `dbms`
(or a changeset whose `dbms` precondition) leaves PostgreSQL out is skipped, as are
`<rollback>` and `<preConditions>`, and change types bgmigrate does not render; so is a
changeset that runs only while its table is empty (a `count(*)` precondition). `<sqlFile>`
targets are migrations of their own (listed by the package's `migrations`).
"""

from __future__ import annotations

from bgmigrate.source.layouts.base import Forward, SkipReason, Transaction
from bgmigrate.source.layouts.engines import other_engine_by_content
from bgmigrate.source.layouts.liquibase.attributes import (
    empty_table_precondition,
    left_out_by_attributes,
    other_dbms,
    precondition_dbms,
    split_at,
    transaction_mode,
)
from bgmigrate.source.layouts.liquibase.render import render_change
from bgmigrate.source.layouts.liquibase.tree import (
    ChangelogError,
    Node,
    read_changelog_tree,
    tag_comments,
)
from bgmigrate.source.lines import LineIndex

__all__ = ["changelog_forward", "changeset_left_out", "changesets"]

_SYNTAX_ERROR = "syntax-error"  # the rule that reports what PostgreSQL or the tool cannot parse
# Children of a changeSet that are neither changes nor run: nothing to check or report.
_METADATA = frozenset({"comment", "validCheckSum", "tagDatabase", "output", "empty", "stop"})
_LEFT_OUT = {
    "rollback": (SkipReason.ROLLBACK, "<rollback>"),
    "preConditions": (SkipReason.PRECONDITION, "<preConditions>"),
}


def changesets(root: Node) -> list[Node]:
    return [node for node in root.children if node.name == "changeSet"]


def changelog_forward(text: str, suffix: str) -> Forward:
    try:
        root = read_changelog_tree(text, suffix)
    except ChangelogError as error:
        return _unreadable(text, error)
    changes: list[tuple[int, int, Transaction]] = []
    rendered: list[tuple[str, int, int]] = []
    skipped: list[tuple[SkipReason, str, int, int]] = []
    for changeset in changesets(root) if root is not None else []:
        left_out = changeset_left_out(changeset)
        if left_out is not None:
            skipped.append((*left_out, changeset.start, changeset.end))
            continue
        split = "true"
        for change in changeset.children:
            if change.name in _METADATA or change.name == "sqlFile":
                continue
            left_out = _left_out(change)
            if left_out is not None:
                skipped.append((*left_out, change.start, change.end))
            elif change.name == "sql":
                split = change.get("splitStatements", split)
                rendered.extend(_sql_body(change))
            elif (statements := render_change(change)) is not None:
                rendered.extend((sql, change.start, change.end) for sql in statements)
            else:
                detail = f"<{change.name}>: a change type bgmigrate does not render"
                skipped.append((SkipReason.NOT_SQL, detail, change.start, change.end))
        mode = transaction_mode(changeset.get("runInTransaction") or None, split)
        changes.append((changeset.start, changeset.end, mode))
    comments = tuple(tag_comments(text, suffix))
    return Forward(
        (), Transaction.WRAPPED, tuple(skipped), tuple(changes), tuple(rendered), comments
    )


def _unreadable(text: str, error: ChangelogError) -> Forward:
    """A changelog that does not parse: one error where its parser stopped."""
    lines = LineIndex(text)
    line = min(error.line, lines.count)
    offset = min(lines.offset(line, error.column), max(len(text) - 1, 0))
    message = (
        f"Liquibase cannot read this changelog ({error}): the update stops here, and neither "
        "it nor any changelog after it runs. Nothing in it was checked."
    )
    return Forward((), Transaction.WRAPPED, problems=((_SYNTAX_ERROR, message, offset),))


def changeset_left_out(changeset: Node) -> tuple[SkipReason, str] | None:
    """Why a changeset (or an include) never runs in a deploy to PostgreSQL, if it does not:
    its attributes (`attributes.left_out_by_attributes`), a `dbms` precondition for another
    engine, or a precondition that runs it only while its table is empty."""
    left_out = left_out_by_attributes(changeset.attributes)
    preconditions = changeset.child("preConditions")
    if left_out is not None or preconditions is None:
        return left_out
    dbms = precondition_dbms(preconditions)
    if dbms is not None:
        return SkipReason.OTHER_ENGINE, f"<preConditions> dbms: {dbms}"
    empty = empty_table_precondition(preconditions)
    if empty is not None:
        return SkipReason.PRECONDITION, f"<preConditions>: runs only while {empty} is empty"
    return None


def _left_out(change: Node) -> tuple[SkipReason, str] | None:
    if change.name in _LEFT_OUT:
        return _LEFT_OUT[change.name]
    dbms = other_dbms(change.get("dbms") or None)
    if dbms is not None:
        return SkipReason.OTHER_ENGINE, f"<{change.name}> dbms: {dbms}"
    engine = other_engine_by_content(change.text) if change.name == "sql" else None
    if engine is not None:
        return SkipReason.OTHER_ENGINE, engine
    return None


def _sql_body(change: Node) -> list[tuple[str, int, int]]:
    """The statements of a `<sql>` change, each at its own place in the file."""
    offsets = change.offsets
    return [
        (sql, offsets[start], offsets[end - 1] + 1)
        for sql, start, end in split_at(change.text, change.get("endDelimiter", ";"))
    ]
