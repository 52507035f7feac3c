"""What a revision analysed with stand-ins (`stubs`) tells its user: which imports failed, at
which lines, what that leaves unknown, and how to install them where the check runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bgmigrate.source.alembic.project import AlembicProject
from bgmigrate.source.unit import Location, SourceProblem

if TYPE_CHECKING:  # (imports SQLAlchemy, which a check of simple revisions never loads)
    from bgmigrate.source.alembic.stubs import ImportStubs, MissingImport

__all__ = ["MISSING_IMPORTS", "import_line", "missing_imports_problem", "what_was_missing"]

MISSING_IMPORTS = "missing-imports"
"""The rule name of the `SourceProblem` on a revision analysed without some of its imports."""

# Import names whose distribution on PyPI is named otherwise (pip matches the others by
# their module name, `_` and `-` alike).
_DISTRIBUTIONS = {
    "yaml": "PyYAML",
    "slugify": "python-slugify",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "magic": "python-magic",
    "jose": "python-jose",
    "multipart": "python-multipart",
    "psycopg2": "psycopg2-binary",
    "sklearn": "scikit-learn",
    "google": "protobuf",
    "attr": "attrs",
    "OpenSSL": "pyOpenSSL",
    "Crypto": "pycryptodome",
    "nacl": "PyNaCl",
    "ldap": "python-ldap",
    "memcache": "python-memcached",
    "zmq": "pyzmq",
}


def missing_imports_problem(stubs: ImportStubs, project: AlembicProject) -> SourceProblem:
    """The note on a revision that was analysed although some of what it imports was not."""
    parts = []
    if stubs.missing:
        parts.append(
            f"This revision was analysed without {_listed(stubs.missing)}: what that code "
            "would decide (a column type, a name, a list of values) is treated as unknown, "
            "findings that depend on it say so, and a loop over its values runs no time."
        )
    for operation in stubs.operations:
        if operation.executed:
            parts.append(
                f"Line {operation.line} executes SQL taken from `{operation.name}`, which could "
                "not be imported: that statement is not checked."
            )
            continue
        extension = ", ".join(f"`{name}`" for name in project.environment.plugins)
        parts.append(
            f"`op.{operation.name}` (line {operation.line}) is not an Alembic operation here: it "
            f"comes from an extension env.py imports ({extension or 'not named'}), which is not "
            "installed, so the statements it runs are not checked."
        )
    parts.append(_advice(stubs, project))
    return SourceProblem(MISSING_IMPORTS, " ".join(parts), _first_line(stubs))


def what_was_missing(stubs: ImportStubs, project: AlembicProject) -> str:
    """For a revision that could not be analysed: the imports that failed, and the advice."""
    if not stubs.used:
        return ""
    names = _listed(stubs.missing) if stubs.missing else "the Alembic extensions env.py imports"
    return f" It ran without what could not be imported: {names}. {_advice(stubs, project)}"


def import_line(stubs: ImportStubs, name: str) -> Location:
    """Where the revision imported `name` (a dotted name reached from an import), else its
    first failed import."""
    for missing in stubs.missing:
        if name == missing.name or name.startswith(f"{missing.name}."):
            return _line(missing.line)
    return _first_line(stubs)


def _listed(missing: list[MissingImport]) -> str:
    return ", ".join(f"`{m.name}` (line {m.line}: {m.reason})" for m in missing)


def _advice(stubs: ImportStubs, project: AlembicProject) -> str:
    """How to install what was missing where pre-commit runs bgmigrate, or why that would
    not help."""
    modules = [m.module for m in stubs.missing if m.module is not None]
    if any(not operation.executed for operation in stubs.operations):
        modules.extend(name.split(".")[0] for name in project.environment.plugins)
    own = {module for module in modules if _is_projects_own(module, project)}
    installable = list(dict.fromkeys(_DISTRIBUTIONS.get(m, m) for m in modules if m not in own))
    advice = []
    if installable:
        advice.append(
            "To analyse it fully in pre-commit, install them into the hook's environment: "
            f"`additional_dependencies: [{', '.join(installable)}]` under `- id: bgmigrate` in "
            ".pre-commit-config.yaml (in CI, `pip install` them beside bgmigrate)."
        )
    if own:
        advice.append(
            f"{', '.join(f'`{m}`' for m in sorted(own))} is the project's own code, found "
            "beside the migrations but not importable as laid out: set `prepend_sys_path` in "
            "alembic.ini to the folder that holds it."
        )
    if any(m.module is None for m in stubs.missing):
        advice.append(
            "An import that failed for another reason than a missing module (the "
            "application's settings, say) is not fixed by `additional_dependencies`: run "
            "bgmigrate where the application imports (its virtualenv, with its settings)."
        )
    return " ".join(advice)


def _is_projects_own(module: str, project: AlembicProject) -> bool:
    return any(
        (Path(folder) / module).is_dir() or (Path(folder) / f"{module}.py").is_file()
        for folder in project.sys_path
    )


def _first_line(stubs: ImportStubs) -> Location:
    lines = [m.line for m in stubs.missing] + [o.line for o in stubs.operations]
    return _line(min(lines, default=1))


def _line(line: int) -> Location:
    return Location(line, 1, line, 1)
