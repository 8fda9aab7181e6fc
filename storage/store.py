"""SQLStore: transcript + memory blocks in SQLite or PostgreSQL, with sync methods and async twins."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from . import lease as lease_ops
from . import memory, retention, search, sessions, transcript
from .connection import WRITE_OPTION, default_url, make_async_engine, make_engine, prepare_engine
from .errors import ConcurrentCompressionError
from .records import MemoryBlock, Message, SessionInfo
from .retry import arun_with_retry, database_error, driver_errors, run_with_retry
from .schema import ensure_schema
from .search import SearchHit, query_terms
from .validation import (
    MAX_LEASE_TTL_S,
    MAX_OWNER_LENGTH,
    check_aware,
    check_int,
    check_messages,
    check_seconds,
    check_session_id,
    check_text,
)

T = TypeVar("T")
_POLL_MAX_S = 0.25


class SQLStore:
    """Chat transcript and memory blocks in one SQL database.

    Every method `x` has an async twin `ax` with the same arguments. SQLAlchemy engines are created on
    first use; the async one is derived from the sync URL (sqlite -> sqlite+aiosqlite, postgresql ->
    postgresql+psycopg async) unless passed. An in-memory SQLite URL gives the sync and async
    sides two separate databases. After using async methods, close with `aclose()`.

    Writers of one session are serialised across threads and processes: on SQLite by starting
    write transactions with BEGIN IMMEDIATE (WAL mode, 30 s busy timeout), on PostgreSQL by
    locking the session row (SELECT ... FOR UPDATE). A SQLite engine passed in gets the same
    connection setup (explicit BEGIN, WAL, busy timeout, foreign keys).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        sql_engine: Engine | None = None,
        async_sql_engine: AsyncEngine | None = None,
    ) -> None:
        if url is None and sql_engine is None and async_sql_engine is None:
            url = default_url()
        if url is None:
            known = sql_engine if sql_engine is not None else async_sql_engine
            assert known is not None
            url = known.url
        self._url = url
        self._engine = sql_engine
        self._async_engine = async_sql_engine
        self._owns_engine = sql_engine is None
        self._owns_async_engine = async_sql_engine is None
        for given in (sql_engine, async_sql_engine.sync_engine if async_sql_engine else None):
            if given is not None:
                prepare_engine(given)
        self._write_engine: Engine | None = None
        self._async_write_engine: AsyncEngine | None = None
        self._lock = threading.Lock()
        self._schema_ready = False
        self._async_schema_ready = False

    # -- SQL engines -----------------------------------------------------------------------------

    @property
    def sql_engine(self) -> Engine:
        """The synchronous SQLAlchemy engine (created on first access)."""
        with self._lock:
            if self._engine is None:
                self._engine = _connecting(make_engine, self._url)
            return self._engine

    @property
    def async_sql_engine(self) -> AsyncEngine:
        """The asyncio SQLAlchemy engine (created on first access)."""
        with self._lock:
            if self._async_engine is None:
                self._async_engine = _connecting(make_async_engine, self._url)
            return self._async_engine

    def _writer(self) -> Engine:
        if self._write_engine is None:
            self._write_engine = self.sql_engine.execution_options(**{WRITE_OPTION: True})
        return self._write_engine

    def _async_writer(self) -> AsyncEngine:
        if self._async_write_engine is None:
            self._async_write_engine = self.async_sql_engine.execution_options(**{WRITE_OPTION: True})
        return self._async_write_engine

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return

        def attempt() -> None:
            with self._writer().begin() as conn:
                ensure_schema(conn)

        run_with_retry(attempt, what=self._doing("creating the schema"), integrity=True)
        self._schema_ready = True

    async def _aensure_schema(self) -> None:
        if self._async_schema_ready:
            return

        async def attempt() -> None:
            async with self._async_writer().begin() as conn:
                await conn.run_sync(ensure_schema)

        await arun_with_retry(attempt, what=self._doing("creating the schema"), integrity=True)
        self._async_schema_ready = True

    def _run(self, op: Callable[..., T], *args: Any, write: bool = False, integrity: bool = False) -> T:
        """Run `op(orm_session, *args)` in one transaction, retrying transient failures."""
        self._ensure_schema()
        engine = self._writer() if write else self.sql_engine

        def attempt() -> T:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                return op(session, *args)

        return run_with_retry(attempt, what=self._doing(op.__name__), integrity=integrity)

    async def _arun(self, op: Callable[..., T], *args: Any, write: bool = False, integrity: bool = False) -> T:
        await self._aensure_schema()
        engine = self._async_writer() if write else self.async_sql_engine

        async def attempt() -> T:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                return await session.run_sync(op, *args)

        return await arun_with_retry(attempt, what=self._doing(op.__name__), integrity=integrity)

    def _doing(self, what: str) -> str:
        """What a DatabaseError says was being done, and where."""
        return f"{what.replace('_', ' ')} in {_shown(self._url)}"

    # -- transcript ------------------------------------------------------------------------------

    def append_messages(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        """Append messages with consecutive seqs in one transaction (all or nothing); creates the session.
        Returns them as stored (seq and created_at set).

        A message with a `key` already stored in the session is not appended again: the stored one is returned
        in its place (KeyConflictError, nothing written, if that one has another role or content), so a
        retried call with the same keys stores each message once."""
        session_id, messages = check_session_id(session_id), check_messages(messages)
        if not messages:
            return []
        return self._run(transcript.append, session_id, messages, write=True, integrity=True)

    async def aappend_messages(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        session_id, messages = check_session_id(session_id), check_messages(messages)
        if not messages:
            return []
        return await self._arun(transcript.append, session_id, messages, write=True, integrity=True)

    def messages(self, session_id: str, start_seq: int = 0, end_seq: int | None = None) -> list[Message]:
        """Messages with start_seq <= seq <= end_seq (inclusive), ordered by seq."""
        args = _message_range(session_id, start_seq, end_seq)
        return self._run(transcript.read, *args)

    async def amessages(self, session_id: str, start_seq: int = 0, end_seq: int | None = None) -> list[Message]:
        args = _message_range(session_id, start_seq, end_seq)
        return await self._arun(transcript.read, *args)

    def search_messages(self, session_id: str, query: str, *, max_seq: int | None = None,
                        limit: int = 20) -> list[SearchHit]:
        """Messages with seq <= max_seq that share words with `query` (stop words aside), best match first.

        The database's own full-text index ranks them (SQLite FTS5's BM25, PostgreSQL's ts_rank_cd), with
        stemming: "planted" finds "plant". A query of stop words only finds nothing."""
        args = _search_args(session_id, query, max_seq, limit)
        return self._run(search.search, *args)

    async def asearch_messages(self, session_id: str, query: str, *, max_seq: int | None = None,
                               limit: int = 20) -> list[SearchHit]:
        args = _search_args(session_id, query, max_seq, limit)
        return await self._arun(search.search, *args)

    def message_count(self, session_id: str) -> int:
        """Messages currently stored (pruned ones excluded)."""
        return self._run(transcript.count, check_session_id(session_id))

    async def amessage_count(self, session_id: str) -> int:
        return await self._arun(transcript.count, check_session_id(session_id))

    def last_seq(self, session_id: str) -> int:
        """Highest seq ever assigned in the session, -1 if none."""
        return self._run(sessions.last_seq, check_session_id(session_id))

    async def alast_seq(self, session_id: str) -> int:
        return await self._arun(sessions.last_seq, check_session_id(session_id))

    # -- sessions --------------------------------------------------------------------------------

    def session(self, session_id: str) -> SessionInfo | None:
        return self._run(sessions.session_info, check_session_id(session_id))

    async def asession(self, session_id: str) -> SessionInfo | None:
        return await self._arun(sessions.session_info, check_session_id(session_id))

    def list_sessions(self) -> list[SessionInfo]:
        """All sessions, most recently updated first."""
        return self._run(sessions.session_infos)

    async def alist_sessions(self) -> list[SessionInfo]:
        return await self._arun(sessions.session_infos)

    def delete_session(self, session_id: str) -> bool:
        """Delete a session with its messages and blocks; False if it did not exist."""
        return self._run(sessions.delete_session, check_session_id(session_id), write=True)

    async def adelete_session(self, session_id: str) -> bool:
        return await self._arun(sessions.delete_session, check_session_id(session_id), write=True)

    def compressed_upto(self, session_id: str) -> int:
        """Seq of the last message covered by memory, -1 if none (or no such session)."""
        return self._run(sessions.compressed_upto, check_session_id(session_id))

    async def acompressed_upto(self, session_id: str) -> int:
        return await self._arun(sessions.compressed_upto, check_session_id(session_id))

    def check_session(self, session_id: str) -> None:
        """CorruptSessionError if the session's stored rows contradict each other (a gap in the messages memory
        does not cover yet, or memory marked past the last message); nothing if it is sound or absent."""
        self._run(sessions.check_session, check_session_id(session_id))

    async def acheck_session(self, session_id: str) -> None:
        await self._arun(sessions.check_session, check_session_id(session_id))

    # -- memory blocks ---------------------------------------------------------------------------

    def add_block(self, session_id: str, block: MemoryBlock, *, expected_compressed_upto: int) -> MemoryBlock:
        """Insert a placed block and set compressed_upto = block.last_seq, in one transaction.

        Raises ConcurrentCompressionError, writing nothing, unless compressed_upto still equals
        expected_compressed_upto, block.first_seq == expected_compressed_upto + 1 and block.last_seq <= last_seq().
        """
        args = _addition(session_id, [block], expected_compressed_upto)
        return self._run(memory.add, *args, write=True)[0]

    async def aadd_block(self, session_id: str, block: MemoryBlock, *, expected_compressed_upto: int) -> MemoryBlock:
        args = _addition(session_id, [block], expected_compressed_upto)
        return (await self._arun(memory.add, *args, write=True))[0]

    def add_blocks(self, session_id: str, blocks: Sequence[MemoryBlock], *,
                   expected_compressed_upto: int) -> list[MemoryBlock]:
        """add_block for a run of consecutive blocks, all or nothing (the pieces of one long message, written
        into several blocks, share its seq)."""
        args = _addition(session_id, blocks, expected_compressed_upto)
        return self._run(memory.add, *args, write=True)

    async def aadd_blocks(self, session_id: str, blocks: Sequence[MemoryBlock], *,
                          expected_compressed_upto: int) -> list[MemoryBlock]:
        args = _addition(session_id, blocks, expected_compressed_upto)
        return await self._arun(memory.add, *args, write=True)

    def replace_blocks(
        self,
        session_id: str,
        old_block_ids: Sequence[int],
        new_blocks: Sequence[MemoryBlock],
        *,
        compressed_upto: int | None = None,
    ) -> list[MemoryBlock]:
        """Atomically delete `old_block_ids` and insert `new_blocks` (placed blocks).

        compressed_upto is left alone unless given. ConcurrentCompressionError (nothing written) if any old
        block is gone.
        """
        args = _replacement(session_id, old_block_ids, new_blocks, compressed_upto)
        return self._run(memory.replace, *args, write=True)

    async def areplace_blocks(
        self,
        session_id: str,
        old_block_ids: Sequence[int],
        new_blocks: Sequence[MemoryBlock],
        *,
        compressed_upto: int | None = None,
    ) -> list[MemoryBlock]:
        args = _replacement(session_id, old_block_ids, new_blocks, compressed_upto)
        return await self._arun(memory.replace, *args, write=True)

    def blocks(self, session_id: str) -> list[MemoryBlock]:
        """All blocks of the session ordered by first_seq (vectors still encoded; see MemoryBlock.tensor)."""
        return self._run(memory.read, check_session_id(session_id))

    async def ablocks(self, session_id: str) -> list[MemoryBlock]:
        return await self._arun(memory.read, check_session_id(session_id))

    # -- compression lease -----------------------------------------------------------------------

    def acquire_lease(self, session_id: str, owner: str, ttl_s: float) -> bool:
        """Take the session's compression lease for ttl_s seconds if it is free, expired or already
        `owner`'s (then it is renewed). Creates the session if needed."""
        args = _lease_args(session_id, owner, ttl_s)
        return self._run(lease_ops.acquire, *args, write=True, integrity=True)[0]

    async def aacquire_lease(self, session_id: str, owner: str, ttl_s: float) -> bool:
        args = _lease_args(session_id, owner, ttl_s)
        return (await self._arun(lease_ops.acquire, *args, write=True, integrity=True))[0]

    def release_lease(self, session_id: str, owner: str) -> bool:
        """Release the lease if `owner` holds it; False otherwise."""
        session_id, owner = check_session_id(session_id), _check_owner(owner)
        return self._run(lease_ops.release, session_id, owner, write=True)

    async def arelease_lease(self, session_id: str, owner: str) -> bool:
        session_id, owner = check_session_id(session_id), _check_owner(owner)
        return await self._arun(lease_ops.release, session_id, owner, write=True)

    @contextmanager
    def lease(
        self,
        session_id: str,
        ttl_s: float = 600,
        owner: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> Iterator[str]:
        """Hold the compression lease for the block; yields the owner string.

        Waits for it (polling) unless wait=False; raises ConcurrentCompressionError when it is
        held by another owner and wait=False or `timeout` seconds pass.
        """
        owner = lease_ops.default_owner() if owner is None else owner
        args = _lease_args(session_id, owner, ttl_s)
        deadline = None if timeout is None else time.monotonic() + check_seconds(timeout, "timeout")
        delay = 0.01
        while True:
            acquired, holder, until = self._run(lease_ops.acquire, *args, write=True, integrity=True)
            if acquired:
                break
            pause = _next_pause(session_id, holder, until, wait, deadline, delay)
            time.sleep(pause)
            delay = min(delay * 2, _POLL_MAX_S)
        try:
            yield owner
        finally:
            self.release_lease(session_id, owner)

    @asynccontextmanager
    async def alease(
        self,
        session_id: str,
        ttl_s: float = 600,
        owner: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> AsyncIterator[str]:
        owner = lease_ops.default_owner() if owner is None else owner
        args = _lease_args(session_id, owner, ttl_s)
        deadline = None if timeout is None else time.monotonic() + check_seconds(timeout, "timeout")
        delay = 0.01
        while True:
            acquired, holder, until = await self._arun(lease_ops.acquire, *args, write=True, integrity=True)
            if acquired:
                break
            await asyncio.sleep(_next_pause(session_id, holder, until, wait, deadline, delay))
            delay = min(delay * 2, _POLL_MAX_S)
        try:
            yield owner
        finally:
            await self.arelease_lease(session_id, owner)

    # -- retention -------------------------------------------------------------------------------

    def prune(
        self,
        session_id: str | None = None,
        *,
        before: datetime,
        what: Literal["memory", "transcript"],
    ) -> int:
        """Delete data created before `before` (timezone-aware), in one session or all; returns the count.

        what="memory": memory blocks (compressed_upto is kept: that memory is forgotten, not redone).
        what="transcript": messages, but only those memory already covers (seq <= compressed_upto);
        messages not yet compressed are never deleted, whatever their age.
        """
        op, args = _prune_args(session_id, before, what)
        return self._run(op, *args, write=True)

    async def aprune(
        self,
        session_id: str | None = None,
        *,
        before: datetime,
        what: Literal["memory", "transcript"],
    ) -> int:
        op, args = _prune_args(session_id, before, what)
        return await self._arun(op, *args, write=True)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Dispose the sync engine if this store created it (use aclose() after async calls)."""
        if self._owns_engine and self._engine is not None:
            self._engine.dispose()
            self._engine = self._write_engine = None
            self._schema_ready = False

    async def aclose(self) -> None:
        """Dispose the engines this store created."""
        if self._owns_async_engine and self._async_engine is not None:
            await self._async_engine.dispose()
            self._async_engine = self._async_write_engine = None
            self._async_schema_ready = False
        self.close()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> SQLStore:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"SQLStore({_shown(self._url)!r})"


def _shown(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def _connecting(make: Callable[[str | URL], T], url: str | URL) -> T:
    """An engine for `url`; a URL SQLAlchemy cannot use (bad syntax, unknown driver) is a DatabaseError."""
    try:
        return make(url)
    except driver_errors() as exc:
        raise database_error(f"connect to {_shown(url)}", exc) from exc


# -- argument preparation shared by the twins --------------------------------------------------


def _message_range(session_id: str, start_seq: int, end_seq: int | None) -> tuple[str, int, int | None]:
    session_id = check_session_id(session_id)
    check_int(start_seq, "start_seq", maximum=None)
    if end_seq is not None:
        check_int(end_seq, "end_seq", maximum=None)
    return session_id, start_seq, end_seq


def _search_args(session_id: str, query: str, max_seq: int | None, limit: int
                 ) -> tuple[str, list[str], int | None, int]:
    session_id = check_session_id(session_id)
    terms = query_terms(check_text(query, "query"))
    if max_seq is not None:
        check_int(max_seq, "max_seq", minimum=-1)
    return session_id, terms, max_seq, check_int(limit, "limit", minimum=1, maximum=10_000)


def _addition(session_id: str, blocks: Sequence[MemoryBlock], expected_compressed_upto: int
              ) -> tuple[str, list[memory.BlockSpec], int]:
    session_id = check_session_id(session_id)
    check_int(expected_compressed_upto, "expected_compressed_upto", minimum=-1)
    if isinstance(blocks, MemoryBlock) or not isinstance(blocks, Sequence):
        raise TypeError("blocks must be a sequence of MemoryBlock")
    specs = [memory.prepare_block(block, f"blocks[{n}]" if len(blocks) > 1 else "block") for n, block in
             enumerate(blocks)]
    return session_id, specs, expected_compressed_upto


def _replacement(
    session_id: str,
    old_block_ids: Sequence[int],
    new_blocks: Sequence[MemoryBlock],
    compressed_upto: int | None,
) -> tuple[str, list[int], list[memory.BlockSpec], int | None]:
    session_id = check_session_id(session_id)
    if isinstance(old_block_ids, str | bytes) or not isinstance(old_block_ids, Sequence):
        raise TypeError("old_block_ids must be a sequence of ints")
    ids = [check_int(i, f"old_block_ids[{n}]", maximum=None) for n, i in enumerate(old_block_ids)]
    if isinstance(new_blocks, str | bytes | MemoryBlock) or not isinstance(new_blocks, Sequence):
        raise TypeError("new_blocks must be a sequence of MemoryBlock")
    specs = [memory.prepare_block(block, f"new_blocks[{n}]") for n, block in enumerate(new_blocks)]
    if compressed_upto is not None:
        check_int(compressed_upto, "compressed_upto", minimum=-1)
    return session_id, ids, specs, compressed_upto


def _check_owner(owner: str) -> str:
    return check_text(owner, "owner", allow_empty=False, max_length=MAX_OWNER_LENGTH)


def _lease_args(session_id: str, owner: str, ttl_s: float) -> tuple[str, str, float]:
    return check_session_id(session_id), _check_owner(owner), check_seconds(ttl_s, "ttl_s", MAX_LEASE_TTL_S)


def _next_pause(
    session_id: str,
    holder: str | None,
    until: datetime | None,
    wait: bool,
    deadline: float | None,
    delay: float,
) -> float:
    """How long to sleep before asking for the lease again, or raise if we should not wait."""
    remaining = None if deadline is None else deadline - time.monotonic()
    if not wait or (remaining is not None and remaining <= 0):
        raise ConcurrentCompressionError(
            f"session {session_id!r} is being compressed by {holder!r} (lease until {until}); "
            + ("not waiting" if not wait else "timed out waiting")
        )
    return delay if remaining is None else min(delay, remaining)


def _prune_args(
    session_id: str | None, before: datetime, what: str
) -> tuple[Callable[..., int], tuple[str | None, datetime]]:
    if session_id is not None:
        session_id = check_session_id(session_id)
    check_aware(before, "before")
    ops = {"memory": retention.prune_memory, "transcript": retention.prune_transcript}
    if what not in ops:
        raise ValueError(f"what must be 'memory' or 'transcript', got {what!r}")
    return ops[what], (session_id, before)
