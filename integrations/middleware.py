"""`GradMemMiddleware`: LangChain 1.x `create_agent` middleware that keeps an agent's window small and its old
messages reachable, for a local ChatGradMem or any other chat model.

Needs the ``langchain`` extra (``pip install gradmem-agent[langchain]``: langchain, langgraph, checkpointers).

Before each model call (and when the agent finishes) the middleware appends the state's new messages to the
transcript of the LangGraph thread (``configurable.thread_id``) in SQL, and once the messages in the state pass
``trigger`` tokens it keeps only the newest ``keep`` of them (whole messages; a tool call and its results are
never split), rewriting the state as SummarizationMiddleware does (``RemoveMessage(REMOVE_ALL_MESSAGES)`` + the
kept ones). So the window never holds more than ``trigger`` tokens, except a single newest message larger
than that. What leaves the window goes where the agent's model can use it:

- **ChatGradMem** (reads memory vectors): it is written into GradMem memory blocks before the model call, and
  the model reads them as a soft prompt. The window is counted in that model's tokens.
- **any other chat model** (a hosted one, or a stand-in such as GenericFakeChatModel): no vectors are written
  (no model loads; ``write_memory=True`` writes them anyway, for a ChatGradMem used later). For each model call
  the old turns that share the most words with the user's last message (the database's full-text search, up
  to ``recall_tokens``) are added as text to the system message, so they are recalled rather than dropped. The
  window is counted with ``token_counter`` (default: tiktoken for OpenAI-style models, else langchain_core's
  count_tokens_approximately).

The transcript and blocks live in SQL (``url=``/``store=``), the state in the agent's checkpointer, so both
survive restarts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal

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
from gradmem_agent.storage.validation import check_session_id
from langchain_core.messages import AnyMessage, HumanMessage, RemoveMessage, SystemMessage, ToolMessage
from typing_extensions import NotRequired

from gradmem_agent.conversation import GradMemConversationMemory
from gradmem_agent.engine import GradMem
from gradmem_agent.messages import to_langchain, to_message
from gradmem_agent.options import check_count
from gradmem_agent.policy import MemoryPolicy
from gradmem_agent.recall import RECALL_HITS, turn_size

from .chat_model import ChatGradMem, default_engine, message_text, to_record
from .token_counting import TokenCounter, counter_for

Size = tuple[Literal["tokens", "messages"], int]
RECALL_HEADER = "Earlier in this conversation (recalled from older turns, oldest first):"


class GradMemState(AgentState):
    """Agent state plus the ids of the state messages already stored in GradMem (checkpointed, private)."""

    gradmem_ids: NotRequired[Annotated[list[str], PrivateStateAttr]]


def _size(value: Any, name: str) -> Size:
    if (not isinstance(value, tuple) or len(value) != 2 or value[0] not in ("tokens", "messages")
            or isinstance(value[1], bool) or not isinstance(value[1], int) or value[1] < 1):
        raise ValueError(f'{name} must be ("tokens", n) or ("messages", n) with n >= 1, got {value!r}')
    return value


class GradMemMiddleware(AgentMiddleware):
    """Keep the agent's recent messages as text and the older ones in GradMem memory, per LangGraph thread
    (see the module docstring for what each kind of model gets).

    Every argument is checked here, not at the first invoke.

    Args:
        engine: the GradMem that writes memory (None: the process-wide default shared with ChatGradMem, loaded
            only when vectors are written; pass the agent model's engine if it has its own).
        url: SQLAlchemy URL of the transcripts and blocks (None: storage.default_url()); or `store`, not both.
        store: an open SQLStore (not closed by close()).
        session_prefix: session id = session_prefix + thread id.
        trigger: when the window is cut: ("tokens", n) once the state's messages pass n tokens, or
            ("messages", n) once they pass n messages. The window never holds more (a single newest message
            larger than that aside).
        keep: what the window keeps when it is cut, newest first: ("tokens", n) or ("messages", n)
            (default: half the trigger). Cutting to less than the trigger means fewer, larger WRITEs.
        token_counter: counts a list of messages for a model that is not a ChatGradMem (None: tiktoken for an
            OpenAI-style model, else count_tokens_approximately). A ChatGradMem's window is counted in its own
            tokenizer.
        write_memory: write memory vectors for the messages that leave the window: None (only when the agent's
            model is a ChatGradMem, the only model that reads them), True or False.
        recall_tokens: for a model that cannot read vectors, the most tokens of old turns recalled as text for
            the user's last message (0: none).
        system_prompt: stored with each conversation.
        segment_tokens: the most text one memory block holds (None: the adapter's trained size).
        memory_tokens: vectors per block (None: the adapter's trained size).
        max_blocks: blocks per thread before the oldest are consolidated.
        read_blocks: the most blocks a ChatGradMem reads per call (None: all).
        steps: WRITE steps per block (None: the adapter's or the engine's).
        lr: WRITE learning rate (None: the adapter's or the engine's).
        recent_tokens: the same as trigger=("tokens", recent_tokens) (the name GradMemConversationMemory uses).
    """

    state_schema = GradMemState

    def __init__(self, engine: GradMem | None = None, *, url: str | None = None, store: SQLStore | None = None,
                 session_prefix: str = "", trigger: Size | None = None, keep: Size | None = None,
                 token_counter: TokenCounter | None = None, write_memory: bool | None = None,
                 recall_tokens: int = MemoryPolicy.recall_tokens, system_prompt: str | None = None,
                 segment_tokens: int | None = None, memory_tokens: int | None = None,
                 max_blocks: int = MemoryPolicy.max_blocks, read_blocks: int | None = MemoryPolicy.read_blocks,
                 steps: int | None = None, lr: float | None = None, recent_tokens: int | None = None) -> None:
        super().__init__()
        if url is not None and store is not None:
            raise ValueError("pass url or store, not both")
        if engine is not None and not isinstance(engine, GradMem):
            raise TypeError(f"engine must be a GradMem, got {type(engine).__name__}")
        if store is not None and not isinstance(store, SQLStore):
            raise TypeError(f"store must be an SQLStore, got {type(store).__name__}")
        if not isinstance(session_prefix, str):
            raise TypeError(f"session_prefix must be a str, got {type(session_prefix).__name__}")
        if token_counter is not None and not callable(token_counter):
            raise TypeError("token_counter must be a callable taking a list of messages")
        if write_memory not in (None, True, False):
            raise TypeError(f"write_memory must be None, True or False, got {write_memory!r}")
        if recent_tokens is not None and trigger is not None:
            raise ValueError("pass trigger or recent_tokens, not both")
        self.trigger = _size(trigger or ("tokens", check_count(recent_tokens or 512, "recent_tokens", 1)), "trigger")
        self.keep = _size(keep or (self.trigger[0], max(1, self.trigger[1] // 2)), "keep")
        if self.keep[0] == self.trigger[0] and self.keep[1] > self.trigger[1]:
            raise ValueError(f"keep {self.keep} must not exceed trigger {self.trigger}")
        self.recall_tokens = check_count(recall_tokens, "recall_tokens", 0)
        # The conversations' own policy; their window is this middleware's business, so theirs never compresses.
        self.policy = MemoryPolicy(recent_tokens=1 << 30, segment_tokens=segment_tokens, memory_tokens=memory_tokens,
                                   max_blocks=max_blocks, read_blocks=read_blocks, recall_tokens=0,
                                   min_keep_messages=0, steps=steps, lr=lr, mode="inline")
        self.system_prompt = system_prompt
        self.token_counter = token_counter
        self.write_memory = write_memory
        self._engine = engine
        self._store = store if store is not None else SQLStore(url or default_url())
        self._owns_store = store is None
        self.session_prefix = session_prefix
        self._reads_vectors: bool | None = None  # learnt from the model at the first model call
        self._model: Any = None
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
        session_id = check_session_id(f"{self.session_prefix}{thread_id}")
        with self._lock:
            conv = self._convs.get(session_id)
            if conv is None:
                conv = GradMemConversationMemory(session_id, self.engine, store=self._store, policy=self.policy,
                                                 system_prompt=self.system_prompt)
                self._convs[session_id] = conv
            return conv

    @staticmethod
    def _thread() -> str:
        """The LangGraph thread id of the run (read in the run's own context, before any worker thread)."""
        thread_id = get_config().get("configurable", {}).get("thread_id")
        if thread_id is None:
            raise ValueError(
                "GradMemMiddleware keys memory by LangGraph thread: create the agent with a checkpointer and "
                'invoke it with config={"configurable": {"thread_id": ...}}'
            )
        return str(thread_id)

    def _session_id(self, thread: str) -> str:
        return check_session_id(f"{self.session_prefix}{thread}")

    @property
    def _writes(self) -> bool:
        return self.write_memory if self.write_memory is not None else bool(self._reads_vectors)

    # the window -----------------------------------------------------------------------------------
    def _sizes(self, messages: Sequence[AnyMessage], thread: str) -> list[int]:
        if self._reads_vectors and self.token_counter is None:
            comp = self.memory(thread).compressor
            return [turn_size(to_message(to_record(m)), comp.count, comp.tokenizer) for m in messages]
        counter = self.token_counter or (counter_for(self._model) if self._model is not None else None)
        if counter is None:
            from langchain_core.messages.utils import count_tokens_approximately as counter
        return [int(counter([m])) for m in messages]

    def _start(self, messages: Sequence[AnyMessage], thread: str) -> int:
        """Index of the first message the window keeps (0: all of them)."""
        kind, limit = self.trigger
        sizes = self._sizes(messages, thread) if "tokens" in (kind, self.keep[0]) else [1] * len(messages)
        if (sum(sizes) if kind == "tokens" else len(messages)) <= limit:
            return 0
        kind, limit = self.keep
        total, start = 0, len(messages)
        for i in range(len(messages) - 1, -1, -1):
            total += sizes[i] if kind == "tokens" else 1
            if total > limit and start < len(messages):
                break
            start = i
        while start < len(messages) and isinstance(messages[start], ToolMessage):
            start += 1  # results stay with their call: both leave the window
        if start == len(messages):  # the newest message is a tool result: keep its call and all its results
            start = len(messages) - 1
            while start > 0 and isinstance(messages[start], ToolMessage):
                start -= 1
        return start

    @staticmethod
    def _new(state: dict) -> tuple[list[AnyMessage], list[AnyMessage]]:
        messages = list(state.get("messages") or [])
        seen = set(state.get("gradmem_ids") or [])
        return messages, [m for m in messages if m.id is None or m.id not in seen]

    def _sync(self, state: dict, thread: str) -> dict[str, Any] | None:
        messages, new = self._new(state)
        if not messages:
            return None
        if new:
            records = [to_message(to_record(m)) for m in new]
            self.policy.check_sizes([m.content for m in records])  # refused before anything is stored
            self._store.append_messages(self._session_id(thread), records)
        start = self._start(messages, thread)
        if self._writes:
            self._write(len(messages) - start, thread)
        if start == 0:
            return {"gradmem_ids": [m.id for m in messages]} if new else None
        kept = messages[start:]
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *kept], "gradmem_ids": [m.id for m in kept]}

    def _write(self, keep_last: int, thread: str) -> None:
        """Write everything but the last `keep_last` messages of the thread into memory blocks."""
        conv = self.memory(thread)
        if len(conv.messages) > keep_last:
            conv.compress(keep_last=keep_last)

    # hooks ----------------------------------------------------------------------------------------
    def before_model(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return self._sync(state, self._thread())

    async def abefore_model(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._sync, state, self._thread())

    def after_agent(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return self._sync(state, self._thread())

    async def aafter_agent(self, state: GradMemState, runtime: Any) -> dict[str, Any] | None:
        return await self.abefore_model(state, runtime)

    def _prepare(self, request: ModelRequest, thread: str) -> ModelRequest:
        first = self._reads_vectors is None
        self._model = request.model
        self._reads_vectors = isinstance(request.model, ChatGradMem)
        if first and self._writes:  # the first before_model could not know that vectors are read
            self._write(len(request.messages), thread)
        if self._reads_vectors and self._writes:
            return request.override(model=request.model.with_memory(self.memory(thread)))
        return self._with_recall(request, thread)  # (a ChatGradMem with write_memory=False too)

    def _with_recall(self, request: ModelRequest, thread: str) -> ModelRequest:
        """The old turns that share the most words with the user's last message, as text in the system message."""
        question = next((message_text(m) for m in reversed(request.messages) if isinstance(m, HumanMessage)), "")
        if not self.recall_tokens or not question.strip():
            return request
        session_id = self._session_id(thread)
        before = self._store.last_seq(session_id) - len(request.messages)
        if before < 0:
            return request
        hits = self._store.search_messages(session_id, question, max_seq=before, limit=RECALL_HITS)
        chosen, used = [], 0
        for hit in hits:
            size = self._sizes([to_langchain(hit.message)], thread)[0]
            if used + size <= self.recall_tokens:
                chosen.append(hit.message)
                used += size
        if not chosen:
            return request
        lines = [RECALL_HEADER] + [f"{m.role}: {m.turn()['content']}" for m in sorted(chosen, key=lambda m: m.seq)]
        old = request.system_message.text if request.system_message is not None else ""
        system = "\n\n".join(filter(None, [old, "\n".join(lines)]))
        return request.override(system_message=SystemMessage(system))

    def wrap_model_call(self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]) -> Any:
        return handler(self._prepare(request, self._thread()))

    async def awrap_model_call(self, request: ModelRequest,
                               handler: Callable[[ModelRequest], Awaitable[ModelResponse]]) -> Any:
        return await handler(await asyncio.to_thread(self._prepare, request, self._thread()))

    # lifecycle ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the threads' conversations and close the store if this middleware made it."""
        with self._lock:
            convs, self._convs = list(self._convs.values()), {}
        for conv in convs:
            conv.close()
        if self._owns_store:
            self._store.close()

    async def aclose(self) -> None:
        with self._lock:
            convs, self._convs = list(self._convs.values()), {}
        for conv in convs:
            await conv.aclose()
        if self._owns_store:
            await self._store.aclose()

