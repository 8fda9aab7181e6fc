"""`GradMemMiddleware`: LangChain 1.x `create_agent` middleware that moves old messages into GradMem memory.

Needs the ``langchain`` extra (``pip install gradmem-agent[langchain]``: langchain, langgraph, checkpointers).

Before each model call (and when the agent finishes) the middleware appends the state's new messages to a
GradMemConversationMemory keyed by the LangGraph thread id (``configurable.thread_id``), lets it compress what
falls outside its recent window (whole messages; a tool call and its results are never split), and rewrites
the state to the messages that are still text (``RemoveMessage(REMOVE_ALL_MESSAGES)`` + the kept ones, as
SummarizationMiddleware does). The transcript and blocks live in SQL (``url=``/``store=``), the state in the
agent's checkpointer, so both survive restarts. When the agent's model is a ChatGradMem, ``wrap_model_call``
hands it the thread's memory, so the model reads the compressed turns as a soft prompt; other models only see
the remaining text.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

try:
    from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
    from langchain.agents.middleware.types import PrivateStateAttr
    from langgraph.config import get_config
    from langgraph.graph.message import REMOVE_ALL_MESSAGES
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "GradMemMiddleware needs langchain and langgraph: pip install 'gradmem-agent[langchain]'"
    ) from exc

from gradmem_agent.storage import SQLStore, default_url
from langchain_core.messages import AnyMessage, RemoveMessage
from typing_extensions import NotRequired

from gradmem_agent.conversation import GradMemConversationMemory
from gradmem_agent.engine import GradMem

from .chat_model import ChatGradMem, default_engine, to_record


class GradMemState(AgentState):
    """Agent state plus the ids of the state messages already stored in GradMem (checkpointed, private)."""

    gradmem_ids: NotRequired[Annotated[list[str], PrivateStateAttr]]


class GradMemMiddleware(AgentMiddleware):
    """Keep the agent's recent messages as text and the older ones in GradMem memory, per LangGraph thread.

    engine: a GradMem (None: the process-wide default shared with ChatGradMem; pass the agent model's engine
    if it has its own). url/store: where transcripts and blocks are kept (default: storage.default_url()).
    session_prefix: session id = prefix + thread id. system_prompt: stored with each conversation (None).
    policy_fields: MemoryPolicy fields, e.g. recent_tokens= (the text window, in the model's tokens),
    segment_tokens=, memory_tokens=, steps=, min_keep_messages=. mode defaults to "inline" here, so the state
    shrinks in the same step; mode="background" writes on a worker thread and the state shrinks a step later.
    """

    state_schema = GradMemState

    def __init__(self, engine: GradMem | None = None, *, url: str | None = None, store: SQLStore | None = None,
                 session_prefix: str = "", **policy_fields: Any) -> None:
        super().__init__()
        if url is not None and store is not None:
            raise ValueError("pass url or store, not both")
        self._engine = engine
        self._store = store if store is not None else SQLStore(url or default_url())
        self._owns_store = store is None
        self.session_prefix = session_prefix
        self.policy_fields = {"mode": "inline", **policy_fields}
        self._convs: dict[str, GradMemConversationMemory] = {}
        self._lock = threading.Lock()

    @property
    def engine(self) -> GradMem:
        if self._engine is None:
            self._engine = default_engine()
        return self._engine

    @property
    def store(self) -> SQLStore:
        return self._store

    # sessions -------------------------------------------------------------------------------------
    def memory(self, thread_id: str) -> GradMemConversationMemory:
        """The GradMemConversationMemory of a LangGraph thread (created on first use)."""
        session_id = f"{self.session_prefix}{thread_id}"
        with self._lock:
            conv = self._convs.get(session_id)
            if conv is None:
                conv = GradMemConversationMemory(session_id, self.engine, store=self._store, **self.policy_fields)
                self._convs[session_id] = conv
            return conv

    def _current(self) -> GradMemConversationMemory:
        configurable = get_config().get("configurable", {})
        thread_id = configurable.get("thread_id")
        if thread_id is None:
            raise ValueError(
                "GradMemMiddleware keys memory by LangGraph thread: create the agent with a checkpointer and "
                'invoke it with config={"configurable": {"thread_id": ...}}'
            )
        return self.memory(str(thread_id))

    # state sync -----------------------------------------------------------------------------------
    @staticmethod
    def _new(state: dict) -> tuple[list[AnyMessage], list[AnyMessage]]:
        messages = list(state.get("messages") or [])
        seen = set(state.get("gradmem_ids") or [])
        return messages, [m for m in messages if m.id is None or m.id not in seen]

    @staticmethod
    def _update(messages: list[AnyMessage], new: Sequence[AnyMessage], text_count: int) -> dict[str, Any] | None:
        """State update: drop what is now in memory (the head), remember which messages are stored."""
        if text_count >= len(messages):
            return {"gradmem_ids": [m.id for m in messages]} if new else None
        kept = messages[len(messages) - text_count:]
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *kept], "gradmem_ids": [m.id for m in kept]}

    def _sync(self, state: dict) -> dict[str, Any] | None:
        messages, new = self._new(state)
        if not messages:
            return None
        conv = self._current()
        if new:
            conv.add_messages([to_record(m) for m in new])
        return self._update(messages, new, len(conv.messages))

    async def _async(self, state: dict) -> dict[str, Any] | None:
        messages, new = self._new(state)
        if not messages:
            return None
        conv = self._current()
        if new:
            await conv.aadd_messages([to_record(m) for m in new])
        return self._update(messages, new, len(await conv.aget_messages()))

    # hooks ----------------------------------------------------------------------------------------
    def before_model(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return self._sync(state)

    async def abefore_model(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return await self._async(state)

    def after_agent(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return self._sync(state)

    async def aafter_agent(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return await self._async(state)

    def _with_memory(self, request: ModelRequest) -> ModelRequest:
        if isinstance(request.model, ChatGradMem):
            return request.override(model=request.model.with_memory(self._current()))
        return request

    def wrap_model_call(self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]) -> Any:
        return handler(self._with_memory(request))

    async def awrap_model_call(self, request: ModelRequest,
                               handler: Callable[[ModelRequest], Awaitable[ModelResponse]]) -> Any:
        return await handler(self._with_memory(request))

    # lifecycle ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Finish background compression and close the store if this middleware made it."""
        with self._lock:
            convs, self._convs = list(self._convs.values()), {}
        for conv in convs:
            conv.wait()
        if self._owns_store:
            self._store.close()
