"""Operations on session rows: create, lock, summarise, delete. Each runs inside a caller's transaction."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, cast, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .errors import CorruptSessionError
from .records import SessionInfo
from .schema import BlockRow, MessageRow, SessionRow


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def ensure_session_row(session: Session, session_id: str, now: datetime) -> None:
    """Insert the session row unless it exists, without failing when a concurrent writer wins."""
    table = SessionRow.__table__
    values = {"id": session_id, "created_at": now, "updated_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=["id"]))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=["id"]))
    elif session.get(SessionRow, session_id) is None:
        # Other backends: a racing insert raises IntegrityError, which the caller's retry absorbs.
        session.execute(insert(table).values(values))


def lock_session_row(session: Session, session_id: str) -> SessionRow | None:
    """Load the row and, on PostgreSQL, lock it until commit (SQLite's BEGIN IMMEDIATE already serialises)."""
    stmt = select(SessionRow).where(SessionRow.id == session_id).with_for_update()
    return session.scalars(stmt).one_or_none()


def byte_length(session: Session, column: Any) -> ColumnElement[int]:
    """Length in bytes of a text or binary column."""
    if session.get_bind().dialect.name == "sqlite":
        return func.length(cast(column, LargeBinary))
    return func.octet_length(column)


def _vector_count(shape: list[int]) -> int:
    """Vectors in a block: all dimensions but the last (the model width) multiplied."""
    return math.prod(shape[:-1]) if shape else 1


def session_infos(session: Session, session_id: str | None = None) -> list[SessionInfo]:
    """SessionInfo of one session (or all), most recently updated first."""
    messages = select(
        MessageRow.session_id,
        func.count().label("count"),
        func.coalesce(func.sum(byte_length(session, MessageRow.content)), 0).label("bytes"),
    ).group_by(MessageRow.session_id)
    blocks = select(
        BlockRow.session_id,
        func.count().label("count"),
        func.coalesce(func.sum(byte_length(session, BlockRow.vectors)), 0).label("bytes"),
    ).group_by(BlockRow.session_id)
    shapes = select(BlockRow.session_id, BlockRow.shape)
    sessions = select(SessionRow)
    if session_id is not None:
        messages = messages.where(MessageRow.session_id == session_id)
        blocks = blocks.where(BlockRow.session_id == session_id)
        shapes = shapes.where(BlockRow.session_id == session_id)
        sessions = sessions.where(SessionRow.id == session_id)
    msg, blk = messages.subquery(), blocks.subquery()
    stmt = (
        sessions.add_columns(msg.c.count, msg.c.bytes, blk.c.count, blk.c.bytes)
        .outerjoin(msg, msg.c.session_id == SessionRow.id)
        .outerjoin(blk, blk.c.session_id == SessionRow.id)
        .order_by(SessionRow.updated_at.desc(), SessionRow.id)
    )
    vectors: dict[str, int] = defaultdict(int)
    for sid, shape in session.execute(shapes):
        vectors[sid] += _vector_count(shape)
    return [
        SessionInfo(
            session_id=row.id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            message_count=msg_count or 0,
            compressed_upto=row.compressed_upto,
            block_count=blk_count or 0,
            vector_count=vectors[row.id],
            stored_bytes=int(msg_bytes or 0) + int(blk_bytes or 0),
        )
        for row, msg_count, msg_bytes, blk_count, blk_bytes in session.execute(stmt)
    ]


def session_info(session: Session, session_id: str) -> SessionInfo | None:
    infos = session_infos(session, session_id)
    return infos[0] if infos else None


def delete_session(session: Session, session_id: str) -> bool:
    """Delete the session with its messages and blocks; False if there was none."""
    # Children explicitly too: a caller-supplied SQLite engine might run without foreign_keys=ON.
    session.execute(delete(MessageRow).where(MessageRow.session_id == session_id))
    session.execute(delete(BlockRow).where(BlockRow.session_id == session_id))
    result = session.execute(delete(SessionRow).where(SessionRow.id == session_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def compressed_upto(session: Session, session_id: str) -> int:
    value = session.scalar(select(SessionRow.compressed_upto).where(SessionRow.id == session_id))
    return -1 if value is None else value


def last_seq(session: Session, session_id: str) -> int:
    value = session.scalar(select(SessionRow.last_seq).where(SessionRow.id == session_id))
    return -1 if value is None else value


def check_session(session: Session, session_id: str) -> None:
    """CorruptSessionError if the session's rows contradict each other: memory marked past its last message, a
    message past it, or a gap among the messages memory does not cover yet (pruning only removes covered
    ones). A session that does not exist is fine."""
    row = session.get(SessionRow, session_id)
    if row is None:
        return
    if not -1 <= row.compressed_upto <= row.last_seq:
        raise CorruptSessionError(
            f"session {session_id!r} is marked compressed up to seq {row.compressed_upto}, but its last message "
            f"is seq {row.last_seq}: the database was edited or restored in part; rebuild or delete the session"
        )
    top, pending = session.execute(
        select(func.max(MessageRow.seq), func.count().filter(MessageRow.seq > row.compressed_upto))
        .where(MessageRow.session_id == session_id)
    ).one()
    if top is not None and top > row.last_seq:
        raise CorruptSessionError(f"session {session_id!r} has message seq {top} past its last seq {row.last_seq}")
    if pending != row.last_seq - row.compressed_upto:
        raise CorruptSessionError(
            f"session {session_id!r} lacks {row.last_seq - row.compressed_upto - pending} of its messages "
            f"{row.compressed_upto + 1}..{row.last_seq} not yet in memory (a gap in its sequence)"
        )
