"""What a rolled-back transaction block created is gone: later statements act on the
production objects of those names."""

from __future__ import annotations

from bgmigrate.check.api import check_sql


def test_a_table_created_in_a_rolled_back_block_is_an_existing_table_again() -> None:
    # The CREATE was undone: the later ALTER runs on the production table of that name.
    for rollback in ("ROLLBACK;", "ROLLBACK AND CHAIN;\nCOMMIT;"):
        sql = (
            "SET lock_timeout = '2s';\nBEGIN;\nCREATE TABLE t (id int);\n"
            f"{rollback}\nALTER TABLE t ALTER COLUMN id SET NOT NULL;"
        )
        findings = [(f.rule, f.location.line) for f in check_sql(sql).findings]
        assert findings == [("set-not-null", sql.count("\n") + 1)]


def test_a_table_created_in_a_committed_block_stays_new() -> None:
    sql = (
        "BEGIN;\nCREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\nCOMMIT;\n"
        "ALTER TABLE t ALTER COLUMN id SET NOT NULL;\nDROP INDEX t_id;"
    )
    assert check_sql(sql).findings == []


def test_an_index_created_in_a_rolled_back_block_is_not_new() -> None:
    sql = (
        "SET lock_timeout = '2s';\nBEGIN;\nCREATE INDEX t_id ON t (id);\nROLLBACK;\n"
        "DROP INDEX t_id;"
    )
    assert [f.rule for f in check_sql(sql).findings] == [
        "create-index-non-concurrently",
        "drop-index-non-concurrently",
    ]


def test_rollback_to_a_savepoint_forgets_only_what_came_after_it() -> None:
    sql = (
        "SET lock_timeout = '2s';\nBEGIN;\nCREATE TABLE kept (id int);\nSAVEPOINT s;\n"
        "CREATE TABLE undone (id int);\nROLLBACK TO SAVEPOINT s;\n"
        "ALTER TABLE kept ALTER COLUMN id SET NOT NULL;\n"
        "ALTER TABLE undone ALTER COLUMN id SET NOT NULL;\nCOMMIT;"
    )
    assert [(f.rule, f.location.line) for f in check_sql(sql).findings] == [("set-not-null", 8)]
