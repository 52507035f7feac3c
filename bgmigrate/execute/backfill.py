"""Keyset-batched backfill that survives being killed at any moment.

Each batch takes the next `n` keys after the checkpoint, in key order, and updates the rows in
that key range that still match `where`, in one statement:

    WITH batch AS (SELECT k1, k2 FROM t WHERE (k1, k2) > (last) ORDER BY k1, k2 LIMIT n),
         batch_end AS (SELECT k1, k2 FROM batch ORDER BY k1 DESC, k2 DESC LIMIT 1),
         updated AS (UPDATE t SET <set> WHERE (k1, k2) > (last)
                     AND (k1, k2) <= (SELECT k1, k2 FROM batch_end) AND (<where>) RETURNING 1)
    SELECT count(batch), count(updated), batch_end as text

The update is a range on the key, so PostgreSQL reads it from the key's index (a join against
the batch's keys was planned as a scan of the whole table per batch). The checkpoint moves to
the last key *scanned*, not the last key updated, so it advances over rows that no longer match
`where` and every batch costs at most `n` index entries. The batch and its checkpoint commit in
one transaction: a SIGKILL loses at most the open batch, which rolls back, and no row is updated
twice. Rows are not locked ahead (no `SKIP LOCKED`, which would silently pass over rows): a row
the app holds makes the batch wait at most `lock_timeout`, then it is retried.

Rows written by the app behind the checkpoint are the sync trigger's job, and the phase's
verify query checks the result. The batch size adapts so that a batch takes about
`target_batch_seconds`; `pause_ratio` sleeps that fraction of each batch's time after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Event
from typing import TYPE_CHECKING

from bgmigrate.execute.errors import Interrupted
from bgmigrate.execute.options import ApplyOptions
from bgmigrate.execute.progress import BatchProgress, Reporter
from bgmigrate.execute.retry import with_lock_retries
from bgmigrate.execute.state import Checkpoint, StateStore
from bgmigrate.execute.steps import set_local_timeouts
from bgmigrate.plan.model import Backfill

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MAX_BATCH_SIZE",
    "MIN_BATCH_SIZE",
    "BackfillRunner",
    "BatchResult",
    "batch_query",
    "next_batch_size",
]

DEFAULT_BATCH_SIZE = 1000
MIN_BATCH_SIZE = 10
MAX_BATCH_SIZE = 50_000


def batch_query(backfill: Backfill, after: Sequence[str] | None, limit: int) -> sql.Composed:
    """The statement of one batch, exactly as it runs and as a dry run prints it.

    `after` holds the checkpoint's key values in their text form, None for the first batch of
    a pass. They go in as untyped literals, which PostgreSQL reads as the key columns' types;
    literals rather than parameters also keep a `%` in `set` or `where` from being taken for a
    placeholder.
    """
    from psycopg import sql

    keys = sql.SQL(", ").join(sql.Identifier(column) for column in backfill.key)
    keys_descending = sql.SQL(", ").join(
        sql.SQL("{} DESC").format(sql.Identifier(column)) for column in backfill.key
    )
    key_texts = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(column)) for column in backfill.key
    )
    table = sql.SQL(backfill.table)
    after_last = (
        sql.SQL("({}) > ({})").format(
            keys, sql.SQL(", ").join(sql.Literal(value) for value in after)
        )
        if after is not None
        else None
    )
    scan_from = sql.SQL(" WHERE {}").format(after_last) if after_last else sql.SQL("")
    update_from = sql.SQL("{} AND ").format(after_last) if after_last else sql.SQL("")
    return sql.SQL(
        "WITH batch AS (SELECT {keys} FROM {table}{scan_from} ORDER BY {keys} LIMIT {limit}),"
        " batch_end AS (SELECT {keys} FROM batch ORDER BY {keys_descending} LIMIT 1),"
        " updated AS (UPDATE {table} SET {set} WHERE {update_from}"
        "({keys}) <= (SELECT {keys} FROM batch_end) AND ({where}) RETURNING 1)"
        " SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM updated),"
        " (SELECT jsonb_build_array({key_texts}) FROM batch_end)"
    ).format(
        keys=keys,
        table=table,
        scan_from=scan_from,
        update_from=update_from,
        limit=sql.Literal(limit),
        set=sql.SQL(backfill.set),
        where=sql.SQL(backfill.where),
        key_texts=key_texts,
        keys_descending=keys_descending,
    )


def next_batch_size(current: int, seconds: float, target_seconds: float) -> int:
    """Scale the batch towards `target_seconds`, at most doubling or halving at a time."""
    factor = 2.0 if seconds <= 0 else max(0.5, min(2.0, target_seconds / seconds))
    return max(MIN_BATCH_SIZE, min(MAX_BATCH_SIZE, round(current * factor)))


@dataclass(frozen=True)
class BatchResult:
    scanned: int
    updated: int
    last_key: tuple[str, ...] | None
    seconds: float


class BackfillRunner:
    """Runs the batches of one backfill phase from its checkpoint to the end of the table."""

    def __init__(
        self,
        conn: psycopg.Connection,
        store: StateStore,
        *,
        plan_id: str,
        phase: str,
        backfill: Backfill,
        options: ApplyOptions,
        reporter: Reporter,
        stop: Event,
    ) -> None:
        self.conn = conn
        self.store = store
        self.plan_id = plan_id
        self.phase = phase
        self.backfill = backfill
        self.options = options
        self.reporter = reporter
        self.stop = stop

    def run(self) -> Checkpoint:
        """Batch until a batch finds no rows; return the final checkpoint of the pass."""
        checkpoint = self.store.open_checkpoint(self.plan_id, self.phase)
        if checkpoint.pass_complete:
            self.reporter.message(
                f"backfill {self.backfill.table}: pass {checkpoint.pass_number} already complete"
            )
            return checkpoint
        size = self.options.batch_size or self.backfill.batch_size or DEFAULT_BATCH_SIZE
        total = self._estimate_rows()
        self.reporter.backfill_started(self.backfill.table, total, checkpoint.rows_scanned)
        last_key = checkpoint.last_key
        scanned, updated, batches = (
            checkpoint.rows_scanned,
            checkpoint.rows_updated,
            checkpoint.batches,
        )
        started, scanned_here = time.monotonic(), 0
        try:
            while True:
                if self.stop.is_set():
                    raise Interrupted(
                        f"stopped after batch {batches} of the backfill of {self.backfill.table} "
                        f"({scanned} rows scanned, checkpoint saved): run the same command "
                        "again to resume"
                    )
                result = with_lock_retries(
                    lambda key=last_key, n=size: self._batch(key, n),
                    what=f"backfill batch {batches + 1} of {self.backfill.table}",
                    options=self.options,
                    on_retry=lambda text: self.reporter.message(text, event="retry"),
                )
                if result.scanned == 0:
                    break
                batches += 1
                scanned += result.scanned
                updated += result.updated
                scanned_here += result.scanned
                last_key = result.last_key
                rate = scanned_here / max(time.monotonic() - started, 1e-6)
                remaining = max(total - scanned, 0) if total else None
                self.reporter.backfill_batch(
                    BatchProgress(
                        table=self.backfill.table,
                        batch=batches,
                        batch_size=size,
                        batch_seconds=round(result.seconds, 4),
                        rows_scanned=scanned,
                        rows_updated=updated,
                        total_estimate=total,
                        rows_per_second=round(rate, 1),
                        eta_seconds=round(remaining / rate, 1) if remaining is not None else None,
                    )
                )
                size = next_batch_size(size, result.seconds, self.options.target_batch_seconds)
                if self.options.pause_ratio:
                    # Event.wait returns early when a signal asks to stop.
                    self.stop.wait(result.seconds * self.options.pause_ratio)
        finally:
            self.reporter.backfill_finished()
        final = self.store.checkpoint(self.plan_id, self.phase)
        assert final is not None
        return final

    def _batch(self, last_key: tuple[str, ...] | None, size: int) -> BatchResult:
        query = batch_query(self.backfill, last_key, size)
        with self.conn.transaction():
            set_local_timeouts(self.conn, self.options)
            began = time.monotonic()
            row = self.conn.execute(query).fetchone()
            seconds = time.monotonic() - began
            assert row is not None
            scanned, updated, new_last = row
            if scanned:
                new_last = tuple(new_last)
                self.store.advance_checkpoint(self.plan_id, self.phase, new_last, scanned, updated)
            else:
                self.store.complete_pass(self.plan_id, self.phase)
        return BatchResult(scanned, updated, new_last, seconds)

    def _estimate_rows(self) -> int | None:
        """The planner's row count of the table, or an exact count when it has none yet."""
        import psycopg
        from psycopg import sql

        row = self.conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [self.backfill.table],
        ).fetchone()
        if row and row[0] and row[0] > 0:
            return int(row[0])
        try:
            with self.conn.transaction():
                self.conn.execute("SET LOCAL statement_timeout = '5s'")
                counted = self.conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(self.backfill.table))
                ).fetchone()
        except psycopg.errors.QueryCanceled:
            return None
        return int(counted[0]) if counted else None
