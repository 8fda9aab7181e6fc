"""One WRITE queue per engine: texts that several conversations want written at about the same time go
through the model in one batched WRITE, so a server's compression throughput grows with its load.

A request waits at most `max_wait_s` for others to join it; requests with the same WRITE settings share a
pass of up to the engine's write batch size. Each caller gets its own blocks back and commits them itself,
so every session's blocks still commit atomically with its compressed-up-to mark.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass, field

from .engine import GradMem
from .storage import MemoryBlock
from .write import write_batch_size

ProgressFn = Callable[[int, int], None]
MAX_WAIT_S = 0.02  # how long a WRITE waits for others to share its pass: a few ms next to one WRITE's time


@dataclass
class _Request:
    texts: list[str]
    settings: tuple  # (memory_tokens, steps, lr): requests share a pass only when these agree
    progress: ProgressFn | None
    future: Future = field(default_factory=Future)
    error: BaseException | None = None  # raised by its progress callback (a lost lease): its blocks are dropped


class WriteQueue:
    """Batches the WRITEs of every conversation that uses one engine (see the module docstring)."""

    def __init__(self, engine: GradMem, lock: threading.Lock | None = None, max_wait_s: float = MAX_WAIT_S) -> None:
        self.engine, self.lock, self.max_wait_s = engine, lock, max_wait_s
        self.batch = write_batch_size(engine.write_config, engine.device)
        self._pending: list[_Request] = []
        self._cond = threading.Condition()
        self._busy = False
        self.passes = 0  # WRITE passes run, for the curious (benchmarks, tests)

    def write(self, texts: Sequence[str], *, memory_tokens: int, steps: int | None, lr: float | None,
              progress: ProgressFn | None = None) -> list[MemoryBlock]:
        """engine.write(texts, ...) in a pass shared with other callers; blocks in the order of `texts`."""
        request = _Request(list(texts), (memory_tokens, steps, lr), progress)
        with self._cond:
            self._pending.append(request)
            self._cond.notify_all()
        self._serve(request)
        return request.future.result()

    def _serve(self, mine: _Request) -> None:
        """The first caller to find the model free runs passes until its own request is done; the others wait
        for their futures (or take over when the runner finished without them)."""
        deadline = time.monotonic() + self.max_wait_s
        while not mine.future.done():
            with self._cond:
                if self._busy:
                    self._cond.wait(0.05)
                    continue
                queued = sum(len(r.texts) for r in self._pending if r.settings == mine.settings)
                if queued < self.batch and time.monotonic() < deadline:
                    self._cond.wait(max(0.0, deadline - time.monotonic()))
                    continue
                group = self._take(mine.settings if mine in self._pending else self._pending[0].settings)
                self._busy = True
            try:
                self._run(group)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _take(self, settings: tuple) -> list[_Request]:
        """Requests of these settings, oldest first, up to one pass (a request larger than a pass alone)."""
        group, texts = [], 0
        for request in list(self._pending):
            if request.settings != settings or (group and texts + len(request.texts) > self.batch):
                continue
            group.append(request)
            texts += len(request.texts)
            self._pending.remove(request)
        return group

    def _run(self, group: list[_Request]) -> None:
        memory_tokens, steps, lr = group[0].settings
        texts = [t for r in group for t in r.texts]
        try:
            with self.lock or nullcontext():
                blocks = self.engine.write(texts, memory_tokens=memory_tokens, steps=steps, lr=lr,
                                           progress=_fan_out(group))
            self.passes += 1
        except BaseException as exc:  # each caller gets the error in its own thread
            for request in group:
                request.future.set_exception(exc)
            return
        start = 0
        for request in group:
            mine, start = blocks[start : start + len(request.texts)], start + len(request.texts)
            if request.error is not None:
                request.future.set_exception(request.error)
            else:
                request.future.set_result(mine)


def _fan_out(group: Sequence[_Request]) -> ProgressFn | None:
    """One progress callback for a shared pass: every caller's, until it raises; then that caller gets its
    error instead of its blocks, and the others' WRITE goes on."""
    if all(r.progress is None for r in group):
        return None

    def progress(done: int, total: int) -> None:
        for request in group:
            if request.progress is not None and request.error is None:
                try:
                    request.progress(done, total)
                except Exception as exc:
                    request.error = exc

    return progress


_queues: weakref.WeakKeyDictionary[GradMem, WriteQueue] = weakref.WeakKeyDictionary()
_queues_lock = threading.Lock()


def write_queue(engine: GradMem, lock: threading.Lock | None = None) -> WriteQueue:
    """The engine's one WRITE queue (made on first use)."""
    with _queues_lock:
        queue = _queues.get(engine)
        if queue is None:
            queue = _queues[engine] = WriteQueue(engine, lock)
        return queue
