"""SIGINT and SIGTERM end a run cleanly: after the current step or batch, state saved.

The first signal sets the stop event the executor checks between steps and batches; a second
one stops at once (the open transaction rolls back, which loses nothing either).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bgmigrate.execute.progress import Reporter

__all__ = ["stop_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(reporter: Reporter) -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM during the block (main thread only)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            restore()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)
        stop.set()
        reporter.message(
            f"{name} received: stopping after the current step or batch "
            f"(send {name} again to stop at once)",
            event="signal",
        )

    for signum in _SIGNALS:
        signal.signal(signum, handle)
    try:
        yield stop
    finally:
        restore()
