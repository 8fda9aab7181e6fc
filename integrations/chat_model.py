"""`ChatGradMem`: a LangChain chat model over a local GradMem engine that reads session memory as a soft prompt.

Needs only langchain-core. With a session (``config={"configurable": {"session_id": ...}}``, or ``session_id=``
at construction) the model reads that session's memory blocks (GradMemConversationMemory, stored at ``url=`` or
``store=``) in front of the messages it is given; without one it is a plain local chat model.

Tool calling is best-effort: ``bind_tools`` renders the tool schemas into the system prompt and asks for a reply
of the form ``{"tool": name, "args": {...}}``; a reply that parses as such a call (for a bound tool) becomes
``AIMessage.tool_calls``, anything else stays text. Small local models (the default 135M one included) often
don't follow that format; nothing here depends on them doing so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from gradmem_agent.storage import SQLStore, default_url
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from gradmem_agent.compression import model_lock
from gradmem_agent.conversation import GradMemConversationMemory
from gradmem_agent.engine import GradMem
from gradmem_agent.messages import to_message
from gradmem_agent.read import prompt_ids

SESSION_KWARG = "gradmem_session"

_default_engine: GradMem | None = None
_default_lock = threading.Lock()
_engine_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_engine_locks_guard = threading.Lock()


def default_engine() -> GradMem:
    """One default engine per process (GradMem.from_pretrained()), shared by every integration object."""
    global _default_engine
    with _default_lock:
        if _default_engine is None:
            _default_engine = GradMem.from_pretrained()
        return _default_engine


_stores: dict[str, SQLStore] = {}
_stores_lock = threading.Lock()


def shared_store(url: str | None) -> SQLStore:
    """One SQLStore per URL per process (None: storage.default_url()), shared by the integration objects that
    are given a URL, so that e.g. a history made per call does not open a connection pool per call."""
    url = url or default_url()
    with _stores_lock:
        if url not in _stores:
            _stores[url] = SQLStore(url)
        return _stores[url]


def engine_lock(engine: GradMem) -> threading.Lock:
    """Serializes READs on one engine (batch() runs invokes in threads; 2 CPU cores gain nothing from overlap)."""
    with _engine_locks_guard:
        lock = _engine_locks.get(engine)
        if lock is None:
            lock = _engine_locks[engine] = threading.Lock()
        return lock


def message_text(message: BaseMessage) -> str:
    """The text of a LangChain message (text content blocks joined; other blocks dropped)."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "\n".join(parts)


def to_record(message: BaseMessage) -> dict[str, Any]:
    """A LangChain message as the dict GradMemConversationMemory.add_messages checks; never empty."""
    role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}.get(message.type)
    if role is None:
        role = getattr(message, "role", "user") if message.type == "chat" else "user"
    record: dict[str, Any] = {"role": role, "content": message_text(message)}
    if message.type == "ai" and getattr(message, "tool_calls", None):
        record["tool_calls"] = [{"name": c["name"], "args": c["args"], "id": c.get("id")} for c in message.tool_calls]
    if message.type == "tool":
        record["tool_call_id"] = message.tool_call_id
    if not record["content"].strip() and not record.get("tool_calls"):
        record["content"] = "(empty)"
    return record


