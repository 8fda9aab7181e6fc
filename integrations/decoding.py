"""Replies whose start is given: the chat prompt, then `prefix` as the first tokens of the assistant's turn.

Used to force a tool call (prefix ``<tool_call>`` + the tool's name) and structured output (prefix ``{``). The
returned text starts with the prefix, so parsing sees the whole reply. stream() also takes a `cancel` event that
stops decoding at the next token (a server's client that went away).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from gradmem_agent.engine import GradMem
from gradmem_agent.read import (
    MemoryInput,
    SamplingConfig,
    check_messages,
    generate_ids,
    prompt_ids,
    read_inputs,
    stack_memory,
    stream_text,
)


def _inputs(engine: GradMem, turns: Sequence[dict], memory: MemoryInput,
            prefix: str) -> tuple[torch.Tensor, torch.Tensor, int]:
    ids = prompt_ids(engine.tokenizer, check_messages(turns))
    ids += engine.tokenizer(prefix, add_special_tokens=False)["input_ids"]
    stacked = stack_memory(memory, engine.hidden_size)
    if stacked.shape[0] + len(ids) >= engine.max_positions:
        raise ValueError(f"memory ({stacked.shape[0]} vectors) plus prompt ({len(ids)} tokens) exceed the "
                         f"model's {engine.max_positions} positions")
    embeds, attention = read_inputs(engine.backbone, stacked, ids)
    return embeds, attention, int(stacked.shape[0])


def generate(engine: GradMem, turns: Sequence[dict], memory: MemoryInput, sampling: SamplingConfig,
             prefix: str = "") -> str:
    """The reply to `turns` reading `memory`, starting with `prefix` (included in the result)."""
    if not prefix:
        return engine.generate(turns, memory, sampling)
    embeds, attention, vectors = _inputs(engine, turns, memory, prefix)
    with engine.read_phase(vectors):
        ids = generate_ids(engine.backbone, embeds, attention, sampling, eos_token_id=engine.stop_ids)
    return prefix + engine.tokenizer.decode(ids, skip_special_tokens=True).rstrip()


class _Cancelled(StoppingCriteria):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: object) -> bool:
        return self.event.is_set()


def stream(engine: GradMem, turns: Sequence[dict], memory: MemoryInput, sampling: SamplingConfig,
           prefix: str = "", cancel: threading.Event | None = None) -> Iterator[str]:
    """Like generate, yielding the prefix first, then text pieces as they are decoded; setting `cancel` stops
    decoding after the current token."""
    if not prefix and cancel is None:
        yield from engine.stream(turns, memory, sampling)
        return
    embeds, attention, vectors = _inputs(engine, turns, memory, prefix)
    if prefix:
        yield prefix
    extra = {"stopping_criteria": StoppingCriteriaList([_Cancelled(cancel)])} if cancel is not None else {}
    with engine.read_phase(vectors):
        yield from stream_text(engine.backbone, engine.tokenizer, embeds, attention, sampling,
                               eos_token_id=engine.stop_ids, **extra)
