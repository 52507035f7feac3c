"""What a one-file `bgmigrate check` pays for at start: its own help formatter; no shutil,
pickle or typing."""

from __future__ import annotations

import argparse
import ast
from importlib import import_module
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


@pytest.mark.parametrize("runs", [["--no-cache"], ["--cache-miss", "--cache-hit"]])
def test_a_one_file_check_imports_nothing_only_bigger_runs_need(
    runs: list[str], tmp_path: Path
) -> None:
    (tmp_path / "r.sql").write_text("SET lock_timeout = '2s';\nDROP TABLE users;\n")
    for run in runs:  # with the cache (the default): a miss that stores, then a hit
        options = [run] if run == "--no-cache" else []
        code = (
            f"sys.argv = ['bgmigrate', 'check', *{options!r}, 'r.sql']\n"
            "from bgmigrate.cli import main\nmain()"
        )
        printed, packages = imported_packages(code, cwd=tmp_path)
        assert "drop-table" in printed
        assert not packages & {
            "shutil",
            "bz2",
            "lzma",
            "tempfile",
            "dataclasses",
            "inspect",
            "pickle",
        }


def test_a_file_named_from_its_own_directory_has_its_layout_detected_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover = import_module("bgmigrate.source.discover")  # the package exports its function

    (tmp_path / "1.sql").write_text("SELECT 1;\n")
    monkeypatch.chdir(tmp_path)
    detected: list[Path] = []
    real = discover.detect_layout
    monkeypatch.setattr(discover, "detect_layout", lambda d: detected.append(d) or real(d))
    found = discover.discover(["1.sql"])
    assert [m.path for m in found.migrations] == [Path("1.sql")]
    assert detected == [Path(".")]


@pytest.mark.parametrize("module", ["bgmigrate.check.context", "bgmigrate.check.locks"])
def test_each_operation_handler_is_registered_for_the_classes_it_is_annotated_with(
    module: str,
) -> None:
    source = Path(import_module(module).__file__ or "").read_text()
    handlers = 0
    for node in ast.walk(ast.parse(source)):
        registered = {
            argument.id
            for decorator in getattr(node, "decorator_list", ())
            if isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "register"
            for argument in decorator.args
            if isinstance(argument, ast.Name)
        }
        if registered and isinstance(node, ast.FunctionDef):
            handlers += 1
            annotation = ast.unparse(node.args.args[0].annotation or ast.Constant(""))
            assert set(annotation.split(" | ")) <= registered, node.lineno
    assert handlers > 10
