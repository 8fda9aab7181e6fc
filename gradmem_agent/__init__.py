"""gradmem-agent: long-context chat memory for local LLMs, written by test-time gradient descent (GradMem)."""

from .adapter import AdapterConfig, AdapterMismatchError, GradMemAdapter
from .engine import GradMem
from .memory import Memory, WriteStats
from .models import ModelNotFoundError
from .write import WriteConfig

__all__ = [
    "AdapterConfig",
    "AdapterMismatchError",
    "GradMem",
    "GradMemAdapter",
    "GradMemConversationMemory",
    "Memory",
    "ModelNotFoundError",
    "WriteConfig",
    "WriteStats",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The conversation layer pulls in SQLAlchemy; load it only when asked for.
    if name == "GradMemConversationMemory":
        from .conversation import GradMemConversationMemory

        return GradMemConversationMemory
    raise AttributeError(f"module 'gradmem_agent' has no attribute {name!r}")
