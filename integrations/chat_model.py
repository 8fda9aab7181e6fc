"""`ChatGradMem`: a LangChain chat model over a local GradMem engine that reads session memory as a soft prompt.

Needs only langchain-core. With a session (``config={"configurable": {"session_id": ...}}``, or ``session_id=``
at construction) the model reads that session's memory blocks (GradMemConversationMemory, stored at ``url=`` or
``store=``) in front of the messages it is given; without one it is a plain local chat model.

Tools (integrations/tools.py): ``bind_tools`` lists the tool schemas in the system prompt in the model's own
``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` format; such calls in the reply become
``AIMessage.tool_calls``. ``tool_choice`` (a tool's name, "any" or "required") forces a call by prefilling the
reply. Streaming lets text through as it is decoded while the reply cannot be a tool call.
``with_structured_output`` puts the JSON schema into the prompt, prefills ``{`` and validates the reply with
pydantic; a reply that does not parse raises OutputParserException.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from gradmem_agent.storage import SQLStore, default_url
from gradmem_agent.storage.validation import check_session_id
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, ensure_config, get_config_list
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from gradmem_agent.compression import model_lock
from gradmem_agent.conversation import GradMemConversationMemory
from gradmem_agent.engine import GradMem
from gradmem_agent.messages import to_message
from gradmem_agent.policy import MemoryPolicy
from gradmem_agent.read import SamplingConfig, prompt_ids

from . import decoding, structured
from .tools import (
    TOOL_CLOSE,
    ToolStream,
    call_prefix,
    forced_calls,
    parse_tool_calls,
    resolve_tool_choice,
    tool_names,
    tools_prompt,
)

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


# Replies batch() decoded together, taken in order by the generate() it then runs for callbacks and results.
_prebatched: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("gradmem_prebatched", default=None)
SAMPLING_FIELDS = tuple(SamplingConfig.__dataclass_fields__)
MEMORY_OPTIONS = (*MemoryPolicy.__dataclass_fields__, "policy", "system_prompt", "on_mismatch", "write_progress")


def check_memory_options(options: dict[str, Any]) -> None:
    """GradMemConversationMemory keyword arguments checked before any session is opened (ValueError)."""
    if unknown := sorted(set(options) - set(MEMORY_OPTIONS)):
        raise ValueError(f"unknown memory options {unknown}; known: {sorted(MEMORY_OPTIONS)}")
    policy = options.get("policy")
    if policy is not None and not isinstance(policy, MemoryPolicy):
        raise ValueError(f"policy must be a MemoryPolicy, got {type(policy).__name__}")
    MemoryPolicy(**{k: v for k, v in options.items() if k in MemoryPolicy.__dataclass_fields__})


class ChatGradMem(BaseChatModel):
    """Chat model over a local GradMem engine, reading a session's memory blocks as a soft prompt.

        model = ChatGradMem(url="sqlite:///chat.db")
        model.invoke("What do I keep?", config={"configurable": {"session_id": "alice"}})

    Every argument is checked at construction: an unknown name or a bad value raises a ValueError (pydantic's
    ValidationError) or TypeError there, not at the first call.

    Args:
        engine: a GradMem (None: the process-wide default, loaded on first use).
        session_id: a fixed session whose memory every call reads; a per-call ``configurable.session_id``
            takes precedence.
        url: SQLAlchemy URL of the sessions' store (None: storage.default_url()); or pass `store`, not both.
        store: an open SQLStore.
        memory: an existing GradMemConversationMemory to read (it also fixes the engine and the session).
        memory_options: GradMemConversationMemory keyword arguments for the sessions this model opens
            (MemoryPolicy fields such as recent_tokens, or policy, system_prompt, on_mismatch).
        max_new_tokens: the longest reply, in tokens.
        temperature: 0 decodes greedily; above 0 samples.
        top_p: nucleus sampling threshold, in (0, 1].
        top_k: sample among the k most likely tokens (0: no limit).
        repetition_penalty: above 1 discourages repetition.
        seed: seeds the sampler.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

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

    @model_validator(mode="after")
    def _check(self) -> ChatGradMem:
        self.sampling  # noqa: B018 - SamplingConfig checks the values
        if self.url is not None and self.store is not None:
            raise ValueError("pass url or store, not both")
        if self.engine is not None and not isinstance(self.engine, GradMem):
            raise ValueError(f"engine must be a GradMem, got {type(self.engine).__name__}")
        if self.store is not None and not isinstance(self.store, SQLStore):
            raise ValueError(f"store must be an SQLStore, got {type(self.store).__name__}")
        if self.memory is not None and not isinstance(self.memory, GradMemConversationMemory):
            raise ValueError(f"memory must be a GradMemConversationMemory, got {type(self.memory).__name__}")
        if self.session_id is not None:
            check_session_id(self.session_id)
        check_memory_options(self.memory_options)
        return self

    # identity -------------------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "gradmem"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, **{f: getattr(self, f) for f in SAMPLING_FIELDS}}

    @property
    def model_name(self) -> str:
        return self.engine.name if self.engine is not None else "default"

    @property
    def sampling(self) -> SamplingConfig:
        return SamplingConfig(**{f: getattr(self, f) for f in SAMPLING_FIELDS})

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

    # tokens ---------------------------------------------------------------------------------------
    def get_num_tokens(self, text: str) -> int:
        """Tokens of `text` in the model's own tokenizer."""
        return self.get_engine().count_tokens(text)

    def get_token_ids(self, text: str) -> list[int]:
        return list(self.get_engine().tokenizer(text, add_special_tokens=False)["input_ids"])

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence | None = None) -> int:
        """Prompt tokens of `messages` as the chat template renders them (with the tools' prompt, if any)."""
        turns = chat_turns(messages)
        if tools:
            turns = _with_system(turns, tools_prompt([convert_to_openai_tool(t) for t in tools]))
        return len(prompt_ids(self.get_engine().tokenizer, turns))

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

    # tools, structured output ---------------------------------------------------------------------
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Tools listed in the system prompt in the model's <tool_call> format; tool_choice: None/"auto",
        "none", "any"/"required" or a tool's name (forced by prefilling the reply). Checked here."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        resolve_tool_choice(tool_choice, tool_names(formatted))
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def with_structured_output(self, schema: Any = None, *, include_raw: bool = False,
                               method: str = "json_schema", **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        """Replies parsed into `schema` (a pydantic class, a JSON schema dict, a TypedDict or a function).

        The schema goes into the system prompt and the reply is prefilled with ``{``; the first JSON object of
        the reply is validated (pydantic for a pydantic class, required keys for a dict schema). A reply that
        does not parse raises OutputParserException (include_raw=True returns it as "parsing_error" instead).
        method: "json_schema" or "function_calling" (the same here) or "json_mode" (any JSON object)."""
        if kwargs:
            raise TypeError(f"unexpected arguments {sorted(kwargs)}")
        if method not in ("json_schema", "function_calling", "json_mode"):
            raise ValueError(f"method must be 'json_schema', 'function_calling' or 'json_mode', got {method!r}")
        if schema is None and method != "json_mode":
            raise ValueError("schema is required unless method='json_mode'")
        json_schema = structured.json_schema(schema) if schema is not None else None
        bound = self.bind(response_format=json_schema or {"type": "object"})
        parse = functools.partial(structured.parse, schema=schema, json_schema=json_schema)
        if not include_raw:
            return bound | RunnableLambda(parse)
        return bound | RunnableLambda(functools.partial(structured.parse_with_raw, parse=parse))

    # batch ----------------------------------------------------------------------------------------
    def _batchable(self, inputs: list, config: Any, kwargs: dict) -> bool:
        """Stateless prompts (no session, tools, schema or stop) under one config decode together."""
        return (len(inputs) > 1 and not kwargs and self.session_id is None and self.memory is None
                and not isinstance(config, list) and not self._with_session(config, {}))

    def batch(self, inputs: list[LanguageModelInput], config: RunnableConfig | list[RunnableConfig] | None = None,
              *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """Stateless prompts are decoded together in one batch (faster than one by one: one pass over the
        weights per token serves all); callbacks see one run per prompt as usual. Others go one at a time, in
        order, since one engine decodes one reply at a time anyway."""
        configs = get_config_list(config, len(inputs))
        if not self._batchable(inputs, config, kwargs):
            return super().batch(inputs, [{**c, "max_concurrency": 1} for c in configs],
                                 return_exceptions=return_exceptions, **kwargs)
        prompts = [self._convert_input(i).to_messages() for i in inputs]
        engine = self.get_engine()
        with self._reading(engine, None):
            texts = decoding.generate_batch(engine, [chat_turns(p) for p in prompts], self.sampling)
        token = _prebatched.set(list(texts))
        try:
            one = configs[0]
            result = self.generate(prompts, callbacks=one.get("callbacks"), tags=one.get("tags"),
                                   metadata=one.get("metadata"), run_name=one.get("run_name"))
        finally:
            _prebatched.reset(token)
        return [g[0].message for g in result.generations]

    async def abatch(self, inputs: list[LanguageModelInput],
                     config: RunnableConfig | list[RunnableConfig] | None = None, *, return_exceptions: bool = False,
                     **kwargs: Any) -> list[Any]:
        return await asyncio.to_thread(self.batch, inputs, config, return_exceptions=return_exceptions, **kwargs)

    # READ -----------------------------------------------------------------------------------------
    def _prepare(self, messages: list[BaseMessage], kwargs: dict, memory_blocks: list) -> dict:
        engine = self.get_engine()
        turns = chat_turns(messages)
        tools = kwargs.get("tools") or []
        if kwargs.get("tool_choice") == "none":
            tools = []
        names = tool_names(tools)
        forced = resolve_tool_choice(kwargs.get("tool_choice"), names) if tools else None
        response_format = kwargs.get("response_format")
        if tools:
            turns = _with_system(turns, tools_prompt(tools))
        if response_format:
            turns = _with_system(turns, structured.schema_prompt(response_format))
        sampling = SamplingConfig.of(self.sampling, **{k: kwargs[k] for k in SAMPLING_FIELDS if k in kwargs})
        prefix = call_prefix(forced) or ("{" if response_format else "")
        return {"engine": engine, "turns": turns, "memory": [b.vectors for b in memory_blocks], "sampling": sampling,
                "names": names, "forced": forced, "prefix": prefix, "blocks": len(memory_blocks),
                "stop": [TOOL_CLOSE] if forced else []}  # a forced reply ends with its call

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
        prebatched = _prebatched.get()
        if prebatched:  # batch() decoded this prompt already
            return prebatched.pop(0)
        with self._reading(prep["engine"], conv):
            return decoding.generate(prep["engine"], prep["turns"], prep["memory"] or None, prep["sampling"],
                                     prep["prefix"], prep["stop"])

    def _usage(self, text: str, prep: dict, conv: GradMemConversationMemory | None) -> tuple[UsageMetadata, dict]:
        engine = prep["engine"]
        prompt = len(prompt_ids(engine.tokenizer, prep["turns"]))
        vectors = sum(int(m.shape[0]) for m in prep["memory"])
        out = engine.count_tokens(text) if text else 0
        usage = UsageMetadata(input_tokens=prompt + vectors, output_tokens=out, total_tokens=prompt + vectors + out)
        meta = {"model_name": engine.name, "model_provider": "gradmem", "session_id": conv.session_id if conv else None,
                "memory_blocks": prep["blocks"], "memory_vectors": vectors, "prompt_tokens": prompt,
                "finish_reason": "stop"}
        return usage, meta

    def _message(self, text: str, prep: dict, conv: GradMemConversationMemory | None) -> AIMessage:
        usage, meta = self._usage(text, prep, conv)
        content, calls = _split_calls(text, prep)
        if calls:
            meta["finish_reason"] = "tool_calls"
        return AIMessage(content=content, tool_calls=calls, usage_metadata=usage, response_metadata=meta)

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
            yield from decoding.stream(prep["engine"], prep["turns"], prep["memory"] or None, prep["sampling"],
                                       prep["prefix"], stop=prep["stop"])

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

    # lifecycle ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Finish the background compression of the sessions this model opened and stop their workers."""
        with self._sessions_lock:
            convs, self._sessions = list(self._sessions.values()), {}
        for conv in convs:
            conv.close()

    async def aclose(self) -> None:
        with self._sessions_lock:
            convs, self._sessions = list(self._sessions.values()), {}
        for conv in convs:
            await conv.aclose()


def _with_system(turns: list[dict[str, str]], extra: str) -> list[dict[str, str]]:
    if turns and turns[0]["role"] == "system":
        return [{"role": "system", "content": f"{turns[0]['content']}\n\n{extra}"}, *turns[1:]]
    return [{"role": "system", "content": extra}, *turns]


def _split_calls(text: str, prep: dict) -> tuple[str, list[dict]]:
    if prep["forced"]:
        return forced_calls(text, prep["forced"], prep["names"])
    if prep["names"]:
        return parse_tool_calls(text, prep["names"])
    return text, []


def _cut(text: str, stop: list[str] | None) -> str:
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    return text


def _chunks(model: ChatGradMem, prep: dict, conv, pieces: Iterator[str], stop: list[str] | None,
            on_token: Callable | None) -> Iterator[ChatGenerationChunk]:
    """Text chunks as decoded, then a last chunk with usage and the tool calls, if any. With tools bound, text
    is let through while the reply cannot be a tool call (ToolStream); a forced call is not streamed."""
    splitter = ToolStream(prep["names"]) if prep["names"] and not prep["forced"] else None
    text = ""
    try:
        for piece in pieces:
            done = bool(stop) and any(s in text + piece for s in stop if s)
            if done:
                piece = _cut(text + piece, stop)[len(text):]
            text += piece
            out = "" if prep["forced"] else splitter.feed(piece) if splitter is not None else piece
            if out:
                yield _text_chunk(out, on_token)
            if done:
                break
    finally:
        pieces.close()
    usage, meta = model._usage(text.strip(), prep, conv)
    if prep["forced"]:
        rest, calls = forced_calls(text, prep["forced"], prep["names"])
    elif splitter is not None:
        rest, calls = splitter.finish()
    else:
        rest, calls = "", []
    if calls:
        meta["finish_reason"] = "tool_calls"
    tool_chunks = [{"name": c["name"], "args": json.dumps(c["args"], ensure_ascii=False), "id": c["id"], "index": i,
                    "type": "tool_call_chunk"} for i, c in enumerate(calls)]
    yield ChatGenerationChunk(message=AIMessageChunk(content=rest, usage_metadata=usage, response_metadata=meta,
                                                     tool_call_chunks=tool_chunks, chunk_position="last"))


def _text_chunk(piece: str, on_token: Callable | None) -> ChatGenerationChunk:
    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
    if on_token is not None:
        on_token(piece, chunk=chunk)
    return chunk
