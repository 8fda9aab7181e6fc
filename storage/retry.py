"""Bounded retries of whole transactions that failed for transient reasons."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from .errors import StorageError

T = TypeVar("T")

MAX_ATTEMPTS = 8
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_PG_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def is_transient(exc: DBAPIError, *, integrity: bool) -> bool:
    """Worth retrying: SQLite busy/locked, PostgreSQL serialization failure or deadlock,
    and, where `integrity`, a unique-key race (e.g. two writers creating one session)."""
    if isinstance(exc, IntegrityError):
        return integrity
    if getattr(exc.orig, "sqlstate", None) in _PG_RETRYABLE_SQLSTATES:
        return True
    message = str(exc.orig).lower()
    return any(text in message for text in _SQLITE_BUSY)


def _backoff(attempt: int) -> float:
    return min(1.0, 0.01 * 2**attempt) * random.uniform(0.5, 1.5)


def _give_up(what: str, exc: DBAPIError) -> StorageError:
    return StorageError(f"{what} failed {MAX_ATTEMPTS} times, last with: {exc.orig}")


def run_with_retry(attempt: Callable[[], T], *, what: str, integrity: bool = False) -> T:
    for n in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except DBAPIError as exc:
            if not is_transient(exc, integrity=integrity):
                raise
            if n == MAX_ATTEMPTS - 1:
                raise _give_up(what, exc) from exc
        time.sleep(_backoff(n))
    raise AssertionError("unreachable")


async def arun_with_retry(attempt: Callable[[], Awaitable[T]], *, what: str, integrity: bool = False) -> T:
    for n in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except DBAPIError as exc:
            if not is_transient(exc, integrity=integrity):
                raise
            if n == MAX_ATTEMPTS - 1:
                raise _give_up(what, exc) from exc
        await asyncio.sleep(_backoff(n))
    raise AssertionError("unreachable")
