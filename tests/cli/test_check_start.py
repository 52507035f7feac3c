"""What a one-file `bgmigrate check` pays for at start: its own help formatter, no shutil."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fresh_interpreter import imported_packages

from bgmigrate.cli import check


@pytest.mark.parametrize("columns", ["40", "100", "213", "", "wide"])
def test_the_help_is_laid_out_as_argparse_lays_it_out(
    columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    ours = check._parser()
    argparses = check._parser()
    argparses.formatter_class = argparse.RawDescriptionHelpFormatter
    assert ours.format_help() == argparses.format_help()
    assert ours.format_usage() == argparses.format_usage()


def test_a_one_file_check_imports_neither_shutil_nor_the_compression_modules(
    tmp_path: Path,
) -> None:
    (tmp_path / "r.sql").write_text("SET lock_timeout = '2s';\nDROP TABLE users;\n")
    code = (
        "sys.argv = ['bgmigrate', 'check', '--no-cache', 'r.sql']\n"
        "from bgmigrate.cli import main\nmain()"
    )
    printed, packages = imported_packages(code, cwd=tmp_path)
    assert "drop-table" in printed
    assert not packages & {"shutil", "bz2", "lzma", "tempfile"}
