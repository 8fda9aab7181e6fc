"""Training and evaluation episodes in the product's READ layout.

An episode is what the product would hold at the moment a question is asked: the memory blocks (segments
of old text, written independently) and the text part of the prompt (recent turns + the question). The
cutting and rendering come from `gradmem_agent.layout`, the same code the conversation memory uses.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..layout import read_messages, segment_document, segment_turns
from ..policy import MemoryPolicy, plan_blocks
from ..recall import RECALL_HITS, plan_read, recent_window
from ..storage import Message, SearchHit, SQLStore
from .data import QA, Sample


@dataclass
class Episode:
    segments: list[str]          # texts written into memory, oldest first
    recent: list[dict]           # turns as text: recalled old turns, then the recent window
    question: str
    qa: QA
    kind: str                    # "chat" or "document"
    context_text: list[dict]     # the whole history as text: the full-context baseline
    old_messages: list[dict]     # what left the window: the summary baseline summarises it
    left_window: bool | None = None  # every fact behind the answer left the recent window (None: computed)

    def messages(self) -> list[dict]:
        return read_messages(self.recent, self.question)

    @property
    def in_memory(self) -> bool:
        """True when every fact behind the answer left the recent window (documents: always)."""
        if self.left_window is not None:
            return self.left_window
        if self.kind != "chat":
            return True
        cut = len(self.context_text) - len(self.recent)
        return all(t < cut for t in self.qa.fact_turns)

    def full_messages(self) -> list[dict]:
        if self.kind == "chat":
            return read_messages(self.context_text, self.question)
        # a document and its question in one user turn
        return read_messages([], self.context_text[0]["content"] + "\n\n" + self.question)


def chat_episodes(sample: Sample, count, segment_tokens: int, recent_messages: int, tokenizer=None) -> list[Episode]:
    """Old turns (all but the last `recent_messages`) go to memory; one episode per question."""
    msgs = sample.messages
    cut = max(0, len(msgs) - recent_messages)
    old, recent = msgs[:cut], msgs[cut:]
    segments = [s.text for s in segment_turns(old, count, segment_tokens, tokenizer)] if old else []
    return [Episode(segments, list(recent), qa.question, qa, sample.kind, list(msgs), list(old)) for qa in sample.qas]


def product_episodes(sample: Sample, count, policy: MemoryPolicy, tokenizer=None) -> list[Episode]:
    """The chat as GradMemConversationMemory holds it after one `add_messages` call with inline compression:
    the blocks `plan_blocks` gives under `policy` (its token-budget recent window, only full segments), the
    rest as recent text."""
    messages = [Message(m["role"], m["content"], seq=i) for i, m in enumerate(sample.messages)]
    plans = plan_blocks(messages, count, policy, tokenizer)
    cut = plans[-1].last_seq + 1 if plans else 0
    segments = [plan.text for plan in plans]
    old, recent = list(sample.messages[:cut]), list(sample.messages[cut:])
    return [Episode(segments, recent, qa.question, qa, sample.kind, list(sample.messages), old) for qa in sample.qas]


def document_episodes(sample: Sample, count, segment_tokens: int) -> list[Episode]:
    """A document is written segment by segment; the question comes with no recent text."""
    segments = [s.text for s in segment_document(sample.document or "", count, segment_tokens)]
    doc_as_text = [{"role": "user", "content": sample.document or ""}]
    return [Episode(segments, [], qa.question, qa, sample.kind, doc_as_text, doc_as_text) for qa in sample.qas]


def episodes_for(sample: Sample, count, segment_tokens: int, recent_messages: int = 4, tokenizer=None,
                 recent_tokens: int | None = None) -> list[Episode]:
    """Chats keep the last `recent_messages` as text, or with `recent_tokens` the product's window."""
    if sample.kind == "chat" and recent_tokens is not None:
        policy = MemoryPolicy(recent_tokens=recent_tokens, segment_tokens=segment_tokens)
        return product_episodes(sample, count, policy, tokenizer)
    if sample.kind == "chat":
        return chat_episodes(sample, count, segment_tokens, recent_messages, tokenizer)
    return document_episodes(sample, count, segment_tokens)


DATA_KINDS = ("chat", "session", "document", "cloze", "babi1", "babi2", "babi3", "kv")  # what sample_mix can draw