def chat_turns(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """Messages as the model's chat template takes them (tool calls written out as <tool_call> lines)."""
    return [to_message(to_record(m), f"message {i}").turn() for i, m in enumerate(messages)]


def tools_prompt(tools: Sequence[dict]) -> str:
    lines = ["You can call these tools:"]
    for tool in tools:
        fn = tool.get("function", tool)
        params = json.dumps(fn.get("parameters", {}).get("properties", {}), ensure_ascii=False)
        lines.append(f"- {fn['name']}: {fn.get('description', '')} Arguments: {params}")
    lines.append('To call a tool, reply with only this JSON: {"tool": "<name>", "args": {...}}')
    return "\n".join(lines)


def parse_tool_call(text: str, names: Sequence[str]) -> dict | None:
    """The first `{"tool": name, "args": {...}}` object in text for a known tool name, as a LangChain tool call."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and obj.get("tool") in names:
            args = obj.get("args", obj.get("arguments", {}))
            if isinstance(args, dict):
                return {"name": obj["tool"], "args": args, "id": f"call_{uuid.uuid4().hex[:24]}", "type": "tool_call"}
        start = text.find("{", start + 1)
    return None


class ChatGradMem(BaseChatModel):
    """Chat model over a local GradMem engine, reading a session's memory blocks as a soft prompt.

        model = ChatGradMem(url="sqlite:///chat.db")
        model.invoke("What do I keep?", config={"configurable": {"session_id": "alice"}})

    engine: a GradMem (None: the process-wide default, loaded on first use). session_id / url / store / memory:
    a fixed session (memory: an existing GradMemConversationMemory, which also fixes the engine); a per-call
    ``configurable.session_id`` takes precedence over session_id. memory_options: GradMemConversationMemory
    keyword arguments for the sessions this model opens (MemoryPolicy fields, on_mismatch=...). Sampling:
    max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed (GradMem.generate's options).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any = Field(default=None, exclude=True)
    session_id: str | None = None
    url: str | None = None
    store: Any = Field(default=None, exclude=True)
    memory: Any = Field(default=None, exclude=True)
    memory_options: dict[str, Any] = Field(default_factory=dict)
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None

    _sessions: dict = PrivateAttr(default_factory=dict)
    _sessions_lock: Any = PrivateAttr(default_factory=threading.Lock)

    # identity -------------------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "gradmem"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "max_new_tokens": self.max_new_tokens,
                "temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k,
                "repetition_penalty": self.repetition_penalty, "seed": self.seed}

    @property
    def model_name(self) -> str:
        return self.engine.name if self.engine is not None else "default"

    def get_engine(self) -> GradMem:
        if self.memory is not None:
            return self.memory.engine
        if self.engine is None:
            self.engine = default_engine()
        return self.engine

    def session(self, session_id: str | None = None) -> GradMemConversationMemory | None:
        """The conversation memory read for session_id (None: this model's fixed session, if any)."""
        if session_id is None or (self.memory is not None and session_id == self.memory.session_id):
            if self.memory is not None:
                return self.memory
            session_id = self.session_id
        if session_id is None:
            return None
        with self._sessions_lock:
            conv = self._sessions.get(session_id)
            if conv is None:
                store = self.store if self.store is not None else shared_store(self.url)
                conv = GradMemConversationMemory(session_id, self.get_engine(), store=store, **self.memory_options)
                self._sessions[session_id] = conv
            return conv

    def with_memory(self, memory: GradMemConversationMemory) -> ChatGradMem:
        """A copy of this model that reads `memory` (and uses its engine)."""
        return self.model_copy(update={"memory": memory, "engine": memory.engine, "session_id": memory.session_id})

    # session from config --------------------------------------------------------------------------
    @staticmethod
    def _with_session(config: RunnableConfig | None, kwargs: dict) -> dict:
        if SESSION_KWARG not in kwargs:
            sid = ensure_config(config).get("configurable", {}).get("session_id")
            if sid is not None:
                kwargs = {**kwargs, SESSION_KWARG: str(sid)}
        return kwargs

    def invoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
               stop: list[str] | None = None, **kwargs: Any) -> AIMessage:
        return super().invoke(input, config, stop=stop, **self._with_session(config, kwargs))

    async def ainvoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
                      stop: list[str] | None = None, **kwargs: Any) -> AIMessage:
        return await super().ainvoke(input, config, stop=stop, **self._with_session(config, kwargs))

    def stream(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
               stop: list[str] | None = None, **kwargs: Any) -> Iterator[AIMessageChunk]:
        yield from super().stream(input, config, stop=stop, **self._with_session(config, kwargs))

    async def astream(self, input: LanguageModelInput, config: RunnableConfig | None = None, *,
                      stop: list[str] | None = None, **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        async for chunk in super().astream(input, config, stop=stop, **self._with_session(config, kwargs)):
            yield chunk

    # tools ----------------------------------------------------------------------------------------
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Best-effort tools: schemas go into the system prompt, a `{"tool": ..., "args": ...}` reply is parsed."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    # READ -----------------------------------------------------------------------------------------
    def _prepare(self, messages: list[BaseMessage], kwargs: dict, memory_blocks: list) -> dict:
        engine = self.get_engine()
        turns = chat_turns(messages)
        tools = kwargs.get("tools") or []
        if tools:
            extra = tools_prompt(tools)
            if turns and turns[0]["role"] == "system":
                turns[0] = {"role": "system", "content": f"{turns[0]['content']}\n\n{extra}"}
            else:
                turns.insert(0, {"role": "system", "content": extra})
        sampling = {"max_new_tokens": kwargs.get("max_new_tokens", self.max_new_tokens),
                    "temperature": kwargs.get("temperature", self.temperature), "top_p": self.top_p,
                    "top_k": self.top_k, "repetition_penalty": self.repetition_penalty, "seed": self.seed}
        return {"engine": engine, "turns": turns, "memory": [b.vectors for b in memory_blocks], "sampling": sampling,
                "tools": [t.get("function", t)["name"] for t in tools], "blocks": len(memory_blocks)}

    def _blocks(self, kwargs: dict) -> tuple[GradMemConversationMemory | None, list]:
        conv = self.session(kwargs.get(SESSION_KWARG))
        return conv, (conv.read_context().blocks if conv is not None else [])

    async def _ablocks(self, kwargs: dict) -> tuple[GradMemConversationMemory | None, list]:
        conv = await asyncio.to_thread(self.session, kwargs.get(SESSION_KWARG))
        return conv, ((await conv.aread_context()).blocks if conv is not None else [])

    @contextlib.contextmanager
    def _reading(self, engine: GradMem, conv: GradMemConversationMemory | None) -> Iterator[None]:
        # conv._reading pauses that session's background WRITE steps while generating.
        reading = conv._reading() if conv is not None else (model_lock(engine) or contextlib.nullcontext())
        with engine_lock(engine), reading:
            yield

    def _run(self, prep: dict, conv: GradMemConversationMemory | None) -> str:
        with self._reading(prep["engine"], conv):
            return prep["engine"].generate(prep["turns"], prep["memory"] or None, **prep["sampling"])

    def _message(self, text: str, prep: dict, conv: GradMemConversationMemory | None,
                 chunk: bool = False) -> AIMessage | AIMessageChunk:
        engine = prep["engine"]
        prompt = len(prompt_ids(engine.tokenizer, prep["turns"]))
        vectors = sum(int(m.shape[0]) for m in prep["memory"])
        out = engine.count_tokens(text) if text else 0
        usage = UsageMetadata(input_tokens=prompt + vectors, output_tokens=out, total_tokens=prompt + vectors + out)
        meta = {"model_name": engine.name, "model_provider": "gradmem", "session_id": conv.session_id if conv else None,
                "memory_blocks": prep["blocks"], "memory_vectors": vectors, "prompt_tokens": prompt,
                "finish_reason": "stop"}
        call = parse_tool_call(text, prep["tools"]) if prep["tools"] else None
        content = "" if call else text
        if chunk:
            tool_chunks = ([{"name": call["name"], "args": json.dumps(call["args"]), "id": call["id"], "index": 0,
                             "type": "tool_call_chunk"}] if call else [])
            return AIMessageChunk(content=content, usage_metadata=usage, response_metadata=meta,
                                  tool_call_chunks=tool_chunks, chunk_position="last")
        return AIMessage(content=content, tool_calls=[call] if call else [], usage_metadata=usage,
                         response_metadata=meta)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        conv, blocks = self._blocks(kwargs)
        prep = self._prepare(messages, kwargs, blocks)
        text = _cut(self._run(prep, conv), stop)
        return ChatResult(generations=[ChatGeneration(message=self._message(text, prep, conv))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        conv, blocks = await self._ablocks(kwargs)
        prep = await asyncio.to_thread(self._prepare, messages, kwargs, blocks)
        text = _cut(await asyncio.to_thread(self._run, prep, conv), stop)
        return ChatResult(generations=[ChatGeneration(message=self._message(text, prep, conv))])

    def _pieces(self, prep: dict, conv: GradMemConversationMemory | None) -> Iterator[str]:
        with self._reading(prep["engine"], conv):
            yield from prep["engine"].stream(prep["turns"], prep["memory"] or None, **prep["sampling"])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        conv, blocks = self._blocks(kwargs)
        prep = self._prepare(messages, kwargs, blocks)
        on_token = run_manager.on_llm_new_token if run_manager is not None else None
        yield from _chunks(self, prep, conv, self._pieces(prep, conv), stop, on_token)

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        conv, blocks = await self._ablocks(kwargs)
        prep = await asyncio.to_thread(self._prepare, messages, kwargs, blocks)
        pieces = self._pieces(prep, conv)
        sync_chunks = _chunks(self, prep, conv, pieces, stop, None)
        try:
            while (chunk := await asyncio.to_thread(next, sync_chunks, None)) is not None:
                if run_manager is not None and chunk.text:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        finally:
            await asyncio.to_thread(sync_chunks.close)


def _cut(text: str, stop: list[str] | None) -> str:
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    return text


def _chunks(model: ChatGradMem, prep: dict, conv, pieces: Iterator[str], stop: list[str] | None,
            on_token: Callable | None) -> Iterator[ChatGenerationChunk]:
    """Text chunks as decoded, then a last chunk with usage (and the tool call, if any). With tools bound the
    reply is buffered, since it may turn out to be a tool call rather than text."""
    text = ""
    try:
        for piece in pieces:
            if stop and any(s in text + piece for s in stop if s):
                piece = _cut(text + piece, stop)[len(text):]
                text += piece
                if piece and not prep["tools"]:
                    yield _text_chunk(piece, on_token)
                break
            text += piece
            if not prep["tools"]:
                yield _text_chunk(piece, on_token)
    finally:
        pieces.close()
    last = model._message(text.strip() if prep["tools"] else "", prep, conv, chunk=True)
    if not prep["tools"]:  # usage counts the whole reply
        usage = model._message(text.strip(), prep, conv).usage_metadata
        last = AIMessageChunk(content="", usage_metadata=usage, response_metadata=last.response_metadata,
                              chunk_position="last")
    yield ChatGenerationChunk(message=last)


def _text_chunk(piece: str, on_token: Callable | None) -> ChatGenerationChunk:
    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
    if on_token is not None:
        on_token(piece, chunk=chunk)
    return chunk
