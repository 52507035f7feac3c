"""The check cache (`bgmigrate.check.cache`) and worker processes never change a report.

A cached run's JSON is byte for byte a `--no-cache` run's; an edit to an earlier migration, the
only thing that decides a later one's verdict, is a new key; a damaged or foreign entry is a
miss; a run in worker processes reports what one process does, in the same order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bgmigrate.check import runner
from bgmigrate.check.report import FORMATS
from bgmigrate.check.runner import CheckOptions, run_check
from bgmigrate.cli.check import run as check_command
from bgmigrate.rules import CATALOG

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SQL_FIXTURES = [
    "sql_app",
    "do_blocks",
    *(f"layouts/{d.name}" for d in sorted((FIXTURES / "layouts").iterdir()) if d.name != "alembic"),
]
"""Every fixture project but the Alembic ones (a run that reads Alembic is never cached)."""


def report(options: CheckOptions) -> str:
    return FORMATS["json"](run_check(options), CATALOG, color=False)


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("check-*"))


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("BGMIGRATE_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def no_checking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if the run checks anything: its report must come from the cache."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("checked again instead of reusing the cached report")

    monkeypatch.setattr(runner, "check_units", fail)
    monkeypatch.setattr(runner, "checked_units", fail)


def history(root: Path, column_type: str) -> Path:
    """Two migrations: the later one widens a column whose type the earlier one decides."""
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    (root / "migrations/001_create.sql").write_text(
        f"CREATE TABLE t (id int, name {column_type});\n"
    )
    (root / "migrations/002_widen.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE t ALTER COLUMN name TYPE varchar(20);\n"
    )
    return root / "migrations"


@pytest.mark.parametrize("fixture", SQL_FIXTURES)
def test_a_cached_report_is_the_uncached_one_byte_for_byte(
    fixture: str, cache_dir: Path, request: pytest.FixtureRequest
) -> None:
    options = CheckOptions(paths=(str(FIXTURES / fixture),), cwd=FIXTURES, cache=True)
    uncached = report(CheckOptions(paths=options.paths, cwd=FIXTURES))
    assert not cache_dir.exists()
    assert report(options) == uncached  # a miss: checked, then stored
    assert len(entries(cache_dir)) == 1
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"
    request.getfixturevalue("no_checking")
    assert report(options) == uncached  # a hit


def test_an_edit_to_an_earlier_migration_changes_the_later_verdict(
    tmp_path: Path, cache_dir: Path
) -> None:
    folder = history(tmp_path, "varchar(10)")
    options = CheckOptions(paths=(str(folder),), cwd=tmp_path, cache=True)
    widened = run_check(options)
    assert [f.rule for f in widened.findings] == []  # varchar(10) → varchar(20): no rewrite
    # The later file is untouched; the earlier one now makes its column an integer.
    history(tmp_path, "integer")
    retyped = run_check(options)
    assert [(f.path, f.rule, f.location.line) for f in retyped.findings] == [
        ("migrations/002_widen.sql", "change-column-type", 2)
    ]
    assert report(options) == report(CheckOptions(paths=options.paths, cwd=tmp_path))
    assert len(entries(cache_dir)) == 2


def test_settings_are_part_of_the_key(tmp_path: Path, cache_dir: Path) -> None:
    folder = history(tmp_path, "integer")
    base = CheckOptions(paths=(str(folder),), cwd=tmp_path, cache=True)
    assert [f.rule for f in run_check(base).findings] == ["change-column-type"]
    ignored = CheckOptions(
        paths=base.paths, cwd=tmp_path, cache=True, ignore=("change-column-type",)
    )
    assert [f.rule for f in run_check(ignored).findings] == []
    (tmp_path / "bgmigrate.toml").write_text('[severity]\nchange-column-type = "warning"\n')
    warned = run_check(base)
    assert [(f.rule, f.severity.value) for f in warned.findings] == [
        ("change-column-type", "warning")
    ]
    assert len(entries(cache_dir)) == 3


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"\x00garbage" * 100, id="garbage"),
        pytest.param(lambda data: data[:-10] + b"0123456789", id="changed-bytes"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten(
    tmp_path: Path, cache_dir: Path, damage, request: pytest.FixtureRequest
) -> None:
    folder = history(tmp_path, "integer")
    options = CheckOptions(paths=(str(folder),), cwd=tmp_path, cache=True)
    expected = report(options)
    [entry] = entries(cache_dir)
    written = entry.read_bytes()
    entry.write_bytes(damage(written))
    assert report(options) == expected
    assert entry.read_bytes() == written
    request.getfixturevalue("no_checking")
    assert report(options) == expected


def test_a_foreign_file_under_the_entry_name_is_a_miss(tmp_path: Path, cache_dir: Path) -> None:
    folder = history(tmp_path, "integer")
    options = CheckOptions(paths=(str(folder),), cwd=tmp_path, cache=True)
    expected = report(options)
    [entry] = entries(cache_dir)
    entry.write_text('{"units": [], "findings": []}')  # what another tool might leave
    assert report(options) == expected


def test_an_unwritable_cache_directory_is_no_cache(tmp_path: Path, monkeypatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("BGMIGRATE_CACHE_DIR", str(blocked / "cache"))
    folder = history(tmp_path, "integer")
    options = CheckOptions(paths=(str(folder),), cwd=tmp_path, cache=True)
    assert [f.rule for f in run_check(options).findings] == ["change-column-type"]


def test_without_a_cache_dir_the_cache_is_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BGMIGRATE_CACHE_DIR")
    (tmp_path / "bgmigrate.toml").write_text("pg_version = 15\n")
    folder = history(tmp_path, "integer")
    run_check(CheckOptions(paths=(str(folder),), cwd=tmp_path / "migrations", cache=True))
    assert len(entries(tmp_path / ".bgmigrate_cache")) == 1
    assert not (tmp_path / "migrations/.bgmigrate_cache").exists()


@pytest.mark.parametrize("fixture", SQL_FIXTURES)
def test_workers_report_what_one_process_does(fixture: str) -> None:
    paths = (str(FIXTURES / fixture),)
    serial = report(CheckOptions(paths=paths, cwd=FIXTURES, jobs=1))
    assert report(CheckOptions(paths=paths, cwd=FIXTURES, jobs=2)) == serial


def test_workers_keep_the_order_and_context_of_many_files(tmp_path: Path) -> None:
    """More files than one batch of work, each depending on the one before it."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    for number in range(1, 121):
        (folder / f"{number:03}_step.sql").write_text(
            f"CREATE TABLE t{number} (id int, name integer);\n"
            + (f"ALTER TABLE t{number - 1} ALTER COLUMN name TYPE bigint;\n" if number > 1 else "")
            + ("NOT SQL AT ALL;\n" if number % 17 == 0 else "")
        )
    shutil.copy(FIXTURES / "sql_app/proposed/0011_rename_users_email.sql", folder / "121_x.sql")
    serial = run_check(CheckOptions(paths=(str(folder),), cwd=tmp_path, jobs=1))
    parallel = run_check(CheckOptions(paths=(str(folder),), cwd=tmp_path, jobs=2))
    assert parallel.findings == serial.findings
    assert parallel.units == serial.units
    rules = {f.rule for f in serial.findings}
    assert {"change-column-type", "syntax-error", "rename-column"} <= rules


