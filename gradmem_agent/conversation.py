"""GradMemConversationMemory: chat memory for local LLMs with old turns compressed into memory vectors.

Recent turns stay text; once the turns outside the recent window exceed a segment, the oldest whole turns
are written (GradMem WRITE) into memory blocks; READ feeds [blocks; chat template(system, text turns,
question)]. Everything lives in SQL: every message commits as it is added, before any compression, and the
full transcript is kept, so memory can always be rebuilt.

    conv = GradMemConversationMemory("alice", url="sqlite:///chat.db")
    conv.respond("Hi, I'm Alice and I keep bees.")
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import torch

from . import effects
from .background import ReadGate, Worker
from .compression import CompressionFailedError, Compressor, model_lock, resolve_segment_tokens
from .effects import Effects, cpu, db
from .engine import GradMem
from .layout import read_messages
from .messages import to_langchain, to_message, to_messages
from .options import Mode, OnMismatch, check_count, check_option
from .policy import MemoryPolicy, turn_tokens
from .read import SamplingConfig, prompt_ids
from .recall import RECALL_HITS, ReadPlan, cut_to, plan_read, recent_window
from .stats import ConversationStats, session_stats
from .storage import MemoryBlock, Message, SQLStore, default_url
from .storage.validation import check_session_id

DEFAULT_REPLY_TOKENS = SamplingConfig().max_new_tokens


class _FromPolicy:
    """The default of GradMemConversationMemory's memory arguments: the `policy` argument's value."""

    def __repr__(self) -> str:
        return "<the policy's value>"


FROM_POLICY: Any = _FromPolicy()


@dataclass(frozen=True)
class ReadContext:
    """What READ feeds the engine: memory blocks (oldest first) as a soft prompt, then chat messages."""

    blocks: list[MemoryBlock]
    recalled: list[Message]  # old turns quoted for the question, oldest first
    recent: list[Message]  # the recent window
    messages: list[dict[str, str]]  # system prompt?, recalled turns, recent turns, question?
    compressed_upto: int

    @property
    def memory(self) -> list[torch.Tensor]:
        return [b.vectors for b in self.blocks]

    @property
    def vectors(self) -> int:
        return sum(b.vector_count for b in self.blocks)


class GradMemConversationMemory:
    """One chat session's memory, stored in SQL (see the module docstring).

    Async twins: aadd_messages / aadd_user_message / aadd_ai_message / aadd_message, arespond, astream,
    acompress, arebuild, aread_context (abuild_inputs), aget_messages, aget_transcript, aget_memory_blocks,
    astats, aclear, aclose, and await_compression for wait(). They use the store's async methods and run the
    model in a thread; background compression always runs on this object's own worker thread.

    Every argument is checked here (ValueError / TypeError), before anything is stored.

    Args:
        session_id: any str of 1..512 characters.
        engine: the GradMem that writes and reads (None: GradMem.from_pretrained(), loaded on first use).
        url: SQLAlchemy URL of the store (None: storage.default_url()); or `store`, not both.
        store: an open SQLStore (not closed by close()).
        policy: the MemoryPolicy to start from (None: its defaults); the memory keyword arguments below
            replace single fields of it, and one left out keeps the policy's value (default: MemoryPolicy's
            defaults; its docstring says more of each).
        system_prompt: put first in every READ.
        on_mismatch: "raise" for blocks written by another model or adapter, or "rebuild" to re-write them.
        write_progress: called as write_progress(done, total) from the compressing thread at each WRITE step.
        recent_tokens: the text window READ feeds, in the model's tokens.
        segment_tokens: the most text one block holds (None: the adapter's trained size, else
            policy.DEFAULT_SEGMENT_TOKENS).
        memory_tokens: vectors per block (None: the adapter's trained size).
        max_blocks: blocks before the oldest are consolidated.
        read_blocks: the most blocks READ feeds for a question (None: every block).
        recall_tokens: old turns quoted as text for a question, in tokens (0: none).
        min_keep_messages: never compress the last N messages.
        steps: WRITE steps per block (None: the adapter's or the engine's).
        lr: WRITE learning rate (None: the adapter's or the engine's).
        mode: "background" (a worker thread writes) or "inline" (the call that made it due writes).
        lease_ttl_s: lifetime of the compression lease, in seconds.
        max_message_chars: the longest message accepted, in characters; a longer one is refused before
            anything is stored.
    """

    def __init__(
        self,
        session_id: str,
        engine: GradMem | None = None,
        *,
        url: str | None = None,
        store: SQLStore | None = None,
        policy: MemoryPolicy | None = None,
        system_prompt: str | None = None,
        on_mismatch: OnMismatch = "raise",
        write_progress: Callable[[int, int], None] | None = None,
        recent_tokens: int = FROM_POLICY,
        segment_tokens: int | None = FROM_POLICY,
        memory_tokens: int | None = FROM_POLICY,
        max_blocks: int = FROM_POLICY,
        read_blocks: int | None = FROM_POLICY,
        recall_tokens: int = FROM_POLICY,
        min_keep_messages: int = FROM_POLICY,
        steps: int | None = FROM_POLICY,
        lr: float | None = FROM_POLICY,
        mode: Mode = FROM_POLICY,
        lease_ttl_s: float = FROM_POLICY,
        max_message_chars: int = FROM_POLICY,
    ) -> None:
        policy_fields = {k: v for k, v in {
            "recent_tokens": recent_tokens, "segment_tokens": segment_tokens, "memory_tokens": memory_tokens,
            "max_blocks": max_blocks, "read_blocks": read_blocks, "recall_tokens": recall_tokens,
            "min_keep_messages": min_keep_messages, "steps": steps, "lr": lr, "mode": mode,
            "lease_ttl_s": lease_ttl_s, "max_message_chars": max_message_chars}.items() if v is not FROM_POLICY}
        if policy is not None and not isinstance(policy, MemoryPolicy):
            raise TypeError(f"policy must be a MemoryPolicy, got {type(policy).__name__}")
        if engine is not None and not isinstance(engine, GradMem):
            raise TypeError(f"engine must be a GradMem, got {type(engine).__name__}")
        self.session_id = check_session_id(session_id)
        if url is not None and store is not None:
            raise ValueError("pass url or store, not both")
        check_option(on_mismatch, OnMismatch, "on_mismatch")
        if system_prompt is not None:
            system_prompt = to_message({"role": "system", "content": system_prompt}, "system_prompt").content
        self.policy = replace(policy or MemoryPolicy(), **policy_fields)
        self.system_prompt = system_prompt
        self.on_mismatch = on_mismatch
        self.write_progress = write_progress
        self.store = store if store is not None else SQLStore(url or default_url())
        self._owns_store = store is None
        self._engine = engine
        self._compressor: Compressor | None = None
        self._load_lock = threading.Lock()
        self._worker = Worker(lambda: effects.run(self._compress_due(), self.store), f"session {self.session_id!r}")
        self._checked = False  # the stored session checked for consistency (once, on first read)
        self._gate = ReadGate()
        if engine is not None:  # else once the engine loads
            self.policy = resolve_segment_tokens(engine, self.policy)

    # engine ---------------------------------------------------------------------------------------
    @property
    def engine(self) -> GradMem:
        return self.compressor.engine

    @property
    def compressor(self) -> Compressor:
        with self._load_lock:
            if self._compressor is None:
                engine = self._engine if self._engine is not None else GradMem.from_pretrained()
                self._compressor = Compressor(self.store, self.session_id, engine, self.policy, self._progress)
                self.policy = self._compressor.policy  # segment_tokens=None resolved by the engine's adapter
            return self._compressor

    def _progress(self, done: int, total: int) -> None:
        if self.write_progress is not None:
            self.write_progress(done, total)
        if model_lock(self.engine) is None:  # (with a LoRA lock, READ cannot be running now anyway)
            self._gate.wait_idle()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._gate.reading(), model_lock(self.engine) or nullcontext():
            yield

    def _ready(self) -> Effects[Compressor]:
        if self._compressor is None:
            yield cpu(lambda: self.compressor)  # the first load may read weights: off the event loop
        return self.compressor

    # adding messages ------------------------------------------------------------------------------
    def add_user_message(self, content: Any) -> Message:
        return self.add_messages([{"role": "user", "content": content}])[0]

    def add_ai_message(self, content: Any, tool_calls: list[dict] | None = None) -> Message:
        return self.add_messages([{"role": "assistant", "content": content, "tool_calls": tool_calls}])[0]

    def add_message(self, message: Any) -> Message:
        return self.add_messages([message])[0]

    def add_messages(self, messages: Iterable[Any]) -> list[Message]:
        """Dicts {"role", "content", ...}, Messages or LangChain messages; all checked first, stored in one
        transaction, then compressed if due (inline) or handed to the background worker.

        A refused call (bad message, message over policy.max_message_chars, policy the engine cannot follow)
        stores nothing. Inline, compression failing after the store raises CompressionFailedError, whose
        `stored` are the stored messages. A message with a `key` ("key" in a dict) already stored in the session
        is returned as stored and not added again, so retries with keys are always safe."""
        return effects.run(self._add(to_messages(messages)), self.store)

    async def aadd_user_message(self, content: Any) -> Message:
        return (await self.aadd_messages([{"role": "user", "content": content}]))[0]

    async def aadd_ai_message(self, content: Any, tool_calls: list[dict] | None = None) -> Message:
        return (await self.aadd_messages([{"role": "assistant", "content": content, "tool_calls": tool_calls}]))[0]

    async def aadd_message(self, message: Any) -> Message:
        return (await self.aadd_messages([message]))[0]

    async def aadd_messages(self, messages: Iterable[Any]) -> list[Message]:
        return await effects.arun(self._add(to_messages(messages)), self.store)

    def _add(self, messages: list[Message]) -> Effects[list[Message]]:
        self._check_sizes(messages)
        if self.policy.mode == "inline" or self._engine is not None:
            yield from self._ready()  # an engine and policy that do not fit each other fail before storing
        stored = yield db("append_messages", self.session_id, messages)
        if self.policy.mode == "inline":
            try:
                yield from self._compress_due()
            except Exception as exc:
                raise CompressionFailedError(stored, exc) from exc
        else:
            self._worker.kick()
        return stored

    def _check_sizes(self, messages: list[Message]) -> None:
        self.policy.check_sizes([m.content for m in messages])

    # reading state --------------------------------------------------------------------------------
    @property
    def messages(self) -> list[Message]:
        """The turns not yet in memory (READ's text part), oldest first."""
        return effects.run(self._snapshot(), self.store)[1]

    async def aget_messages(self) -> list[Message]:
        return (await effects.arun(self._snapshot(), self.store))[1]

    def langchain_messages(self) -> list:
        return [to_langchain(m) for m in self.messages]

    @property
    def transcript(self) -> list[Message]:
        """Every message ever added (unless pruned from storage), oldest first."""
        return self.store.messages(self.session_id)

    async def aget_transcript(self) -> list[Message]:
        return await self.store.amessages(self.session_id)

    @property
    def memory_blocks(self) -> list[MemoryBlock]:
        return self.store.blocks(self.session_id)

    async def aget_memory_blocks(self) -> list[MemoryBlock]:
        return await self.store.ablocks(self.session_id)

    def _snapshot(self) -> Effects[tuple[list[MemoryBlock], list[Message], int]]:
        """Blocks and uncompressed turns as of one compressed-up-to mark (re-read if it moved meanwhile)."""
        if not self._checked:
            yield db("check_session", self.session_id)
            self._checked = True
        while True:
            upto = yield db("compressed_upto", self.session_id)
            blocks = yield db("blocks", self.session_id)
            pending = yield db("messages", self.session_id, upto + 1)
            if (yield db("compressed_upto", self.session_id)) == upto:
                return blocks, pending, upto

    def read_context(self, question: str | None = None, *, reply_tokens: int = DEFAULT_REPLY_TOKENS) -> ReadContext:
        """What READ would feed the engine now for `question` (see recall.py for the layout), leaving room for a
        reply of `reply_tokens`. Without a question: the blocks and the recent window, nothing recalled."""
        return effects.run(self._context(question, reply_tokens), self.store)

    build_inputs = read_context

    async def aread_context(self, question: str | None = None, *,
                            reply_tokens: int = DEFAULT_REPLY_TOKENS) -> ReadContext:
        return await effects.arun(self._context(question, reply_tokens), self.store)

    abuild_inputs = aread_context

    def _context(self, question: str | None, reply_tokens: int) -> Effects[ReadContext]:
        if question is not None:
            question = to_message({"role": "user", "content": question}, "question").content
        comp = yield from self._ready()
        blocks, pending, upto = yield from self._snapshot()
        if comp.mismatched(blocks):
            if self.on_mismatch != "rebuild":
                comp.check(blocks)
            yield from comp.rebuild()
            blocks, pending, upto = yield from self._snapshot()
            comp.check(blocks)
        policy, tokenizer = self.policy, comp.tokenizer
        window = recent_window(pending, policy.recent_tokens, comp.count, tokenizer)
        hits = []
        if question is not None and policy.recall_tokens:
            before = window[0].seq - 1 if window else upto if not pending else pending[-1].seq
            hits = yield db("search_messages", self.session_id, question, max_seq=before, limit=RECALL_HITS)
        plan = plan_read(question, blocks, window, hits, policy, comp.count, tokenizer)
        return self._fit(plan, question, upto, reply_tokens)

    def _fit(self, plan: ReadPlan, question: str | None, upto: int, reply_tokens: int) -> ReadContext:
        """The plan as a context that fits the model with room for the reply: recalled turns go first, then the
        oldest blocks, then the oldest recent turns; a question too long on its own is cut in the middle."""
        # A reply as long as asked may not fit a small model at all: then a quarter of it is kept for the reply.
        limit = self.engine.max_positions - min(reply_tokens, self.engine.max_positions // 4)
        blocks, recalled, recent = list(plan.blocks), list(plan.recalled), list(plan.recent)
        while True:
            messages = read_messages([m.turn() for m in recalled + recent], question, self.system_prompt)
            prompt = len(prompt_ids(self.engine.tokenizer, messages)) if messages else 0
            used = sum(b.vector_count for b in blocks) + prompt
            if used <= limit:
                return ReadContext(blocks, recalled, recent, messages, upto)
            if recalled:
                recalled = []
            elif blocks:
                blocks.pop(0)
            elif recent:
                recent.pop(0)
            elif question is not None and self.engine.count_tokens(question) > 8:
                asked = cut_to(Message("user", question), max(8, limit - (used - self.engine.count_tokens(question))),
                               self.engine.count_tokens, self.engine.tokenizer)
                if asked.content == question:
                    raise ValueError(f"the prompt does not fit the model's {self.engine.max_positions} positions")
                question = asked.content
            else:
                raise ValueError(f"the system prompt does not fit the model's {self.engine.max_positions} positions "
                                 f"with a reply of {reply_tokens} tokens")

    # READ -----------------------------------------------------------------------------------------
    def respond(self, question: str, *, remember: bool = True, sampling: SamplingConfig | None = None,
                **options: Any) -> str:
        """Reply from memory + text turns, then store question and reply together (and compress if due);
        remember=False leaves the session as it was. sampling: how to decode; options replace single fields
        of it (max_new_tokens=64)."""
        sampling = SamplingConfig.of(sampling, **options)
        return effects.run(self._respond(question, remember, sampling), self.store)

    async def arespond(self, question: str, *, remember: bool = True, sampling: SamplingConfig | None = None,
                       **options: Any) -> str:
        sampling = SamplingConfig.of(sampling, **options)
        return await effects.arun(self._respond(question, remember, sampling), self.store)

    def _respond(self, question: str, remember: bool, sampling: SamplingConfig) -> Effects[str]:
        asked = to_message({"role": "user", "content": question}, "question")
        self._check_sizes([asked])
        ctx = yield from self._context(asked.content, sampling.max_new_tokens)
        reply = yield cpu(self._generate, ctx, sampling)
        if remember:
            yield from self._add([asked, Message("assistant", reply)])
        return reply

    def _generate(self, ctx: ReadContext, sampling: SamplingConfig) -> str:
        with self._reading():
            return self.engine.generate(ctx.messages, ctx.memory or None, sampling)

    def stream(self, question: str, *, sampling: SamplingConfig | None = None, **options: Any) -> Iterator[str]:
        """Like respond, yielding text pieces; both turns are stored once the reply is complete."""
        sampling = SamplingConfig.of(sampling, **options)
        asked = to_message({"role": "user", "content": question}, "question")
        self._check_sizes([asked])
        ctx = effects.run(self._context(asked.content, sampling.max_new_tokens), self.store)
        pieces: list[str] = []
        with self._reading():
            for piece in self.engine.stream(ctx.messages, ctx.memory or None, sampling):
                pieces.append(piece)
                yield piece
        effects.run(self._add([asked, Message("assistant", "".join(pieces).strip())]), self.store)

    async def astream(self, question: str, *, sampling: SamplingConfig | None = None,
                      **options: Any) -> AsyncIterator[str]:
        sampling = SamplingConfig.of(sampling, **options)
        asked = to_message({"role": "user", "content": question}, "question")
        self._check_sizes([asked])
        ctx = await effects.arun(self._context(asked.content, sampling.max_new_tokens), self.store)
        reading = self._reading()
        await asyncio.to_thread(reading.__enter__)  # may wait for a LoRA model lock
        pieces: list[str] = []
        try:
            pieces_iter = self.engine.stream(ctx.messages, ctx.memory or None, sampling)
            while (piece := await asyncio.to_thread(next, pieces_iter, None)) is not None:
                pieces.append(piece)
                yield piece
        finally:
            reading.__exit__(None, None, None)
        await effects.arun(self._add([asked, Message("assistant", "".join(pieces).strip())]), self.store)

    # WRITE ----------------------------------------------------------------------------------------
    def compress(self, keep_last: int | None = None) -> list[MemoryBlock]:
        """Compress now, in this thread: all but the last `keep_last` messages (None: what the policy says
        is due), then consolidate past max_blocks. Returns the blocks this call created."""
        return effects.run(self._compress(keep_last), self.store)

    async def acompress(self, keep_last: int | None = None) -> list[MemoryBlock]:
        return await effects.arun(self._compress(keep_last), self.store)

    def _compress(self, keep_last: int | None) -> Effects[list[MemoryBlock]]:
        if keep_last is not None:
            check_count(keep_last, "keep_last", 0)
        comp = yield from self._ready()
        return (yield from comp.compress(keep_last, rebuild_on_mismatch=self.on_mismatch == "rebuild"))

    def _compress_due(self) -> Effects[list[MemoryBlock]]:
        comp = yield from self._ready()
        if not (yield from comp.due()):
            return []
        return (yield from comp.compress(rebuild_on_mismatch=self.on_mismatch == "rebuild"))

    def rebuild(self) -> list[MemoryBlock]:
        """Re-write the session's memory from its transcript with this engine and policy (e.g. after changing
        model or adapter); the old blocks are swapped out in one transaction."""
        return effects.run(self._rebuild(), self.store)

    async def arebuild(self) -> list[MemoryBlock]:
        return await effects.arun(self._rebuild(), self.store)

    def _rebuild(self) -> Effects[list[MemoryBlock]]:
        comp = yield from self._ready()
        return (yield from comp.rebuild())

    def wait(self, timeout: float | None = None) -> None:
        """Block until background compression is idle; re-raise the error of a failed pass."""
        self._worker.wait(timeout)

    async def await_compression(self) -> None:
        """Async twin of wait()."""
        await asyncio.to_thread(self.wait)

    # stats, lifecycle -----------------------------------------------------------------------------
    def stats(self) -> ConversationStats:
        return effects.run(self._stats(), self.store)

    async def astats(self) -> ConversationStats:
        return await effects.arun(self._stats(), self.store)

    def _stats(self) -> Effects[ConversationStats]:
        comp = yield from self._ready()
        transcript = yield db("messages", self.session_id)
        blocks, _, upto = yield from self._snapshot()
        return session_stats(transcript, blocks, upto, lambda ms: turn_tokens(ms, comp.count, comp.tokenizer))

    def clear(self) -> None:
        """Delete the session: transcript and memory."""
        self.wait()
        self.store.delete_session(self.session_id)

    async def aclear(self) -> None:
        await self.await_compression()
        await self.store.adelete_session(self.session_id)

    def close(self) -> None:
        """Finish background compression, stop the worker, and close the store if this object made it."""
        try:
            self.wait()
        finally:
            self._worker.shutdown()
            if self._owns_store:
                self.store.close()

    async def aclose(self) -> None:
        try:
            await self.await_compression()
        finally:
            self._worker.shutdown()
            if self._owns_store:
                await self.store.aclose()

    def __enter__(self) -> GradMemConversationMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GradMemConversationMemory({self.session_id!r}, store={self.store!r}, mode={self.policy.mode!r})"
