"""Training and evaluation episodes in the product's READ layout.

An episode is what the product would hold at the moment a question is asked: the memory blocks (segments
of old text, written independently) and the text part of the prompt (recent turns + the question). The
cutting and rendering come from `gradmem_agent.layout`, the same code the conversation memory uses.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..layout import read_messages, segment_document, segment_turns
from ..messages import Message
from ..policy import MemoryPolicy, plan_blocks
from .data import QA, Sample


@dataclass
class Episode:
    segments: list[str]          # texts written into memory, oldest first
    recent: list[dict]           # turns kept as text (chats), [] for documents
    question: str
    qa: QA
    kind: str
    context_text: list[dict]     # the whole history as text: the full-context baseline
    old_messages: list[dict]     # what left the window: the summary baseline summarises it

    def messages(self) -> list[dict]:
        return read_messages(self.recent, self.question)

    @property
    def in_memory(self) -> bool:
        """True when every fact behind the answer left the window (documents: always)."""
        cut = len(self.context_text) - len(self.recent) if self.kind == "chat" else len(self.context_text)
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


DATA_KINDS = ("chat", "babi1", "babi2", "babi3", "kv")  # what sample_mix can draw


def sample_mix(rng: random.Random, n: int, weights: dict[str, float], seed: int, split: str,
               chat_turns: tuple[int, int], kv_pairs: tuple[int, int],
               facts: tuple[int, int] = (2, 5), invented_names: float = 0.0,
               open_facts: float = 0.0) -> list[Sample]:
    """Draw n samples from the data generators according to `weights` (keys from DATA_KINDS)."""
    from .data import babi_samples, chat_samples, kv_samples

    kinds = rng.choices(list(weights), weights=list(weights.values()), k=n)
    out: list[Sample] = []
    for i, kind in enumerate(kinds):
        s = seed * 1000 + i
        if kind == "chat":
            out += chat_samples(1, split=split, seed=s, turns=chat_turns, facts=facts, invented_names=invented_names,
                                open_facts=open_facts)
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
