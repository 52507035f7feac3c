"""`bgmigrate:` tags in a revision file: `#` comments and a module-level `bgmigrate_phase`.

The tags mean what they mean in SQL files (`bgmigrate.source.tags` parses both).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from bgmigrate.source.alembic.revision import RevisionFile
from bgmigrate.source.tags import TagComment, UnitTags, collect_tags
from bgmigrate.source.unit import Location

__all__ = ["revision_tags"]

# Every tag names bgmigrate (`# bgmigrate: …`, `bgmigrate_phase = …`), matched as
# `bgmigrate.source.tags` matches it: a file without the word has none.
_MENTION = re.compile("bgmigrate", re.IGNORECASE)


def revision_tags(revision: RevisionFile) -> UnitTags:
    """The revision's phase, ignore tags and malformed tags.

    `bgmigrate_phase = "contract"` counts as a `# bgmigrate: phase=contract` comment where it
    stands. A phase tag belongs at module level; inside a function it has no effect and is
    reported, like a phase tag after the first statement of a SQL file.
    """
    if _MENTION.search(revision.text) is None:
        return UnitTags()  # most revisions: no need to tokenize them for their comments
    bodies = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(revision.tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]

    def at_module_level(line: int) -> bool:
        return not any(start <= line <= end for start, end in bodies)

    comments = [
        TagComment(body, location, leading=at_module_level(location.line))
        for body, location in _comments(revision.text)
    ]
    comments.extend(_phase_assignments(revision.tree))
    comments.sort(key=lambda c: (c.location.line, c.location.column))
    return collect_tags(comments)


def _comments(text: str) -> list[tuple[str, Location]]:
    """Each `#` comment's text after the `#`, and its span (columns in characters)."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                line, column = token.start
                comment = token.string.rstrip()
                found.append((comment[1:], Location(line, column + 1, line, column + len(comment))))
    except (tokenize.TokenError, SyntaxError):
        pass  # the file parsed with `ast`; a tokenizer complaint at its very end loses nothing
    return found


def _phase_assignments(tree: ast.Module) -> list[TagComment]:
    tags = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        named = any(isinstance(t, ast.Name) and t.id == "bgmigrate_phase" for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            location = Location(
                node.lineno,
                node.col_offset + 1,
                node.end_lineno or node.lineno,
                max(node.end_col_offset or 0, 1),
            )
            tags.append(TagComment(f"bgmigrate: phase={value.value}", location, leading=True))
    return tags
