"""Finding migration files under the paths given, in migration order."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgmigrate.source.discover import discover, is_alembic_revision
from bgmigrate.source.errors import SourceError
from bgmigrate.source.natural_order import natural_key
from bgmigrate.source.reading import NOT_UTF8, UNREADABLE_FILE, read_source_text
from bgmigrate.source.unit import Location

REVISION = '''"""add users"""
from alembic import op

revision: str = "a1"
down_revision = None


def upgrade() -> None:
    op.add_column("users", None)
'''


def write(root: Path, relative: str, text: str = "SELECT 1;\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def names(paths: tuple[Path, ...], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def test_sql_files_come_in_natural_order(tmp_path: Path) -> None:
    for name in ["10_c.sql", "2_b.sql", "1_a.sql", "V3__x.sql", "v20__y.sql", "V100__z.sql"]:
        write(tmp_path, name)
    found = discover([tmp_path])
    assert names(found.sql_files, tmp_path) == [
        "1_a.sql", "2_b.sql", "10_c.sql", "V3__x.sql", "v20__y.sql", "V100__z.sql",
    ]  # fmt: skip


def test_directories_compare_component_by_component(tmp_path: Path) -> None:
    for name in ["release10/1.sql", "release2/5.sql", "release2/10.sql", "1_top.sql"]:
        write(tmp_path, name)
    found = discover([tmp_path])
    assert names(found.sql_files, tmp_path) == [
        "1_top.sql", "release2/5.sql", "release2/10.sql", "release10/1.sql",
    ]  # fmt: skip


def test_natural_key_breaks_ties_on_the_exact_name() -> None:
    assert sorted(["1_x.sql", "01_x.sql"], key=lambda n: natural_key([n])) == [
        "01_x.sql",
        "1_x.sql",
    ]


def test_alembic_revisions_are_found_apart_from_sql(tmp_path: Path) -> None:
    write(tmp_path, "alembic/versions/a1_add_users.py", REVISION)
    write(tmp_path, "alembic/env.py", "from alembic import context\ndef run(): pass\n")
    write(tmp_path, "alembic/versions/helpers.py", "revision = 'not one'\n")
    write(tmp_path, "sql/1.sql")
    found = discover([tmp_path])
    assert names(found.alembic_revisions, tmp_path) == ["alembic/versions/a1_add_users.py"]
    assert names(found.sql_files, tmp_path) == ["sql/1.sql"]


def test_hidden_cache_and_virtualenv_directories_are_skipped(tmp_path: Path) -> None:
    for name in [
        ".git/hooks/1.sql",
        ".venv/lib/2.sql",
        "venv/3.sql",
        "env/pyvenv.cfg",
        "env/lib/4.sql",
        "node_modules/pkg/5.sql",
        "__pycache__/6.sql",
        "lib/site-packages/alembic/7.sql",
        ".hidden.sql",
        "keep/8.sql",
    ]:
        write(tmp_path, name)
    assert names(discover([tmp_path]).sql_files, tmp_path) == ["keep/8.sql"]


def test_a_hidden_directory_named_explicitly_is_searched(tmp_path: Path) -> None:
    write(tmp_path, ".migrations/1.sql")
    found = discover([tmp_path / ".migrations"])
    assert names(found.sql_files, tmp_path) == [".migrations/1.sql"]


def test_paths_keep_their_given_order_and_appear_once(tmp_path: Path) -> None:
    write(tmp_path, "b/1.sql")
    write(tmp_path, "a/2.sql")
    found = discover([tmp_path / "b", tmp_path / "a" / "2.sql", tmp_path / "a", tmp_path / "b"])
    assert names(found.sql_files, tmp_path) == ["b/1.sql", "a/2.sql"]


def test_explicit_files_are_returned_as_given(tmp_path: Path) -> None:
    sql = write(tmp_path, "one.sql")
    revision = write(tmp_path, "a1.py", REVISION)
    found = discover([str(sql), str(revision)])
    assert found.sql_files == (sql,)
    assert found.alembic_revisions == (revision,)


def test_missing_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sql"
    with pytest.raises(SourceError, match=r"nope\.sql does not exist"):
        discover([missing])


def test_explicit_file_that_is_no_migration_is_an_error(tmp_path: Path) -> None:
    env = write(tmp_path, "env.py", "import alembic\n")
    with pytest.raises(SourceError, match=r"env\.py is not a migration"):
        discover([env])
    with pytest.raises(SourceError, match=r"notes\.txt is not a migration"):
        discover([write(tmp_path, "notes.txt")])


def test_undecodable_bytes_are_replaced_with_a_warning_at_the_first(tmp_path: Path) -> None:
    path = tmp_path / "latin1.sql"
    path.write_bytes(b"SELECT 1;\nSELECT 'caf\xe9';\n")
    source = read_source_text(path)
    assert source.text == "SELECT 1;\nSELECT 'caf\ufffd';\n"
    assert source.problem is not None
    assert source.problem.rule == NOT_UTF8
    assert source.problem.location == Location(2, 12, 2, 12)
    assert source.problem.message.startswith("Byte 0xe9 is not UTF-8")


def test_unreadable_path_is_a_problem_naming_the_path(tmp_path: Path) -> None:
    directory = write(tmp_path, "dir.sql/inner.sql").parent
    source = read_source_text(directory)
    assert source.text == ""
    assert source.problem is not None
    assert source.problem.rule == UNREADABLE_FILE
    assert (
        source.problem.message == "Cannot read dir.sql: Is a directory. Nothing in it was checked."
    )


def test_broken_symlink_is_named_as_such(tmp_path: Path) -> None:
    link = tmp_path / "gone.sql"
    link.symlink_to(tmp_path / "missing.sql")
    problem = read_source_text(link).problem
    assert problem is not None
    assert (
        problem.message
        == "Cannot read gone.sql: a broken symbolic link. Nothing in it was checked."
    )


def test_byte_order_mark_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "bom.sql"
    path.write_bytes("\ufeffSELECT 'é';".encode())
    assert read_source_text(path).text == "SELECT 'é';"


def test_undecodable_python_files_do_not_stop_discovery(tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_bytes(b"# caf\xe9\nx = 1\n")
    write(tmp_path, "1.sql")
    assert names(discover([tmp_path]).sql_files, tmp_path) == ["1.sql"]


@pytest.mark.parametrize(
    "source",
    [
        REVISION,
        "revision = 'a1'\ndown_revision = None\ndef upgrade():\n    pass\n",
        "revision='a1'\ndef upgrade ( ) :\n    pass\n",
    ],
)
def test_alembic_revision_detection(source: str) -> None:
    assert is_alembic_revision(source)


@pytest.mark.parametrize(
    "source",
    [
        "def upgrade():\n    pass\n",
        "revision = 'a1'\n",
        "class X:\n    revision = 'a1'\n    def upgrade(self): pass\n",
        "down_revision = 'a0'\ndef upgrade(): pass\n",
    ],
)
def test_not_alembic_revisions(source: str) -> None:
    assert not is_alembic_revision(source)


def test_sql_extension_is_case_insensitive(tmp_path: Path) -> None:
    write(tmp_path, "2_b.SQL")
    write(tmp_path, "1_a.sql")
    assert names(discover([tmp_path]).sql_files, tmp_path) == ["1_a.sql", "2_b.SQL"]
    assert discover([tmp_path / "2_b.SQL"]).sql_files == (tmp_path / "2_b.SQL",)


def test_casefolding_a_name_leaves_its_digit_runs_where_they_were() -> None:
    """Natural order folds a whole name before splitting it at its digit runs: no character
    folds to a digit, and no digit folds to anything else."""
    import re
    import sys

    digit = re.compile(r"\d")
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        folded = character.casefold()
        if digit.fullmatch(character):
            assert folded == character
        else:
            assert digit.search(folded) is None, hex(code_point)


def test_a_folder_reached_through_a_symlink_is_not_entered(tmp_path: Path) -> None:
    """As `os.walk`: a link to a folder (elsewhere, or a loop back up) is not walked."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "9_elsewhere.sql").write_text("SELECT 1;\n")
    migrations = tmp_path / "migrations"
    (migrations / "sub").mkdir(parents=True)
    (migrations / "1_a.sql").write_text("SELECT 1;\n")
    (migrations / "sub" / "2_b.sql").write_text("SELECT 1;\n")
    (migrations / "linked").symlink_to(outside)
    (migrations / "sub" / "loop").symlink_to(migrations)
    found = discover([migrations])
    assert [m.path for m in found.migrations] == [
        migrations / "1_a.sql",
        migrations / "sub" / "2_b.sql",
    ]
