"""One code path for the sync and async APIs: logic is written as generators that yield I/O effects.

An effect is a store call (`db("blocks", sid)` runs `store.blocks(sid)`, or `await store.ablocks(sid)` when
driven asynchronously), model work (`cpu(fn, ...)`: called directly, or in a thread via asyncio.to_thread)
or a pause. `run` and `arun` drive a generator, sending back each effect's result or throwing its exception
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
class Effect:
    kind: str  # "db", "cpu" or "sleep"
    target: Any  # store method name, callable, or seconds
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


Effects = Generator[Effect, Any, T]


def db(method: str, *args: Any, **kwargs: Any) -> Effect:
    return Effect("db", method, args, kwargs)


def cpu(fn: Callable, *args: Any, **kwargs: Any) -> Effect:
    return Effect("cpu", fn, args, kwargs)


def pause(seconds: float) -> Effect:
    return Effect("sleep", seconds)


def run(effects: Effects[T], store) -> T:
    value, error = None, None
    while True:
        try:
            effect = effects.throw(error) if error is not None else effects.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            if effect.kind == "db":
                value = getattr(store, effect.target)(*effect.args, **effect.kwargs)
            elif effect.kind == "cpu":
                value = effect.target(*effect.args, **effect.kwargs)
            else:
                time.sleep(effect.target)
        except BaseException as exc:  # cancellation too: the logic's finally blocks still run
            error = exc


async def arun(effects: Effects[T], store) -> T:
    value, error = None, None
    while True:
        try:
            effect = effects.throw(error) if error is not None else effects.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            if effect.kind == "db":
                value = await getattr(store, "a" + effect.target)(*effect.args, **effect.kwargs)
            elif effect.kind == "cpu":
                value = await asyncio.to_thread(effect.target, *effect.args, **effect.kwargs)
            else:
                await asyncio.sleep(effect.target)
        except BaseException as exc:
            error = exc
