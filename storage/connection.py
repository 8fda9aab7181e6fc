"""Connecting to the database: URLs, SQLAlchemy engines (sync/async twins of one URL), SQLite setup."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, StaticPool, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .errors import StorageError

# Execution option marking write transactions: on SQLite they start with BEGIN IMMEDIATE, which
# takes the write lock up front so that concurrent writers queue instead of deadlocking.
WRITE_OPTION = "gradmem_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
)
_WAL_TRIES = 200
_PREPARED = "gradmem_prepared"

_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_KNOWN_SYNC = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}
_KNOWN_ASYNC = {"sqlite+aiosqlite", "postgresql+psycopg", "postgresql+psycopg_async", "postgresql+asyncpg"}


def default_url() -> str:
    """sqlite:/// URL of gradmem.db in the user's data directory (created if missing)."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("gradmem-agent"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'gradmem.db'}"


def sync_url(url: str | URL) -> URL:
    """The same database through a synchronous driver."""
    return _with_driver(make_url(url), _KNOWN_SYNC, _SYNC_DRIVERS, "synchronous")


def async_url(url: str | URL) -> URL:
    """The same database through an asyncio driver (aiosqlite / psycopg async)."""
    return _with_driver(make_url(url), _KNOWN_ASYNC, _ASYNC_DRIVERS, "asyncio")


def _with_driver(url: URL, keep: set[str], drivers: dict[str, str], kind: str) -> URL:
    if url.drivername in keep:
        return url
    backend = url.get_backend_name()
    if backend not in drivers:
        raise StorageError(
            f"cannot derive a {kind} URL from {url.drivername!r}: only sqlite and postgresql are "
            "supported; pass sql_engine= / async_sql_engine= yourself"
        )
    return url.set(drivername=drivers[backend])


def _is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | URL) -> Engine:
    url = sync_url(url)
    if _is_memory_sqlite(url):
        # One shared connection, or every pooled connection would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url)
    prepare_engine(engine)
    return engine


def make_async_engine(url: str | URL) -> AsyncEngine:
    url = async_url(url)
    kwargs = {"poolclass": StaticPool} if _is_memory_sqlite(url) else {}
    engine = create_async_engine(url, **kwargs)
    prepare_engine(engine.sync_engine)
    return engine


def prepare_engine(engine: Engine) -> None:
    """Install the SQLite transaction hook on an engine (idempotent; no-op for other backends)."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "begin", _sqlite_begin):
        event.listen(engine, "begin", _sqlite_begin)


def _sqlite_begin(conn: Connection) -> None:
    # Set up lazily rather than in a "connect" hook so that engines passed in by the caller,
    # whose pools may already hold connections, are covered too.
    pooled = conn.connection
    if not pooled.info.get(_PREPARED):
        dbapi_conn = pooled.dbapi_connection
        assert dbapi_conn is not None
        # Stop the sqlite3 module from issuing its own BEGINs; SQLAlchemy emits them below.
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
        cursor = dbapi_conn.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        _enable_wal(cursor)
        cursor.close()
        pooled.info[_PREPARED] = True
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def _enable_wal(cursor) -> None:
    """Switch the file to WAL. The switch needs an exclusive lock and SQLite does not wait on the busy
    timeout for it, so connections opening a fresh file at once retry; WAL is persistent, so once any
    connection has switched, the others find it on."""
    import sqlite3
    import time

    for _ in range(_WAL_TRIES):
        try:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            if str(mode).lower() in ("wal", "memory"):
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:  # sqlite3's or the aiosqlite adapter's OperationalError
            if not isinstance(exc, sqlite3.OperationalError) and "OperationalError" not in type(exc).__name__:
                raise
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.05)
