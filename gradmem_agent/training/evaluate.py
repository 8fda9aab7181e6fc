"""Answer questions about episodes with one of the compared methods, in batches, and score them.

Methods, all with the same model, chat template, greedy decoding and scorer:
- full:       the whole history as text (the upper bound while it fits the window)
- truncation: only the recent turns (old turns dropped)
- summary:    old turns replaced by a summary the same model writes (as LangChain's SummarizationMiddleware)
- gradmem:    old turns written into memory blocks by the given engine (frozen or with a trained adapter)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..engine import GradMem
from ..layout import read_messages
from ..read import prompt_ids, read_inputs, stack_memory
from .episodes import Episode
from .scoring import is_correct

METHODS = ("full", "truncation", "summary", "gradmem")
SUMMARY_PROMPT = ("Summarize the conversation below in a few sentences. Keep every name, number, place, date "
                  "and preference exactly.\n\n{transcript}")
SUMMARY_PREFIX = "Here is a summary of the conversation to date:\n\n"


@torch.no_grad()
def answer_batch(gm: GradMem, items: Sequence[tuple[torch.Tensor | None, list[dict]]], *, max_new_tokens: int = 24,
                 batch_size: int = 16, force_reader: bool = False, through_decoder: bool = False) -> list[str]:
    """Greedy replies for (memory [n*m, d] or None, messages) pairs; left-padded batches.

    As in GradMem.generate, a reply that reads no memory goes through the base model; force_reader keeps the
    trained reader's LoRA on for it too (a diagnostic of what the LoRA alone does). through_decoder: one reply
    at a time through `GradMem.generate`, i.e. the engine's own decoder (llama.cpp with decode_weights="gguf")."""
    if through_decoder:
        if force_reader:
            raise ValueError("force_reader is a diagnostic of the batched path; GradMem.generate never forces it")
        return [gm.generate(messages, memory if memory is not None and memory.numel() else None,
                            max_new_tokens=max_new_tokens) for memory, messages in items]
    stacked = [stack_memory(memory, gm.hidden_size) for memory, _ in items]
    replies = [""] * len(items)
    for reads_memory in (True, False):
        group = [i for i, s in enumerate(stacked) if bool(s.shape[0]) == reads_memory]
        with gm.phase("read" if reads_memory or force_reader else "plain"):
            for start in range(0, len(group), batch_size):
                chunk = group[start : start + batch_size]
                for i, reply in zip(chunk, _generate(gm, [(stacked[i], items[i][1]) for i in chunk],
                                                     max_new_tokens), strict=True):
                    replies[i] = reply
    return replies


def _generate(gm: GradMem, items: list[tuple[torch.Tensor, list[dict]]], max_new_tokens: int) -> list[str]:
    backbone = gm.backbone
    rows = [read_inputs(backbone, memory, prompt_ids(gm.tokenizer, messages))[0][0] for memory, messages in items]
    width = max(r.shape[0] for r in rows)
    embeds = rows[0].new_zeros(len(rows), width, rows[0].shape[-1])
    attention = torch.zeros(len(rows), width, dtype=torch.long, device=backbone.device)
    for i, r in enumerate(rows):
        embeds[i, width - r.shape[0]:] = r
        attention[i, width - r.shape[0]:] = 1
    out = backbone.model.generate(inputs_embeds=embeds, attention_mask=attention, do_sample=False,
                                  max_new_tokens=max_new_tokens, temperature=None, top_p=None, top_k=None,
                                  pad_token_id=gm.tokenizer.pad_token_id, eos_token_id=gm.stop_ids)
    return [gm.tokenizer.decode(o, skip_special_tokens=True).strip() for o in out]


def transcript_text(messages: Sequence[dict]) -> str:
    names = {"user": "User", "assistant": "Assistant"}
    return "\n".join(f"{names.get(m['role'], m['role'])}: {m['content']}" for m in messages)


def write_summaries(gm: GradMem, transcripts: Sequence[str], max_new_tokens: int = 128) -> list[str]:
    """The model's own summary of each transcript (transcript_text), in one batched pass."""
    prompts = [(None, [{"role": "user", "content": SUMMARY_PROMPT.format(transcript=t)}]) for t in transcripts]
    return answer_batch(gm, prompts, max_new_tokens=max_new_tokens)


def summary_exchange(summary: str) -> list[dict]:
    """The summary as the conversation's first exchange, as LangChain's SummarizationMiddleware puts it."""
    return [{"role": "user", "content": SUMMARY_PREFIX + summary}, {"role": "assistant", "content": "Thanks, noted."}]


def summaries(gm: GradMem, episodes: Sequence[Episode], max_new_tokens: int = 128) -> list[str]:
    unique = list(dict.fromkeys(transcript_text(ep.old_messages) for ep in episodes))
    written = dict(zip(unique, write_summaries(gm, unique, max_new_tokens), strict=True))
    return [written[transcript_text(ep.old_messages)] for ep in episodes]


def write_blocks(gm: GradMem, episodes: Sequence[Episode], **write_kwargs) -> tuple[list[torch.Tensor], dict]:
    """Write every distinct segment once (batched); return each episode's stacked memory and WRITE stats."""
    texts = list(dict.fromkeys(t for ep in episodes for t in ep.segments))
    memories = dict(zip(texts, gm.write(texts, **write_kwargs), strict=True)) if texts else {}
    stacked = [stack_memory([memories[t] for t in ep.segments], gm.hidden_size) for ep in episodes]
    stats = [m.stats for m in memories.values()]
    summary = {
        "segments": len(texts),
        "mean_token_accuracy": sum(s.token_accuracy for s in stats) / max(1, len(stats)),
        "mean_steps": sum(s.steps for s in stats) / max(1, len(stats)),
        "mean_segment_tokens": sum(s.tokens for s in stats) / max(1, len(stats)),
    }
    return stacked, summary


def evaluate(gm: GradMem, episodes: Sequence[Episode], method: str, *, max_new_tokens: int = 24,
             force_reader: bool = False, **write_kwargs) -> dict:
    """Accuracy of one method on the episodes, with every prediction kept (force_reader: see answer_batch)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    info: dict = {}
    if method == "full":
        items = [(None, ep.full_messages()) for ep in episodes]
    elif method == "truncation":
        items = [(None, ep.messages()) for ep in episodes]
    elif method == "summary":
        texts = summaries(gm, episodes)
        items = [(None, read_messages([*summary_exchange(s), *ep.recent], ep.question))
                 for ep, s in zip(episodes, texts, strict=True)]
        info["summaries"] = texts[:5]
    else:
        stacked, info["write"] = write_blocks(gm, episodes, **write_kwargs)
        items = list(zip(stacked, (ep.messages() for ep in episodes), strict=True))
    replies = answer_batch(gm, items, max_new_tokens=max_new_tokens, force_reader=force_reader)
    correct = [is_correct(r, ep.qa) for r, ep in zip(replies, episodes, strict=True)]
    return {
        "method": method,
        "accuracy": sum(correct) / max(1, len(correct)),
        "correct": sum(correct),
        "total": len(correct),
        **info,
        "predictions": [{"question": ep.question, "answer": ep.qa.answer, "reply": r, "correct": c}
                        for ep, r, c in zip(episodes, replies, correct, strict=True)],
    }
