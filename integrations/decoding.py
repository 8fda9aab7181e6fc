"""Replies whose start is given: the chat prompt, then `prefix` as the first tokens of the assistant's turn.

Used to force a tool call (prefix ``<tool_call>`` + the tool's name) and structured output (prefix ``{``). The
returned text starts with the prefix, so parsing sees the whole reply. stream() also takes a `cancel` event that
stops decoding at the next token (a server's client that went away).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import torch

from gradmem_agent.engine import GradMem
from gradmem_agent.read import (
    MemoryInput,
    SamplingConfig,
    check_messages,
    prompt_ids,
    read_inputs,
    stack_memory,
)


def _inputs(engine: GradMem, turns: Sequence[dict], memory: MemoryInput,
            prefix: str) -> tuple[torch.Tensor, torch.Tensor, int, list[int]]:
    ids = prompt_ids(engine.tokenizer, check_messages(turns))
    ids += engine.tokenizer(prefix, add_special_tokens=False)["input_ids"]
    stacked = stack_memory(memory, engine.hidden_size)
    if stacked.shape[0] + len(ids) >= engine.max_positions:
        raise ValueError(f"memory ({stacked.shape[0]} vectors) plus prompt ({len(ids)} tokens) exceed the "
                         f"model's {engine.max_positions} positions")
    embeds, attention = read_inputs(engine.backbone, stacked, ids)
    return embeds, attention, int(stacked.shape[0]), ids


def stream(engine: GradMem, turns: Sequence[dict], memory: MemoryInput, sampling: SamplingConfig,
           prefix: str = "", cancel: threading.Event | None = None, stop: Sequence[str] = ()) -> Iterator[str]:
    """The reply to `turns` reading `memory` as text pieces: `prefix` first, then the pieces as decoded.

    Decoding stops after the current token when `cancel` is set, when the consumer closes the iterator, or
    once the text holds one of the `stop` strings (the text is cut before it)."""
    embeds, attention, vectors, ids = _inputs(engine, turns, memory, prefix)
    text = prefix
    if prefix:
        yield prefix
    pieces = engine.stream_inputs(embeds, attention, vectors, sampling, cancel=cancel, prompt=ids)
    try:
        for piece in pieces:
            text += piece
            found = [text.find(s) for s in stop if s and s in text]
            if found:
                cut = min(found) - (len(text) - len(piece))
                if cut > 0:
                    yield piece[:cut]
                break
            yield piece
    finally:
        pieces.close()


def generate(engine: GradMem, turns: Sequence[dict], memory: MemoryInput, sampling: SamplingConfig,
             prefix: str = "", stop: Sequence[str] = ()) -> str:
    """The whole reply (see stream), starting with `prefix`, without trailing white space."""
    if not prefix and not stop:
        return engine.generate(turns, memory, sampling)
    text = "".join(stream(engine, turns, memory, sampling, prefix, stop=stop))
    return text.rstrip() if prefix else text.strip()


def generate_batch(engine: GradMem, prompts: Sequence[Sequence[dict]], sampling: SamplingConfig) -> list[str]:
    """Replies to several prompts that read no memory, decoded together in one batch (left-padded): on a CPU
    one pass over the weights serves every prompt, which a loop pays once per prompt."""
    rows = [prompt_ids(engine.tokenizer, check_messages(turns)) for turns in prompts]
    width = max(len(r) for r in rows)
    if width >= engine.max_positions:
        raise ValueError(f"a prompt of {width} tokens exceeds the model's {engine.max_positions} positions")
    pad = engine.tokenizer.pad_token_id if engine.tokenizer.pad_token_id is not None else engine.stop_ids[0]
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=engine.backbone.device)
    attention = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=engine.backbone.device)
    embeds = engine.backbone.embed(ids)
    with engine.read_phase(0):
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        with torch.no_grad():
            out = engine.backbone.model.generate(inputs_embeds=embeds, attention_mask=attention,
                                                 eos_token_id=engine.stop_ids, pad_token_id=pad,
                                                 **sampling.generate_kwargs())
    replies = []
    for row in out.tolist():
        end = next((i for i, t in enumerate(row) if t in engine.stop_ids), len(row))
        replies.append(engine.tokenizer.decode(row[:end], skip_special_tokens=True).strip())
    return replies
