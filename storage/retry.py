"""Bounded retries of whole transactions that failed for transient reasons."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from .errors import DatabaseError, StorageError

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
    return DatabaseError(f"{what} failed {MAX_ATTEMPTS} times, last with: {one_line(exc.orig)}")


def driver_errors() -> tuple[type[BaseException], ...]:
    """Errors a database can raise: SQLAlchemy's, and the drivers' own where they escape SQLAlchemy's wrapping
    (the SQLite connection setup runs pragmas on the raw connection)."""
    import sqlite3

    errors: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error)
    try:
        import psycopg
    except ImportError:
        return errors
    return (*errors, psycopg.Error)


def one_line(exc: BaseException) -> str:
    """The first line of an error's text (drivers add hints and SQL on further lines)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def database_error(what: str, exc: BaseException) -> DatabaseError:
    return DatabaseError(f"{what}: {one_line(exc)}")


def run_with_retry(attempt: Callable[[], T], *, what: str, integrity: bool = False) -> T:
    """attempt() until it succeeds or fails for a reason other than a transient one; every database error
    that escapes is a DatabaseError."""
    for n in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except DBAPIError as exc:
            if not is_transient(exc, integrity=integrity):
                raise database_error(what, exc) from exc
            if n == MAX_ATTEMPTS - 1:
                raise _give_up(what, exc) from exc
        except driver_errors() as exc:
            raise database_error(what, exc) from exc
        time.sleep(_backoff(n))
    raise AssertionError("unreachable")


async def arun_with_retry(attempt: Callable[[], Awaitable[T]], *, what: str, integrity: bool = False) -> T:
    for n in range(MAX_ATTEMPTS):
        try:
            return await attempt()
        except DBAPIError as exc:
            if not is_transient(exc, integrity=integrity):
                raise database_error(what, exc) from exc
            if n == MAX_ATTEMPTS - 1:
                raise _give_up(what, exc) from exc
        except driver_errors() as exc:
            raise database_error(what, exc) from exc
        await asyncio.sleep(_backoff(n))
    raise AssertionError("unreachable")
