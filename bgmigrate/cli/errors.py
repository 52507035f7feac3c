"""How every command reports a failure to do its job: one line on stderr, exit code 2."""

from __future__ import annotations

import sys
from typing import NoReturn

__all__ = ["UsageError", "fail"]


class UsageError(Exception):
    """Bad input the user can fix: a path, an option, a config value."""


def fail(message: str, *, code: int = 2) -> NoReturn:
    sys.stderr.write(f"bgmigrate: error: {message}\n")
    sys.stdout.flush()
    raise SystemExit(code)
