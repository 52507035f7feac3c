"""`bgmigrate check` writes its report as it checks (`report.stream`), and the cache writes and
reads its entries piece by piece: none of it may change a byte of a report.

Each format's streamed report is the one rendered from the whole result held in memory, with
its spools in memory and on disk; a path that comes back after others falls back to the
in-memory rendering; a cache hit copies the stored bytes however they are cut into pieces; a
cached run is handed to another format batch by batch; a truncated entry is a miss."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bgmigrate.check import cache as check_cache
from bgmigrate.check import runner
from bgmigrate.check.report import FORMATS, stream
from bgmigrate.check.runner import CheckOptions, check_report, run_check
from bgmigrate.cli.check import run as check_command
from bgmigrate.rules import CATALOG

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = ["sql_app", "do_blocks", "alembic_app", "layouts/goose", "layouts/liquibase"]
COLOURED = [(name, False) for name in FORMATS] + [("text", True)]


def streamed(options: CheckOptions, report_format: str, *, color: bool = False) -> str:
    out = io.StringIO()
    check_report(options, report_format, color=color).write_to(out)
    return out.getvalue()


def in_memory(options: CheckOptions, report_format: str, *, color: bool = False) -> str:
    return FORMATS[report_format](run_check(options), CATALOG, color=color)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("BGMIGRATE_CACHE_DIR", str(directory))
    return directory


@pytest.fixture(params=["memory", "disk"])
def spools(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spools kept in memory, or moved to a temporary file after 40 characters."""
    if request.param == "disk":
        monkeypatch.setattr(stream.Spool.__init__, "__defaults__", (40,))


@pytest.mark.usefixtures("spools")
@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize(("report_format", "color"), COLOURED)
def test_the_streamed_report_is_the_one_rendered_in_memory(
    project: str, report_format: str, color: bool
) -> None:
    options = CheckOptions(paths=(str(FIXTURES / project),), cwd=FIXTURES)
    expected = in_memory(options, report_format, color=color)
    assert expected.strip()  # not an empty report
    assert streamed(options, report_format, color=color) == expected


@pytest.mark.parametrize("report_format", list(FORMATS))
def test_a_path_that_comes_back_is_reported_as_in_memory(
    tmp_path: Path, report_format: str
) -> None:
    """stdin named as a file checked after it: both units' findings go first, merged."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m/001.sql").write_text("ALTER TABLE a RENAME COLUMN b TO c;\n")
    (tmp_path / "m/002.sql").write_text("ALTER TABLE x DROP COLUMN y;\n")
    options = CheckOptions(
        paths=("-", "m"),
        stdin_text="ALTER TABLE q RENAME COLUMN r TO s;\nCREATE INDEX i ON t (c);\n",
        stdin_filename="m/002.sql",
        cwd=tmp_path,
    )
    result = run_check(options)
    assert [u.path for u in result.units] == ["m/002.sql", "m/001.sql", "m/002.sql"]
    assert [(f.path, f.location.line, f.rule) for f in result.findings][:3] == [
        ("m/002.sql", 1, "rename-column"),
        ("m/002.sql", 1, "require-lock-timeout"),
        ("m/002.sql", 1, "drop-column"),
    ]
    assert streamed(options, report_format) == in_memory(options, report_format)


def test_units_sharing_a_path_one_after_the_other_merge_their_findings() -> None:
    """`report_order` orders a path's findings across its units as `check_units` does: by
    line and column, ties in the order the units came."""
    from report_cases import sample_result

    result = sample_result()
    given, expected = [], []
    for unit in result.units:  # each unit twice in a row, its findings split between them
        findings = [f for f in result.findings if f.path == unit.path]
        given += [(unit, findings[1::2]), (unit, findings[::2])]
        expected += sorted(
            findings[1::2] + findings[::2], key=lambda f: (f.location.line, f.location.column)
        )
    assert len({(f.location.line, f.location.column) for f in expected}) < len(expected)
    collected = stream.Collected(result.pg_version, result.layouts)
    stream.report_order(given, collected)
    assert collected.result.findings == expected
    assert [u.path for u in collected.result.units] == [
        u.path for u in result.units for _ in range(2)
    ]


@pytest.mark.parametrize(("report_format", "color"), COLOURED)
def test_a_cache_hit_streams_the_stored_bytes(
    report_format: str,
    color: bool,
    cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES)
    monkeypatch.setattr(check_cache, "_CHUNK", 7)  # pieces that cut characters and lines
    command = ["sql_app", "--format", report_format, "--color" if color else "--no-color"]
    code = check_command([*command, "--no-cache"])
    expected = capsys.readouterr()
    assert check_command(command) == code  # a miss: stored
    assert capsys.readouterr() == expected

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("checked or decoded again instead of copying the stored report")

    monkeypatch.setattr(runner, "checked_units", not_again)
    monkeypatch.setattr(check_cache, "_replay", not_again)
    assert check_command(command) == code  # a hit
    assert capsys.readouterr() == expected


def test_a_run_cached_in_one_format_is_replayed_batch_by_batch_into_another(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    monkeypatch.setattr(check_cache, "_BATCH", 2)
    expected = {}
    for report_format in FORMATS:
        check_command(["sql_app", "--format", report_format, "--no-cache"])
        expected[report_format] = capsys.readouterr()
    check_command(["sql_app", "--format", "json"])  # checked, the run stored
    capsys.readouterr()
    monkeypatch.setattr(runner, "checked_units", None)  # never checked again
    for report_format in FORMATS:
        check_command(["sql_app", "--format", report_format])
        assert capsys.readouterr() == expected[report_format]


@pytest.mark.parametrize("cut", [10, 40, 70, 100, -1])
def test_a_truncated_entry_is_a_miss(
    cut: int, tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cut inside the key, inside the slot, in the data, or by one byte at the end: the
    report is printed as a run without the cache prints it, and stored again whole."""
    project = str(FIXTURES / "sql_app")
    check_command([project, "--format", "sarif", "--no-cache"])
    expected = capsys.readouterr().out
    check_command([project, "--format", "sarif"])  # the run and its report stored
    assert capsys.readouterr().out == expected
    written = {entry: entry.read_bytes() for entry in cache_dir.glob("check-*")}
    assert len(written) == 2
    for entry, data in written.items():
        entry.write_bytes(data[:cut])
    check_command([project, "--format", "sarif"])
    assert capsys.readouterr().out == expected
    assert {entry: entry.read_bytes() for entry in cache_dir.glob("check-*")} == written
    for entry, data in written.items():  # truncated again: another format checks anew
        entry.write_bytes(data[:cut])
    check_command([project, "--format", "text", "--no-color", "--no-cache"])
    text = capsys.readouterr().out
    check_command([project, "--format", "text", "--no-color"])
    assert capsys.readouterr().out == text


