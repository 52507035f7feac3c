"""Numbering the transaction blocks statements run in, from BEGIN/COMMIT and friends."""

from __future__ import annotations

import pytest

from bgmigrate.source.transactions import transaction_blocks


def blocks(*statements: str, wrapped: bool = False) -> list[int | None]:
    return transaction_blocks(statements, assume_in_transaction=wrapped)


def test_statements_outside_any_block_run_in_autocommit() -> None:
    assert blocks("CREATE TABLE t (id int)", "SELECT 1") == [None, None]


@pytest.mark.parametrize(
    "opener",
    [
        "BEGIN",
        "begin",
        "BEGIN TRANSACTION",
        "BEGIN WORK",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "START TRANSACTION",
        "start transaction read write",
    ],
)
@pytest.mark.parametrize(
    "closer",
    ["COMMIT", "COMMIT WORK", "END", "END TRANSACTION", "ROLLBACK", "ABORT", "COMMIT AND NO CHAIN"],
)
def test_open_and_close_statements_belong_to_their_block(opener: str, closer: str) -> None:
    assert blocks("SELECT 0", opener, "SELECT 1", closer, "SELECT 2") == [None, 1, 1, 1, None]


def test_blocks_are_numbered_in_order() -> None:
    assert blocks("BEGIN", "SELECT 1", "COMMIT", "SELECT 2", "BEGIN", "SELECT 3", "COMMIT") == [
        1, 1, 1, None, 2, 2, 2,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "statement",
    [
        "ROLLBACK TO SAVEPOINT s",
        "ROLLBACK TO s",
        "ROLLBACK WORK TO SAVEPOINT s",
        "ROLLBACK TRANSACTION TO s",
        "SAVEPOINT s",
        "RELEASE SAVEPOINT s",
        "COMMIT PREPARED 'x'",
        "ROLLBACK PREPARED 'x'",
        "PREPARE q AS SELECT 1",
        "START_something",
        "ENDPOINT",
    ],
)
def test_statements_that_keep_the_block_open(statement: str) -> None:
    assert blocks("BEGIN", statement, "SELECT 1", "COMMIT") == [1, 1, 1, 1]


def test_prepare_transaction_ends_the_block() -> None:
    assert blocks("BEGIN", "PREPARE TRANSACTION 'x'", "SELECT 1") == [1, 1, None]


@pytest.mark.parametrize("chain", ["COMMIT AND CHAIN", "ROLLBACK AND CHAIN", "END AND CHAIN"])
def test_and_chain_closes_the_block_and_opens_the_next(chain: str) -> None:
    assert blocks("BEGIN", "SELECT 1", chain, "SELECT 2", "COMMIT", "SELECT 3") == [
        1, 1, 1, 2, 2, None,
    ]  # fmt: skip


def test_chain_outside_a_block_opens_nothing() -> None:
    assert blocks("COMMIT AND CHAIN", "SELECT 1") == [None, None]


def test_comments_between_keywords_are_ignored() -> None:
    assert blocks("BEGIN", "ROLLBACK /* only */ TO SAVEPOINT s", "SELECT 1") == [1, 1, 1]
    assert blocks("BEGIN", "COMMIT -- now\n AND CHAIN", "SELECT 1") == [1, 1, 2]


def test_wrapped_unit_runs_in_block_one() -> None:
    assert blocks("SELECT 1", "SELECT 2", wrapped=True) == [1, 1]


def test_begin_inside_a_wrapped_unit_stays_in_the_same_block() -> None:
    assert blocks("SELECT 1", "BEGIN", "SELECT 2", wrapped=True) == [1, 1, 1]


def test_commit_in_a_wrapped_unit_ends_it_until_the_next_begin() -> None:
    statements = ("SELECT 1", "COMMIT", "CREATE INDEX CONCURRENTLY i ON t (a)", "BEGIN", "SELECT 2")
    assert blocks(*statements, wrapped=True) == [1, 1, None, 2, 2]


def test_commit_and_chain_in_a_wrapped_unit_opens_block_two() -> None:
    assert blocks("SELECT 1", "COMMIT AND CHAIN", "SELECT 2", wrapped=True) == [1, 1, 2]
