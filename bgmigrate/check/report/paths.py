"""How CI formats name a file: relative to the repository's root, with forward slashes."""

from __future__ import annotations

import os
from pathlib import Path

from bgmigrate.source.git import repository_root

__all__ = ["report_root", "repository_path"]


def report_root(path: str | None = None) -> Path:
    """What CI tools resolve file names against: the top level of the git work tree holding
    `path` (else the working directory), else the working directory."""
    cwd = Path.cwd()
    directory = Path(os.path.realpath(cwd / path)).parent if path else cwd
    return repository_root(directory) or repository_root(cwd) or cwd.resolve()


def repository_path(path: str) -> str:
    """`path` (as the report names it: relative to the working directory, or absolute) as a
    POSIX path relative to the root of its repository when it lies in one.

    GitHub annotations, SARIF and GitLab Code Quality resolve file names against the
    checkout's root, whatever directory the job ran bgmigrate in; a path relative to a
    subdirectory, or absolute (`bgmigrate check $PWD/migrations`), would match no file
    there. A path outside any repository and the working directory stays absolute.
    """
    absolute = Path(os.path.realpath(Path.cwd() / path))
    try:
        return absolute.relative_to(report_root(path)).as_posix()
    except ValueError:
        return absolute.as_posix()
