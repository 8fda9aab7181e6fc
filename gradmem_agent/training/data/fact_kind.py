"""What a kind of planted chat fact is made of: value maker plus statement/question/ack templates (the templates
live in words/facts_*.json, read with `templates`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .resources import read_json
from .splits import values_in_split

Slots = dict[str, Any]  # template slots; "value" (as stated), "answer" and "aliases" are special
ValueMaker = Callable[[random.Random, str], Slots]


@dataclass(frozen=True)
class FactKind:
    name: str
    make: ValueMaker
    statements: tuple[str, ...]  # in user turns; position decides the split (see splits.split_of_index)
    questions: tuple[str, ...]
    acks: tuple[str, ...]  # assistant replies; not split
    updates: tuple[str, ...] = ()  # kind-specific corrections; may use {old_value}
    context: tuple[str, ...] = ()  # slots a correction keeps (e.g. which pet), the rest is re-drawn
    group: str = ""  # at most one kind of a group per chat, to keep questions unambiguous

    @property
    def exclusive_group(self) -> str:
        return self.group or self.name


def templates(file: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """Kind name -> its template fields in words/FILE (statements, questions, acks and, for some, updates): the
    keyword arguments of FactKind besides name, make, context and group."""
    return {kind: {field: tuple(texts) for field, texts in fields.items()}
            for kind, fields in read_json(file)["kinds"].items()}


def options(file: str) -> dict[str, tuple[str, ...]]:
    """The named lists in words/FILE that kinds draw a context slot from (the relation in "my {rel}")."""
    return {name: tuple(words) for name, words in read_json(file).get("options", {}).items()}


def with_article(noun: str) -> str:
    lowered = noun.lower()
    sounds_like_vowel = lowered[0] in "aeiou" and not lowered.startswith(("uni", "use", "ux", "eu"))
    if lowered.startswith(("hour", "hr ", "honest")):
        sounds_like_vowel = True
    return ("an " if sounds_like_vowel else "a ") + noun


def finish(slots: Slots) -> Slots:
    slots.setdefault("answer", slots["value"])
    slots.setdefault("aliases", ())
    slots["a_value"] = with_article(slots["value"])
    return slots


def from_pool(pool: Sequence[str]) -> ValueMaker:
    def make(rng: random.Random, split: str) -> Slots:
        return finish({"value": rng.choice(values_in_split(pool, split))})

    return make


def with_context(maker: ValueMaker, **contexts: Sequence[str] | Callable[[random.Random, str], str]) -> ValueMaker:
    """Adds context slots: a fixed option list, or a function of (rng, split)."""

    def make(rng: random.Random, split: str) -> Slots:
        slots = maker(rng, split)
        for name, source in contexts.items():
            slots[name] = source(rng, split) if callable(source) else rng.choice(source)
            slots[f"a_{name}"] = with_article(slots[name])
        return slots

    return make


def pool_context(pool: Sequence[str]) -> Callable[[random.Random, str], str]:
    return lambda rng, split: rng.choice(values_in_split(pool, split))


def generated(make_value: Callable[[random.Random, str], tuple[str, tuple[str, ...]] | str]) -> ValueMaker:
    def make(rng: random.Random, split: str) -> Slots:
        made = make_value(rng, split)
        value, aliases = made if isinstance(made, tuple) else (made, ())
        return finish({"value": value, "aliases": aliases})

    return make
