"""Prove the static Alembic reader on a real history: every revision it reads must give the
same statements, at the same locations, as Alembic's own offline rendering.

    python benchmarks/alembic_static_agreement.py path/to/migrations   # e.g. warehouse's

Prints how many revisions the reader covers and lists every one whose statements differ
(with the first differing pair); exits 1 when any differs, 2 when no project is found.
Renders each covered revision twice (statically, then with Alembic), so Alembic and
SQLAlchemy must be installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bgmigrate.source.alembic import find_project
from bgmigrate.source.alembic.capture import RevisionFailed
from bgmigrate.source.alembic.offline import render_offline
from bgmigrate.source.alembic.static import render_static


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("migrations", type=Path, help="an Alembic project's directory")
    project = find_project(parser.parse_args().migrations)
    if project is None:
        print("no Alembic project there", file=sys.stderr)
        return 2
    revisions = static = identical = 0
    for revision in project.revisions():
        revisions += 1
        recorder = render_static(revision, project)
        if recorder is None:
            continue
        static += 1
        name = str(revision.path)
        try:
            alembic = render_offline(revision, project).statements(name)
        except RevisionFailed as failure:
            print(f"{revision.path.name}: read statically, but Alembic fails: {failure}")
            continue
        ours = recorder.statements(name)
        if ours == alembic:
            identical += 1
            continue
        print(f"{revision.path.name}: differs")
        for mine, theirs in zip(ours, alembic, strict=False):
            if mine != theirs:
                print(f"  static:  {mine}\n  alembic: {theirs}")
                break
        else:
            print(f"  {len(ours)} statements statically, {len(alembic)} by Alembic")
    print(f"{revisions} revisions, {static} read statically, {identical} identical to Alembic's")
    return 0 if identical == static else 1


if __name__ == "__main__":
    sys.exit(main())
