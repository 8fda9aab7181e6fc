"""One code path for the sync and async APIs: logic is written as generators that yield I/O steps.

A step is a store call (`db("blocks", sid)` runs `store.blocks(sid)`, or `await store.ablocks(sid)` when
driven asynchronously), model work (`cpu(fn, ...)`: called directly, or in a thread via asyncio.to_thread)
or a pause. `run` and `arun` drive a generator, sending back each step's result or throwing its exception
into the generator, so try/finally blocks in the logic behave the same on both sides.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    kind: str  # "db", "cpu" or "sleep"
    target: Any  # store method name, callable, or seconds
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


Steps = Generator[Step, Any, T]


def db(method: str, *args: Any, **kwargs: Any) -> Step:
    return Step("db", method, args, kwargs)


def cpu(fn: Callable, *args: Any, **kwargs: Any) -> Step:
    return Step("cpu", fn, args, kwargs)


def pause(seconds: float) -> Step:
    return Step("sleep", seconds)


def run(steps: Steps[T], store) -> T:
    value, error = None, None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            if step.kind == "db":
                value = getattr(store, step.target)(*step.args, **step.kwargs)
            elif step.kind == "cpu":
                value = step.target(*step.args, **step.kwargs)
            else:
                time.sleep(step.target)
        except BaseException as exc:  # cancellation too: the logic's finally blocks still run
            error = exc


async def arun(steps: Steps[T], store) -> T:
    value, error = None, None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            if step.kind == "db":
                value = await getattr(store, "a" + step.target)(*step.args, **step.kwargs)
            elif step.kind == "cpu":
                value = await asyncio.to_thread(step.target, *step.args, **step.kwargs)
            else:
                await asyncio.sleep(step.target)
        except BaseException as exc:
            error = exc
