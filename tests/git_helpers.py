"""Running git in a scratch repository, with an identity so that commits work anywhere."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["git"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout
