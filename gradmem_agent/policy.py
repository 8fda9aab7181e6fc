"""When and what to compress: the memory policy and the pure planning functions behind it.

Budgets are in the model's own tokens, counted on turns rendered as layout.render_turn renders them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .layout import Segment, render_turn, segment_turns
from .messages import Message, has_tool_calls

MODES = ("background", "inline")
DEFAULT_SEGMENT_TOKENS = 256


@dataclass(frozen=True)
class MemoryPolicy:
    """How a conversation's history moves from text into memory blocks.

    recent_tokens: the newest turns kept as text, always at least `min_keep_messages` of them. 512, from the
        "window_sweep" of benchmarks/results/conversation-2026-11-26-cpu2.json (SmolLM2-135M, 2 CPU threads, a
        full memory of 512 vectors in front): prefill takes 1.0 s with a 128-token window, 1.6 s with 512,
        2.5 s with 1024 and 4.7 s with 2048, against ~45-70 ms per decoded token, so a turn with a 64-token
        reply takes 4.3 / 4.8 / 5.9 / 9.1 s. 512 is the largest window whose prefill stays under a third of
        the turn (43% at 1024, 51% at 2048), and it keeps the last ~20 turns of a typical chat verbatim.
    segment_tokens: the most text one WRITE holds (256 tokens into 16 vectors). A message longer than that is
        cut by layout.segment_turns into pieces, one WRITE each, never truncated; the pieces of one message
        share one block (pieces x memory_tokens vectors), so a block always covers whole messages. None: the
        size the adapter was trained with (its adapter.json), else DEFAULT_SEGMENT_TOKENS; see
        compression.resolve_segment_tokens.
    memory_tokens: vectors per block. None: the adapter's trained size, else engine.write_config (16).
    max_blocks: blocks per session before the oldest are consolidated (32: 512 vectors at most in READ).
    min_keep_messages: never compress the last N messages (2: the last exchange stays verbatim).
    steps, lr: override the engine's WRITE settings (engine.write_config: Adam x100 frozen, SGD K<=5 adapter).
    mode: "background" (default: a turn never waits on a WRITE; one worker thread per conversation, whose
        WRITE steps pause while the conversation generates) or "inline" (compress before the call that made
        it due returns).
    lease_ttl_s: the compression lease's lifetime, renewed while writing; a crashed writer blocks others
        for at most this long.
    """

    recent_tokens: int = 512
    segment_tokens: int | None = None
    memory_tokens: int | None = None
    max_blocks: int = 32
    min_keep_messages: int = 2
    steps: int | None = None
    lr: float | None = None
    mode: str = "background"
    lease_ttl_s: float = 60.0

    def __post_init__(self) -> None:
        for name, low in (("recent_tokens", 0), ("segment_tokens", 8), ("max_blocks", 2), ("min_keep_messages", 0)):
            value = getattr(self, name)
            if name == "segment_tokens" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.memory_tokens is not None and (not isinstance(self.memory_tokens, int) or self.memory_tokens < 1):
            raise ValueError(f"memory_tokens must be a positive int or None, got {self.memory_tokens!r}")
        if self.steps is not None and (not isinstance(self.steps, int) or self.steps < 0):
            raise ValueError(f"steps must be an int >= 0 or None, got {self.steps!r}")
        if self.lr is not None and not (isinstance(self.lr, int | float) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number or None, got {self.lr!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not (isinstance(self.lease_ttl_s, int | float) and self.lease_ttl_s > 0):
            raise ValueError(f"lease_ttl_s must be a positive number of seconds, got {self.lease_ttl_s!r}")


@dataclass(frozen=True)
class BlockPlan:
    """One block to write: messages first_seq..last_seq, as one text (or several pieces of one long message)."""

    first_seq: int
    last_seq: int
    texts: tuple[str, ...]
    tokens: int


CountFn = Callable[[str], int]


def turn_tokens(messages: Sequence[Message], count: CountFn, tokenizer=None) -> list[int]:
    return [count(render_turn(t["role"], t["content"], tokenizer)) for t in (m.turn() for m in messages)]


def recent_start(sizes: Sequence[int], policy: MemoryPolicy) -> int:
    """Index of the first message of the recent window (walking back from the newest)."""
    total = 0
    for kept, i in enumerate(range(len(sizes) - 1, -1, -1)):
        if kept >= policy.min_keep_messages and total + sizes[i] > policy.recent_tokens:
            return i + 1
        total += sizes[i]
    return 0


def clean_cut(messages: Sequence[Message], end: int) -> int:
    """Move a memory/text boundary earlier until no tool call is separated from its results."""
    while end > 0 and ((end < len(messages) and messages[end].role == "tool") or has_tool_calls(messages[end - 1])):
        end -= 1
    return end


def plan_blocks(
    messages: Sequence[Message],
    count: CountFn,
    policy: MemoryPolicy,
    tokenizer=None,
    keep_last: int | None = None,
) -> list[BlockPlan]:
    """Blocks due for the uncompressed `messages` (oldest first, with seqs).

    keep_last=None applies the policy: only once the turns outside the recent window exceed a segment, and
    only full segments (a trailing partial one stays text until it fills). keep_last=k writes everything but
    the last k messages, partial segment included.
    """
    if policy.segment_tokens is None:
        raise ValueError("policy.segment_tokens is None: resolve it first (compression.resolve_segment_tokens)")
    sizes = turn_tokens(messages, count, tokenizer)
    turns = [m.turn() for m in messages]
    everything = keep_last is not None
    end = max(0, len(messages) - keep_last) if everything else recent_start(sizes, policy)
    while True:
        end = clean_cut(messages, end)
        if end == 0 or (not everything and sum(sizes[:end]) <= policy.segment_tokens):
            return []
        segments = segment_turns(turns[:end], count, policy.segment_tokens, tokenizer)
        # The pieces of a split message never grow, so they are written even when they come last.
        if not everything and not _is_piece(segments[-1], sizes, policy):
            segments = segments[:-1]
        if not segments:
            return []
        cut = segments[-1].last + 1
        if clean_cut(messages, cut) == cut:
            return _group(segments, messages)
        end = cut


def _is_piece(segment: Segment, sizes: Sequence[int], policy: MemoryPolicy) -> bool:
    return segment.first == segment.last and sizes[segment.first] > policy.segment_tokens


def _group(segments: Sequence[Segment], messages: Sequence[Message]) -> list[BlockPlan]:
    """One plan per segment, except that the pieces of one split message share a block (and its seq range)."""
    plans: list[BlockPlan] = []
    for seg in segments:
        first, last = messages[seg.first].seq, messages[seg.last].seq
        assert first is not None and last is not None
        if plans and plans[-1].first_seq == first and plans[-1].last_seq == last:
            prev = plans.pop()
            plans.append(BlockPlan(first, last, (*prev.texts, seg.text), prev.tokens + seg.tokens))
        else:
            plans.append(BlockPlan(first, last, (seg.text,), seg.tokens))
    return plans


def merge_order(levels: Sequence[int]) -> list[int]:
    """Adjacent block pairs (i, i+1) to try consolidating, lowest level first, then oldest first.

    Merging like a binary counter keeps recent history at full resolution and halves the oldest first.
    """
    return sorted(range(len(levels) - 1), key=lambda i: (max(levels[i], levels[i + 1]), i))
