"""Template syntax in migrations: Go templates (`{{ … }}`) and placeholders (`${…}`, `:name`).

Migration tools expand these before PostgreSQL sees the file (pop and golang-migrate users run
files through `text/template`; Flyway and goose's `ENVSUB ON` replace `${name}`; psql and
graphile-migrate replace `:NAME`). For parsing,
each expression becomes an identifier named after it (`${schema}` reads `schema_`, `{{ index
.Options "Namespace" }}` reads `Namespace_`: the trailing `_` keeps a reserved word such as
`table` an identifier), padded to exactly its own length, and each Go control action (`{{ if …
}}`, `{{ end }}`, a comment) becomes blanks. Every character after it keeps its line and column,
so findings point into the user's file with no map to translate them.
"""

from __future__ import annotations

import re

from bgmigrate.source.patterns import LazyPattern
from bgmigrate.values import Value, value

__all__ = ["Substituted", "substitute_templates"]

_TEMPLATE = LazyPattern(
    # Comments and string literals first, to be left as they are: a template inside them needs
    # no substitution to parse, and a `:"name"` in a JSON string is no placeholder.
    r"(?P<literal>--[^\n]*|/\*.*?\*/|'[^']*(?:''[^']*)*')"
    r"|\{\{.*?\}\}|\$\{[^{}\n]*\}"
    # psql's and graphile-migrate's `:name`, `:'name'`, `:"name"` (never a `::` cast)
    r"""|(?<![:\w]):(?:[A-Za-z_]\w*|'[A-Za-z_]\w*'|"[A-Za-z_]\w*")""",
    re.DOTALL,
)
_CONTROL = LazyPattern(
    r"\{\{-?\s*(?:/\*|(?:if|else|end|range|with|define|template|block|break|continue)\b)"
)
_NOT_LINE_BREAK = LazyPattern(r"[^\r\n]")
_WORD = LazyPattern(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER_CHARACTER = LazyPattern(r"[A-Za-z0-9_$]")


@value
class Substituted(Value):
    """The text the parser sees, and each template's (start, end, original text)."""

    text: str
    templates: tuple[tuple[int, int, str], ...]


def substitute_templates(text: str) -> Substituted:
    """`text` with every template expression replaced, lengths and line breaks kept."""
    if "{{" not in text and "${" not in text and not _may_hold_colon_placeholder(text):
        return Substituted(text, ())
    templates = []
    pieces = []
    position = 0
    for match in _TEMPLATE.finditer(text):
        if match.group("literal") is not None:
            continue
        start, end = match.span()
        original = match.group()
        pieces.append(text[position:start])
        if _CONTROL.match(original):
            pieces.append(_NOT_LINE_BREAK.sub(" ", original))
        else:
            joined = _IDENTIFIER_CHARACTER.match(text, end) is not None
            pieces.append(_identifier(original, joined))
        templates.append((start, end, original))
        position = end
    pieces.append(text[position:])
    return Substituted("".join(pieces), tuple(templates))


def _may_hold_colon_placeholder(text: str) -> bool:
    """Whether some `:` is followed by a name or a quote and not part of `::` (most files'
    colons are casts and times: they need no pattern compiled)."""
    at = text.find(":")
    while at != -1:
        following = text[at + 1 : at + 2]
        if following and (following.isalpha() or following in "_'\"") and text[at - 1 : at] != ":":
            return True
        at = text.find(":", at + 2 if following == ":" else at + 1)
    return False


def _identifier(original: str, joined: bool) -> str:
    """An identifier for a template expression, as long as it: it stands for a name, a number
    or, inside quotes, any text. `joined`: an identifier character follows, so the padding
    must be part of the name (`{{ .Prefix }}_users`); otherwise blanks keep it readable."""
    words = _WORD.findall(original[1:])
    name = f"{words[-1]}_" if words else "t_"
    if len(name) > len(original):
        name = "t_"[: len(original)]
    padding = _NOT_LINE_BREAK.sub("_" if joined else " ", original[len(name) :])
    return name + padding