def test_a_cached_run_that_fails_to_decode_part_way_is_checked_again(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its checksum matched, so only another bgmigrate with this entry format could write
    it: what the report was handed is dropped, and the run is checked anew."""
    monkeypatch.chdir(FIXTURES)
    check_command(["sql_app", "--format", "text", "--no-color", "--no-cache"])
    expected = capsys.readouterr()
    check_command(["sql_app", "--format", "json"])  # the run stored
    capsys.readouterr()
    replay, handed = check_cache._replay, []

    def fail_on_the_third(record, reports):  # type: ignore[no-untyped-def]
        handed.append(record)
        if len(handed) == 3:
            raise KeyError(record[0])
        replay(record, reports)

    monkeypatch.setattr(check_cache, "_replay", fail_on_the_third)
    check_command(["sql_app", "--format", "text", "--no-color"])
    assert len(handed) == 3
    assert capsys.readouterr() == expected


@pytest.mark.usefixtures("spools")
@pytest.mark.parametrize("report_format", list(FORMATS))
def test_the_report_copied_to_a_utf8_stream_as_bytes_is_its_text(report_format: str) -> None:
    """stdout encodes UTF-8: a report on disk goes to its buffer as the bytes it was stored
    as (the JSON findings' spool a part of the document's), the same bytes as its text."""
    options = CheckOptions(paths=(str(FIXTURES / "sql_app"),), cwd=FIXTURES)
    expected = in_memory(options, report_format)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    out.write("before ")  # what the stream holds already goes first
    check_report(options, report_format, color=False).write_to(out)
    out.flush()
    assert raw.getvalue() == ("before " + expected).encode()


def _spool_on_disk(*texts: str) -> stream.Spool:
    spool = stream.Spool(limit=10)
    for text in texts:
        spool.write(text)
    return spool


def test_a_spool_read_as_bytes_is_cut_between_characters() -> None:
    """Read back a megabyte at a time: a character across the cut goes with the next piece."""
    text = "a" * ((1 << 20) - 1) + "€ü" + "b" * 5
    pieces = list(_spool_on_disk(text).byte_chunks())
    assert [len(piece) for piece in pieces] == [(1 << 20) - 1, 3 + 2 + 5]
    assert b"".join(pieces).decode() == text
    assert [stream._whole_characters(b) for b in (b"", b"a", b"\xe2\x82", b"\xe2\x82\xac")] == [
        0,
        1,
        0,
        3,
    ]
    assert stream._whole_characters(b"ab\xf0\x9f\x98") == 2


@pytest.mark.parametrize("errors", ["strict", "backslashreplace"])
def test_a_lone_surrogate_meets_the_streams_own_error_handler(errors: str) -> None:
    """Bytes cannot say what a stream does with a lone surrogate: that piece goes as text,
    and fails or is replaced as the stream's handler decides."""
    texts = ("SELECT 'x';\n", "bad \ud800 here\n", "tail\n")
    expected = io.BytesIO()
    as_text = io.TextIOWrapper(expected, encoding="utf-8", errors=errors)
    raw = io.BytesIO()
    as_bytes = io.TextIOWrapper(raw, encoding="utf-8", errors=errors)
    if errors == "strict":
        with pytest.raises(UnicodeEncodeError):
            _spool_on_disk(*texts).copy_to(as_bytes)
        return
    as_text.write("".join(texts))
    as_text.flush()
    _spool_on_disk(*texts).copy_to(as_bytes)
    as_bytes.flush()
    assert raw.getvalue() == expected.getvalue()
    assert b"\\ud800" in raw.getvalue()


def test_a_spool_copied_to_another_encoding_is_encoded_by_the_stream() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="latin-1")
    _spool_on_disk("café ", "crème\n").copy_to(out)
    out.flush()
    assert raw.getvalue() == "café crème\n".encode("latin-1")
