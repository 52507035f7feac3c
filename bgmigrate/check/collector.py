"""The cyclic garbage collector during a check: run less often, as nothing a check builds is
garbage in cycles.

A check allocates millions of container objects that are either kept to the end (units,
operations, findings) or freed by reference counting as soon as they are done with (the
parse trees' dicts and lists): none is ever garbage in a cycle. Python starts a collection
of the youngest objects every 700 allocations, and one of everything every few of those; on
the 2,000-file corpus those passes were 5% of the CPU time of a check
(benchmarks/RESULTS.md, "Throughput"). The collector still runs, every 50,000 allocations:
memory stays bounded whatever the number of files.

A check of many files also keeps glibc from moving its largest blocks into the heap
(`steady_heap`).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections", "steady_heap"]

YOUNGEST_EVERY = 50_000
"""Allocations (less deallocations) between collections of the youngest objects."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect every `YOUNGEST_EVERY` allocations inside the block (worker processes forked
    inside it too), as before after it."""
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNGEST_EVERY, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


_M_MMAP_THRESHOLD = -3
"""glibc's `mallopt` parameter: blocks from this size up are mapped on their own."""
_MAPPED_FROM = 64 * 1024
"""Below the workers' messages (a batch of files parsed, pickled: ~90 KB)."""
_steady = False


def steady_heap() -> None:
    """Blocks from 64 KiB up mapped on their own, and given back when freed, for the rest of
    the process (glibc on Linux; elsewhere nothing).

    glibc raises that threshold (128 KiB at first) to the largest mapped block freed so far:
    the interpreter's start-up frees one of 200 KiB. A long check's large blocks then come
    from the heap, and what it frees there (the workers' messages, a table's old dict after
    a resize) is a hole the heap keeps, between blocks the run still holds. Measured on the
    4,000-file corpus: 0.7 MB of the peak (benchmarks/RESULTS.md, "Memory, third round").
    The process-wide setting is why only a check of many files asks for it
    (`bgmigrate.check.runner`)."""
    global _steady
    if _steady or not sys.platform.startswith("linux"):
        return
    _steady = True
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, _MAPPED_FROM)
    except (OSError, AttributeError):  # no glibc: its allocator is not this one
        return
