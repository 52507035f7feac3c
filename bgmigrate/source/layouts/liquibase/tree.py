"""A Liquibase changelog in XML or YAML (JSON is YAML) → one tree of elements with positions.

Both formats say the same things: an XML element `<addColumn tableName="t">` with child
`<column>` elements is the YAML mapping `addColumn: {tableName: t, columns: [{column: …}]}`.
Each becomes a `Node` with its attributes, its children and its span in the file's text, so
that everything after this module reads one shape and reports into the user's file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChangelogError", "Node", "read_changelog_tree", "tag_comments"]

_FLATTENED = frozenset({"changes", "columns"})
# Comments that hold a `bgmigrate:` tag: XML's (which cannot hold `--`, so a tag there has
# no reason), and YAML's `#` at a line's start or after a blank.
_XML_TAG_COMMENT = re.compile(r"<!--((?:(?!-->).)*?bgmigrate:.*?)-->", re.DOTALL | re.IGNORECASE)
_YAML_TAG_COMMENT = re.compile(r"(?m)(?:^|(?<=\s))#([^\n]*bgmigrate:[^\n]*)", re.IGNORECASE)


@dataclass(slots=True)
class Node:
    """One element: `start`/`end` are character offsets of its span in the file's text."""

    name: str
    attributes: dict[str, str]
    start: int
    end: int
    children: list[Node] = field(default_factory=list)
    text: str = ""
    """The element's own text (an XML `<sql>` body, a YAML `sql:` value), decoded."""
    offsets: list[int] = field(default_factory=list)
    """Where each character of `text` stands in the file."""

    def child(self, name: str) -> Node | None:
        return next((node for node in self.children if node.name == name), None)

    def get(self, name: str, default: str = "") -> str:
        return self.attributes.get(name, default)


class ChangelogError(ValueError):
    """A changelog that does not parse, where its parser stopped (1-based line and column)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def read_changelog_tree(text: str, suffix: str) -> Node | None:
    """The `databaseChangeLog` root of a changelog's text; None when it holds none. Raises
    `ChangelogError` where it does not parse: Liquibase stops there, before running it."""
    root = (_read_xml if suffix == ".xml" else _read_yaml)(text)
    return root if root is not None and root.name == "databaseChangeLog" else None


def tag_comments(text: str, suffix: str) -> list[tuple[str, int, int]]:
    """The comments of a changelog that hold `bgmigrate:` tags: (body, start, end)."""
    if "bgmigrate" not in text:
        return []
    pattern = _XML_TAG_COMMENT if suffix == ".xml" else _YAML_TAG_COMMENT
    return [(match.group(1), match.start(), match.end()) for match in pattern.finditer(text)]


def _read_xml(text: str) -> Node | None:
    from xml.parsers import expat

    data = text.encode("utf-8")
    chars = _CharOffsets(text, data)
    parser = expat.ParserCreate()
    stack: list[Node] = []
    roots: list[Node] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        at = chars.of(parser.CurrentByteIndex)
        node = Node(name.rpartition(":")[2], attributes, at, at)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(name: str) -> None:
        node = stack.pop()
        at = chars.of(parser.CurrentByteIndex)
        # An empty element's end event stands just after its `/>`; `</name>` ends at its `>`.
        empty = not node.children and not node.text and text.endswith("/>", 0, at)
        node.end = at if empty else text.find(">", at) + 1

    def characters(data: str) -> None:
        if not stack:
            return
        at = chars.of(parser.CurrentByteIndex)
        node = stack[-1]
        node.text += data
        # A chunk that is the file's own text maps character by character; an entity
        # (`&lt;`) or a normalised line break stands at the place it was written.
        exact = text.startswith(data, at)
        node.offsets.extend(range(at, at + len(data)) if exact else [at] * len(data))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.buffer_text = False
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        message = expat.ErrorString(error.code) if error.code else str(error)
        raise ChangelogError(message, error.lineno, error.offset + 1) from error
    return roots[0] if roots else None


class _CharOffsets:
    """Byte offsets in the UTF-8 encoding of a text → character offsets in the text. The
    parser asks in file order (each event at a character's first byte), so each answer
    decodes only the bytes since the last one."""

    def __init__(self, text: str, data: bytes) -> None:
        self._data = data
        self._ascii = len(data) == len(text)
        self._byte = 0
        self._char = 0

    def of(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        if byte_offset < self._byte:
            self._byte = self._char = 0
        self._char += len(self._data[self._byte : byte_offset].decode("utf-8"))
        self._byte = byte_offset
        return self._char


def _read_yaml(text: str) -> Node | None:
    import yaml

    try:
        document = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        message = getattr(error, "problem", None) or str(error)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise ChangelogError(message, line, column) from error
    if not isinstance(document, yaml.MappingNode):
        return None
    for key, value in document.value:
        if key.value == "databaseChangeLog":
            return _yaml_node(text, "databaseChangeLog", key, value)
    return None


def _yaml_node(text: str, name: str, key: Any, value: Any) -> Node:
    """The node a YAML `name: value` pair stands for: scalars are attributes, mappings are
    children, and so is each item of a list (a one-key mapping named by its key). A list under
    `changes` or `columns` holds what XML writes as direct children; any other list is a
    child holding its items. A `rollback` is a child whatever its form: it never runs."""
    import yaml

    start, end = key.start_mark.index, value.end_mark.index
    node = Node(name, {}, start, start + len(text[start:end].rstrip()))
    if isinstance(value, yaml.SequenceNode):
        node.children = _yaml_items(text, value)
        return node
    if isinstance(value, yaml.ScalarNode):
        return node
    for child_key, child in value.value:
        child_name = child_key.value
        if isinstance(child, yaml.ScalarNode) and child_name != "rollback":
            node.attributes[child_name] = child.value
            if child_name == "sql":
                node.text, node.offsets = child.value, _scalar_offsets(text, child)
        elif isinstance(child, yaml.SequenceNode) and child_name in _FLATTENED:
            node.children.extend(_yaml_items(text, child))
        else:
            node.children.append(_yaml_node(text, child_name, child_key, child))
    return node


def _yaml_items(text: str, sequence: Any) -> list[Node]:
    import yaml

    return [
        _yaml_node(text, item.value[0][0].value, item.value[0][0], item.value[0][1])
        for item in sequence.value
        if isinstance(item, yaml.MappingNode) and len(item.value) == 1
    ]


def _scalar_offsets(text: str, scalar: Any) -> list[int]:
    """Where each character of a YAML scalar's value stands in the file: each of its lines is
    found in order from the scalar's start (a block scalar's lines are the file's lines less
    their indentation); a line not found as written stands where the search is."""
    value: str = scalar.value
    position = scalar.start_mark.index
    limit = scalar.end_mark.index
    offsets: list[int] = []
    for line in value.split("\n"):
        found = text.find(line, position, limit) if line else -1
        if found >= 0:
            offsets.extend(range(found, found + len(line)))
            position = found + len(line)
        else:
            offsets.extend([position] * len(line))
        offsets.append(min(position, max(limit - 1, 0)))  # the line break
        position = text.find("\n", position, limit) + 1 or position
    return offsets[: len(value)]
