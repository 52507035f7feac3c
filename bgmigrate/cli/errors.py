"""How every command reports a failure to do its job: one line on stderr, exit code 2."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["UsageError", "fail", "nearest_choice", "stop_writing"]


class UsageError(Exception):
    """Bad input the user can fix: a path, an option, a config value."""


def fail(message: str, *, code: int = 2) -> NoReturn:
    sys.stderr.write(f"bgmigrate: error: {message}\n")
    sys.stdout.flush()
    raise SystemExit(code)


def stop_writing() -> None:
    """After stdout's reader has gone (`bgmigrate … | head`): what is left in its buffer, and
    anything written later, goes nowhere, instead of failing again when Python flushes it."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def nearest_choice(message: str, options: list[str]) -> str:
    """`; did you mean …?` for the mistyped choice or option an argparse or click message
    names: the nearest of the choices it lists, or of `options`; empty when none is near."""
    import difflib
    import re

    listed = re.search(r"'([^']*)' \(choose from (.*)\)|'([^']*)' is not one of (.*)\.$", message)
    if listed:
        wrong = listed[1] or listed[3]
        candidates = re.findall(r"'([^']*)'", listed[2] or listed[4])
    else:
        option = re.search(r"(?:unrecognized arguments|No such option): (--[\w-]+)", message)
        if option is None:
            return ""
        wrong, candidates = option[1], options
    near = difflib.get_close_matches(wrong, candidates, n=1)
    return f"; did you mean {near[0]!r}?" if near else ""
