"""`GradMemChatMessageHistory`: a LangChain chat message history whose old turns live in GradMem memory.

For code built on ``RunnableWithMessageHistory`` (deprecated in langchain-core 1.x, still common):

    history = lambda sid: GradMemChatMessageHistory(sid, url="sqlite:///chat.db")
    chain = RunnableWithMessageHistory(prompt | ChatGradMem(url="sqlite:///chat.db"), history, ...)

``messages`` are the recent, uncompressed turns (what should still be sent as text); the older ones are in the
session's memory blocks, which ChatGradMem reads for the same ``configurable.session_id``. Messages are stored,
and compressed, only inside ``add_messages``, so the wrapper's read-then-append bookkeeping never duplicates or
loses a turn: every message added is in ``transcript``, exactly once, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from gradmem_agent.conversation import GradMemConversationMemory
from gradmem_agent.engine import GradMem
from gradmem_agent.messages import to_langchain

from .chat_model import default_engine, shared_store, to_record


class GradMemChatMessageHistory(BaseChatMessageHistory):
    """One session's history: recent turns as messages, older turns compressed into memory blocks.

    engine: a GradMem (None: the process-wide default shared with ChatGradMem). url/store: where the session
    lives (a URL opens one store per process, shared by every history and ChatGradMem given that URL, so
    ``get_session_history`` may make a new history per call). memory: an existing GradMemConversationMemory
    instead (the other arguments are then ignored). policy_fields: MemoryPolicy fields (recent_tokens=,
    segment_tokens=, steps=, ...); mode defaults to "inline": add_messages returns once compression is done,
    and no worker thread is left behind by a history object nobody closes.
    """

    def __init__(self, session_id: str | None = None, engine: GradMem | None = None, *, url: str | None = None,
                 store: Any = None, memory: GradMemConversationMemory | None = None, **policy_fields: Any) -> None:
        if memory is None:
            if session_id is None:
                raise ValueError("pass a session_id (or memory=)")
            if url is not None and store is not None:
                raise ValueError("pass url or store, not both")
            memory = GradMemConversationMemory(session_id, engine if engine is not None else default_engine(),
                                               store=store if store is not None else shared_store(url),
                                               **{"mode": "inline", **policy_fields})
        self.memory = memory

    @property
    def session_id(self) -> str:
        return self.memory.session_id

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The recent, uncompressed turns, oldest first."""
        return self.memory.langchain_messages()

    async def aget_messages(self) -> list[BaseMessage]:
        return [to_langchain(m) for m in await self.memory.aget_messages()]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store the messages in one transaction (then compress if due)."""
        if messages:
            self.memory.add_messages([to_record(m) for m in messages])

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if messages:
            await self.memory.aadd_messages([to_record(m) for m in messages])

    def clear(self) -> None:
        self.memory.clear()

    async def aclear(self) -> None:
        await self.memory.aclear()

    @property
    def transcript(self) -> list[BaseMessage]:
        """Every message ever added (compressed or not), oldest first."""
        return [to_langchain(m) for m in self.memory.transcript]

    def close(self) -> None:
        self.memory.close()

    def __repr__(self) -> str:
        return f"GradMemChatMessageHistory({self.session_id!r}, store={self.memory.store!r})"
