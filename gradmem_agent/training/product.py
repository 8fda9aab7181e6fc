"""Questions asked through the product itself, every way of reading side by side on the same questions.

Each sample goes into a real GradMemConversationMemory (SQLite, inline compression): a chat is added in one
call (`keep_last` set: everything but the last `keep_last` messages is then written into memory, the lab
layout of the single-chat sets), a document is ingested as `gradmem ingest` does. For every question the
conversation's own READ context (`read_context`, the query-aware layout of recall.py) is taken, and the
arms below read from it; only questions whose facts all left the recent window are asked.

- hybrid:     what respond() feeds: the chosen blocks, the recalled old turns, the recent window (the product)
- recall:     the recalled old turns and the recent window as text, no memory (full-text search alone)
- blocks:     the chosen blocks and the recent window, nothing recalled
- memory:     every block (the reader's trained limit aside) and the recent window: memory-only READ
- control:    the hybrid layout reading another sample's blocks (as many): separates what the blocks hold
              from the adapter being switched on
- full:       the whole history as text (its oldest turns dropped if it does not fit the model)
- summary:    the turns that left the window replaced by the model's own summary of them, then the window
- truncation: the recent window alone
Every arm uses the same engine; an arm that reads no memory goes through the untouched base model.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..conversation import GradMemConversationMemory, ReadContext
from ..documents import ingest
from ..engine import GradMem
from ..layout import read_messages
from ..policy import MemoryPolicy
from ..read import prompt_ids
from .data import Sample
from .evaluate import answer_batch, summary_exchange, transcript_text, write_summaries
from .scoring import is_correct, paired

ARMS = ("hybrid", "recall", "blocks", "memory", "control", "full", "summary", "truncation")


@dataclass
class Asked:
    """One question and the contexts its arms read."""

    sample: int
    question: str
    qa: Any
    ctx: ReadContext
    all_blocks: list[torch.Tensor]
    whole: list[dict]
    old: list[dict]
    blocks_after_fact: int | None


def evaluate_product(engine: GradMem, samples: Sequence[Sample], *, arms: Sequence[str] = ARMS,
                     keep_last: int | None = None, max_new_tokens: int = 24, through_decoder: bool = False,
                     **policy: Any) -> dict[str, dict]:
    """Per arm: correct/total over the questions whose facts left the window, with every prediction kept, and
    the paired comparison of the hybrid against each other arm. `policy`: MemoryPolicy fields.
    through_decoder: replies one by one through the engine's own decoder (answer_batch), not batched."""
    unknown = set(arms) - set(ARMS)
    if unknown:
        raise ValueError(f"unknown arm(s) {sorted(unknown)}; known: {', '.join(ARMS)}")
    started = time.perf_counter()
    asked = _contexts(engine, samples, keep_last, max_new_tokens, MemoryPolicy(**policy))
    write_seconds = time.perf_counter() - started
    digests = _summaries(engine, asked) if "summary" in arms else {}
    rows: dict[str, list[dict]] = {}
    for arm in arms:
        items = [_item(arm, a, asked, digests, engine, max_new_tokens) for a in asked]
        replies = answer_batch(engine, items, max_new_tokens=max_new_tokens, through_decoder=through_decoder)
        rows[arm] = [{"question": a.question, "answer": a.qa.answer, "reply": r, "correct": is_correct(r, a.qa),
                      "blocks": len(a.ctx.blocks), "recalled": len(a.ctx.recalled),
                      "blocks_after_fact": a.blocks_after_fact} for a, r in zip(asked, replies, strict=True)]
    counts = [len(a.all_blocks) for a in asked]
    summary = {"samples": len(samples), "write_seconds": round(write_seconds, 1),
               "mean_blocks": sum(counts) / max(1, len(counts)), "max_blocks": max(counts or [0]),
               "mean_blocks_read": sum(len(a.ctx.blocks) for a in asked) / max(1, len(asked)),
               "recall_found_answer": sum(_recalled_answer(a) for a in asked)}
    out = {arm: {"arm": arm, "correct": sum(r["correct"] for r in rs), "total": len(rs),
                 "accuracy": sum(r["correct"] for r in rs) / max(1, len(rs)), **summary, "predictions": rs}
           for arm, rs in rows.items()}
    if "hybrid" in rows:
        for arm, rs in rows.items():
            if arm != "hybrid":
                out[arm]["paired_with_hybrid"] = paired([r["correct"] for r in rows["hybrid"]],
                                                        [r["correct"] for r in rs])
    return out


