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
from dataclasses import replace

from .effects import Effects, cpu, db, pause
from .engine import GradMem
from .layout import render_turns
from .policy import DEFAULT_SEGMENT_TOKENS, BlockPlan, MemoryPolicy, merge_order, plan_blocks
from .storage import ConcurrentCompressionError, MemoryBlock, Message, SQLStore
from .storage.lease import default_owner
from .write import write_batch_size
from .write_queue import write_queue

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int], None]
_model_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def model_lock(engine: GradMem) -> threading.Lock | None:
    """WRITE and READ may overlap in threads, except with LoRA adapters, whose on/off switch is shared."""
    if engine.adapter is None or engine.adapter.config.lora_rank <= 0:
        return None
    return _model_locks.setdefault(engine, threading.Lock())


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


class CompressionFailedError(RuntimeError):
    """Compressing after a call stored its messages failed; the messages are stored (`stored`, as stored), so a
    retry must not add them again. The cause is chained as __cause__.

    Args:
        stored: the messages the call stored before compression failed.
    """

    def __init__(self, stored: Sequence[Message], cause: BaseException) -> None:
        self.stored = list(stored)
        seqs = f"seq {stored[0].seq}" + (f"..{stored[-1].seq}" if len(stored) > 1 else "") if stored else "nothing"
        super().__init__(f"the messages are stored ({seqs}; do not add them again), but compressing failed: "
                         f"{type(cause).__name__}: {cause}")


