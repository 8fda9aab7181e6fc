"""How text is cut into memory blocks and laid out for READ — shared by the product and by training.

The reader is trained on exactly what the product feeds it, so both call these functions:
- old chat turns are rendered in the model's chat format (without a system prompt) and grouped, whole turns
  only, into segments of at most `segment_tokens`; a turn longer than that is split into pieces;
- a document is cut on sentence or line boundaries into segments of at most `segment_tokens`;
- READ input = [block_1; ...; block_n] + chat template(system?, recent turns, question).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CountFn = Callable[[str], int]

# SmolLM2/ChatML turn format; other templates fall back to the tokenizer's own rendering.
CHATML_TURN = "<|im_start|>{role}\n{content}<|im_end|>\n"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def render_turn(role: str, content: str, tokenizer=None) -> str:
    """One turn as it appears in the model's chat format."""
    if tokenizer is not None and "<|im_start|>" not in (getattr(tokenizer, "chat_template", "") or ""):
        text = tokenizer.apply_chat_template(
            [{"role": "system", "content": ""}, {"role": role, "content": content}], tokenize=False
        )
        prefix = tokenizer.apply_chat_template([{"role": "system", "content": ""}], tokenize=False)
        return text[len(prefix):] if text.startswith(prefix) else text
    return CHATML_TURN.format(role=role, content=content)


_SENTINEL = "GRADMEM_TURN_CONTENT"


def turn_markers(tokenizer=None) -> tuple[str, str]:
    """(turn start, turn end) of the model's chat format: ("<|im_start|>", "<|im_end|>") for ChatML.

    Answers are trained to end with the turn end and replies stop at either marker. tokenizer.eos_token is not
    a safe stand-in: the default model's GGUF tokenizer reports "<|im_start|>" as EOS under transformers 5.17
    ("<|im_end|>" under 5.24), and a reader trained on that target opened a new turn after every answer."""
    rendered = render_turn("assistant", _SENTINEL, tokenizer)
    before, _, after = rendered.partition(_SENTINEL)
    start = before.split("assistant")[0].strip()
    end = after.split()[0] if after.strip() else ""
    return start, end


def render_turns(messages: Sequence[dict], tokenizer=None) -> str:
    return "".join(render_turn(m["role"], m["content"], tokenizer) for m in messages)


@dataclass(frozen=True)
class Segment:
    """A piece of history to write into one memory block: messages[first..last] (inclusive), rendered."""

    first: int
    last: int
    text: str
    tokens: int


def split_text(text: str, count: CountFn, max_tokens: int) -> list[str]:
    """Cut text on sentence/line boundaries into pieces of at most max_tokens (words, then characters, if needed)."""
    pieces: list[str] = []
    current = ""
    for unit in _units(text, count, max_tokens):
        candidate = f"{current} {unit}" if current else unit
        if current and count(candidate) > max_tokens:
            pieces.append(current)
            current = unit
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, count: CountFn, max_tokens: int) -> list[str]:
    units = []
    for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(text))):
        if count(sentence) <= max_tokens:
            units.append(sentence)
            continue
        for word in sentence.split():
            if count(word) <= max_tokens:
                units.append(word)
            else:  # a "word" longer than a segment (a URL, base64): cut by characters
                step = max(1, len(word) * max_tokens // (2 * count(word)))
                units += [word[i : i + step] for i in range(0, len(word), step)]
    return units


def segment_turns(messages: Sequence[dict], count: CountFn, segment_tokens: int, tokenizer=None) -> list[Segment]:
    """Group whole turns, oldest first, into segments of at most segment_tokens.

    A single turn longer than a segment is split into several segments (same message index), never truncated.
    """
    segments: list[Segment] = []
    first, parts, used = None, [], 0
    for i, msg in enumerate(messages):
        text = render_turn(msg["role"], msg["content"], tokenizer)
        n = count(text)
        if n > segment_tokens:
            if parts:
                segments.append(Segment(first, i - 1, "".join(parts), used))
                first, parts, used = None, [], 0
            overhead = count(render_turn(msg["role"], "", tokenizer))
            for piece in split_text(msg["content"], count, max(8, segment_tokens - overhead)):
                rendered = render_turn(msg["role"], piece, tokenizer)
                segments.append(Segment(i, i, rendered, count(rendered)))
            continue
        if parts and used + n > segment_tokens:
            segments.append(Segment(first, i - 1, "".join(parts), used))
            first, parts, used = None, [], 0
        first = i if first is None else first
        parts.append(text)
        used += n
    if parts:
        segments.append(Segment(first, len(messages) - 1, "".join(parts), used))
    return segments


def segment_document(text: str, count: CountFn, segment_tokens: int) -> list[Segment]:
    """A document cut into segments; first/last are segment indices."""
    pieces = split_text(text, count, segment_tokens)
    return [Segment(i, i, p, count(p)) for i, p in enumerate(pieces)]


def read_messages(recent: Sequence[dict], question: str | None = None, system: str | None = None) -> list[dict]:
    """The text part of the READ input: optional system prompt, recent turns, then the new user message."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": m["role"], "content": m["content"]} for m in recent]
    if question is not None:
        messages.append({"role": "user", "content": question})
    return messages
