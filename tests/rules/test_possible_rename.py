"""possible-rename beyond its examples: reported once per dropped column, at the later of the
two operations, alongside drop-column."""

from __future__ import annotations

from bgmigrate.check.api import check_sql

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);"


def _unsuppressed(sql: str, before: str = USERS) -> list[tuple[str, int]]:
    return [
        (f.rule, f.location.line)
        for f in check_sql(sql, before=before).findings
        if not f.suppressed
    ]


def test_reported_once_per_dropped_column_even_with_two_candidates() -> None:
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users DROP COLUMN email;\n"
        "ALTER TABLE users ADD COLUMN email_address text;\n"
        "ALTER TABLE users ADD COLUMN contact text;"
    )
    assert _unsuppressed(sql) == [("possible-rename", 4)]


def test_each_dropped_column_gets_its_own_finding() -> None:
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN email_address text;\n"
        "ALTER TABLE users ADD COLUMN full_name text;\n"
        "ALTER TABLE users DROP COLUMN email;\n"
        "ALTER TABLE users DROP COLUMN name;"
    )
    assert _unsuppressed(sql) == [("possible-rename", 5), ("possible-rename", 6)]


def test_message_and_plan_name_both_columns() -> None:
    sql = "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN mail text, DROP COLUMN email;"
    findings = {f.rule: f for f in check_sql(sql, before=USERS).findings}
    assert set(findings) == {"drop-column", "possible-rename"}
    rename = findings["possible-rename"]
    assert "drops users.email and adds users.mail" in rename.message
    assert rename.safe_alternative.splitlines()[0] == "bgmigrate plan rename users.email mail"


def test_a_reasoned_ignore_silences_it() -> None:
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users DROP COLUMN email;\n"
        "-- bgmigrate: ignore possible-rename -- email is obsolete, contact is new data\n"
        "ALTER TABLE users ADD COLUMN contact text;"
    )
    assert _unsuppressed(sql) == []


def test_an_add_pairs_with_a_dropped_column_not_yet_reported() -> None:
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users DROP COLUMN email;\n"
        "ALTER TABLE users DROP COLUMN name;\n"
        "ALTER TABLE users ADD COLUMN contact text;\n"
        "ALTER TABLE users ADD COLUMN display_name text;"
    )
    findings = [f for f in check_sql(sql, before=USERS).findings if f.rule == "possible-rename"]
    assert [(f.location.line, f.safe_alternative.splitlines()[0]) for f in findings] == [
        (5, "bgmigrate plan rename users.email contact"),
        (6, "bgmigrate plan rename users.name display_name"),
    ]


def test_a_column_dropped_and_added_back_under_its_name_is_no_rename() -> None:
    # A type change written as drop and add: the new `name` is not a rename of `name`, and
    # `nickname`, added alongside, is not one either.
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users DROP COLUMN name;\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
        "ALTER TABLE users ADD COLUMN name text;"
    )
    assert _unsuppressed(sql) == []


def test_with_several_candidates_only_the_closest_name_is_paired() -> None:
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN contact text;\n"
        "ALTER TABLE users ADD COLUMN email_address text;\n"
        "ALTER TABLE users DROP COLUMN email;"
    )
    [finding] = [f for f in check_sql(sql, before=USERS).findings if not f.suppressed]
    assert (finding.rule, finding.location.line) == ("possible-rename", 5)
    assert finding.message.startswith("This unit drops users.email and adds users.email_address")


def test_equally_close_candidates_give_no_verdict() -> None:
    sql = (
        "-- bgmigrate: phase=contract\n"
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN pqr text;\n"
        "ALTER TABLE users ADD COLUMN xyz text;\n"
        "ALTER TABLE users DROP COLUMN name;"
    )
    assert _unsuppressed(sql) == []
