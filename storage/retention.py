"""Retention: deleting old memory blocks or old, already-compressed messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .schema import BlockRow, MessageRow, SessionRow


def prune_memory(session: Session, session_id: str | None, before: datetime) -> int:
    """Delete blocks created before `before`; compressed_upto stays (that memory is forgotten, not redone)."""
    stmt = delete(BlockRow).where(BlockRow.created_at < before)
    if session_id is not None:
        stmt = stmt.where(BlockRow.session_id == session_id)
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]


def prune_transcript(session: Session, session_id: str | None, before: datetime) -> int:
    """Delete messages created before `before` that memory already covers (seq <= compressed_upto)."""
    covered_upto = select(SessionRow.compressed_upto).where(SessionRow.id == MessageRow.session_id).scalar_subquery()
    stmt = delete(MessageRow).where(MessageRow.created_at < before, MessageRow.seq <= covered_upto)
    if session_id is not None:
        stmt = stmt.where(MessageRow.session_id == session_id)
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
