"""Reading a migration file's text. What cannot be read is a finding, not the end of the run:
every other file is still checked."""

from __future__ import annotations

import os
from pathlib import Path

from bgmigrate.source.unit import Location, SourceProblem
from bgmigrate.values import Value, value

__all__ = [
    "NOT_UTF8",
    "UNREADABLE_FILE",
    "SourceText",
    "file_bytes",
    "read_source_text",
    "unreadable_source",
]

UNREADABLE_FILE = "unreadable-file"
NOT_UTF8 = "not-utf8"


@value
class SourceText(Value):
    """A file's text (UTF-8, byte order mark removed; undecodable bytes replaced by U+FFFD)
    and the problem reading it, if any."""

    text: str
    problem: SourceProblem | None = None


def unreadable_source(name: str, why: str) -> SourceText:
    """What reading gives for a file or directory that cannot be read: no text, one problem."""
    message = f"Cannot read {name}: {why}. Nothing in it was checked."
    return SourceText("", SourceProblem(UNREADABLE_FILE, message, Location(1, 1, 1, 1)))


def file_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """A file's bytes, or its first `limit` bytes. Read with `os.read`: `Path.read_bytes` and
    `open` build a file object around the descriptor, which costs three times the read itself
    for a small file, and a check reads every file of a directory, some of them twice."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        if limit is not None:
            return os.read(descriptor, limit)
        chunks = []
        # One read takes a regular file whole; the second sees its end.
        size = os.fstat(descriptor).st_size + 1
        while chunk := os.read(descriptor, max(size, 1 << 16)):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_source_text(path: Path) -> SourceText:
    try:
        data = file_bytes(path)
    except OSError as error:
        why = error.strerror or str(error)
        if path.is_symlink() and not path.exists():
            why = "a broken symbolic link"
        return unreadable_source(path.name, why)
    try:
        # UTF-8 with its byte order mark removed, as "utf-8-sig" decodes it (whose codec is
        # one more module to import on every pre-commit run).
        return SourceText(data.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        text = data.decode("utf-8-sig", errors="replace")
        before = data[line_start : error.start].decode("utf-8", errors="replace")
        column = len(before.removeprefix("\ufeff")) + 1
        message = (
            f"Byte 0x{data[error.start]:02x} is not UTF-8 (the file looks Latin-1 or another "
            "legacy encoding): it was replaced to check the rest. PostgreSQL with a UTF-8 client "
            "encoding rejects it; save the file as UTF-8."
        )
        location = Location(line, column, line, column)
        return SourceText(text, SourceProblem(NOT_UTF8, message, location))
