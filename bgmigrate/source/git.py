"""Which migration files a pull request touches: `--since REF`."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import NamedTuple

from bgmigrate.source.errors import SourceError

__all__ = ["Changes", "changed_since", "repository_root"]


@functools.lru_cache(maxsize=256)
def repository_root(cwd: Path) -> Path | None:
    """The top level of the git work tree holding `cwd` (resolved), or None outside one or
    without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else None


class Changes(NamedTuple):
    """Files a change touches, as resolved absolute paths."""

    changed: set[Path]
    """Added or changed: the files whose findings are reported."""
    added: set[Path]
    """Added (or untracked): migrations that deploy together, as one change."""


def changed_since(ref: str, cwd: Path) -> Changes:
    """Files added or changed since `ref`: committed, staged, unstaged, and untracked ones.
    A ref git does not know is an error naming it."""
    not_a_repo = f"--since needs a git repository; {cwd} is not in one"
    top = _git(["rev-parse", "--show-toplevel"], cwd, what=not_a_repo).strip()
    unknown = f"--since: git does not know the ref {ref!r} (fetch it first in CI: a shallow "
    unknown += "clone lacks the base branch)"
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd, what=unknown)
    status = _git(["diff", "--name-status", "--diff-filter=ACMR", ref, "--"], cwd)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "--full-name"], cwd)
    root = Path(top)
    changed: set[Path] = set()
    added: set[Path] = set()
    for line in status.splitlines():
        letter, *names = line.split("\t")
        path = (root / names[-1]).resolve()  # a rename or copy lists the new name last
        changed.add(path)
        if letter.startswith("A"):
            added.add(path)
    new = {(root / name).resolve() for name in untracked.splitlines() if name}
    return Changes(changed | new, added | new)


def _git(args: list[str], cwd: Path, *, what: str | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise SourceError("--since needs git, and git is not installed") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise SourceError(what or f"git {args[0]}: {last}")
    return done.stdout
