"""Exceptions raised by the storage layer."""

from __future__ import annotations


class StorageError(Exception):
    """The database or the data stored in it cannot be used as asked."""


class CorruptBlockError(StorageError):
    """A memory block's stored vectors cannot be decoded or disagree with its columns."""

    def __init__(self, session_id: str, block_id: int, reason: str) -> None:
        self.session_id = session_id
        self.block_id = block_id
        super().__init__(f"memory block {block_id} of session {session_id!r} is corrupt: {reason}")


class FingerprintMismatchError(StorageError):
    """A memory block was written by another model or adapter than the current one."""


class ConcurrentCompressionError(StorageError):
    """Another writer changed the session's memory first; nothing was written."""


class DatabaseError(StorageError):
    """The database could not be reached or used: a driver or SQLAlchemy error, given here as one line (the
    original stays chained as __cause__)."""


class CorruptSessionError(StorageError):
    """A session's stored rows contradict each other (a gap in its messages, memory past its last message)."""


class KeyConflictError(StorageError):
    """A message key is already stored in the session for a different message; nothing was written."""