def _contexts(engine: GradMem, samples: Sequence[Sample], keep_last: int | None, reply_tokens: int,
              policy: MemoryPolicy) -> list[Asked]:
    asked: list[Asked] = []
    with tempfile.TemporaryDirectory(prefix="gradmem-product-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'product.db'}"
        for i, sample in enumerate(samples):
            conv = GradMemConversationMemory(f"sample-{i}", engine, url=url, policy=policy, mode="inline")
            try:
                document = sample.kind != "chat"
                if document:
                    ingest(conv, sample.document or "", f"sample-{i}")
                    whole = [{"role": "user", "content": sample.document or ""}]
                else:
                    conv.add_messages(sample.messages)
                    if keep_last is not None:
                        conv.compress(keep_last=keep_last)
                    whole = [dict(m) for m in sample.messages]
                blocks = conv.memory_blocks
                for qa in sample.qas:
                    ctx = conv.read_context(qa.question, reply_tokens=reply_tokens)
                    first_recent = ctx.recent[0].seq if ctx.recent else len(whole)
                    if not document and not all(t < first_recent for t in qa.fact_turns):
                        continue  # the fact is still in the recent window: not a memory question
                    old = whole if document else whole[:first_recent]
                    asked.append(Asked(i, qa.question, qa, ctx, [b.vectors for b in blocks], whole, old,
                                       _blocks_after(blocks, max(qa.fact_turns, default=-1))))
            finally:
                conv.close()
    return asked


def _item(arm: str, a: Asked, asked: Sequence[Asked], digests: dict[int, str], engine: GradMem,
          reply_tokens: int) -> tuple[torch.Tensor | None, list[dict]]:
    """(memory, messages) that `arm` reads for question `a`."""
    window = read_messages([m.turn() for m in a.ctx.recent], a.question)
    memory = torch.cat(a.ctx.memory) if a.ctx.memory else None
    if arm == "hybrid":
        return memory, a.ctx.messages
    if arm == "recall":
        return None, a.ctx.messages
    if arm == "blocks":
        return memory, window
    if arm == "memory":
        return _fit_blocks(engine, a.all_blocks, window, reply_tokens), window
    if arm == "control":
        return _other_blocks(a, asked, len(a.ctx.blocks)), a.ctx.messages
    if arm == "full":
        return None, _fit_turns(engine, a.whole, a.question, reply_tokens)
    if arm == "summary":
        return None, read_messages([*summary_exchange(digests[a.sample]), *(m.turn() for m in a.ctx.recent)],
                                   a.question)
    return None, window  # truncation


def _summaries(engine: GradMem, asked: Sequence[Asked]) -> dict[int, str]:
    """The model's summary of what left the window, once per sample (the oldest text that fits the model)."""
    firsts = {a.sample: a for a in reversed(asked)}
    texts = {i: _fit_text(engine, transcript_text(a.old)) for i, a in firsts.items()}
    return dict(zip(texts, write_summaries(engine, list(texts.values())), strict=True))


def _fit_blocks(engine: GradMem, blocks: list[torch.Tensor], messages: list[dict],
                reply_tokens: int) -> torch.Tensor | None:
    room = engine.max_positions - reply_tokens - len(prompt_ids(engine.tokenizer, messages))
    kept: list[torch.Tensor] = []
    for block in reversed(blocks):  # the newest that fit
        if sum(b.shape[0] for b in kept) + block.shape[0] > room:
            break
        kept.insert(0, block)
    return torch.cat(kept) if kept else None


def _fit_turns(engine: GradMem, turns: list[dict], question: str, reply_tokens: int) -> list[dict]:
    """The whole history as text, its oldest turns dropped until it fits the model with room for the reply."""
    start = 0
    while True:
        messages = read_messages(turns[start:], question)
        if len(prompt_ids(engine.tokenizer, messages)) + reply_tokens <= engine.max_positions or start >= len(turns):
            return messages
        start += 1


def _fit_text(engine: GradMem, text: str, limit: int = 1536) -> str:
    ids = engine.tokenizer(text, add_special_tokens=False)["input_ids"]
    return engine.tokenizer.decode(ids[:limit]) if len(ids) > limit else text


def _other_blocks(a: Asked, asked: Sequence[Asked], count: int) -> torch.Tensor | None:
    """`count` blocks of the next sample that has as many (the control reads memory of another conversation)."""
    if not count:
        return None
    others = [b for b in asked if b.sample != a.sample and len(b.all_blocks) >= count]
    if not others:
        return None
    after = [b for b in others if b.sample > a.sample] or others
    return torch.cat(after[0].all_blocks[-count:])


def _blocks_after(blocks: Sequence, seq: int) -> int | None:
    """How many blocks were written after the one holding message `seq` (0: the newest block)."""
    for i, block in enumerate(blocks):
        if block.first_seq <= seq <= block.last_seq:
            return len(blocks) - 1 - i
    return None


def _recalled_answer(a: Asked) -> bool:
    """The answer is written in one of the recalled turns (the search found its fact)."""
    answer = a.qa.answer.lower()
    return any(answer in m.content.lower() for m in a.ctx.recalled)
