"""Background compression for one conversation object: a single worker thread, and a gate that pauses it
while the conversation is generating a reply."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)


class Worker:
    """Runs `job` on one thread; a kick during a run makes it run once more, so no new work is missed."""

    def __init__(self, job: Callable[[], object], name: str) -> None:
        self.job, self.name = job, name
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future | None = None
        self._dirty = self._running = False
        self._error: BaseException | None = None

    def kick(self) -> None:
        with self._lock:
            self._dirty = True
            if self._running:
                return
            self._running = True
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="gradmem-compress")
            self._future = self._pool.submit(self._loop)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._dirty:
                    self._running = False
                    return
                self._dirty = False
            try:
                self.job()
            except Exception as exc:
                log.exception("background compression of %s failed", self.name)
                self._error = exc

    def wait(self, timeout: float | None = None) -> None:
        """Block until idle; re-raise the error of a failed run (once)."""
        while True:
            with self._lock:
                future = self._future if self._running else None
            if future is None:
                break
            future.result(timeout)
        error, self._error = self._error, None
        if error is not None:
            raise error

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


class ReadGate:
    """Background WRITE steps wait while this conversation generates a reply: on a small machine they would
    otherwise share its cores and slow the very turn that background mode exists to keep fast.

    A step waits at most `max_pause_s`, then runs anyway: back-to-back READs (an agent loop) must not starve
    compression, or the text part of READ would grow without bound. 2 s is about one WRITE step of a
    256-token segment on 2 CPU cores, so under a continuous READ load compression still runs about half the
    time, and in a human-paced chat it runs in the pauses between turns.
    """

    def __init__(self, max_pause_s: float = 2.0) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self.max_pause_s = max_pause_s

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def wait_idle(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._active == 0, self.max_pause_s)
