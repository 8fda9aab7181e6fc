"""Questions asked through the product itself: a GradMemConversationMemory with the default policy.

The episodes of `episodes.py` fix the layout (one cut, a few recent messages). Here each chat is added in
one call to a real conversation (SQLite, inline compression after the call, MemoryPolicy defaults unless
overridden: a 512-token recent window, 256-token blocks, several blocks per session), and each question is
answered from exactly what `read_context` hands the engine. Only questions whose facts all left the window
are asked.
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
from .scoring import is_correct

PRODUCT_METHODS = ("memory", "truncation", "full")


def evaluate_product(trained: GradMem, frozen: GradMem, samples: Sequence[Sample], *, max_new_tokens: int = 24,
                     **policy: Any) -> dict[str, dict]:
    """Per method, accuracy over the memory-only questions: "memory" (the trained engine, blocks + recent
    window), "truncation" (the frozen model, the same recent window) and "full" (the frozen model, the whole
    chat as text)."""
    rows: dict[str, list[dict]] = {m: [] for m in PRODUCT_METHODS}
    blocks = []
    with tempfile.TemporaryDirectory(prefix="gradmem-product-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'product.db'}"
        for i, sample in enumerate(samples):
            conv = GradMemConversationMemory(f"chat-{i}", trained, url=url, mode="inline", **policy)
            try:
                conv.add_messages(sample.messages)
                ctx = conv.read_context()
                blocks.append(len(ctx.blocks))
                for qa in sample.qas:
                    if not ctx.blocks or any(t > ctx.compressed_upto for t in qa.fact_turns):
                        continue  # a fact is still in the window (or nothing was compressed)
                    asked = conv.read_context(qa.question)
                    replies = {
                        "memory": trained.generate(asked.messages, asked.memory, max_new_tokens=max_new_tokens),
                        "truncation": frozen.generate(asked.messages, max_new_tokens=max_new_tokens),
                        "full": frozen.generate(read_messages(sample.messages, qa.question),
                                                max_new_tokens=max_new_tokens),
                    }
                    for method, reply in replies.items():
                        rows[method].append({"question": qa.question, "answer": qa.answer, "reply": reply,
                                             "correct": is_correct(reply, qa)})
            finally:
                conv.close()
    summary = {"chats": len(samples), "mean_blocks": sum(blocks) / max(1, len(blocks)),
               "max_blocks": max(blocks or [0])}
    return {m: {"method": m, "correct": sum(r["correct"] for r in rs), "total": len(rs),
                "accuracy": sum(r["correct"] for r in rs) / max(1, len(rs)), **summary, "predictions": rs}
            for m, rs in rows.items()}
