"""Every command reports a bad command, option or argument the same way: one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bgmigrate import __version__


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgmigrate", *args], cwd=cwd, capture_output=True, text=True
    )


def test_version_prints_the_package_version() -> None:
    result = _cli("--version")
    expected = (0, f"bgmigrate {__version__}\n", "")
    assert (result.returncode, result.stdout, result.stderr) == expected


def test_the_version_has_one_source() -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the backport bgmigrate depends on there
        import tomli as tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    source = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert source == {"attr": "bgmigrate.__version__"}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        # The wall as the user hit it: three lines of usage instead of the nearest command.
        (["plan", "renmae", "users.email", "x"], "Did you mean 'rename'?"),
        (["chek", "migrations"], "Did you mean 'check'?"),
        (["rules", "--format", "xml"], "'text', 'json'"),
        (["rules", "--format", "jsn"], "did you mean 'json'?"),
        (["plan", "rename", "users.email", "x", "--formt", "sql"], "Possible options: --format"),
        (["plan", "rename", "users.email"], "Missing argument 'new_name'"),
        (["status", "--bogus"], "No such option: --bogus"),
        (["--bogus"], "No such option: --bogus"),
        (["check", "m.sql", "--format", "markdwn"], "did you mean 'markdown'?"),
        (["check", "m.sql", "--formt", "json"], "did you mean '--format'?"),
        (["check", "m.sql", "--fail-on", "warn"], "did you mean 'warning'?"),
    ],
)
def test_a_bad_command_option_or_argument_is_one_line_naming_the_choice(
    args: list[str], named: str
) -> None:
    result = _cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("bgmigrate: error: ")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert named in result.stderr
    assert "--help` lists the" in result.stderr


def _command_paths() -> list[list[str]]:
    from typer.main import get_command

    from bgmigrate.cli.app import app
    from bgmigrate.cli.execute import app as execute_app
    from bgmigrate.cli.plan import app as plan_app

    plan = get_command(plan_app).commands  # type: ignore[attr-defined]
    executing = [info.name or info.callback.__name__ for info in execute_app.registered_commands]
    top = get_command(app).commands  # type: ignore[attr-defined]
    return [[name] for name in [*top, *executing]] + [["plan", name] for name in plan]


def test_every_command_help_has_an_example_of_itself() -> None:
    paths = _command_paths()
    assert ["plan", "rename"] in paths and ["apply"] in paths and ["check"] in paths
    for path in paths:
        result = _cli(*path, "--help")
        assert result.returncode == 0, path
        assert f"  bgmigrate {' '.join(path)} " in result.stdout, path


def test_every_command_has_an_example_in_the_docs() -> None:
    repo = Path(__file__).resolve().parents[2]
    docs = "\n".join(
        path.read_text(encoding="utf-8") for path in [repo / "README.md", *repo.glob("docs/*.md")]
    )
    for path in _command_paths():
        assert f"bgmigrate {' '.join(path)} " in docs, path


def _read_a_little(args: list[str], cwd: Path) -> tuple[int, bytes, str]:
    """The command's start read from a pipe closed after it, as `bgmigrate … | head` does:
    the exit code, what was read, and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bgmigrate", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    start = process.stdout.read(10)
    process.stdout.close()
    error = process.stderr.read().decode()
    return process.wait(), start, error


def test_a_reader_that_stops_reading_gets_no_error_and_the_verdict_stands(
    tmp_path: Path,
) -> None:
    """`bgmigrate check … | head`: the report is cut where the reader stopped, and the exit
    code is the verdict's, with nothing on stderr (not an internal error to report)."""
    for number in range(300):  # a report larger than a pipe holds
        (tmp_path / f"{number:03}_m.sql").write_text(f"ALTER TABLE t DROP COLUMN c{number};\n")
    code, start, error = _read_a_little(["check", ".", "--format", "json"], tmp_path)
    assert (code, start, error) == (1, b'{\n  "versi', "")
    code, _, error = _read_a_little(["check", ".", "--fail-on", "never"], tmp_path)
    assert (code, error) == (0, "")


def test_any_command_whose_reader_stops_reading_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from bgmigrate import cli
    from bgmigrate.cli import app

    def closed_pipe(argv: list[str]) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(app, "run_app", closed_pipe)
    monkeypatch.setattr(sys, "argv", ["bgmigrate", "rules"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 1
    assert capfd.readouterr().err == ""
