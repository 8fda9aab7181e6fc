"""The values the store takes and gives back: messages, memory blocks with their WRITE statistics, sessions.

A memory block is one type from the WRITE that makes it to the row that keeps it: `GradMem.write` returns
blocks that are not placed yet (no id, no messages), a conversation places them on its messages, and the
store returns them with their id. Stored vectors and statistics are decoded on first use, so a block that
cannot be decoded is still listed (and can be replaced by `rebuild()`) and raises CorruptBlockError only
where its content is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, get_args

from .errors import CorruptBlockError, FingerprintMismatchError

if TYPE_CHECKING:
    import torch

StopReason = Literal["target", "steps", "nonfinite"]
STOP_REASONS: tuple[str, ...] = get_args(StopReason)


@dataclass(frozen=True)
class Message:
    """One chat turn. `seq` (its 0-based position in the session) and `created_at` are set once stored.

    tool_calls (assistant only) are LangChain-style dicts {"name", "args", "id"}; a tool result carries the
    `tool_call_id` it answers. `extra` is any JSON the caller keeps with the message (documents keep their
    source and segment there). `key` is the caller's own id for the message, unique in its session: appending
    a message whose key is stored already returns the stored one instead (a retry stores nothing twice).
    """

    role: str
    content: str
    name: str | None = None
    tool_calls: list[dict] | None = None
    tool_call_id: str | None = None
    extra: Any = None
    seq: int | None = None
    created_at: datetime | None = None
    key: str | None = None

    def turn(self) -> dict[str, str]:
        """What the model sees: role and text, tool calls written out as <tool_call> JSON lines."""
        content = self.content
        if self.tool_calls:
            calls = "\n".join(
                "<tool_call>\n" + json.dumps({"name": c["name"], "arguments": c["args"]}, ensure_ascii=False)
                + "\n</tool_call>"
                for c in self.tool_calls
            )
            content = f"{content}\n{calls}" if content else calls
        return {"role": self.role, "content": content}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        for name in ("name", "tool_calls", "tool_call_id", "extra", "seq", "key"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class WriteStats:
    """How well a block's vectors hold their text (teacher-forced), and what the WRITE cost.

    `token_accuracy` and `loss` describe the returned vectors (the best step seen). `stopped` says why the loop
    ended: "target" (accuracy reached), "steps" (budget spent) or "nonfinite" (the loss blew up). `history`
    (loss and accuracy per step) is not stored.
    """

    tokens: int
    token_accuracy: float
    loss: float
    steps: int
    seconds: float
    stopped: StopReason = "steps"
    history: tuple[dict[str, float], ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["history"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WriteStats:
        """Statistics as stored; ValueError if a field is missing or of the wrong kind (unknown keys ignored)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        try:
            stats = cls(
                tokens=_number(data["tokens"], int), token_accuracy=_number(data["token_accuracy"], float),
                loss=_number(data["loss"], float), steps=_number(data["steps"], int),
                seconds=_number(data["seconds"], float), stopped=data.get("stopped", "steps"),
            )
        except KeyError as exc:
            raise ValueError(f"missing field {exc.args[0]!r}") from None
        if stats.stopped not in STOP_REASONS:
            raise ValueError(f"stopped must be one of {STOP_REASONS}, got {stats.stopped!r}")
        return stats


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    if kind is int and value != int(value):
        raise ValueError(f"expected an integer, got {value!r}")
    return kind(value)


@dataclass(frozen=True)
class EncodedVectors:
    """Vectors as stored: safetensors bytes with their dtype and shape columns."""

    data: bytes = field(repr=False)
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class MemoryBlock:
    """Memory vectors [memory_tokens, hidden] (float32 on the CPU, before the adapter's projection) holding one
    text, with how they were written; once placed, messages first_seq..last_seq of a session (or one piece of
    a message too long for one block: its other pieces are blocks on the same seq).

    level: 0 for a block written from its turns, n+1 for one consolidated from level-n blocks.
    Build one with `MemoryBlock.written(...)`; the store builds the stored ones.
    """

    model_fingerprint: str
    adapter_id: str | None
    shape: tuple[int, ...]
    source: torch.Tensor | EncodedVectors = field(repr=False)
    raw_stats: WriteStats | str | Mapping[str, Any] = field(repr=False)  # JSON text or object as stored
    id: int | None = None
    session_id: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    level: int = 0
    created_at: datetime | None = None

    @classmethod
    def written(cls, vectors: torch.Tensor, stats: WriteStats, model_fingerprint: str,
                adapter_id: str | None = None) -> MemoryBlock:
        """A block fresh from WRITE, not placed in any session yet."""
        return cls(model_fingerprint, adapter_id, tuple(vectors.shape), vectors, stats)

    def placed(self, first_seq: int, last_seq: int, level: int = 0) -> MemoryBlock:
        """The same vectors as the memory of messages first_seq..last_seq (not stored yet)."""
        return replace(self, first_seq=first_seq, last_seq=last_seq, level=level, id=None, created_at=None)

    @cached_property
    def vectors(self) -> torch.Tensor:
        """[n, hidden] float32; CorruptBlockError if the stored bytes cannot be decoded or are not finite."""
        from .vectors import decode_vectors

        if not isinstance(self.source, EncodedVectors):
            return self.source
        return decode_vectors(self.source.data, dtype=self.source.dtype, shape=list(self.source.shape),
                              session_id=self.session_id or "", block_id=self.id or -1)

    @cached_property
    def stats(self) -> WriteStats:
        """CorruptBlockError if the stored statistics are not valid JSON of the expected fields."""
        if isinstance(self.raw_stats, WriteStats):
            return self.raw_stats
        try:
            data = json.loads(self.raw_stats) if isinstance(self.raw_stats, str) else self.raw_stats
            return WriteStats.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise CorruptBlockError(self.session_id or "", self.id or -1, f"unreadable statistics ({exc})") from None

    def check(self) -> None:
        """Decode vectors and statistics now: CorruptBlockError if either cannot be used."""
        _ = self.vectors, self.stats

    @property
    def vector_count(self) -> int:
        return math.prod(self.shape[:-1]) if self.shape else 0

    @property
    def tokens(self) -> int:
        return self.stats.tokens

    @property
    def nbytes(self) -> int:
        """Bytes of the vectors as stored (safetensors), or in memory before they are."""
        if isinstance(self.source, EncodedVectors):
            return len(self.source.data)
        return self.source.numel() * self.source.element_size()

    def check_fingerprint(self, fp: str, adapter_id: str | None) -> None:
        """Raise FingerprintMismatchError unless the block was written by this model and adapter."""
        if self.model_fingerprint == fp and self.adapter_id == adapter_id:
            return
        raise FingerprintMismatchError(
            f"memory block {self.id} of session {self.session_id!r} was written by model "
            f"{self.model_fingerprint!r} / adapter {self.adapter_id!r}, but the current one is model "
            f"{fp!r} / adapter {adapter_id!r}; its vectors mean nothing to this model: "
            "call rebuild() to write the memory again from the transcript"
        )


@dataclass(frozen=True)
class SessionInfo:
    """Summary of one session; stored_bytes = UTF-8 bytes of message contents + vector blobs."""

    session_id: str
    created_at: datetime
    updated_at: datetime
    message_count: int
    compressed_upto: int
    block_count: int
    vector_count: int
    stored_bytes: int
