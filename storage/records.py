"""Plain frozen values passed in and out of SQLStore."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import FingerprintMismatchError
from .vectors import decode_vectors

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class MessageRecord:
    """One dialogue message to append."""

    role: str
    content: str
    name: str | None = None
    tool_calls: Any = None
    tool_call_id: str | None = None
    extra: Any = None
    token_count: int | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored, with its 0-based position `seq` in the session."""

    seq: int
    role: str
    content: str
    name: str | None
    tool_calls: Any
    tool_call_id: str | None
    extra: Any
    token_count: int | None
    created_at: datetime


@dataclass(frozen=True)
class StoredBlock:
    """A memory block covering messages first_seq..last_seq (inclusive)."""

    id: int
    session_id: str
    first_seq: int
    last_seq: int
    dtype: str
    shape: list[int]
    model_fingerprint: str
    adapter_id: str | None
    stats: dict[str, Any]
    created_at: datetime
    level: int
    vectors_bytes: bytes = field(repr=False)

    def tensor(self) -> torch.Tensor:
        """Decode the vectors; CorruptBlockError if they are unreadable or disagree with dtype/shape."""
        return decode_vectors(
            self.vectors_bytes,
            dtype=self.dtype,
            shape=self.shape,
            session_id=self.session_id,
            block_id=self.id,
        )

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
