"""Writing a session's history into memory blocks: due turns, consolidation past the cap, rebuilds.

All of it runs under the session's compression lease (a DB row, so it excludes other threads and processes
too), renewed while the model writes. Each new block commits with its compressed-up-to mark in one
transaction that also checks nobody compressed meanwhile; a crash mid-WRITE loses only that WRITE.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import torch

from .engine import GradMem
from .layout import render_turns
from .memory import Memory
from .messages import Message
from .policy import DEFAULT_SEGMENT_TOKENS, BlockPlan, MemoryPolicy, merge_order, plan_blocks
from .steps import Steps, cpu, db, pause
from .storage import ConcurrentCompressionError, SQLStore, StoredBlock
from .storage.lease import default_owner
from .write import write_batch_size

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int], None]
_STOP_ORDER = ("target", "steps", "nonfinite")
_model_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def model_lock(engine: GradMem) -> threading.Lock | None:
    """WRITE and READ may overlap in threads, except with LoRA adapters, whose on/off switch is shared."""
    if engine.adapter is None or engine.adapter.config.lora_rank <= 0:
        return None
    return _model_locks.setdefault(engine, threading.Lock())


@dataclass(frozen=True)
class MemoryBlock:
    """A stored block: `vectors` [memory_tokens * pieces, hidden] hold messages first_seq..last_seq."""

    id: int
    first_seq: int
    last_seq: int
    level: int  # 0: written from its turns; n+1: consolidated from level-n blocks
    vectors: torch.Tensor
    model_fingerprint: str
    adapter_id: str | None
    stats: dict[str, Any]  # tokens, pieces, memory_tokens, token_accuracy, loss, steps, seconds, stopped
    created_at: datetime

    @property
    def tokens(self) -> int:
        return int(self.stats.get("tokens", 0))

    @property
    def nbytes(self) -> int:
        return self.vectors.numel() * self.vectors.element_size()

    @classmethod
    def from_stored(cls, block: StoredBlock, vectors: torch.Tensor | None = None) -> MemoryBlock:
        vectors = block.tensor() if vectors is None else vectors
        return cls(block.id, block.first_seq, block.last_seq, block.level, vectors, block.model_fingerprint,
                   block.adapter_id, dict(block.stats), block.created_at)


def resolve_segment_tokens(engine: GradMem, policy: MemoryPolicy) -> MemoryPolicy:
    """The policy with segment_tokens set: as given, else the adapter's trained size, else the default. A reader
    trained on blocks of one size reads blocks of another worse, so None follows the adapter."""
    if policy.segment_tokens is not None:
        return policy
    trained = engine.adapter.config.segment_tokens if engine.adapter is not None else None
    return replace(policy, segment_tokens=trained or DEFAULT_SEGMENT_TOKENS)


def resolve_memory_tokens(engine: GradMem, policy: MemoryPolicy) -> int:
    if engine.adapter is not None:
        trained = engine.adapter.config.memory_tokens
        if policy.memory_tokens not in (None, trained):
            raise ValueError(f"the adapter was trained for {trained} memory tokens, not {policy.memory_tokens}; "
                             "leave memory_tokens=None or load adapter=None")
        return trained
    return policy.memory_tokens or engine.write_config.memory_tokens


class Compressor:
    """Compression of one session with one engine: model work (no I/O) plus step generators (see steps.py)."""

    def __init__(self, store: SQLStore, session_id: str, engine: GradMem, policy: MemoryPolicy,
                 progress: ProgressFn | None = None) -> None:
        policy = resolve_segment_tokens(engine, policy)
        self.store, self.session_id, self.engine, self.policy = store, session_id, engine, policy
        self.progress = progress
        self.memory_tokens = resolve_memory_tokens(engine, policy)
        self.max_text_tokens = engine.max_positions - self.memory_tokens
        if policy.segment_tokens > self.max_text_tokens:
            raise ValueError(f"segment_tokens={policy.segment_tokens} plus {self.memory_tokens} memory tokens "
                             f"exceed the model's {engine.max_positions} positions")
        self.count = functools.lru_cache(maxsize=16384)(engine.count_tokens)
        self.tokenizer = engine.tokenizer
        # A CPU gains little from batching WRITEs; committing each block at once loses less to a crash.
        self.texts_per_write = 1 if engine.device.type == "cpu" else write_batch_size(engine.write_config,
                                                                                        engine.device)

    # model work -----------------------------------------------------------------------------------
    def plan(self, pending: Sequence[Message], keep_last: int | None = None) -> list[BlockPlan]:
        return plan_blocks(pending, self.count, self.policy, self.tokenizer, keep_last)

    def write(self, plans: Sequence[BlockPlan], level: int = 0, progress: ProgressFn | None = None) -> list[dict]:
        """WRITE the plans' texts (batched) into add_block keyword dicts."""
        texts = [text for plan in plans for text in plan.texts]
        start = time.perf_counter()
        with model_lock(self.engine) or nullcontext():
            memories = self.engine.write(texts, memory_tokens=self.memory_tokens, steps=self.policy.steps,
                                         lr=self.policy.lr, progress=progress)
        seconds = time.perf_counter() - start
        total = sum(m.stats.tokens for m in memories) or 1
        specs, i = [], 0
        for plan in plans:
            mine, i = memories[i : i + len(plan.texts)], i + len(plan.texts)
            share = seconds * sum(m.stats.tokens for m in mine) / total  # batch time split by tokens
            specs.append(self._spec(plan.first_seq, plan.last_seq, mine, level, share))
        return specs

    def _spec(self, first: int, last: int, memories: Sequence[Memory], level: int, seconds: float) -> dict:
        tokens = sum(m.stats.tokens for m in memories)
        weight = [m.stats.tokens / max(tokens, 1) for m in memories]
        stats = {
            "tokens": tokens,
            "pieces": len(memories),
            "memory_tokens": self.memory_tokens,
            "token_accuracy": sum(w * m.stats.token_accuracy for w, m in zip(weight, memories, strict=True)),
            "min_token_accuracy": min(m.stats.token_accuracy for m in memories),
            "loss": sum(w * m.stats.loss for w, m in zip(weight, memories, strict=True)),
            "steps": max(m.stats.steps for m in memories),
            "seconds": seconds,
            "stopped": max((m.stats.stopped for m in memories), key=_STOP_ORDER.index),
        }
        return {
            "first_seq": first, "last_seq": last, "level": level, "stats": stats,
            "vectors": torch.cat([m.vectors for m in memories]).contiguous(),
            "model_fingerprint": self.engine.fingerprint, "adapter_id": self.engine.adapter_id,
        }

    def mismatched(self, blocks: Sequence[StoredBlock]) -> list[StoredBlock]:
        fp, adapter = self.engine.fingerprint, self.engine.adapter_id
        return [b for b in blocks if (b.model_fingerprint, b.adapter_id) != (fp, adapter)]

    def check(self, blocks: Sequence[StoredBlock]) -> None:
        """FingerprintMismatchError for the first block written by another model or adapter."""
        for block in self.mismatched(blocks)[:1]:
            block.check_fingerprint(self.engine.fingerprint, self.engine.adapter_id)

    # steps ----------------------------------------------------------------------------------------
    def due(self) -> Steps[bool]:
        """Cheap check, without the lease: are turns due? (Consolidation follows every compression.)"""
        upto = yield db("compressed_upto", self.session_id)
        pending = yield db("messages", self.session_id, upto + 1)
        return bool(self.plan([Message.from_stored(m) for m in pending]))

    def compress(self, keep_last: int | None = None, rebuild_on_mismatch: bool = False) -> Steps[list[StoredBlock]]:
        """Write due turns (or all but the last `keep_last`) into blocks, then consolidate; the new blocks."""
        owner = yield from self._lease()
        try:
            blocks = yield db("blocks", self.session_id)
            added: list[StoredBlock] = []
            if self.mismatched(blocks):
                if not rebuild_on_mismatch:
                    self.check(blocks)
                added = yield from self._rebuild(owner, blocks)
            upto = yield db("compressed_upto", self.session_id)
            pending = yield db("messages", self.session_id, upto + 1)
            plans = self.plan([Message.from_stored(m) for m in pending], keep_last)
            try:
                for chunk in _chunks(plans, self.texts_per_write):
                    specs = yield cpu(self.write, chunk, progress=self._renewing(owner))
                    for spec in specs:
                        added.append((yield db("add_block", self.session_id, **spec, expected_compressed_upto=upto)))
                        upto = spec["last_seq"]
            except ConcurrentCompressionError as exc:  # our lease lapsed and another writer went first
                log.warning("compression of %r stopped: %s", self.session_id, exc)
                return added
            merged, gone = yield from self._consolidate(owner)
            return [b for b in added if b.id not in gone] + merged
        finally:
            yield db("release_lease", self.session_id, owner)

    def rebuild(self) -> Steps[list[StoredBlock]]:
        """Re-write every block from the transcript with this engine and policy (atomic swap)."""
        owner = yield from self._lease()
        try:
            blocks = yield db("blocks", self.session_id)
            new = yield from self._rebuild(owner, blocks)
            merged, gone = yield from self._consolidate(owner)
            return [b for b in new if b.id not in gone] + merged
        finally:
            yield db("release_lease", self.session_id, owner)

    def _lease(self) -> Steps[str]:
        owner, delay = default_owner(), 0.01
        while not (yield db("acquire_lease", self.session_id, owner, self.policy.lease_ttl_s)):
            yield pause(delay)
            delay = min(2 * delay, 0.25)
        return owner

    def _renewing(self, owner: str) -> ProgressFn:
        """Progress callback that also renews the lease (from the model's thread) every quarter TTL."""
        renewed = time.monotonic()

        def progress(done: int, total: int) -> None:
            nonlocal renewed
            if self.progress is not None:
                self.progress(done, total)
            if time.monotonic() - renewed > self.policy.lease_ttl_s / 4:
                if not self.store.acquire_lease(self.session_id, owner, self.policy.lease_ttl_s):
                    raise ConcurrentCompressionError(f"lost the compression lease of {self.session_id!r}")
                renewed = time.monotonic()

        return progress

    def _rebuild(self, owner: str, blocks: Sequence[StoredBlock]) -> Steps[list[StoredBlock]]:
        upto = yield db("compressed_upto", self.session_id)
        covered = (yield db("messages", self.session_id, 0, upto)) if upto >= 0 else []
        plans = self.plan([Message.from_stored(m) for m in covered], keep_last=0)
        specs: list[dict] = []
        for chunk in _chunks(plans, self.texts_per_write):
            specs += yield cpu(self.write, chunk, progress=self._renewing(owner))
        return (yield db("replace_blocks", self.session_id, [b.id for b in blocks], specs))

    def _consolidate(self, owner: str) -> Steps[tuple[list[StoredBlock], set[int]]]:
        """Past max_blocks, re-write adjacent blocks' turns from the transcript into one block, level + 1."""
        merged: list[StoredBlock] = []
        gone: set[int] = set()
        blocks = yield db("blocks", self.session_id)
        while len(blocks) > self.policy.max_blocks:
            choice = yield from self._pick_pair(blocks)
            if choice is None:
                log.warning("session %r has %d blocks (cap %d) but no adjacent pair fits one WRITE of %d tokens "
                            "with its transcript kept", self.session_id, len(blocks), self.policy.max_blocks,
                            self.max_text_tokens)
                break
            a, b, text = choice
            plan = BlockPlan(a.first_seq, b.last_seq, (text,), self.count(text))
            (spec,) = yield cpu(self.write, [plan], max(a.level, b.level) + 1, self._renewing(owner))
            (new,) = yield db("replace_blocks", self.session_id, [a.id, b.id], [spec])
            gone |= {a.id, b.id}
            merged = [m for m in merged if m.id not in gone] + [new]
            blocks = yield db("blocks", self.session_id)
        return merged, gone

    def _pick_pair(self, blocks: Sequence[StoredBlock]) -> Steps[tuple[StoredBlock, StoredBlock, str] | None]:
        for i in merge_order([b.level for b in blocks]):
            a, b = blocks[i], blocks[i + 1]
            if b.first_seq != a.last_seq + 1:  # memory was pruned in between: don't bring it back
                continue
            turns = yield db("messages", self.session_id, a.first_seq, b.last_seq)
            if len(turns) != b.last_seq - a.first_seq + 1:  # transcript pruned: nothing to re-write from
                continue
            text = render_turns([Message.from_stored(m).turn() for m in turns], self.tokenizer)
            if self.count(text) <= self.max_text_tokens:
                return a, b, text
        return None


def _chunks(plans: Sequence[BlockPlan], texts_per_chunk: int) -> list[list[BlockPlan]]:
    """Group plans so that each WRITE batch has about `texts_per_chunk` texts (commit after each)."""
    chunks: list[list[BlockPlan]] = [[]]
    for plan in plans:
        if chunks[-1] and sum(len(p.texts) for p in chunks[-1]) + len(plan.texts) > texts_per_chunk:
            chunks.append([])
        chunks[-1].append(plan)
    return [c for c in chunks if c]
