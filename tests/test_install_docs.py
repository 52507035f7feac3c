"""The install command, the recipes and the release notes agree on one version and one tag."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bgmigrate import __version__

REPO = Path(__file__).resolve().parent.parent
INSTALL = re.compile(r'pip install "bgmigrate @ git\+https://[^"@]+@(v[^"]+)"')


def test_the_readme_and_every_recipe_install_the_current_release_tag() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    recipes = (REPO / "docs/ci.md").read_text(encoding="utf-8")
    assert INSTALL.findall(readme) == [f"v{__version__}"]
    assert INSTALL.findall(recipes) == [f"v{__version__}"] * 2  # GitHub Actions and GitLab
    assert "pip install bgmigrate\n" not in recipes  # not on PyPI yet: that installs nothing


def test_the_release_notes_say_how_a_tag_wheel_and_sdist_are_made() -> None:
    release = (REPO / "docs/release.md").read_text(encoding="utf-8")
    assert "python3 -m build" in release and "git tag -a vX.Y.Z" in release
    assert "bgmigrate/__init__.py" in release


def test_the_guides_connection_string_option_sets_lock_timeout(pg_dsn: str) -> None:
    # docs/guide.md tells goose and golang-migrate users to add this to their DSN.
    import psycopg

    guide = (REPO / "docs/guide.md").read_text(encoding="utf-8")
    [option] = set(re.findall(r"\?(options=-c%20lock_timeout%3D2s)\"", guide))
    if "://" not in pg_dsn:
        pytest.skip(
            "the guide gives the option as a URL parameter; BGMIGRATE_TEST_DSN is not a URL"
        )
    separator = "&" if "?" in pg_dsn else "?"
    with psycopg.connect(f"{pg_dsn}{separator}{option}") as connection:
        assert connection.execute("SHOW lock_timeout").fetchone() == ("2s",)
