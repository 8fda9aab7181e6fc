"""The per-session compression lease: a conditional UPDATE, so it holds across processes and hosts.

Expiry compares against this host's clock; hosts sharing a database need roughly synced clocks
(skew well below the lease TTL).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .schema import SessionRow
from .sessions import ensure_session_row, utcnow


def default_owner() -> str:
    """Unique per call: host, process, thread and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def acquire(session: Session, session_id: str, owner: str, ttl_s: float) -> tuple[bool, str | None, datetime | None]:
    """Take or renew the lease; returns (acquired, holder, held_until). Creates the session row if needed."""
    now = utcnow()
    ensure_session_row(session, session_id, now)
    until = now + timedelta(seconds=ttl_s)
    stmt = (
        update(SessionRow)
        .where(
            SessionRow.id == session_id,
            or_(
                SessionRow.write_lease_until.is_(None),
                SessionRow.write_lease_until < now,
                SessionRow.write_lease_owner == owner,
            ),
        )
        .values(write_lease_owner=owner, write_lease_until=until)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
        return True, owner, until
    holder = session.execute(
        select(SessionRow.write_lease_owner, SessionRow.write_lease_until).where(SessionRow.id == session_id)
    ).one()
    return False, holder.write_lease_owner, holder.write_lease_until


def release(session: Session, session_id: str, owner: str) -> bool:
    """Drop the lease if `owner` holds it."""
    stmt = (
        update(SessionRow)
        .where(SessionRow.id == session_id, SessionRow.write_lease_owner == owner)
        .values(write_lease_owner=None, write_lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
