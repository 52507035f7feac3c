"""A worker process, and this process's side of it: batch numbers go to it, and what it makes
of each (pickled) comes back, in the order it was sent them.

Where there is `os.fork` the worker is forked and talks over two pipes; where there is none
(Windows) `multiprocessing` spawns it. `multiprocessing` costs 11 ms of imports (sockets,
threads, subprocesses, compression) before a check's first worker can start, while no other
processor has any work: a fork needs none of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Serve", "WorkerProcess", "start_worker"]

Serve = Callable[[Callable[[], int | None], Callable[[bytes], None]], None]
"""A worker's life: given how to receive the next batch number (None: the run is over) and how
to send a result back, it serves until told to stop. Spawned, it travels pickled."""


def start_worker(serve: Serve, others: list[WorkerProcess]) -> WorkerProcess:
    """A worker running `serve`; `others`, the workers started before it."""
    if hasattr(os, "fork"):
        return _forked(serve, others)
    return _SpawnedProcess(serve)


_STOP = -1
"""The batch number that tells a forked worker the run is over."""
_HEADER = 8
"""Bytes before each message on a forked worker's pipes: a batch number, or a batch's length."""


class _ForkedProcess:
    """A worker forked with `os.fork`, and two pipes: batch numbers to it, results back (each
    after its length)."""

    def __init__(self, to_worker: int, from_worker: int, pid: int) -> None:
        self._to_worker, self.pid = to_worker, pid
        self._from_worker = open(from_worker, "rb", buffering=0)  # noqa: SIM115 (closed by stop)
        self._poll = _poller(from_worker)

    def send(self, index: int) -> None:
        _write(self._to_worker, index.to_bytes(_HEADER, "little", signed=True))

    def ready(self) -> bool:
        return self._poll()

    def receive(self) -> bytearray:
        size = int.from_bytes(_read(self._from_worker, _HEADER), "little")
        return _read(self._from_worker, size)

    def stop(self, completed: bool) -> None:
        try:
            if completed:
                self.send(_STOP)
            else:
                import signal

                os.kill(self.pid, signal.SIGTERM)
        except (BrokenPipeError, ProcessLookupError):
            pass  # it has ended already: it is only waited for
        os.waitpid(self.pid, 0)
        os.close(self._to_worker)
        self._from_worker.close()

    def close_in_child(self) -> None:
        """In a worker forked after this one: close the copies of this one's ends, so that
        this one reads the end of the run when the process running the rules is gone."""
        os.close(self._to_worker)
        self._from_worker.close()


def _forked(serve: Serve, others: list[WorkerProcess]) -> _ForkedProcess:
    to_worker_read, to_worker = os.pipe()
    from_worker, from_worker_write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(to_worker_read)
        os.close(from_worker_write)
        return _ForkedProcess(to_worker, from_worker, pid)
    # The worker: it never returns from here, nor runs this process's exit handlers or
    # flushes its buffers (the report's, stdout's), which are this process's to write.
    code = 1
    try:
        os.close(to_worker)
        os.close(from_worker)
        for other in others:
            other.close_in_child()
        incoming = open(to_worker_read, "rb", buffering=0)  # noqa: SIM115 (the worker's life)

        def receive() -> int | None:
            try:
                index = int.from_bytes(_read(incoming, _HEADER), "little", signed=True)
            except EOFError:
                return None  # the run has stopped
            return None if index == _STOP else index

        def send(message: bytes) -> None:
            _write(from_worker_write, len(message).to_bytes(_HEADER, "little") + message)

        serve(receive, send)
        code = 0
    except BrokenPipeError:
        code = 0  # the run has stopped, and does not read what was left
    finally:
        os._exit(code)


def _read(source: Any, size: int) -> bytearray:
    """Exactly `size` bytes from an unbuffered file; EOFError when it ends before."""
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        count = source.readinto(view[got:])
        if not count:
            raise EOFError("a worker process ended before sending what it was asked for")
        got += count
    return data


def _write(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _poller(descriptor: int) -> Callable[[], bool]:
    """Whether `descriptor` has data to read, without waiting: one system call."""
    import select

    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return lambda: bool(poller.poll(0))


class _SpawnedProcess:
    """A worker started by `multiprocessing` where there is no `fork` (Windows): it imports
    what it needs itself, and is sent `serve` (and what it holds: the batches), pickled. It
    inherits none of this process's ends."""

    def __init__(self, serve: Serve) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve_connection, args=(theirs, serve), daemon=True)
        self.process.start()
        theirs.close()

    def send(self, index: int) -> None:
        self.connection.send(index)

    def ready(self) -> bool:
        return bool(self.connection.poll())

    def receive(self) -> bytes:
        return self.connection.recv_bytes()  # type: ignore[no-any-return]

    def stop(self, completed: bool) -> None:
        if completed:
            self.connection.send(None)
        else:
            self.process.terminate()
        self.process.join()
        self.connection.close()

    def close_in_child(self) -> None:
        """A spawned worker inherits no ends."""


WorkerProcess = _ForkedProcess | _SpawnedProcess
"""This process's side of a worker: where batch numbers go and results come from."""


def _serve_connection(connection: Any, serve: Serve) -> None:
    """A spawned worker's life: `serve` over its `multiprocessing` connection."""

    def receive() -> int | None:
        try:
            return connection.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            return None  # closed: the run has stopped

    try:
        serve(receive, connection.send_bytes)
    except OSError:
        return  # closed while sending: the run has stopped
