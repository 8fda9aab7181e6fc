"""SQL storage for gradmem-agent: the full transcript plus compressed memory blocks.

SQLite (default, one file) or PostgreSQL, through SQLAlchemy; every SQLStore method has an async twin.
"""

from .connection import default_url
from .errors import (
    ConcurrentCompressionError,
    CorruptBlockError,
    CorruptSessionError,
    DatabaseError,
    FingerprintMismatchError,
    KeyConflictError,
    StorageError,
)
from .records import EncodedVectors, MemoryBlock, Message, SessionInfo, WriteStats
from .search import SearchHit
from .store import SQLStore

__all__ = [
    "ConcurrentCompressionError",
    "CorruptBlockError",
    "CorruptSessionError",
    "DatabaseError",
    "EncodedVectors",
    "FingerprintMismatchError",
    "KeyConflictError",
    "MemoryBlock",
    "Message",
    "SQLStore",
    "SearchHit",
    "SessionInfo",
    "StorageError",
    "WriteStats",
    "default_url",
]
