"""SQL storage for gradmem-agent: the full transcript plus compressed memory blocks.

SQLite (default, one file) or PostgreSQL, through SQLAlchemy; every SQLStore method has an async twin.
"""

from .engines import default_url
from .errors import ConcurrentCompressionError, CorruptBlockError, FingerprintMismatchError, StorageError
from .records import MessageRecord, SessionInfo, StoredBlock, StoredMessage
from .store import SQLStore

__all__ = [
    "ConcurrentCompressionError",
    "CorruptBlockError",
    "FingerprintMismatchError",
    "MessageRecord",
    "SQLStore",
    "SessionInfo",
    "StorageError",
    "StoredBlock",
    "StoredMessage",
    "default_url",
]
