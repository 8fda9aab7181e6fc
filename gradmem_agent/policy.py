"""When and what to compress: the memory policy and the pure planning functions behind it.

Budgets are in the model's own tokens, counted on turns rendered as layout.render_turn renders them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .layout import Segment, render_turn, segment_turns
from .messages import Message, has_tool_calls
from .options import Mode, check_count, check_option, check_positive
from .storage.validation import MAX_LEASE_TTL_S

DEFAULT_SEGMENT_TOKENS = 256


@dataclass(frozen=True)
class MemoryPolicy:
    """How a conversation's history moves from text into memory blocks.

    Args:
        recent_tokens: the newest turns READ feeds as text, at most this many tokens (the newest message is cut
            to fit if it alone is longer; the transcript keeps it whole). Older turns are written into memory
            once they make a full segment. The default keeps the prefill of a CPU turn well under the time of
            its reply (docs/benchmarks.md, window sweep).
        segment_tokens: the most text one WRITE, and one block, holds. A message longer than that is cut into
            pieces, one block each, never truncated. None: the size the adapter was trained with, else
            DEFAULT_SEGMENT_TOKENS.
        memory_tokens: vectors per block. None: the adapter's trained size, else the engine's WriteConfig.
        max_blocks: blocks per session before the oldest are consolidated into fewer.
        read_blocks: the most blocks READ feeds for a question: those holding the turns that share the most
            words with it, then the newest (recall.py). None: every block, in the reader's trained limit or not.
        recall_tokens: old turns quoted as text for a question, found by the database's full-text search, up to
            this many tokens (0: none, memory-only READ).
        min_keep_messages: never compress the last N messages (2: the last exchange stays verbatim).
        steps, lr: override the engine's WRITE settings (None: the adapter's, or the frozen engine's).
        mode: "background" (a turn never waits on a WRITE: one worker thread per conversation, whose WRITE
            steps pause while it generates) or "inline" (compress before the call that made it due returns).
        lease_ttl_s: the compression lease's lifetime, renewed while writing; a writer that died on another
            host blocks others for at most this long (one that died on this host, not at all).
        max_message_chars: the longest message (in characters) a conversation stores; a longer one is refused
            before anything is stored. None: no limit.
    """

    recent_tokens: int = 512
    segment_tokens: int | None = None
    memory_tokens: int | None = None
    max_blocks: int = 32
    read_blocks: int | None = 2  # chosen on the generated dev splits (docs/benchmarks.md)
    recall_tokens: int = 192
    min_keep_messages: int = 2
    steps: int | None = None
    lr: float | None = None
    mode: Mode = "background"
    lease_ttl_s: float = 60.0
    max_message_chars: int | None = 1_000_000

    def __post_init__(self) -> None:
        check_count(self.recent_tokens, "recent_tokens", 0)
        if self.segment_tokens is not None:
            check_count(self.segment_tokens, "segment_tokens", 8)
        if self.memory_tokens is not None:
            check_count(self.memory_tokens, "memory_tokens", 1)
        check_count(self.max_blocks, "max_blocks", 2)
        if self.read_blocks is not None:
            check_count(self.read_blocks, "read_blocks", 0)
        check_count(self.recall_tokens, "recall_tokens", 0)
        check_count(self.min_keep_messages, "min_keep_messages", 0)
        if self.steps is not None:
            check_count(self.steps, "steps", 0)
        if self.lr is not None:
            check_positive(self.lr, "lr")
        check_option(self.mode, Mode, "mode")
        if check_positive(self.lease_ttl_s, "lease_ttl_s") > MAX_LEASE_TTL_S:
            raise ValueError(f"lease_ttl_s must be at most {MAX_LEASE_TTL_S} seconds, got {self.lease_ttl_s!r}")
        if self.max_message_chars is not None:
            check_count(self.max_message_chars, "max_message_chars", 1)

    def check_sizes(self, contents: Sequence[str]) -> None:
        """ValueError naming the first message longer than max_message_chars (checked before storing)."""
        limit = self.max_message_chars
        for n, content in enumerate(contents):
            if limit is not None and len(content) > limit:
                raise ValueError(f"message {n} has {len(content)} characters; the limit is {limit} "
                                 "(MemoryPolicy.max_message_chars)")


@dataclass(frozen=True)
class BlockPlan:
    """One block to write: messages first_seq..last_seq as one text, or one piece of a long message (then the
    plans of its other pieces share its seq)."""

    first_seq: int
    last_seq: int
    text: str
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
    """One plan per segment: a block never holds more than one WRITE, so none outgrows what the reader reads."""
    plans = []
    for seg in segments:
        first, last = messages[seg.first].seq, messages[seg.last].seq
        assert first is not None and last is not None
        plans.append(BlockPlan(first, last, seg.text, seg.tokens))
    return plans


def merge_order(levels: Sequence[int]) -> list[int]:
    """Adjacent block pairs (i, i+1) to try consolidating, lowest level first, then oldest first.

    Merging like a binary counter keeps recent history at full resolution and halves the oldest first.
    """
    return sorted(range(len(levels) - 1), key=lambda i: (max(levels[i], levels[i + 1]), i))
