"""sqitch: the plan's order, reworked changes as <change>@<tag>.sql, revert/verify skipped."""

from __future__ import annotations

from .checking import check_directory, check_layout


def test_plan_order_with_the_reworked_change_under_its_tag() -> None:
    checked = check_layout("sqitch")
    assert checked.result.layouts == [(".", "sqitch")]
    assert checked.units == [
        "deploy/appschema.sql",
        "deploy/users@v1.0.0-dev1.sql",
        "deploy/flips.sql",
        "deploy/users.sql",
    ]
    assert checked.skipped == [
        ("revert/appschema.sql", "revert", None),
        ("revert/flips.sql", "revert", None),
        ("revert/users.sql", "revert", None),
        ("revert/users@v1.0.0-dev1.sql", "revert", None),
        ("verify/appschema.sql", "verify", None),
        ("verify/flips.sql", "verify", None),
        ("verify/users.sql", "verify", None),
    ]


def test_scripts_run_as_written_so_concurrently_outside_begin_passes() -> None:
    # The reworked users.sql indexes CONCURRENTLY before its own BEGIN: psql runs it alone.
    assert check_layout("sqitch").findings == [
        ("require-lock-timeout", "deploy/flips.sql", 7),
        ("rename-column", "deploy/users.sql", 8),
    ]


def test_a_project_for_another_engine_is_skipped(tmp_path) -> None:
    (tmp_path / "sqitch.conf").write_text("[core]\n\tengine = mysql\n")
    (tmp_path / "sqitch.plan").write_text("%project=x\n\nusers 2024-01-01T00:00:00Z A <a@b> # u\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "users.sql").write_text("CREATE TABLE users (id int);\n")
    checked = check_directory(tmp_path)
    assert checked.units == []
    assert [(s.path, s.reason.value, s.detail) for s in checked.result.skipped] == [
        ("deploy/users.sql", "other-engine", "MySQL")
    ]