class Compressor:
    """Compression of one session with one engine: model work (no I/O) plus effect generators (effects.py)."""

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

    def write(self, plans: Sequence[BlockPlan], level: int = 0, progress: ProgressFn | None = None
              ) -> list[MemoryBlock]:
        """WRITE the plans' texts into placed blocks, one each, through the engine's queue (write_queue.py): a
        pass may also hold other conversations' texts."""
        start = time.perf_counter()
        written = write_queue(self.engine, model_lock(self.engine)).write(
            [plan.text for plan in plans], memory_tokens=self.memory_tokens, steps=self.policy.steps,
            lr=self.policy.lr, progress=progress)
        seconds = time.perf_counter() - start
        total = sum(b.stats.tokens for b in written) or 1
        return [
            replace(block, raw_stats=replace(block.stats, seconds=seconds * block.stats.tokens / total)).placed(
                plan.first_seq, plan.last_seq, level)  # the batch's time split by tokens
            for plan, block in zip(plans, written, strict=True)
        ]

    def mismatched(self, blocks: Sequence[MemoryBlock]) -> list[MemoryBlock]:
        fp, adapter = self.engine.fingerprint, self.engine.adapter_id
        return [b for b in blocks if (b.model_fingerprint, b.adapter_id) != (fp, adapter)]

    def check(self, blocks: Sequence[MemoryBlock]) -> None:
        """FingerprintMismatchError for the first block written by another model or adapter."""
        for block in self.mismatched(blocks)[:1]:
            block.check_fingerprint(self.engine.fingerprint, self.engine.adapter_id)

    # effects --------------------------------------------------------------------------------------
    def due(self) -> Effects[bool]:
        """Cheap check, without the lease: are turns due? (Consolidation follows every compression.)"""
        upto = yield db("compressed_upto", self.session_id)
        pending = yield db("messages", self.session_id, upto + 1)
        return bool(self.plan(pending))

    def compress(self, keep_last: int | None = None, rebuild_on_mismatch: bool = False) -> Effects[list[MemoryBlock]]:
        """Write due turns (or all but the last `keep_last`) into blocks, then consolidate; the new blocks."""
        owner = yield from self._lease()
        try:
            blocks = yield db("blocks", self.session_id)
            added: list[MemoryBlock] = []
            if self.mismatched(blocks):
                if not rebuild_on_mismatch:
                    self.check(blocks)
                added = yield from self._rebuild(owner, blocks)
            upto = yield db("compressed_upto", self.session_id)
            pending = yield db("messages", self.session_id, upto + 1)
            plans = self.plan(pending, keep_last)
            try:
                for group in _commit_groups(plans, self.texts_per_write):
                    written: list[MemoryBlock] = []
                    for batch in _batches(group, self.texts_per_write):
                        written += yield cpu(self.write, batch, progress=self._renewing(owner))
                    added += yield db("add_blocks", self.session_id, written, expected_compressed_upto=upto)
                    upto = written[-1].last_seq
            except ConcurrentCompressionError as exc:  # our lease lapsed and another writer went first
                log.warning("compression of %r stopped: %s", self.session_id, exc)
                return added
            merged, gone = yield from self._consolidate(owner)
            return [b for b in added if b.id not in gone] + merged
        finally:
            yield db("release_lease", self.session_id, owner)

    def rebuild(self) -> Effects[list[MemoryBlock]]:
        """Re-write every block from the transcript with this engine and policy (atomic swap)."""
        owner = yield from self._lease()
        try:
            blocks = yield db("blocks", self.session_id)
            new = yield from self._rebuild(owner, blocks)
            merged, gone = yield from self._consolidate(owner)
            return [b for b in new if b.id not in gone] + merged
        finally:
            yield db("release_lease", self.session_id, owner)

    def _lease(self) -> Effects[str]:
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

    def _rebuild(self, owner: str, blocks: Sequence[MemoryBlock]) -> Effects[list[MemoryBlock]]:
        upto = yield db("compressed_upto", self.session_id)
        covered = (yield db("messages", self.session_id, 0, upto)) if upto >= 0 else []
        plans = self.plan(covered, keep_last=0)
        new: list[MemoryBlock] = []
        for batch in _batches(plans, self.texts_per_write):
            new += yield cpu(self.write, batch, progress=self._renewing(owner))
        return (yield db("replace_blocks", self.session_id, [b.id for b in blocks], new))

    def _consolidate(self, owner: str) -> Effects[tuple[list[MemoryBlock], set[int]]]:
        """Past max_blocks, re-write adjacent blocks' turns from the transcript into one block, level + 1."""
        merged: list[MemoryBlock] = []
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
            plan = BlockPlan(a.first_seq, b.last_seq, text, self.count(text))
            (block,) = yield cpu(self.write, [plan], max(a.level, b.level) + 1, self._renewing(owner))
            (new,) = yield db("replace_blocks", self.session_id, [a.id, b.id], [block])
            gone |= {a.id, b.id}
            merged = [m for m in merged if m.id not in gone] + [new]
            blocks = yield db("blocks", self.session_id)
        return merged, gone

    def _pick_pair(self, blocks: Sequence[MemoryBlock]) -> Effects[tuple[MemoryBlock, MemoryBlock, str] | None]:
        for i in merge_order([b.level for b in blocks]):
            a, b = blocks[i], blocks[i + 1]
            if b.first_seq != a.last_seq + 1:  # memory was pruned in between: don't bring it back
                continue
            turns = yield db("messages", self.session_id, a.first_seq, b.last_seq)
            if len(turns) != b.last_seq - a.first_seq + 1:  # transcript pruned: nothing to re-write from
                continue
            text = render_turns([m.turn() for m in turns], self.tokenizer)
            if self.count(text) <= self.max_text_tokens:
                return a, b, text
        return None


def _batches(plans: Sequence[BlockPlan], size: int) -> list[list[BlockPlan]]:
    return [list(plans[i : i + size]) for i in range(0, len(plans), size)]


def _commit_groups(plans: Sequence[BlockPlan], size: int) -> list[list[BlockPlan]]:
    """Plans committed together: about `size` a group, but all the pieces of one long message in one group
    (they share its seq, so memory covers such a message entirely or not at all)."""
    units: list[list[BlockPlan]] = []
    for plan in plans:
        piece = units and (units[-1][-1].first_seq, units[-1][-1].last_seq) == (plan.first_seq, plan.last_seq)
        if piece:
            units[-1].append(plan)
        else:
            units.append([plan])
    groups: list[list[BlockPlan]] = [[]]
    for unit in units:
        if groups[-1] and len(groups[-1]) + len(unit) > size:
            groups.append([])
        groups[-1] += unit
    return [g for g in groups if g]
