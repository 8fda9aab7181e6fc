"""Offline document Q&A: a long text written into a session's memory blocks, then questions answered from memory.

Design (resumable by construction):
- the document is cut by layout.segment_document into segments that, rendered as one chat turn, fit one WRITE
  (`segment_tokens`, default the conversation's policy: the adapter's trained size, else 256);
- each segment is stored as a "user" message of the session, with extra={"document": name, "segment": i,
  "sha256": ...}; a segment whose (document, index, hash) the session already holds is skipped, so running
  the same ingest again appends nothing (`document` is the file's name, so a re-ingest from another folder
  is recognised; an edited file appends only its changed segments);
- then GradMemConversationMemory.compress(keep_last=0) writes every message not yet in memory; it commits one
  block per segment (on the CPU), so an interrupted ingest resumes at the first segment without a block.
- `ask` answers with remember=False: only the memory blocks and the question are fed to the model; the
  document text is never in the prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .layout import render_turn, segment_document
from .storage import Message

DOCUMENT_ROLE = "user"


class DocumentError(ValueError):
    """The file cannot be ingested (missing, binary, empty)."""


def read_text_file(path: str | Path) -> str:
    """The file's text; DocumentError if it is missing, a directory, binary (NUL bytes), not UTF-8 or empty."""
    path = Path(path)
    if not path.exists():
        raise DocumentError(f"no such file: {path}")
    if not path.is_file():
        raise DocumentError(f"not a regular file: {path}")
    data = path.read_bytes()
    if b"\x00" in data:
        raise DocumentError(f"{path} looks binary (it contains NUL bytes); only UTF-8 text can be ingested")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path} is not UTF-8 text (undecodable byte at offset {exc.start})") from None
    if not text.strip():
        raise DocumentError(f"{path} is empty; there is nothing to ingest")
    return text


def document_segments(text: str, count: Callable[[str], int], segment_tokens: int, tokenizer=None) -> list[str]:
    """Segments of `text` that each fit one WRITE of `segment_tokens` once rendered as a chat turn."""
    overhead = count(render_turn(DOCUMENT_ROLE, "", tokenizer))
    budget = max(8, segment_tokens - overhead - 2)
    return [seg.text for seg in segment_document(text, count, budget)]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IngestResult:
    segments: int  # in the document
    appended: int  # new messages stored by this run
    blocks_written: int  # new memory blocks written by this run
    blocks: int  # blocks the session holds now


def plan_ingest(conv, text: str, source: str, segment_tokens: int | None = None
                ) -> tuple[list[str], list[Message]]:
    """The document's segments and the message records still missing from the session (segment_tokens None: the
    conversation's policy, which follows the adapter)."""
    engine = conv.engine
    segment_tokens = segment_tokens or conv.policy.segment_tokens
    segments = document_segments(text, engine.count_tokens, segment_tokens, engine.tokenizer)
    held = {_key(m.extra) for m in conv.store.messages(conv.session_id) if isinstance(m.extra, dict)}
    records = []
    for i, seg in enumerate(segments):
        extra = {"document": source, "segment": i, "sha256": content_hash(seg)}
        if _key(extra) not in held:
            records.append(Message(DOCUMENT_ROLE, seg, extra=extra))
    return segments, records


def _key(extra: dict) -> tuple:
    return extra.get("document"), extra.get("segment"), extra.get("sha256")


def pending_messages(conv) -> int:
    """Messages of the session not yet written into memory."""
    store = conv.store
    return max(0, store.message_count(conv.session_id) - (store.compressed_upto(conv.session_id) + 1))


def ingest(conv, text: str, source: str = "document", *, segment_tokens: int | None = None) -> IngestResult:
    """Store the document's missing segments as messages, then write everything not yet in memory."""
    segments, records = plan_ingest(conv, text, source, segment_tokens)
    if records:
        conv.store.append_messages(conv.session_id, records)
    written = conv.compress(keep_last=0) if pending_messages(conv) else []
    return IngestResult(len(segments), len(records), len(written), len(conv.store.blocks(conv.session_id)))


def ask(conv, question: str, **sampling) -> str:
    """Answer from the session's memory only (the question is not stored)."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is empty")
    if not conv.store.blocks(conv.session_id):
        raise ValueError(f"session {conv.session_id!r} has no memory blocks yet; ingest a document first")
    return conv.respond(question, remember=False, **sampling)
