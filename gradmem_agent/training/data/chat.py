"""Small-talk chats with facts about the user planted in user turns, and questions about them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .chitchat import (
    ACK_FOLLOW_UPS,
    CORRECTION_ACKS,
    CORRECTION_OPENERS,
    FACT_TAILS,
    GENERIC_ACKS,
    LEAD_INS,
    LOWERABLE_STARTS,
    SMALL_TALK_OPENERS,
    TOPICS,
    Topic,
)
from .fact_kind import FactKind, Slots, finish
from .facts_life import LIFE_KINDS
from .facts_numbers import NUMBER_KINDS
from .facts_open import OPEN_KINDS, ROLE_NAME
from .facts_people import NAME_KINDS, PEOPLE_KINDS
from .facts_preferences import PREFERENCE_KINDS
from .schema import QA, Sample
from .splits import check_split, indexed_in_split
from .values import invented_in_split, person_name

FACT_KINDS: tuple[FactKind, ...] = PEOPLE_KINDS + NUMBER_KINDS + LIFE_KINDS + PREFERENCE_KINDS
_INVENTABLE = NAME_KINDS | {ROLE_NAME.name}
CORRECTION_RATE = 0.35


@dataclass
class _Fact:
    kind: FactKind
    slots: Slots
    user_turns: list[int] = field(default_factory=list)  # index among user turns, one per statement


@dataclass
class _Event:
    fact: _Fact
    new_slots: Slots | None = None  # set for a correction


def topics_in_split(split: str) -> list[Topic]:
    return [topic for _, topic in indexed_in_split(TOPICS, split)]


def chat_samples(
    n: int,
    *,
    split: str = "train",
    seed: int = 0,
    turns: tuple[int, int] = (8, 16),
    facts: tuple[int, int] = (2, 5),
    invented_names: float = 0.0,
    open_facts: float = 0.0,
) -> list[Sample]:
    """`turns` bounds the message count (an even number is drawn); `facts` is capped so that at least
    one user turn stays small talk. `invented_names`: the share of people's and pets' names made up from
    syllables instead of drawn from the name lists, so that a reader must copy them rather than guess a
    familiar name. `open_facts`: the share of facts drawn from the open-key kinds (facts_open), where a
    chat may hold two facts of a kind told apart by their key. Either at 0 draws nothing extra, so the
    samples stay those of earlier versions."""
    check_split(split)
    even_lengths = [t for t in range(max(turns[0], 2), turns[1] + 1) if t % 2 == 0]
    if not even_lengths:
        raise ValueError(f"turns must be a range holding an even number >= 2, got {turns}")
    if not 1 <= facts[0] <= facts[1]:
        raise ValueError(f"facts must be an ordered range >= 1, got {facts}")
    if not 0.0 <= invented_names <= 1.0:
        raise ValueError(f"invented_names must be a share in [0, 1], got {invented_names}")
    if not 0.0 <= open_facts <= 1.0:
        raise ValueError(f"open_facts must be a share in [0, 1], got {open_facts}")
    rng = random.Random(seed)
    return [_make_chat(rng, split, even_lengths, facts, invented_names, open_facts) for _ in range(n)]


def _make_chat(rng: random.Random, split: str, lengths: list[int], facts: tuple[int, int],
               invented_names: float = 0.0, open_facts: float = 0.0) -> Sample:
    n_messages = rng.choice(lengths)
    n_user = n_messages // 2
    capacity = n_user - 1 if n_user >= 3 else n_user
    n_facts = min(rng.randint(*facts), capacity)
    n_corrections = 0
    if n_facts < capacity and rng.random() < CORRECTION_RATE:
        n_corrections = 2 if n_facts + 1 < capacity and rng.random() < 0.15 else 1

    planted = _draw_facts(rng, split, n_facts, invented_names, open_facts)
    events = _order_events(rng, split, planted, n_corrections, invented_names)
    positions = _early_biased_positions(rng, n_user, len(events))
    by_turn = dict(zip(positions, events, strict=True))
    topics = rng.sample(topics_in_split(split), k=rng.choice((1, 2)))
    small_talk = [pair for topic in topics for pair in rng.sample(topic.exchanges, k=len(topic.exchanges))]

    # Drawn without replacement so that a chat never repeats the same filler sentence.
    tails = rng.sample(FACT_TAILS, k=len(FACT_TAILS))
    follow_ups = rng.sample(ACK_FOLLOW_UPS, k=len(ACK_FOLLOW_UPS))
    families: list[str] = []
    messages: list[dict[str, str]] = []
    for user_turn in range(n_user):
        event = by_turn.get(user_turn)
        if event is None:
            said, reply = small_talk.pop(0) if small_talk else _fallback_small_talk(rng)
            if small_talk and rng.random() < 0.3:  # two remarks in one turn, answered together
                more_said, more_reply = small_talk.pop(0)
                said, reply = f"{said} {more_said}", f"{reply} {more_reply}"
            elif rng.random() < 0.25:
                said = f"{rng.choice(SMALL_TALK_OPENERS)} {said}"
        else:
            event.fact.user_turns.append(user_turn)
            said, family = _render_event(rng, split, event)
            families.append(family)
            if tails and rng.random() < 0.55:
                said = f"{said} {tails.pop()}"
            reply = _acknowledge(rng, event)
            if follow_ups and rng.random() < 0.55 and follow_ups[-1].split()[0] != reply.split()[0]:
                reply = f"{reply} {follow_ups.pop()}"
        messages += [{"role": "user", "content": said}, {"role": "assistant", "content": reply}]

    qas = []
    for fact in sorted(planted, key=lambda f: f.user_turns[0]):
        index, template = rng.choice(indexed_in_split(fact.kind.questions, split))
        families.append(f"{fact.kind.name}.q{index}")
        qas.append(
            QA(
                question=template.format(**fact.slots),
                answer=fact.slots["answer"],
                aliases=tuple(fact.slots["aliases"]),
                fact_turns=tuple(2 * turn for turn in fact.user_turns),
            )
        )
    meta = {
        "split": split,
        "families": families,
        "topics": [topic.name for topic in topics],
        "kinds": [fact.kind.name for fact in planted],
        "corrections": n_corrections,
    }
    return Sample(kind="chat", messages=messages, document=None, qas=qas, meta=meta)


def _draw_facts(rng: random.Random, split: str, count: int, invented_names: float,
                open_facts: float = 0.0) -> list[_Fact]:
    n_open = sum(rng.random() < open_facts for _ in range(count)) if open_facts else 0
    kinds, groups = [], set()
    for kind in rng.sample(FACT_KINDS, k=len(FACT_KINDS)):
        if kind.exclusive_group not in groups and len(kinds) < count - n_open:
            kinds.append(kind)
            groups.add(kind.exclusive_group)
    if n_open:
        # Up to two facts of one open kind, told apart by their key, which the question names (the smallest
        # key pool holds two keys in its val and test slices).
        kinds += rng.sample(OPEN_KINDS * 2, k=min(n_open, 2 * len(OPEN_KINDS)))
        rng.shuffle(kinds)
    used: set[str] = set()
    return [_Fact(kind, _fresh_slots(rng, split, kind, used, invented_names=invented_names)) for kind in kinds]


def _fresh_slots(rng: random.Random, split: str, kind: FactKind, used: set[str], keep: Slots | None = None,
                 invented_names: float = 0.0) -> Slots:
    """Draws a value not yet used in this chat, so that no two facts share an answer (nor a key)."""
    for _ in range(100):
        slots = kind.make(rng, split)
        if invented_names and kind.name in _INVENTABLE and rng.random() < invented_names:
            name = invented_in_split(person_name, rng, split)
            slots = finish({**slots, "value": name, "answer": name, "aliases": ()})
        if keep is not None:
            slots.update({name: keep[name] for name in kind.context})
        key = f"key:{slots['key'].lower()}" if "key" in slots and keep is None else None
        if slots["answer"].lower() not in used and key not in used:
            break
    used.add(slots["answer"].lower())
    if key:
        used.add(key)
    return slots


def _order_events(rng: random.Random, split: str, planted: list[_Fact], n_corrections: int,
                  invented_names: float) -> list[_Event]:
    events = [_Event(fact) for fact in planted]
    used = {fact.slots["answer"].lower() for fact in planted}
    for fact in rng.sample(planted, k=min(n_corrections, len(planted))):
        new_slots = _fresh_slots(rng, split, fact.kind, used, keep=fact.slots, invented_names=invented_names)
        original = next(i for i, event in enumerate(events) if event.fact is fact)
        events.insert(rng.randint(original + 1, len(events)), _Event(fact, new_slots))
    return events


def _early_biased_positions(rng: random.Random, n_user: int, count: int) -> list[int]:
    free = list(range(n_user))
    chosen = []
    for _ in range(count):
        pick = rng.choices(free, weights=[1 / (1 + 0.3 * turn) for turn in free])[0]
        free.remove(pick)
        chosen.append(pick)
    return sorted(chosen)


def _render_event(rng: random.Random, split: str, event: _Event) -> tuple[str, str]:
    kind = event.fact.kind
    if event.new_slots is None:
        return _render_statement(rng, split, kind, event.fact.slots, lead_in=True)
    old, new = event.fact.slots, event.new_slots
    event.fact.slots = new
    if kind.updates and rng.random() < 0.6:
        index, template = rng.choice(indexed_in_split(kind.updates, split))
        slots = {**new, **{f"old_{name}": value for name, value in old.items()}}
        return _capitalize(template.format(**slots)), f"{kind.name}.u{index}"
    opener_index, opener = rng.choice(indexed_in_split(CORRECTION_OPENERS, split))
    statement, family = _render_statement(rng, split, kind, new, lead_in=False)
    return f"{opener} {statement}", f"correction.o{opener_index}+{family}"


def _render_statement(rng: random.Random, split: str, kind: FactKind, slots: Slots, lead_in: bool) -> tuple[str, str]:
    index, template = rng.choice(indexed_in_split(kind.statements, split))
    text = _capitalize(template.format(**slots))
    if lead_in and template.startswith(LOWERABLE_STARTS) and rng.random() < 0.3:
        text = rng.choice(LEAD_INS) + text[0].lower() + text[1:]
    return text, f"{kind.name}.s{index}"


def _acknowledge(rng: random.Random, event: _Event) -> str:
    if event.new_slots is not None:
        return rng.choice(CORRECTION_ACKS).format(**event.new_slots)
    if rng.random() < 0.5:
        return _capitalize(rng.choice(event.fact.kind.acks).format(**event.fact.slots))
    return rng.choice(GENERIC_ACKS)


def _fallback_small_talk(rng: random.Random) -> tuple[str, str]:
    return rng.choice((("Anyway, how are you today?", "I'm doing well, thanks for asking!"),
                       ("Sorry, I'm a bit scattered today.", "No worries at all.")))


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
