"""Unreadable input is a finding, not the end of the run; templates keep the file's positions."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bgmigrate.cli.app import app

from .checking import check_directory


def test_unreadable_and_undecodable_files_are_findings_and_the_rest_is_checked(
    tmp_path: Path,
) -> None:
    (tmp_path / "1_latin1.sql").write_bytes(b"-- caf\xe9\nALTER TABLE users DROP COLUMN x;\n")
    (tmp_path / "2_gone.sql").symlink_to(tmp_path / "missing.sql")
    (tmp_path / "3_ok.sql").write_text("ALTER TABLE users RENAME TO people;\n")
    checked = check_directory(tmp_path)
    assert [f for f in checked.findings if f[0] != "require-lock-timeout"] == [
        ("not-utf8", "1_latin1.sql", 1),
        ("drop-column", "1_latin1.sql", 2),
        ("unreadable-file", "2_gone.sql", 1),
        ("rename-table", "3_ok.sql", 1),
    ]
    unreadable = checked.result.findings[3]
    assert unreadable.message == (
        "Cannot read 2_gone.sql: a broken symbolic link. Nothing in it was checked."
    )


def test_exit_code_follows_the_findings(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "1_latin1.sql").write_bytes(b"-- caf\xe9\nSELECT 1;\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "--fail-on", "warning", "."])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("1_latin1.sql:1:7  warning  not-utf8\n")


def test_findings_after_a_template_keep_their_columns(tmp_path: Path) -> None:
    (tmp_path / "1.sql").write_text(
        "SELECT '{{ index .Options \"Namespace\" }}'; ALTER TABLE users DROP COLUMN x;\n"
        "ALTER TABLE ${schema}.users {{ .Clause }};\n"
    )
    [drop, template] = [
        f for f in check_directory(tmp_path).result.findings if f.rule != "require-lock-timeout"
    ]
    assert (drop.rule, drop.location.line, drop.location.column) == ("drop-column", 1, 44)
    assert drop.location.end_column == 74  # the `;` excluded
    assert (template.rule, template.location.line) == ("template-not-parsed", 2)
    assert template.statement == "ALTER TABLE ${schema}.users {{ .Clause }}"  # as written
    assert "{{ .Clause }}" not in template.message  # the first expression is named
    assert "${schema}" in template.message


def test_a_directory_below_the_path_that_cannot_be_listed_is_a_finding(
    tmp_path: Path, monkeypatch
) -> None:
    # Running as root ignores permissions, so the listing fails the way a locked one would.
    import os

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "1.sql").write_text("SELECT 1;\n")
    (tmp_path / "2.sql").write_text("ALTER TABLE users RENAME TO people;\n")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    checked = check_directory(tmp_path)
    assert [f for f in checked.findings if f[0] != "require-lock-timeout"] == [
        ("rename-table", "2.sql", 1),
        ("unreadable-file", "locked", 1),
    ]
    unreadable = next(f for f in checked.result.findings if f.rule == "unreadable-file")
    assert unreadable.message == (
        "Cannot read directory locked: Permission denied. Nothing in it was checked."
    )


def test_a_byte_that_is_not_utf8_is_named_at_its_place_after_a_byte_order_mark(
    tmp_path: Path,
) -> None:
    (tmp_path / "1_bom.sql").write_bytes(b"\xef\xbb\xbf-- caf\xe9\nSELECT 1;\n")
    checked = check_directory(tmp_path)
    [finding] = [f for f in checked.result.findings if f.rule == "not-utf8"]
    assert finding.message.startswith("Byte 0xe9 is not UTF-8")
    assert (finding.location.line, finding.location.column) == (1, 7)
