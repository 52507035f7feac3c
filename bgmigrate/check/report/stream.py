"""Reports written as the run goes: units and findings flow through a format's writer.

A run's findings, with their messages, statements and safe alternatives, are most of what it
would hold, and the report rendered from them as much again; so the `check` command never
holds either. The engine hands each unit over once it is checked (`checked_units`), this
module puts the units' findings in the report's order, and a `ReportWriter` writes each
finding as it comes to a text sink, counting what its summary needs on the way. A format
whose document puts something after the findings first (the JSON units, the SARIF rules)
keeps the findings' rendered text in a `Spool` until then.

`render_result` feeds a whole `CheckResult` through the same writer, for the callers that
hold one (tests, `bgmigrate.check.report.FORMATS`): one rendering, whichever way it is fed.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import attrgetter

from bgmigrate.check.finding import Finding, Severity
from bgmigrate.check.result import CheckedUnit, CheckResult
from bgmigrate.check.rule import Rule
from bgmigrate.source.layouts.base import Skipped

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import IO, TypeAlias

    from _typeshed import SupportsWrite

__all__ = [
    "Collected",
    "PathsOutOfOrder",
    "ReportWriter",
    "Sink",
    "Spool",
    "StreamBroken",
    "Tally",
    "feed",
    "render_result",
    "report_order",
]


Sink: TypeAlias = "SupportsWrite[str]"
"""Where a report is written: a text file, stdout, a `Spool`, a `StringIO`. (A name for the
type checker alone: a `Protocol` class costs a pre-commit run its creation.)"""


class Tally:
    """What a summary counts: unsuppressed findings by severity, suppressed ones, units."""

    def __init__(self) -> None:
        self._counts = dict.fromkeys(Severity, 0)
        self.suppressed = 0
        self.units = 0

    def add(self, findings: Iterable[Finding]) -> None:
        counts = self._counts
        for finding in findings:
            if finding.suppressed:
                self.suppressed += 1
            else:
                counts[finding.severity] += 1

    def count(self, severity: Severity) -> int:
        return self._counts[severity]

    @property
    def unsuppressed(self) -> int:
        return sum(self._counts.values())

    @property
    def worst(self) -> Severity | None:
        """The highest severity of an unsuppressed finding (what `--fail-on` compares)."""
        return max(
            (severity for severity, count in self._counts.items() if count),
            key=attrgetter("rank"),
            default=None,
        )


class ReportWriter:
    """One format's report, written to `out` as the run goes: `unit` for each unit in run
    order, `findings` for each path's findings in report order (with the unit whose text
    shows them), then `finish`. Units and findings may interleave in any way: what a format
    writes for each goes where its document wants it."""

    def __init__(
        self,
        out: Sink,
        rules: Mapping[str, Rule],
        *,
        color: bool,
        pg_version: int,
        layouts: Sequence[tuple[str, str]],
    ) -> None:
        self.out, self.rules, self.color = out, rules, color
        self.pg_version, self.layouts = pg_version, layouts
        self.tally = Tally()

    def unit(self, unit: CheckedUnit) -> None:
        self.tally.units += 1
        self._unit(unit)

    def findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        self.tally.add(findings)
        self._findings(unit, findings)

    def finish(self, skipped: Sequence[Skipped]) -> None:
        """The end of the run: what it left out, and whatever follows the findings."""

    def _unit(self, unit: CheckedUnit) -> None:
        """A format that lists units writes this one."""

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        raise NotImplementedError


def render_result(
    writer: type[ReportWriter], result: CheckResult, rules: Mapping[str, Rule], *, color: bool
) -> str:
    """A whole result, rendered by `writer` into one string."""
    out = io.StringIO()
    feed(
        result,
        writer(out, rules, color=color, pg_version=result.pg_version, layouts=result.layouts),
    )
    return out.getvalue()


def feed(result: CheckResult, *reports: ReportWriter) -> None:
    """Hand a whole result to `reports`, as a run would have, and finish them."""
    for unit in result.units:
        for report in reports:
            report.unit(unit)
    last = {unit.path: unit for unit in result.units}  # its text shows the path's findings
    for path, group in itertools.groupby(result.findings, key=attrgetter("path")):
        findings = list(group)
        for report in reports:
            report.findings(last.get(path), findings)
    for report in reports:
        report.finish(result.skipped)


class Collected(ReportWriter):
    """The units and findings handed over, as a `CheckResult` (`result`)."""

    def __init__(self, pg_version: int, layouts: Sequence[tuple[str, str]]) -> None:
        super().__init__(io.StringIO(), {}, color=False, pg_version=pg_version, layouts=layouts)
        self.result = CheckResult(units=[], pg_version=pg_version, layouts=list(layouts))

    def _unit(self, unit: CheckedUnit) -> None:
        self.result.units.append(unit)

    def _findings(self, unit: CheckedUnit | None, findings: Sequence[Finding]) -> None:
        self.result.findings.extend(findings)

    def finish(self, skipped: Sequence[Skipped]) -> None:
        self.result.skipped = list(skipped)


class StreamBroken(Exception):
    """What the reports were handed so far cannot go on into a report: the caller renders
    the report from the whole result instead."""


class PathsOutOfOrder(StreamBroken):
    """A path came back after other paths: its findings belong before theirs in the report,
    which was written past them already."""


def report_order(
    checked: Iterable[tuple[CheckedUnit, list[Finding]]], *reports: ReportWriter
) -> None:
    """Hand `checked_units` to `reports` in the order of `check_units`' findings: by the
    first unit of each path, then line and column. Units sharing a path that follow each
    other have their findings merged; a path that comes back after another (a run makes
    none, but for a stdin name given to a file too) raises `PathsOutOfOrder`. The reports
    are not finished: what the run left out is known once its units are all read.

    The paths done are remembered by their hashes, not their text, so that a run lets go of
    each path once its unit is reported: two paths of one hash (one chance in billions of
    billions) only send the run to the in-memory report, which is the same report."""
    done: set[int] = set()
    group: list[CheckedUnit] = []
    findings: list[Finding] = []
    for unit, found in itertools.chain(checked, [(None, [])]):
        if group and (unit is None or unit.path != group[-1].path):
            if len(group) > 1:
                findings.sort(key=lambda f: (f.location.line, f.location.column))
            if findings:
                for report in reports:
                    report.findings(group[-1], findings)
            done.add(hash(group[-1].path))
            group, findings = [], []
        if unit is None:
            return
        if hash(unit.path) in done:
            raise PathsOutOfOrder(unit.path)
        for report in reports:
            report.unit(unit)
        group.append(unit)
        findings.extend(found)


class Spool:
    """Text written in order and read back once: in memory up to `limit` characters, then
    in a temporary file, so that a large report's parts need not be held.

    A spool closed into another (the JSON findings into the JSON document) becomes a part of
    it as it is, temporary file and all: nothing is copied until the whole is read back."""

    def __init__(self, limit: int = 1 << 16) -> None:
        self._parts: list[str | IO[str]] = []
        """What was written before the part being written: text, or a temporary file."""
        self._pieces: list[str] = []
        self._size = 0
        self._limit = limit
        self._file: IO[str] | None = None
        self.last = ""
        """The last character written, "" before any."""

    def write(self, text: str) -> None:
        if text:
            self.last = text[-1]
        if self._file is not None:
            self._file.write(text)
            return
        self._pieces.append(text)
        self._size += len(text)
        if self._size > self._limit:
            self._on_disk()

    def _on_disk(self) -> IO[str]:
        if self._file is None:
            import tempfile

            # Buffered by 64 KiB, not 8: a report writes megabytes, a few kilobytes at a time.
            self._file = tempfile.TemporaryFile(  # noqa: SIM115 (closed by `close`)
                "w+", buffering=1 << 16, encoding="utf-8", errors="surrogatepass", newline=""
            )
            self._file.write("".join(self._pieces))
            self._pieces = []
        return self._file

    def _sealed(self) -> list[str | IO[str]]:
        """Every part written so far, the last one ended: what is written next starts a new
        part."""
        if self._file is not None:
            self._parts.append(self._file)
            self._file = None
        elif self._pieces:
            self._parts.append("".join(self._pieces))
        self._pieces, self._size = [], 0
        return self._parts

    def chunks(self) -> Iterator[str]:
        """What was written so far, in pieces."""
        for part in self._sealed():
            if isinstance(part, str):
                yield part
                continue
            part.seek(0)
            while chunk := part.read(1 << 16):
                yield chunk

    def byte_chunks(self) -> Iterator[bytes]:
        """What was written so far, encoded in UTF-8 (a lone surrogate as `surrogatepass`
        encodes it), in pieces that each end with a whole character: a part on disk is read
        as it is, not decoded."""
        for part in self._sealed():
            if isinstance(part, str):
                yield part.encode("utf-8", "surrogatepass")
                continue
            part.flush()
            data = part.buffer
            data.seek(0)
            carried = b""
            while chunk := data.read(1 << 20):
                chunk = carried + chunk
                whole = _whole_characters(chunk)
                carried = chunk[whole:]
                yield chunk[:whole]
            if carried:
                yield carried

    def copy_to(self, out: Sink) -> str:
        """Write what was written to `out`, and return its last character: as bytes to a
        text stream that encodes UTF-8 (a terminal, a pipe, a file: stdout), neither decoded
        nor encoded again; as text otherwise, and where a lone surrogate needs the stream's
        own error handler."""
        buffer = getattr(out, "buffer", None)
        if buffer is None or not _writes_as_is(out):
            for chunk in self.chunks():
                out.write(chunk)
            return self.last
        import re

        surrogate = re.compile(rb"\xed[\xa0-\xbf]")  # no strict UTF-8 encoder writes one
        out.flush()  # type: ignore[attr-defined]
        for data in self.byte_chunks():
            if surrogate.search(data):
                out.write(data.decode("utf-8", "surrogatepass"))
                out.flush()  # type: ignore[attr-defined]
            else:
                buffer.write(data)
        return self.last

    def close_into(self, out: Sink) -> None:
        """Add what was written to `out`, then let it go: into another spool, as a part of it
        (nothing copied); else copied."""
        if isinstance(out, Spool):
            out._sealed().extend(self._sealed())
            self._parts = []
            out.last = self.last or out.last
            return
        self.copy_to(out)
        self.close()

    def close(self) -> None:
        self._pieces = []
        for part in self._sealed():
            if not isinstance(part, str):
                part.close()
        self._parts = []


def _writes_as_is(out: Sink) -> bool:
    """Whether a text stream writes text as its UTF-8 bytes: it encodes UTF-8 and writes a line
    break as it is (where `os.linesep` is "\\n": a Windows console or file writes "\\r\\n")."""
    import codecs
    import os

    if os.linesep != "\n":
        return False
    encoding = getattr(out, "encoding", None)
    try:
        return isinstance(encoding, str) and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _whole_characters(data: bytes) -> int:
    """How many of `data`'s first bytes hold whole UTF-8 characters: all, unless it ends in
    the middle of one."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return len(data)
        if byte >= 0xC0:  # the first byte of a character of 2, 3 or 4
            size = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) if size <= back else len(data) - back
    return len(data)
