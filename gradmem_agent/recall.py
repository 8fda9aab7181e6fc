"""Query-aware READ: what of a session's history a question gets, within the memory policy's budgets.

The layout, the same in the product and in training (layout.read_messages renders it):
    [memory blocks] + system prompt? + recalled old turns + recent window + question
- the recent window: the newest turns, at most `recent_tokens` of them (the newest message is always there,
  cut with a marker if it alone is longer);
- recalled turns: older turns that share words with the question, found by the database's full-text search,
  best first until `recall_tokens` are used (a long turn is cut to its best-matching sentences), then put
  back in time order, so that the newest mention of a corrected fact comes last;
- blocks: at most `read_blocks` of them, those holding the turns the search found (best first), then the
  newest; in time order. A question with no matching words gets the newest blocks and no recalled turns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

from .layout import render_turn
from .policy import MemoryPolicy
from .storage import Message, SearchHit
from .storage.search import query_terms

CountFn = Callable[[str], int]
RECALL_HITS = 16  # search hits considered for recalled turns and for the choice of blocks
CUT = "[…]"
MIN_EXCERPT_TOKENS = 24  # a recalled turn is not cut shorter than this: a few words out of context mislead
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")


class Span(Protocol):
    """Where a block sits: messages first_seq..last_seq (a stored block, or a plan for one)."""

    @property
    def first_seq(self) -> int | None: ...

    @property
    def last_seq(self) -> int | None: ...


B = TypeVar("B", bound=Span)


@dataclass(frozen=True)
class ReadPlan(Generic[B]):
    """What READ feeds for one question: blocks and recalled turns (oldest first), then the recent window."""

    blocks: list[B]
    recalled: list[Message]
    recent: list[Message]


def turn_size(message: Message, count: CountFn, tokenizer=None) -> int:
    turn = message.turn()
    return count(render_turn(turn["role"], turn["content"], tokenizer))


def recent_window(messages: Sequence[Message], budget: int, count: CountFn, tokenizer=None) -> list[Message]:
    """The newest messages that fit `budget` tokens together; the newest one always, cut to fit if needed."""
    window: list[Message] = []
    used = 0
    for message in reversed(messages):
        size = turn_size(message, count, tokenizer)
        if used + size > budget:
            if not window:
                window.append(cut_to(message, budget, count, tokenizer))
            break
        window.append(message)
        used += size
    return window[::-1]


def cut_to(message: Message, budget: int, count: CountFn, tokenizer=None) -> Message:
    """The message with its middle cut out (marked) so that its turn fits `budget` tokens; its start and end
    stay, where a long message usually says what it is and what it asks."""
    overhead = turn_size(replace(message, content="", tool_calls=None), count, tokenizer) + count(f" {CUT} ")
    room = max(8, budget - overhead)
    text = message.content
    if count(text) <= room:
        return message
    head, tail = _fit_prefix(text, room // 2, count), _fit_suffix(text, room - room // 2, count)
    return replace(message, content=f"{head} {CUT} {tail}", tool_calls=None)


def recall_turns(hits: Sequence[SearchHit], question: str, budget: int, count: CountFn, tokenizer=None
                 ) -> list[Message]:
    """The best hits that fit `budget` tokens (a long one cut to its best-matching sentences), in time order."""
    terms = set(query_terms(question))
    chosen: list[Message] = []
    used = 0
    for hit in hits:
        room = budget - used
        if room < MIN_EXCERPT_TOKENS:
            break
        message = hit.message
        size = turn_size(message, count, tokenizer)
        if size > room:
            message = excerpt(message, terms, room, count, tokenizer)
            size = turn_size(message, count, tokenizer)
            if size > room:
                continue
        chosen.append(message)
        used += size
    return sorted(chosen, key=lambda m: m.seq if m.seq is not None else -1)


def excerpt(message: Message, terms: set[str], budget: int, count: CountFn, tokenizer=None) -> Message:
    """The run of sentences around the one sharing most words with the query that fits `budget` tokens."""
    overhead = turn_size(replace(message, content="", tool_calls=None), count, tokenizer) + 2 * count(f" {CUT} ")
    room = budget - overhead
    sentences = [s for s in _SENTENCE.split(message.content) if s.strip()]
    if not sentences or room < 8:
        return replace(message, content="", tool_calls=None)
    scores = [_matches(s, terms) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    first = last = best
    text = _fit_prefix(sentences[best], room, count)
    while True:  # grow towards the neighbour that shares more words, then the later one
        options = [i for i in (last + 1, first - 1) if 0 <= i < len(sentences)]
        grown = None
        for i in sorted(options, key=lambda i: -scores[i]):
            lo, hi = min(first, i), max(last, i)
            candidate = " ".join(sentences[lo : hi + 1])
            if count(candidate) <= room:
                grown = (lo, hi, candidate)
                break
        if grown is None:
            break
        first, last, text = grown
    content = ("" if first == 0 else f"{CUT} ") + text + ("" if last == len(sentences) - 1 else f" {CUT}")
    return replace(message, content=content, tool_calls=None)


def choose_blocks(blocks: Sequence[B], hits: Sequence[SearchHit], limit: int | None) -> list[B]:
    """At most `limit` blocks (None: all): those holding the hits, best first, then the newest; in time order."""
    if limit is None or len(blocks) <= limit:
        return list(blocks)
    score = [0.0] * len(blocks)
    for hit in hits:
        seq = hit.message.seq
        for i, block in enumerate(blocks):
            if block.first_seq is not None and block.last_seq is not None and block.first_seq <= seq <= block.last_seq:
                score[i] += max(hit.score, 1e-6)
    order = sorted(range(len(blocks)), key=lambda i: (-score[i], -i))
    return [blocks[i] for i in sorted(order[:limit])]


def plan_read(question: str | None, blocks: Sequence[B], window: Sequence[Message], hits: Sequence[SearchHit],
              policy: MemoryPolicy, count: CountFn, tokenizer=None) -> ReadPlan[B]:
    """The READ layout for `question` (None: no recall) from the session's blocks, its recent window and the
    search hits among the turns before that window."""
    if question is None or not policy.recall_tokens:
        return ReadPlan(choose_blocks(blocks, [], policy.read_blocks), [], list(window))
    recalled = recall_turns(hits, question, policy.recall_tokens, count, tokenizer)
    return ReadPlan(choose_blocks(blocks, hits, policy.read_blocks), recalled, list(window))


def _matches(sentence: str, terms: set[str]) -> int:
    words = {w.lower() for w in _WORD.findall(sentence)}
    return sum(1 for t in terms if any(w.startswith(t[:5]) for w in words))


def _fit_prefix(text: str, budget: int, count: CountFn) -> str:
    """The longest word-aligned prefix of text that counts at most `budget` tokens."""
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo]) if lo else text[: max(1, budget)]


def _fit_suffix(text: str, budget: int, count: CountFn) -> str:
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[len(words) - mid :])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[len(words) - lo :]) if lo else text[-max(1, budget) :]