def sample_mix(rng: random.Random, n: int, weights: dict[str, float], seed: int, split: str,
               chat_turns: tuple[int, int], kv_pairs: tuple[int, int],
               facts: tuple[int, int] = (2, 5), invented_names: float = 0.0,
               open_facts: float = 0.0) -> list[Sample]:
    """Draw n samples from the data generators according to `weights` (keys from DATA_KINDS)."""
    from .data import babi_samples, chat_samples, cloze_samples, document_samples, kv_samples, session_samples

    kinds = rng.choices(list(weights), weights=list(weights.values()), k=n)
    out: list[Sample] = []
    for i, kind in enumerate(kinds):
        s = seed * 1000 + i
        if kind == "chat":
            out += chat_samples(1, split=split, seed=s, turns=chat_turns, facts=facts, invented_names=invented_names,
                                open_facts=open_facts)
        elif kind == "session":
            out += session_samples(1, split=split, seed=s, invented_names=invented_names, open_facts=open_facts)
        elif kind == "document":
            out += document_samples(1, split=split, seed=s)
        elif kind == "cloze":
            out += cloze_samples(1, split=split, seed=s)
        elif kind.startswith("babi"):
            out += babi_samples(int(kind[-1]), 1, split=split, seed=s)
        elif kind == "kv":
            pairs = rng.randint(*kv_pairs)
            out += kv_samples(pairs, 1, seed=s, questions=min(2, pairs))
        else:
            raise ValueError(f"unknown data kind {kind!r}")
    return out


def flatten(samples: Sequence[Sample], count, segment_tokens: int, recent_messages: int,
            tokenizer=None, recent_tokens: int | None = None) -> list[Episode]:
    return [e for s in samples
            for e in episodes_for(s, count, segment_tokens, recent_messages, tokenizer, recent_tokens)]


CHAT_KINDS = ("chat",)  # samples of turns; every other kind is a document, ingested as `gradmem ingest` does


class Recaller:
    """The product's full-text search for training and evaluation: one in-memory SQLite store, a session per
    sample, so that episodes recall exactly what GradMemConversationMemory would."""

    def __init__(self) -> None:
        self.store = SQLStore("sqlite://")
        self._next = 0

    def session(self, messages: Sequence[Message]) -> str:
        self._next += 1
        session_id = f"sample-{self._next}"
        self.store.append_messages(session_id, [replace(m, seq=None) for m in messages])
        return session_id

    def search(self, session_id: str, question: str, max_seq: int) -> list[SearchHit]:
        return self.store.search_messages(session_id, question, max_seq=max_seq, limit=RECALL_HITS)

    def close(self, session_id: str) -> None:
        self.store.delete_session(session_id)


def sample_messages(sample: Sample, count, policy: MemoryPolicy, tokenizer=None) -> tuple[list[Message], bool]:
    """The sample as the messages the product stores, and whether all of it goes to memory (a document)."""
    if sample.kind in CHAT_KINDS:
        return [Message(m["role"], m["content"], seq=i) for i, m in enumerate(sample.messages)], False
    from ..documents import DOCUMENT_ROLE, document_segments

    pieces = document_segments(sample.document or "", count, policy.segment_tokens, tokenizer)
    return [Message(DOCUMENT_ROLE, text, seq=i) for i, text in enumerate(pieces)], True


def read_episodes(sample: Sample, count, policy: MemoryPolicy, recaller: Recaller, tokenizer=None) -> list[Episode]:
    """One episode per question, laid out as the product's query-aware READ lays it out (recall.plan_read):
    chats as GradMemConversationMemory holds them after one `add_messages` call with inline compression,
    documents as `documents.ingest` writes them (every segment a block, no recent window)."""
    messages, document = sample_messages(sample, count, policy, tokenizer)
    plans = plan_blocks(messages, count, policy, tokenizer, keep_last=0 if document else None)
    upto = plans[-1].last_seq if plans else -1
    window = recent_window(messages[upto + 1 :], policy.recent_tokens, count, tokenizer)
    before = window[0].seq - 1 if window else len(messages) - 1
    whole = [m.turn() for m in messages] if not document else [{"role": "user", "content": sample.document or ""}]
    old = [m.turn() for m in messages[: before + 1]]
    session_id = recaller.session(messages) if policy.recall_tokens else ""
    episodes = []
    try:
        for qa in sample.qas:
            hits = recaller.search(session_id, qa.question, before) if session_id else []
            plan = plan_read(qa.question, plans, window, hits, policy, count, tokenizer)
            left = document or all(t <= before for t in qa.fact_turns)
            episodes.append(Episode([b.text for b in plan.blocks], [m.turn() for m in plan.recalled + plan.recent],
                                    qa.question, qa, "document" if document else "chat", whole, old, left))
    finally:
        if session_id:
            recaller.close(session_id)
    return episodes
