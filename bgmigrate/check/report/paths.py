"""How CI formats name a file: relative to the repository, with forward slashes."""

from __future__ import annotations

from pathlib import Path

__all__ = ["repository_path"]


def repository_path(path: str) -> str:
    """`path` as a POSIX path relative to the working directory when it lies under it.

    GitHub annotations, SARIF and GitLab Code Quality resolve file names against the
    checkout, where the CI job runs; an absolute path (`bgmigrate check $PWD/migrations`)
    would not match any file there. A path outside the working directory stays absolute.
    """
    given = Path(path)
    if given.is_absolute():
        try:
            return given.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return given.as_posix()
    return given.as_posix()
