"""Appending and reading dialogue messages. Each function runs inside a caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import KeyConflictError
from .records import Message
from .schema import MessageRow
from .sessions import ensure_session_row, lock_session_row, utcnow


def stored_message(row: MessageRow) -> Message:
    return Message(
        role=row.role,
        content=row.content,
        name=row.name,
        tool_calls=row.tool_calls,
        tool_call_id=row.tool_call_id,
        extra=row.extra,
        seq=row.seq,
        created_at=row.created_at,
        key=row.key,
    )


def append(session: Session, session_id: str, messages: Sequence[Message]) -> list[Message]:
    """Give the messages the next seq numbers, holding the session row's lock; a message whose key is stored
    already is returned as stored instead."""
    now = utcnow()
    ensure_session_row(session, session_id, now)
    owner = lock_session_row(session, session_id)
    assert owner is not None  # just inserted or already there, and locked
    known = _keyed(session, session_id, [m.key for m in messages if m.key is not None])
    out: list[Message | MessageRow] = []
    for message in messages:
        if message.key in known:
            out.append(_same(known[message.key], message, session_id))
            continue
        owner.last_seq += 1
        row = MessageRow(
            session_id=session_id,
            seq=owner.last_seq,
            role=message.role,
            content=message.content,
            name=message.name,
            tool_calls=message.tool_calls,
            tool_call_id=message.tool_call_id,
            extra=message.extra,
            created_at=now,
            key=message.key,
        )
        session.add(row)
        out.append(row)
    if any(isinstance(item, MessageRow) for item in out):
        owner.updated_at = now
        session.flush()
    return [stored_message(item) if isinstance(item, MessageRow) else item for item in out]


def _keyed(session: Session, session_id: str, keys: list[str]) -> dict[str, Message]:
    if not keys:
        return {}
    stmt = select(MessageRow).where(MessageRow.session_id == session_id, MessageRow.key.in_(keys))
    return {row.key: stored_message(row) for row in session.scalars(stmt) if row.key is not None}


def _same(stored: Message, given: Message, session_id: str) -> Message:
    if (stored.role, stored.content) != (given.role, given.content):
        raise KeyConflictError(
            f"message key {given.key!r} of session {session_id!r} is already stored (seq {stored.seq}) for another "
            f"{stored.role} message; nothing was written"
        )
    return stored


def read(session: Session, session_id: str, start_seq: int, end_seq: int | None) -> list[Message]:
    stmt = select(MessageRow).where(MessageRow.session_id == session_id, MessageRow.seq >= start_seq)
    if end_seq is not None:
        stmt = stmt.where(MessageRow.seq <= end_seq)
    return [stored_message(row) for row in session.scalars(stmt.order_by(MessageRow.seq))]


def count(session: Session, session_id: str) -> int:
    stmt = select(func.count()).select_from(MessageRow).where(MessageRow.session_id == session_id)
    return session.scalar(stmt) or 0
