"""drop-column beyond its examples: a column dropped and added back under its name."""

from __future__ import annotations

from bgmigrate.check.api import check_sql


def test_a_drop_and_re_add_under_one_name_says_the_values_are_lost() -> None:
    findings = check_sql(
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users DROP COLUMN email;\n"
        "ALTER TABLE users ADD COLUMN email varchar(320);",
        before="CREATE TABLE users (id bigint PRIMARY KEY, email text);",
    ).findings
    assert [(f.rule, f.location.line, f.message) for f in findings] == [
        (
            "drop-column",
            2,
            "Dropping users.email and adding it back as varchar(320) (line 3) in this expand "
            "unit erases every value of email: the version still running (blue) finds its "
            "column empty, and its writes fail if they do not fit the new definition.",
        )
    ]
