"""Long sessions: several generated chats one after another, as a user who talks about several things in a day."""

from __future__ import annotations

import random
import re
from collections import Counter
from functools import cache

from .chat import FACT_KINDS, chat_samples
from .facts_open import KEY_POOLS, OPEN_KINDS
from .schema import QA, Sample
from .splits import check_split

_REDRAWS = 6  # chats drawn per slot before one that repeats an earlier chat's question or topic is taken


def session_samples(
    n: int,
    *,
    split: str = "train",
    seed: int = 0,
    chats: tuple[int, int] = (3, 6),
    turns: tuple[int, int] = (8, 24),
    messages: tuple[int, int] = (40, 120),
    facts: tuple[int, int] = (2, 5),
    invented_names: float = 0.0,
    open_facts: float = 0.0,
) -> list[Sample]:
    """Each session joins `chats` chats from `chat_samples` (`turns`, `facts`, `invented_names` and `open_facts`
    passed through) into one of `messages` messages; QA.fact_turns index the joined messages, and a corrected fact
    keeps its newest value as the answer, as in the chat it came from.

    A question is dropped, in every chat that asks it, when its answer could be read two ways in the session:
    the same question text in two chats, or the same kind of fact about the same key (my pet's name, the
    plumber's name) planted in two chats. Each chat slot is redrawn a few times to avoid such repeats and
    repeated small-talk topics, so few questions are lost. meta["boundaries"] holds the first message of each
    chat, meta["dropped"] the number of questions dropped."""
    check_split(split)
    lengths = [t for t in range(max(turns[0], 2), turns[1] + 1) if t % 2 == 0]
    if not lengths:
        raise ValueError(f"turns must be a range holding an even number >= 2, got {turns}")
    if not 1 <= chats[0] <= chats[1]:
        raise ValueError(f"chats must be an ordered range >= 1, got {chats}")
    fits = chats[0] * lengths[0] <= messages[1] and chats[1] * lengths[-1] >= messages[0]
    if not 0 < messages[0] <= messages[1] or not fits:
        raise ValueError(f"no session of {chats} chats of {turns} messages fits in {messages} messages")
    rng = random.Random(seed)
    chat_options = {"split": split, "facts": facts, "invented_names": invented_names, "open_facts": open_facts}
    return [_make_session(rng, lengths, chats, messages, chat_options) for _ in range(n)]


def _make_session(rng: random.Random, lengths: list[int], chats: tuple[int, int], messages: tuple[int, int],
                  chat_options: dict) -> Sample:
    plan = _chat_lengths(rng, lengths, chats, messages)
    chosen: list[Sample] = []
    for length in plan:
        keys = {key for chat in chosen for qa in chat.qas for key in _ambiguity_keys(chat, qa)}
        topics = {topic for chat in chosen for topic in chat.meta["topics"]}
        best, best_clashes = None, None
        for _ in range(_REDRAWS):
            candidate = chat_samples(1, seed=rng.randrange(2**31), turns=(length, length), **chat_options)[0]
            clashes = sum(bool(set(_ambiguity_keys(candidate, qa)) & keys) for qa in candidate.qas)
            clashes += len(set(candidate.meta["topics"]) & topics)
            if best_clashes is None or clashes < best_clashes:
                best, best_clashes = candidate, clashes
            if clashes == 0:
                break
        chosen.append(best)
    return _join(chosen, chat_options["split"])


def _chat_lengths(rng: random.Random, lengths: list[int], chats: tuple[int, int],
                  messages: tuple[int, int]) -> list[int]:
    for _ in range(10_000):
        plan = [rng.choice(lengths) for _ in range(rng.randint(*chats))]
        if messages[0] <= sum(plan) <= messages[1]:
            return plan
    raise ValueError(f"could not draw chat lengths summing to {messages} messages")  # only for near-empty ranges


def _join(chats: list[Sample], split: str) -> Sample:
    counts = Counter(key for chat in chats for qa in chat.qas for key in set(_ambiguity_keys(chat, qa)))
    joined: list[dict[str, str]] = []
    qas: list[QA] = []
    boundaries: list[int] = []
    dropped = 0
    for chat in chats:
        offset = len(joined)
        boundaries.append(offset)
        joined += [dict(message) for message in chat.messages]
        for qa in chat.qas:
            if any(counts[key] > 1 for key in _ambiguity_keys(chat, qa)):
                dropped += 1
                continue
            qas.append(QA(qa.question, qa.answer, qa.aliases, tuple(turn + offset for turn in qa.fact_turns)))
    meta = {
        "split": split,
        "chats": len(chats),
        "boundaries": boundaries,
        "families": [family for chat in chats for family in chat.meta["families"]],
        "topics": [topic for chat in chats for topic in chat.meta["topics"]],
        "kinds": [kind for chat in chats for kind in chat.meta["kinds"]],
        "corrections": sum(chat.meta["corrections"] for chat in chats),
        "dropped": dropped,
    }
    return Sample(kind="chat", messages=joined, document=None, qas=qas, meta=meta)


def _ambiguity_keys(chat: Sample, qa: QA) -> tuple[tuple[str, str], ...]:
    """Two questions of a session with a key in common cannot both be answered unambiguously: the question
    text itself, and what it asks about: the fact kind's exclusive group, with the key phrase for open kinds
    (two fixed-kind facts of one group, e.g. two door codes, may differ by a context slot that the question
    names, but are treated as the same thing)."""
    group, key = _asked_about(chat, qa)
    return ("question", " ".join(qa.question.lower().split())), ("fact", f"{group}|{key}")


def _asked_about(chat: Sample, qa: QA) -> tuple[str, str]:
    # chat_samples appends one "<kind>.q<index>" family per question, in the order of chat.qas, after the rest.
    family = chat.meta["families"][len(chat.meta["families"]) - len(chat.qas) + chat.qas.index(qa)]
    kind = _kinds()[family.rsplit(".q", 1)[0]]
    if kind.name not in {open_kind.name for open_kind in OPEN_KINDS}:
        return kind.exclusive_group, ""
    found = [key for key in _open_keys() if re.search(rf"\b{re.escape(key)}\b", qa.question.lower())]
    return kind.exclusive_group, max(found, key=len, default="")


@cache
def _kinds() -> dict:
    return {kind.name: kind for kind in (*FACT_KINDS, *OPEN_KINDS)}


@cache
def _open_keys() -> tuple[str, ...]:
    return tuple(sorted({key.lower() for pool in KEY_POOLS for key in pool}))