def test_no_cache_neither_reads_nor_writes(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = history(tmp_path, "integer")
    assert check_command([str(folder), "--no-cache", "--jobs", "2", "--format", "json"]) == 1
    uncached = capsys.readouterr().out
    assert not cache_dir.exists()
    assert check_command([str(folder), "--format", "json"]) == 1
    assert capsys.readouterr().out == uncached
    assert len(entries(cache_dir)) == 2  # the run's result, and its JSON report


def test_a_file_edited_during_the_check_is_not_cached(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = history(tmp_path, "integer")
    check_units = runner.check_units

    def edit_then_check(*args, **kwargs):  # the key was taken from the files before the edit
        history(tmp_path, "varchar(10)")
        return check_units(*args, **kwargs)

    monkeypatch.setattr(runner, "check_units", edit_then_check)
    options = CheckOptions(paths=(str(folder),), cwd=tmp_path, cache=True)
    assert run_check(options).findings == []  # checked as edited
    assert entries(cache_dir) == []


def test_a_file_edited_during_a_written_check_is_not_cached(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The report written as the run goes (the command's path) lets go of its files once
    read, and still hashes them again, by path, before storing its entry."""
    folder = history(tmp_path, "integer")
    checked_units = runner.checked_units

    def edit_then_check(*args, **kwargs):
        history(tmp_path, "varchar(10)")
        return checked_units(*args, **kwargs)

    monkeypatch.setattr(runner, "checked_units", edit_then_check)
    assert check_command([str(folder), "--format", "json"]) == 0  # checked as edited
    assert '"findings": []' in capsys.readouterr().out
    assert entries(cache_dir) == []
    monkeypatch.setattr(runner, "checked_units", checked_units)
    assert check_command([str(folder), "--format", "json"]) == 0
    assert entries(cache_dir)  # unchanged during the run: stored (the run and its report)


def test_the_key_covers_the_code_and_the_parser_installed() -> None:
    from bgmigrate.check.cache import _installed_code

    files = [Path(path) for path, _, _ in _installed_code()]
    assert Path(runner.__file__).resolve() in files  # an edited rule or engine is a new key
    assert any(f.parent.name == "pglast" and f.name.startswith("parser") for f in files)


def test_what_since_groups_is_part_of_the_key(tmp_path: Path, cache_dir: Path) -> None:
    """The same files and settings: an index on a table created earlier in the change is not
    reported, on one created by a deployed migration it is, and neither run reuses the other."""
    from git_helpers import git

    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/1_base.sql").write_text("CREATE TABLE users (id bigint);\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    (tmp_path / "migrations/2_orders.sql").write_text(
        "SET lock_timeout = '2s';\nCREATE TABLE orders (id bigint, note text);\n"
    )
    git(tmp_path, "tag", "before-orders")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "orders")
    (tmp_path / "migrations/3_index.sql").write_text(
        "SET lock_timeout = '2s';\nCREATE INDEX orders_note_idx ON orders (note);\n"
    )
    paths = (str(tmp_path / "migrations"),)

    def rules(since: str) -> list[str]:
        options = CheckOptions(paths=paths, cwd=tmp_path, since=since, cache=True)
        return [f.rule for f in run_check(options).findings]

    assert rules("before-orders") == []  # orders is created in the same change
    assert rules("HEAD") == ["create-index-non-concurrently"]  # orders is deployed
    assert rules("before-orders") == []
    assert len(entries(cache_dir)) == 2


@pytest.mark.parametrize("fixture", ["sql_app", "do_blocks", "layouts/goose"])
@pytest.mark.parametrize("report_format", list(FORMATS))
def test_a_cached_report_is_printed_as_the_uncached_one_with_its_exit_code(
    fixture: str,
    report_format: str,
    cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES)
    command = [fixture, "--format", report_format, "--fail-on", "warning"]
    uncached_code = check_command([*command, "--no-cache"])
    uncached = capsys.readouterr()
    assert check_command(command) == uncached_code  # a miss: checked, then stored
    assert capsys.readouterr() == uncached

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded or rendered again instead of reusing the cached report")

    monkeypatch.setattr(runner, "check_units", not_again)
    monkeypatch.setattr(runner, "checked_units", not_again)
    monkeypatch.setattr("bgmigrate.check.cache._replay", not_again)
    assert check_command(command) == uncached_code  # a hit: the stored text
    assert capsys.readouterr() == uncached


def test_each_format_and_colour_is_its_own_report(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(history(tmp_path, "integer"))
    printed = {}
    for report_format, color in [
        ("json", "--no-color"),
        ("text", "--no-color"),
        ("text", "--color"),
    ]:
        for _ in range(2):  # a miss, then a hit
            assert check_command([folder, "--format", report_format, color]) == 1
            printed.setdefault((report_format, color), capsys.readouterr().out)
            assert capsys.readouterr().out == ""
    assert len(set(printed.values())) == 3
    assert "\x1b[" in printed["text", "--color"]
    assert "\x1b[" not in printed["text", "--no-color"]
    assert len(entries(cache_dir)) == 4  # one result, three reports


def test_an_edited_earlier_migration_is_a_new_report(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = history(tmp_path, "integer")
    command = [str(folder), "--format", "json", "--fail-on", "warning"]
    assert check_command(command) == 1
    assert "change-column-type" in capsys.readouterr().out
    assert check_command(command) == 1  # cached
    capsys.readouterr()
    # varchar(10) is widened to varchar(20) without a rewrite: no finding any more.
    (folder / "001_create.sql").write_text("CREATE TABLE t (id int, name varchar(10));\n")
    check_command(command)
    assert "change-column-type" not in capsys.readouterr().out


def test_a_damaged_report_entry_is_a_miss(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(history(tmp_path, "integer"))
    assert check_command([folder, "--format", "json"]) == 1
    printed = capsys.readouterr().out
    for entry in entries(cache_dir):
        entry.write_bytes(entry.read_bytes()[:-7])
    assert check_command([folder, "--format", "json"]) == 1
    assert capsys.readouterr().out == printed
