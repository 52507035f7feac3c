"""`bgmigrate check` end to end: exit codes, options, config, stdin, --since, formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fresh_interpreter import imported_packages
from typer.testing import CliRunner

from bgmigrate.cli.app import app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SAFE = "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;\n"
RENAME = "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n"
DROP_INDEX = "DROP INDEX users_email_idx;\n"


def run(args: list[str], cwd: Path, stdin: str | None = None):
    return CliRunner().invoke(app, args, input=stdin, catch_exceptions=False, env={"PWD": str(cwd)})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_safe_migration_exits_zero(project: Path) -> None:
    write(project / "migrations/1_add.sql", SAFE)
    result = run(["check", "migrations"], project)
    assert result.exit_code == 0, result.output
    assert "No problems in 1 unit" in result.output


def test_error_finding_exits_one_and_names_table_and_column(project: Path) -> None:
    write(project / "migrations/1_rename.sql", RENAME)
    result = run(["check", "migrations", "--no-color"], project)
    assert result.exit_code == 1
    assert "migrations/1_rename.sql:2:1" in result.output
    assert "users.email" in result.output
    assert "bgmigrate plan rename users.email email_address" in result.output


def test_fail_on_decides_which_severity_fails(project: Path) -> None:
    write(project / "m.sql", DROP_INDEX)  # drop-index-non-concurrently is a warning
    assert run(["check", "m.sql"], project).exit_code == 0
    assert run(["check", "m.sql", "--fail-on", "warning"], project).exit_code == 1
    write(project / "r.sql", RENAME)
    assert run(["check", "r.sql", "--fail-on", "never"], project).exit_code == 0


def test_select_and_ignore_accept_rules_and_categories(project: Path) -> None:
    write(project / "r.sql", RENAME)
    assert run(["check", "r.sql", "--ignore", "rename-column"], project).exit_code == 0
    assert run(["check", "r.sql", "--ignore", "compat"], project).exit_code == 0
    assert run(["check", "r.sql", "--select", "locking,rewrite"], project).exit_code == 0
    assert run(["check", "r.sql", "--select", "compat"], project).exit_code == 1


def test_unknown_rule_name_is_a_usage_error_naming_it(project: Path) -> None:
    write(project / "r.sql", RENAME)
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check", "r.sql", "--ignore", "rename-colum"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "rename-colum" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_path_exits_two_with_one_line(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check", "nowhere/"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("bgmigrate: error: ")
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


def test_bad_option_value_exits_two(project: Path) -> None:
    write(project / "r.sql", RENAME)
    assert run(["check", "r.sql", "--format", "yaml"], project).exit_code == 2


def test_stdin_is_checked_under_the_given_name(project: Path) -> None:
    result = run(
        ["check", "-", "--stdin-filename", "change.sql", "--format", "json"], project, RENAME
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["findings"][0]["path"] == "change.sql"
    assert report["findings"][0]["line"] == 2


def test_config_paths_pg_version_and_severity_apply(project: Path) -> None:
    write(
        project / "db/1.sql",
        "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c int DEFAULT 0;\n",
    )
    write(
        project / "pyproject.toml",
        '[tool.bgmigrate]\npaths = ["db"]\npg_version = 10\n'
        '[tool.bgmigrate.severity]\nadd-column-with-default-pre-pg11 = "warning"\n',
    )
    result = run(["check", "--format", "json"], project)
    report = json.loads(result.output)
    assert report["settings"]["pg_version"] == 10
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [
        ("add-column-with-default-pre-pg11", "warning")
    ]
    assert result.exit_code == 0
    assert run(["check", "--pg-version", "16"], project).exit_code == 0


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ('[tool.bgmigrate]\npathz = ["db"]\n', "pathz"),
        ('[tool.bgmigrate]\nignore = ["no-such-rule"]\n', "no-such-rule"),
        ('[tool.bgmigrate.severity]\nrename-column = "fatal"\n', "fatal"),
        ('[tool.bgmigrate]\npg_version = "sixteen"\n', "pg_version"),
        ("[tool.bgmigrate\n", "invalid TOML"),
    ],
)
def test_bad_config_exits_two_naming_the_problem(project: Path, config: str, named: str) -> None:
    write(project / "pyproject.toml", config)
    write(project / "r.sql", RENAME)
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check", "r.sql"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert named in result.stderr


def test_bgmigrate_toml_and_explicit_config(project: Path) -> None:
    write(project / "r.sql", RENAME)
    write(project / "bgmigrate.toml", 'ignore = ["rename-column"]\n')
    assert run(["check", "r.sql"], project).exit_code == 0
    write(project / "strict.toml", "select = []\n")
    assert run(["check", "r.sql", "--config", "strict.toml"], project).exit_code == 1


def test_no_paths_and_no_config_says_how_to_give_them(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "tool.bgmigrate" in result.stderr


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_since_reports_only_changed_files_but_reads_earlier_ones(project: Path) -> None:
    write(
        project / "migrations/1_create.sql",
        "CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n",
    )
    write(project / "migrations/2_rename.sql", RENAME)
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "base")
    # The PR adds an index on a table created in an earlier, unchanged migration.
    write(project / "migrations/3_index.sql", "CREATE INDEX events_kind_idx ON events (kind);\n")
    result = run(["check", "migrations", "--since", "main", "--format", "json"], project)
    report = json.loads(result.output)
    assert {f["path"] for f in report["findings"]} == {"migrations/3_index.sql"}
    assert "create-index-non-concurrently" in {f["rule"] for f in report["findings"]}
    assert len(report["units"]) == 3


def test_since_checks_the_added_migrations_as_one_change(project: Path) -> None:
    write(project / "migrations/1_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "base")
    _git(project, "checkout", "-q", "-b", "feature")
    # The branch adds a table in one migration (committed) and indexes, retypes and
    # constrains it in the next (untracked): both deploy together, the table is empty.
    write(
        project / "migrations/2_orders.sql",
        "SET lock_timeout = '2s';\n"
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id int, note text);\n",
    )
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "orders")
    write(
        project / "migrations/3_orders_more.sql",
        "SET lock_timeout = '2s';\n"
        "CREATE INDEX orders_user_idx ON orders (user_id);\n"
        "ALTER TABLE orders ALTER COLUMN user_id TYPE bigint;\n"
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users;\n"
        "CREATE INDEX users_id_idx ON users (id);\n",
    )
    result = run(["check", "migrations", "--since", "main", "--format", "json"], project)
    report = json.loads(result.output)
    assert [(f["path"], f["line"], f["rule"]) for f in report["findings"]] == [
        # An index on the table that existed before the change still counts.
        ("migrations/3_orders_more.sql", 6, "create-index-non-concurrently"),
    ]
    # Without --since each file is a deploy of its own: the table already exists.
    result = run(["check", "migrations/3_orders_more.sql", "migrations/2_orders.sql"], project)
    assert "create-index-non-concurrently" in result.output
    assert "change-column-type" in result.output


def test_since_with_an_unknown_ref_exits_two(project: Path) -> None:
    write(project / "m.sql", SAFE)
    _git(project, "init", "-q", "-b", "main")
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "check", "m.sql", "--since", "origin/nope"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "origin/nope" in result.stderr


def test_fixture_app_reports_the_blue_green_hazards() -> None:
    result = run(["check", str(FIXTURES / "sql_app"), "--format", "json"], FIXTURES)
    assert result.exit_code == 1
    found = {(Path(f["path"]).name, f["rule"]) for f in json.loads(result.output)["findings"]}
    assert ("0010_add_users_phone.sql", "add-not-null-column-without-default") in found
    assert ("0011_rename_users_email.sql", "rename-column") in found
    assert ("0012_split_user_profiles.sql", "drop-column") in found
    assert not any(name.startswith("000") for name, _ in found), "the history is all safe"


def test_github_format_prints_workflow_commands(project: Path) -> None:
    write(project / "r.sql", RENAME)
    lines = run(["check", "r.sql", "--format", "github"], project).output.splitlines()
    assert lines[0].startswith("::error file=r.sql,line=2,col=1,")
    assert "title=rename-column::" in lines[0]


def test_rules_lists_the_catalog_as_json() -> None:
    from bgmigrate.rules import CATALOG

    listed = json.loads(run(["rules", "--format", "json"], FIXTURES).output)
    assert [r["name"] for r in listed] == list(CATALOG)
    assert {"name", "category", "severity", "summary"} <= set(listed[0])


def test_explain_prints_every_section() -> None:
    output = run(["explain", "rename-column"], FIXTURES).output
    for section in ("# rename-column", "## Why it matters", "## Flagged", "## Use instead"):
        assert section in output
    assert "ALTER TABLE users RENAME COLUMN email TO email_address" in output


def test_explain_unknown_rule_suggests_the_nearest() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bgmigrate", "explain", "rename-colum"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "did you mean 'rename-column'" in result.stderr


def test_every_command_has_help_with_an_example() -> None:
    for command in (["check"], ["rules"], ["explain"]):
        output = run([*command, "--help"], FIXTURES).output
        assert "bgmigrate " + command[0] in output, command


def test_pg_version_out_of_range_is_a_usage_error(project: Path) -> None:
    write(project / "m.sql", SAFE)
    assert run(["check", "m.sql", "--pg-version", "5"], project).exit_code == 2


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgmigrate", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "yaml"],
        ["--pg-version", "5"],
        ["--pg-version", "sixteen"],
        ["--fail-on", "sometimes"],
        ["--no-such-option"],
        ["--format"],
    ],
)
def test_a_bad_option_is_one_line_on_stderr_and_exit_two(project: Path, args: list[str]) -> None:
    write(project / "r.sql", RENAME)
    result = _cli(["check", "r.sql", *args], project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("bgmigrate: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "bgmigrate check --help" in result.stderr


def test_options_may_come_between_paths_and_take_the_equals_form(project: Path) -> None:
    write(project / "a.sql", SAFE)
    write(project / "b.sql", RENAME)
    result = _cli(["check", "a.sql", "--format=json", "b.sql", "--select", "compat"], project)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [unit["path"] for unit in report["units"]] == ["a.sql", "b.sql"]
    assert {finding["rule"] for finding in report["findings"]} == {"rename-column"}


def test_the_check_command_runs_without_typer_rich_or_pglast(project: Path) -> None:
    # The pre-commit path: what a hook pays for on every commit.
    write(project / "r.sql", RENAME)
    code = "sys.argv = ['bgmigrate', 'check', 'r.sql']\nfrom bgmigrate.cli import main\nmain()"
    printed, packages = imported_packages(code, cwd=project)
    assert "rename-column" in printed
    heavy = {"typer", "click", "rich", "pglast", "alembic", "sqlalchemy", "psycopg"}
    assert not packages & heavy


def test_the_top_level_help_lists_check_and_check_help_comes_from_its_own_parser() -> None:
    listing = _cli(["--help"], FIXTURES)
    assert listing.returncode == 0
    assert "check" in listing.stdout and "plan" in listing.stdout
    own = _cli(["check", "--help"], FIXTURES)
    through_app = run(["check", "--help"], FIXTURES)
    assert own.returncode == through_app.exit_code == 0
    assert "--fail-on" in own.stdout and "examples:" in own.stdout
    assert through_app.output.split("\n")[0] == own.stdout.split("\n")[0]
