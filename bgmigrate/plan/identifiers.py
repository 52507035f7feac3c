"""SQL identifiers and literals: the one place the planner turns names into SQL text.

Every name a plan writes passes through `quote_ident`, so a column called `order` or
`User Email` works and no name can inject SQL. Names are quoted only when PostgreSQL needs it,
which keeps plans readable (`public.users`, `"User Email"`).
"""

from __future__ import annotations

import functools
import re

from bgmigrate.values import Value, frozen_value, ordered

__all__ = [
    "MAX_IDENTIFIER_BYTES",
    "IdentifierError",
    "QualifiedName",
    "bounded_name",
    "parse_identifier_path",
    "quote_ident",
    "quote_literal",
]

MAX_IDENTIFIER_BYTES = 63
"""PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated by the server."""

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")
_KEYWORD_SHAPE = re.compile(r"[a-z_]+")
_BARE_KEYWORD_KINDS = frozenset({"NO_KEYWORD", "UNRESERVED_KEYWORD"})


@functools.lru_cache(maxsize=4096)
def _needs_no_quotes(name: str) -> bool:
    from bgmigrate.parse.libpg_query import keyword_category

    # PostgreSQL's quote_identifier: of the keywords, only unreserved ones may stand bare.
    # Every keyword is letters and underscores (kwlist.h): a name with a digit or a `$` is
    # none, and is not looked up (a check asks this of thousands of names).
    if not _PLAIN.fullmatch(name):
        return False
    return not _KEYWORD_SHAPE.fullmatch(name) or keyword_category(name) in _BARE_KEYWORD_KINDS


def quote_ident(name: str) -> str:
    """`name` as a SQL identifier: bare when PostgreSQL would read it back unchanged, else
    double-quoted with embedded quotes doubled."""
    if not name:
        raise IdentifierError("an identifier cannot be empty")
    if "\x00" in name:
        raise IdentifierError(f"an identifier cannot contain a NUL character: {name!r}")
    if _needs_no_quotes(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """`value` as a SQL string literal (standard_conforming_strings, on since PostgreSQL 9.1)."""
    if "\x00" in value:
        raise IdentifierError(f"a string literal cannot contain a NUL character: {value!r}")
    return "'" + value.replace("'", "''") + "'"


def bounded_name(*parts: str, suffix: str = "") -> str:
    """`parts` joined by `_` plus `suffix`, shortened with a stable hash to fit PostgreSQL's
    63-byte limit (the server would truncate silently and two names could collide)."""
    name = "_".join(parts) + suffix
    if len(name.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        return name
    import hashlib  # here, not at the top: `bgmigrate check` quotes names but never hashes

    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    room = MAX_IDENTIFIER_BYTES - len(suffix.encode("utf-8")) - len(digest) - 1
    head = "_".join(parts).encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return f"{head}_{digest}{suffix}"


class IdentifierError(ValueError):
    """A name that cannot be an SQL identifier, or a dotted path that does not parse."""


@ordered
@frozen_value
class QualifiedName(Value):
    """A relation (table, view, index, sequence) in a schema, as the catalog spells it."""

    schema: str
    name: str

    @property
    def sql(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"

    def sibling(self, name: str) -> QualifiedName:
        """Another relation in the same schema."""
        return QualifiedName(self.schema, name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


def parse_identifier_path(text: str) -> tuple[str, ...]:
    """Split `users.email`, `public.users."User Email"` into names the way PostgreSQL reads
    them: unquoted parts fold to lower case, quoted parts keep their case and may contain dots.
    """
    parts: list[str] = []
    position = 0
    length = len(text)
    while True:
        if position < length and text[position] == '"':
            end = position + 1
            name = []
            while True:
                closing = text.find('"', end)
                if closing == -1:
                    raise IdentifierError(f"unterminated quoted identifier in {text!r}")
                name.append(text[end:closing])
                if text.startswith('"', closing + 1):
                    name.append('"')
                    end = closing + 2
                    continue
                position = closing + 1
                break
            part = "".join(name)
        else:
            end = text.find(".", position)
            end = length if end == -1 else end
            part = text[position:end].strip().lower()
            if '"' in part:
                raise IdentifierError(f"a quote in the middle of a name in {text!r}")
            position = end
        if not part:
            raise IdentifierError(f"an empty name in {text!r}")
        parts.append(part)
        if position == length:
            return tuple(parts)
        if text[position] != ".":
            raise IdentifierError(f"expected '.' after {part!r} in {text!r}")
        position += 1
