"""Questions asked through the product itself: a GradMemConversationMemory with the default policy.

The episodes of `episodes.py` fix the layout (one cut, a few recent messages). Here each chat is added in
one call to a real conversation (SQLite, inline compression after the call, MemoryPolicy defaults unless
overridden: a 512-token recent window, 256-token blocks, several blocks per session), and each question is
answered from exactly what `read_context` hands the engine. Only questions whose facts all left the window
are asked. The summary baseline is LangChain's SummarizationMiddleware in the same layout: the turns that left
the window replaced by one summary the frozen model writes of them, next to the same recent window.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..conversation import GradMemConversationMemory
from ..engine import GradMem
from ..layout import read_messages
from .data import Sample
from .evaluate import summary_exchange, transcript_text, write_summaries
from .scoring import is_correct

PRODUCT_METHODS = ("memory", "truncation", "summary", "full")


def evaluate_product(trained: GradMem, frozen: GradMem, samples: Sequence[Sample], *,
                     methods: Sequence[str] = PRODUCT_METHODS, max_new_tokens: int = 24,
                     **policy: Any) -> dict[str, dict]:
    """Per method, accuracy over the memory-only questions: "memory" (the trained engine, blocks + recent
    window), "truncation" (the frozen model, the same recent window), "summary" (the frozen model, a summary
    of the turns that left the window + the same recent window) and "full" (the frozen model, the whole chat
    as text)."""
    unknown = set(methods) - set(PRODUCT_METHODS)
    if unknown:
        raise ValueError(f"unknown product method(s) {sorted(unknown)}; known: {', '.join(PRODUCT_METHODS)}")
    rows: dict[str, list[dict]] = {m: [] for m in methods}
    blocks = []
    with tempfile.TemporaryDirectory(prefix="gradmem-product-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'product.db'}"
        for i, sample in enumerate(samples):
            conv = GradMemConversationMemory(f"chat-{i}", trained, url=url, mode="inline", **policy)
            try:
                conv.add_messages(sample.messages)
                ctx = conv.read_context()
                blocks.append(len(ctx.blocks))
                asked_here = [qa for qa in sample.qas
                              if ctx.blocks and all(t <= ctx.compressed_upto for t in qa.fact_turns)]
                digest = ""
                if "summary" in methods and asked_here:
                    digest = write_summaries(frozen, [transcript_text(sample.messages[: ctx.compressed_upto + 1])])[0]
                for qa in asked_here:
                    asked = conv.read_context(qa.question)
                    where = _blocks_after_fact(asked.blocks, max(qa.fact_turns))
                    for method in methods:
                        if method == "memory":
                            reply = trained.generate(asked.messages, asked.memory, max_new_tokens=max_new_tokens)
                        else:
                            prompt = _frozen_prompt(method, asked.messages, sample.messages, qa.question, digest)
                            reply = frozen.generate(prompt, max_new_tokens=max_new_tokens)
                        rows[method].append({"question": qa.question, "answer": qa.answer, "reply": reply,
                                             "correct": is_correct(reply, qa), "blocks": len(asked.blocks),
                                             "blocks_after_fact": where})
            finally:
                conv.close()
    summary = {"chats": len(samples), "mean_blocks": sum(blocks) / max(1, len(blocks)),
               "max_blocks": max(blocks or [0])}
    return {m: {"method": m, "correct": sum(r["correct"] for r in rs), "total": len(rs),
                "accuracy": sum(r["correct"] for r in rs) / max(1, len(rs)), **summary,
                "by_blocks_after_fact": _by_fact_age(rs), "predictions": rs}
            for m, rs in rows.items()}


def _blocks_after_fact(blocks: Sequence, seq: int) -> int | None:
    """How many blocks were written after the one holding message `seq` (0: the newest block)."""
    for i, block in enumerate(blocks):
        if block.first_seq <= seq <= block.last_seq:
            return len(blocks) - 1 - i
    return None


def _by_fact_age(predictions: Sequence[dict]) -> dict[str, str]:
    """Correct/total by how many blocks were written after the fact's block ("0": the newest block)."""
    out: dict[str, list[int]] = {}
    for row in predictions:
        counts = out.setdefault(str(row.get("blocks_after_fact")), [0, 0])
        counts[0] += row["correct"]
        counts[1] += 1
    order = sorted(out, key=lambda age: (not age.isdigit(), int(age) if age.isdigit() else 0))
    return {age: f"{out[age][0]}/{out[age][1]}" for age in order}


def _frozen_prompt(method: str, asked: list[dict], chat: Sequence[dict], question: str, digest: str) -> list[dict]:
    """What the frozen model reads: the product's recent window and question (truncation), the whole chat
    (full), or the window after the summary as the first exchange, behind any system prompt (summary)."""
    if method == "truncation":
        return asked
    if method == "full":
        return read_messages(list(chat), question)
    head = [m for m in asked[:1] if m["role"] == "system"]
    return [*head, *summary_exchange(digest), *asked[len(head):]]
