"""GradMem READ: memory blocks as a soft prompt before the chat-templated text.

Layout, the same in training and in the product: [M_1; ...; M_n; chat template(messages)], blocks oldest
first at positions 0..n*m-1, then the prompt tokens. The original text of the blocks is not in the input.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from threading import Thread
from typing import Any

import torch

from .backbone import Backbone
from .layout import turn_markers
from .options import check_count, check_positive, check_real
from .storage import MemoryBlock

ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class SamplingConfig:
    """How a reply is decoded; the one set of options for GradMem, conversations and ChatGradMem.

    Args:
        max_new_tokens: the longest reply, in tokens.
        temperature: 0 decodes greedily; above 0 samples with this temperature.
        top_p: nucleus sampling: the smallest set of tokens whose probability reaches top_p (1: all).
        top_k: sample among the k most likely tokens (0: no limit).
        repetition_penalty: above 1 discourages repeating tokens (1: off).
        seed: seeds the sampler, for reproducible sampled replies.
    """

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_count(self.max_new_tokens, "max_new_tokens", 1)
        if check_real(self.temperature, "temperature") < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature!r}")
        if not 0 < check_real(self.top_p, "top_p") <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")
        check_count(self.top_k, "top_k", 0)
        check_positive(self.repetition_penalty, "repetition_penalty")
        if self.seed is not None:
            check_count(self.seed, "seed", 0)

    @classmethod
    def of(cls, sampling: SamplingConfig | None = None, **options: Any) -> SamplingConfig:
        """`sampling` (default: the defaults) with single options replaced; TypeError for an unknown one."""
        base = sampling if sampling is not None else cls()
        if not isinstance(base, SamplingConfig):
            raise TypeError(f"sampling must be a SamplingConfig, got {type(base).__name__}")
        if unknown := set(options) - set(cls.__dataclass_fields__):
            raise TypeError(f"unknown sampling option(s) {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        return replace(base, **options) if options else base

    def generate_kwargs(self) -> dict:
        kwargs: dict = {"max_new_tokens": self.max_new_tokens, "repetition_penalty": self.repetition_penalty}
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p, top_k=self.top_k or None)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs


def check_messages(messages: Sequence[dict]) -> list[dict[str, str]]:
    if not messages:
        raise ValueError("messages is empty: pass at least one {'role': ..., 'content': ...}")
    clean = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or "role" not in msg or "content" not in msg:
            raise ValueError(f"message {i} must be a dict with 'role' and 'content', got {msg!r:.80}")
        if msg["role"] not in ROLES:
            raise ValueError(f"message {i} has unknown role {msg['role']!r}; expected one of {ROLES}")
        if not isinstance(msg["content"], str):
            raise TypeError(f"message {i} content must be str, got {type(msg['content']).__name__}")
        clean.append({"role": msg["role"], "content": msg["content"]})
    return clean


MemoryInput = MemoryBlock | Sequence[MemoryBlock | torch.Tensor] | torch.Tensor | None


def stack_memory(memory: MemoryInput, hidden: int) -> torch.Tensor:
    """Concatenate blocks (oldest first) into one [n*m, d] fp32 tensor ([0, d] for none)."""
    if memory is None:
        return torch.zeros(0, hidden)
    if isinstance(memory, torch.Tensor):
        blocks = [memory]
    elif isinstance(memory, MemoryBlock):
        blocks = [memory.vectors]
    else:
        blocks = [m.vectors if isinstance(m, MemoryBlock) else m for m in memory]
    if not blocks:
        return torch.zeros(0, hidden)
    for b in blocks:
        if b.dim() != 2 or b.shape[1] != hidden:
            raise ValueError(f"memory block of shape {tuple(b.shape)} does not fit hidden size {hidden}")
    return torch.cat([b.detach().float().cpu() for b in blocks], dim=0)


def stop_token_ids(tokenizer, model) -> list[int]:
    """Token ids that end a reply: the model's own EOS ids plus the chat format's turn markers (a reply never
    opens a new turn; stopping there is what chat front-ends do with stop strings)."""
    configured = model.generation_config.eos_token_id
    ids = list(configured) if isinstance(configured, list | tuple) else [configured] if configured is not None else []
    for marker in turn_markers(tokenizer):
        encoded = tokenizer(marker, add_special_tokens=False)["input_ids"] if marker else []
        if len(encoded) == 1:
            ids.append(encoded[0])
    return sorted(set(ids))


def prompt_ids(tokenizer, messages: Sequence[dict], add_generation_prompt: bool = True) -> list[int]:
    ids = tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=False
    )
    if isinstance(ids, dict) or hasattr(ids, "input_ids"):
        ids = ids["input_ids"]
    return list(ids)


def read_inputs(backbone: Backbone, memory: torch.Tensor, ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """inputs_embeds [1, n*m + T, d] and attention_mask [1, n*m + T]."""
    device = backbone.device
    tokens = torch.tensor([list(ids)], dtype=torch.long, device=device)
    parts = [backbone.project(memory.to(device)).unsqueeze(0)] if memory.shape[0] else []
    embeds = torch.cat([*parts, backbone.embed(tokens)], dim=1)
    return embeds, torch.ones(embeds.shape[:2], dtype=torch.long, device=device)


@torch.no_grad()
def generate_ids(backbone: Backbone, embeds, attention, sampling: SamplingConfig, streamer=None, **extra) -> list[int]:
    if sampling.seed is not None:
        torch.manual_seed(sampling.seed)
    out = backbone.model.generate(
        inputs_embeds=embeds, attention_mask=attention, streamer=streamer,
        pad_token_id=backbone.model.generation_config.pad_token_id or backbone.model.config.eos_token_id,
        **sampling.generate_kwargs(), **extra,
    )
    return out[0].tolist()


@torch.no_grad()
def greedy_ids(backbone: Backbone, embeds: torch.Tensor, attention: torch.Tensor, max_new_tokens: int) -> list[int]:
    """Plain greedy decoding that does not stop at end-of-turn tokens (for reconstruction)."""
    # transformers 5.2x renamed `past_key_values` to `cache`; accept both.
    name = "cache" if "cache" in inspect.signature(backbone.model.forward).parameters else "past_key_values"
    out = backbone.model(inputs_embeds=embeds, attention_mask=attention, use_cache=True)
    ids: list[int] = []
    for _ in range(max_new_tokens):
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        ids.append(int(token))
        attention = torch.cat([attention, attention.new_ones(1, 1)], dim=1)
        out = backbone.model(input_ids=token, attention_mask=attention, use_cache=True, **{name: getattr(out, name)})
    return ids


def stream_text(tokenizer, decode: Callable[..., Any]) -> Iterator[str]:
    """Text pieces of a reply as `decode(streamer=...)` produces its tokens on a worker thread."""
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=False, skip_special_tokens=True)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            decode(streamer=streamer)
        except BaseException as exc:  # surfaced in the consumer's thread below
            errors.append(exc)
            streamer.end()

    thread = Thread(target=run, daemon=True)
    thread.start()
    yield from (piece for piece in streamer if piece)
    thread.join()
    if errors:
        raise errors[0]
