"""gradmem-agent: long-context chat memory for local LLMs, written by test-time gradient descent (GradMem)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Public names and the modules that define them; imported on first use so that light users
# (the storage layer, the data generators, a spawned worker) do not pay for torch + transformers.
_EXPORTS = {
    "AdapterConfig": "adapter",
    "AdapterMismatchError": "adapter",
    "GradMemAdapter": "adapter",
    "GradMem": "engine",
    "CompressionFailedError": "compression",
    "GgufDecodeError": "gguf_decode",
    "GradMemConversationMemory": "conversation",
    "MemoryPolicy": "policy",
    "ModelNotFoundError": "models",
    "SamplingConfig": "read",
    "WriteConfig": "write",
    "ConcurrentCompressionError": "storage",
    "CorruptBlockError": "storage",
    "CorruptSessionError": "storage",
    "DatabaseError": "storage",
    "KeyConflictError": "storage",
    "FingerprintMismatchError": "storage",
    "MemoryBlock": "storage",
    "Message": "storage",
    "SQLStore": "storage",
    "StorageError": "storage",
    "WriteStats": "storage",
}
__all__ = [
    "AdapterConfig",
    "AdapterMismatchError",
    "CompressionFailedError",
    "ConcurrentCompressionError",
    "CorruptBlockError",
    "CorruptSessionError",
    "DatabaseError",
    "FingerprintMismatchError",
    "GgufDecodeError",
    "GradMem",
    "GradMemAdapter",
    "GradMemConversationMemory",
    "KeyConflictError",
    "MemoryBlock",
    "MemoryPolicy",
    "Message",
    "ModelNotFoundError",
    "SQLStore",
    "SamplingConfig",
    "StorageError",
    "WriteConfig",
    "WriteStats",
]

if TYPE_CHECKING:
    from .adapter import AdapterConfig, AdapterMismatchError, GradMemAdapter
    from .compression import CompressionFailedError
    from .conversation import GradMemConversationMemory
    from .engine import GradMem
    from .gguf_decode import GgufDecodeError
    from .models import ModelNotFoundError
    from .policy import MemoryPolicy
    from .read import SamplingConfig
    from .storage import (
        ConcurrentCompressionError,
        CorruptBlockError,
        CorruptSessionError,
        DatabaseError,
        FingerprintMismatchError,
        KeyConflictError,
        MemoryBlock,
        Message,
        SQLStore,
        StorageError,
        WriteStats,
    )
    from .write import WriteConfig


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradmem_agent' has no attribute {name!r}")
