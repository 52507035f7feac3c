"""Flyway: version order across folders, repeatables last, undo and baseline skipped."""

from __future__ import annotations

from .checking import check_directory, check_layout

M = "src/main/resources/db/migration"


def test_versions_compare_part_by_part_and_repeatables_come_last() -> None:
    checked = check_layout("flyway")
    assert checked.result.layouts == [(M, "flyway")]
    assert checked.units == [
        f"{M}/V1__create_customers.sql",
        f"{M}/V1_9__add_phone.sql",
        f"{M}/release_1_1/V1.10__index_email.sql",
        f"{M}/release_1_1/V1.11__index_phone.sql",
        f"{M}/release_1_1/V1.12__drop_phone.sql",
        f"{M}/R__customer_view.sql",
    ]
    assert checked.skipped == [
        (f"{M}/B1_9__baseline.sql", "baseline", None),
        (f"{M}/U1_9__add_phone.sql", "undo", None),
    ]


def test_concurrently_fails_only_mixed_with_transactional_statements() -> None:
    # V1.10 holds only the index (Flyway runs it outside a transaction), V1.11's .conf says
    # executeInTransaction=false; V1.12 mixes it with a DROP COLUMN. Placeholders parse.
    assert check_layout("flyway").findings == [
        ("drop-column", f"{M}/release_1_1/V1.12__drop_phone.sql", 2),
        ("concurrently-in-transaction", f"{M}/release_1_1/V1.12__drop_phone.sql", 3),
    ]


def test_an_inline_script_config_turns_the_transaction_off(tmp_path) -> None:
    (tmp_path / "V1__init.sql").write_text("CREATE TABLE t (id int);\n")
    (tmp_path / "V2__index.sql").write_text(
        "-- flyway:executeInTransaction=false\nSELECT 1;\n"
        "CREATE INDEX CONCURRENTLY t_i ON t (id);\n"
    )
    (tmp_path / "V3__index.sql").write_text("SELECT 1;\nCREATE INDEX CONCURRENTLY t_j ON t (id);\n")
    assert check_directory(tmp_path).findings == [
        ("concurrently-in-transaction", "V3__index.sql", 2)
    ]
