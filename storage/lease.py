"""The per-session compression lease: a conditional UPDATE, so it holds across processes and hosts.

Expiry compares against this host's clock; hosts sharing a database need roughly synced clocks
(skew well below the lease TTL). A lease whose owner (see default_owner) is a process of this host that no
longer runs is taken over at once: a writer killed mid-WRITE stalls the next one only on other hosts.
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


def dead_local_owner(owner: str | None) -> bool:
    """Whether `owner` names a process of this host (as default_owner writes it) that has exited."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _running(int(pid))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: it holds nothing
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def acquire(session: Session, session_id: str, owner: str, ttl_s: float) -> tuple[bool, str | None, datetime | None]:
    """Take or renew the lease; returns (acquired, holder, held_until). Creates the session row if needed."""
    acquired, holder, until = _acquire(session, session_id, owner, ttl_s, None)
    if not acquired and holder is not None and dead_local_owner(holder):
        return _acquire(session, session_id, owner, ttl_s, holder)
    return acquired, holder, until


def _acquire(session: Session, session_id: str, owner: str, ttl_s: float, dead: str | None
             ) -> tuple[bool, str | None, datetime | None]:
    """The conditional UPDATE; `dead`: a holder known to have died, whose lease is taken however long it has."""
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
                *([SessionRow.write_lease_owner == dead] if dead is not None else []),
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
