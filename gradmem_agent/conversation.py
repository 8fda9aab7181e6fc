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
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch

from . import steps
from .background import ReadGate, Worker
from .compression import Compressor, MemoryBlock, model_lock, resolve_segment_tokens
from .engine import GradMem
from .layout import read_messages
from .messages import Message, to_message, to_messages
from .policy import MemoryPolicy, turn_tokens
from .read import prompt_ids
from .steps import Steps, cpu, db
from .storage import SQLStore, StoredBlock, default_url
from .storage.validation import check_session_id


@dataclass(frozen=True)
class ReadContext:
    """What READ feeds the engine: memory blocks (oldest first) as a soft prompt, then chat messages."""

    blocks: list[MemoryBlock]
    recent: list[Message]  # the uncompressed turns
    messages: list[dict[str, str]]  # system prompt?, recent turns, question?
    compressed_upto: int

    @property
    def memory(self) -> list[torch.Tensor]:
        return [b.vectors for b in self.blocks]

    @property
    def vectors(self) -> int:
        return sum(b.vectors.shape[0] for b in self.blocks)


@dataclass(frozen=True)
class ConversationStats:
    messages: int  # in the transcript
    text_messages: int  # not yet in memory
    tokens_seen: int  # all turns, in the model's tokens as rendered for it
    tokens_in_memory: int  # turns the blocks hold
    tokens_as_text: int
    blocks: int
    vectors: int
    transcript_bytes: int  # UTF-8 message contents
    vector_bytes: int
    compression_ratio: float | None  # tokens_in_memory / vectors
    write_seconds: float
    mean_token_accuracy: float | None  # token-weighted, teacher-forced, of the blocks

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GradMemConversationMemory:
    """One chat session's memory, stored in SQL (see the module docstring).

    Async twins: aadd_messages / aadd_user_message / aadd_ai_message / aadd_message, arespond, astream,
    acompress, arebuild, aread_context (abuild_inputs), aget_messages, aget_transcript, aget_memory_blocks,
    astats, aclear, aclose, and await_compression for wait(). They use the store's async methods and run the
    model in a thread; background compression always runs on this object's own worker thread.
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
        on_mismatch: str = "raise",
        write_progress: Callable[[int, int], None] | None = None,
        **policy_fields: Any,
    ) -> None:
        """engine: None loads GradMem.from_pretrained() on first use. url/store: where to keep the session
        (default: storage.default_url()). policy_fields override single MemoryPolicy fields (mode="inline").
        on_mismatch="rebuild" re-writes blocks made by another model/adapter instead of raising.
        write_progress(done, total) is called from the compressing thread at each WRITE step."""
        self.session_id = check_session_id(session_id)
        if url is not None and store is not None:
            raise ValueError("pass url or store, not both")
        if on_mismatch not in ("raise", "rebuild"):
            raise ValueError(f"on_mismatch must be 'raise' or 'rebuild', got {on_mismatch!r}")
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
        self._worker = Worker(lambda: steps.run(self._compress_due(), self.store), f"session {self.session_id!r}")
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

    def _ready(self) -> Steps[Compressor]:
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
        transaction, then compressed if due (inline) or handed to the background worker."""
        return steps.run(self._add(to_messages(messages)), self.store)

    async def aadd_user_message(self, content: Any) -> Message:
        return (await self.aadd_messages([{"role": "user", "content": content}]))[0]

    async def aadd_ai_message(self, content: Any, tool_calls: list[dict] | None = None) -> Message:
        return (await self.aadd_messages([{"role": "assistant", "content": content, "tool_calls": tool_calls}]))[0]

    async def aadd_message(self, message: Any) -> Message:
        return (await self.aadd_messages([message]))[0]

    async def aadd_messages(self, messages: Iterable[Any]) -> list[Message]:
        return await steps.arun(self._add(to_messages(messages)), self.store)

    def _add(self, messages: list[Message]) -> Steps[list[Message]]:
        stored = yield db("append_messages", self.session_id, [m.to_record() for m in messages])
        if self.policy.mode == "inline":
            yield from self._compress_due()
        else:
            self._worker.kick()
        return [Message.from_stored(s) for s in stored]

    # reading state --------------------------------------------------------------------------------
    @property
    def messages(self) -> list[Message]:
        """The turns not yet in memory (READ's text part), oldest first."""
        return steps.run(self._snapshot(), self.store)[1]

    async def aget_messages(self) -> list[Message]:
        return (await steps.arun(self._snapshot(), self.store))[1]

    def langchain_messages(self) -> list:
        return [m.to_langchain() for m in self.messages]

    @property
    def transcript(self) -> list[Message]:
        """Every message ever added (unless pruned from storage), oldest first."""
        return [Message.from_stored(m) for m in self.store.messages(self.session_id)]

    async def aget_transcript(self) -> list[Message]:
        return [Message.from_stored(m) for m in await self.store.amessages(self.session_id)]

    @property
    def memory_blocks(self) -> list[MemoryBlock]:
        return [self._block(b) for b in self.store.blocks(self.session_id)]

    async def aget_memory_blocks(self) -> list[MemoryBlock]:
        return [self._block(b) for b in await self.store.ablocks(self.session_id)]

    def _block(self, stored: StoredBlock) -> MemoryBlock:
        return MemoryBlock.from_stored(stored)  # decoded each time: ~36 KB a block, cheaper than a stale cache

    def _snapshot(self) -> Steps[tuple[list[StoredBlock], list[Message], int]]:
        """Blocks and uncompressed turns as of one compressed-up-to mark (re-read if it moved meanwhile)."""
        while True:
            upto = yield db("compressed_upto", self.session_id)
            blocks = yield db("blocks", self.session_id)
            pending = yield db("messages", self.session_id, upto + 1)
            if (yield db("compressed_upto", self.session_id)) == upto:
                return blocks, [Message.from_stored(m) for m in pending], upto

    def read_context(self, question: str | None = None) -> ReadContext:
        """What READ would feed the engine now (memory blocks + text messages, question last if given)."""
        return steps.run(self._context(question), self.store)

    build_inputs = read_context

    async def aread_context(self, question: str | None = None) -> ReadContext:
        return await steps.arun(self._context(question), self.store)

    abuild_inputs = aread_context

    def _context(self, question: str | None) -> Steps[ReadContext]:
        if question is not None:
            question = to_message({"role": "user", "content": question}, "question").content
        comp = yield from self._ready()
        blocks, recent, upto = yield from self._snapshot()
        if comp.mismatched(blocks):
            if self.on_mismatch != "rebuild":
                comp.check(blocks)
            yield from comp.rebuild()
            blocks, recent, upto = yield from self._snapshot()
            comp.check(blocks)
        messages = read_messages([m.turn() for m in recent], question, self.system_prompt)
        return ReadContext([self._block(b) for b in blocks], recent, messages, upto)

    def _fitting_context(self, question: str) -> Steps[ReadContext]:
        """The READ context; if it overflows the model (compression lagging behind), compress first."""
        ctx = yield from self._context(question)
        if self._positions(ctx) >= self.engine.max_positions:
            yield from self.compressor.compress(rebuild_on_mismatch=self.on_mismatch == "rebuild")
            ctx = yield from self._context(question)
        return ctx

    def _positions(self, ctx: ReadContext) -> int:
        return ctx.vectors + len(prompt_ids(self.engine.tokenizer, ctx.messages))

    # READ -----------------------------------------------------------------------------------------
    def respond(self, question: str, *, remember: bool = True, **sampling: Any) -> str:
        """Reply from memory + text turns, then store question and reply together (and compress if due);
        remember=False leaves the session as it was. sampling: GradMem.generate's options (max_new_tokens, ...)."""
        return steps.run(self._respond(question, remember, sampling), self.store)

    async def arespond(self, question: str, *, remember: bool = True, **sampling: Any) -> str:
        return await steps.arun(self._respond(question, remember, sampling), self.store)

    def _respond(self, question: str, remember: bool, sampling: dict) -> Steps[str]:
        asked = to_message({"role": "user", "content": question}, "question")
        ctx = yield from self._fitting_context(asked.content)
        reply = yield cpu(self._generate, ctx, sampling)
        if remember:
            yield from self._add([asked, Message("assistant", reply)])
        return reply

    def _generate(self, ctx: ReadContext, sampling: dict) -> str:
        with self._reading():
            return self.engine.generate(ctx.messages, ctx.memory or None, **sampling)

    def stream(self, question: str, **sampling: Any) -> Iterator[str]:
        """Like respond, yielding text pieces; both turns are stored once the reply is complete."""
        asked = to_message({"role": "user", "content": question}, "question")
        ctx = steps.run(self._fitting_context(asked.content), self.store)
        pieces: list[str] = []
        with self._reading():
            for piece in self.engine.stream(ctx.messages, ctx.memory or None, **sampling):
                pieces.append(piece)
                yield piece
        steps.run(self._add([asked, Message("assistant", "".join(pieces).strip())]), self.store)

    async def astream(self, question: str, **sampling: Any) -> AsyncIterator[str]:
        asked = to_message({"role": "user", "content": question}, "question")
        ctx = await steps.arun(self._fitting_context(asked.content), self.store)
        reading = self._reading()
        await asyncio.to_thread(reading.__enter__)  # may wait for a LoRA model lock
        pieces: list[str] = []
        try:
            pieces_iter = self.engine.stream(ctx.messages, ctx.memory or None, **sampling)
            while (piece := await asyncio.to_thread(next, pieces_iter, None)) is not None:
                pieces.append(piece)
                yield piece
        finally:
            reading.__exit__(None, None, None)
        await steps.arun(self._add([asked, Message("assistant", "".join(pieces).strip())]), self.store)

    # WRITE ----------------------------------------------------------------------------------------
    def compress(self, keep_last: int | None = None) -> list[MemoryBlock]:
        """Compress now, in this thread: all but the last `keep_last` messages (None: what the policy says
        is due), then consolidate past max_blocks. Returns the blocks this call created."""
        return [self._block(b) for b in steps.run(self._compress(keep_last), self.store)]

    async def acompress(self, keep_last: int | None = None) -> list[MemoryBlock]:
        return [self._block(b) for b in await steps.arun(self._compress(keep_last), self.store)]

    def _compress(self, keep_last: int | None) -> Steps[list[StoredBlock]]:
        if keep_last is not None and (not isinstance(keep_last, int) or keep_last < 0):
            raise ValueError(f"keep_last must be None or an int >= 0, got {keep_last!r}")
        comp = yield from self._ready()
        return (yield from comp.compress(keep_last, rebuild_on_mismatch=self.on_mismatch == "rebuild"))

    def _compress_due(self) -> Steps[list[StoredBlock]]:
        comp = yield from self._ready()
        if not (yield from comp.due()):
            return []
        return (yield from comp.compress(rebuild_on_mismatch=self.on_mismatch == "rebuild"))

    def rebuild(self) -> list[MemoryBlock]:
        """Re-write the session's memory from its transcript with this engine and policy (e.g. after changing
        model or adapter); the old blocks are swapped out in one transaction."""
        return [self._block(b) for b in steps.run(self._rebuild(), self.store)]

    async def arebuild(self) -> list[MemoryBlock]:
        return [self._block(b) for b in await steps.arun(self._rebuild(), self.store)]

    def _rebuild(self) -> Steps[list[StoredBlock]]:
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
        return steps.run(self._stats(), self.store)

    async def astats(self) -> ConversationStats:
        return await steps.arun(self._stats(), self.store)

    def _stats(self) -> Steps[ConversationStats]:
        comp = yield from self._ready()
        stored = yield db("messages", self.session_id)
        blocks, recent, _ = yield from self._snapshot()
        every = [Message.from_stored(m) for m in stored]
        mem = [self._block(b) for b in blocks]
        vectors = sum(b.vectors.shape[0] for b in mem)
        in_memory = sum(b.tokens for b in mem)
        accuracy = sum(b.stats.get("token_accuracy", 0.0) * b.tokens for b in mem) / in_memory if in_memory else None
        return ConversationStats(
            messages=len(every),
            text_messages=len(recent),
            tokens_seen=sum(turn_tokens(every, comp.count, comp.tokenizer)),
            tokens_in_memory=in_memory,
            tokens_as_text=sum(turn_tokens(recent, comp.count, comp.tokenizer)),
            blocks=len(mem),
            vectors=vectors,
            transcript_bytes=sum(len(m.content.encode()) for m in every),
            vector_bytes=sum(b.nbytes for b in mem),
            compression_ratio=in_memory / vectors if vectors else None,
            write_seconds=sum(float(b.stats.get("seconds", 0.0)) for b in mem),
            mean_token_accuracy=accuracy,
        )

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
