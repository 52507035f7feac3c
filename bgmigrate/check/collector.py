"""The cyclic garbage collector during a check: run less often, as nothing a check builds is
garbage in cycles.

A check allocates millions of container objects that are either kept to the end (units,
operations, findings) or freed by reference counting as soon as they are done with (the
parse trees' dicts and lists): none is ever garbage in a cycle. Python starts a collection
of the youngest objects every 700 allocations, and one of everything every few of those; on
the 2,000-file corpus those passes were 5% of the CPU time of a check
(benchmarks/RESULTS.md, "Throughput"). The collector still runs, every 50,000 allocations:
memory stays bounded whatever the number of files.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_collections"]

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
