"""What a session holds: turns as text and in memory, vectors, bytes, WRITE quality (one calculator for the
conversation object and the `gradmem sessions` command, which works without loading the model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .storage import MemoryBlock, Message


@dataclass(frozen=True)
class ConversationStats:
    """Token counts are in the model's tokens as rendered for it; None where no tokenizer was at hand."""

    messages: int  # in the transcript
    text_messages: int  # not yet in memory
    tokens_seen: int | None  # all turns
    tokens_in_memory: int  # turns the blocks hold
    tokens_as_text: int | None
    blocks: int
    vectors: int
    transcript_bytes: int  # UTF-8 message contents
    vector_bytes: int
    compression_ratio: float | None  # tokens_in_memory / vectors
    write_seconds: float
    mean_token_accuracy: float | None  # token-weighted, teacher-forced, of the blocks

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def session_stats(transcript: Sequence[Message], blocks: Sequence[MemoryBlock], compressed_upto: int,
                  turn_tokens: Callable[[Sequence[Message]], list[int]] | None = None) -> ConversationStats:
    """Statistics of a session from its stored transcript and blocks; `turn_tokens` counts rendered turns."""
    recent = [m for m in transcript if m.seq is not None and m.seq > compressed_upto]
    in_memory = sum(b.tokens for b in blocks)
    vectors = sum(b.vector_count for b in blocks)
    return ConversationStats(
        messages=len(transcript),
        text_messages=len(recent),
        tokens_seen=sum(turn_tokens(transcript)) if turn_tokens else None,
        tokens_in_memory=in_memory,
        tokens_as_text=sum(turn_tokens(recent)) if turn_tokens else None,
        blocks=len(blocks),
        vectors=vectors,
        transcript_bytes=sum(len(m.content.encode()) for m in transcript),
        vector_bytes=sum(b.nbytes for b in blocks),
        compression_ratio=in_memory / vectors if vectors else None,
        write_seconds=sum(b.stats.seconds for b in blocks),
        mean_token_accuracy=sum(b.stats.token_accuracy * b.tokens for b in blocks) / in_memory if in_memory else None,
    )
