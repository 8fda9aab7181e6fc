"""Facts for prose documents: an entity (the storage room), a relation (its door code) and a value, stated in one
sentence and asked back either with the sentence's key words or in other words (words/doc_facts.json).

Entities and pooled values are split by value (`values_in_split`), statement and question templates by position
(`indexed_in_split`), names as in chats (listed names by value, invented ones by hash)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from .reading import content_words
from .resources import read_json
from .splits import indexed_in_split, values_in_split
from .values import alnum_code, calendar_date, digits, invented_in_split, person_name
from .vocab import COLOURS, FIRST_NAMES, WEEKDAYS

DIRECT, PARAPHRASE = "direct", "paraphrase"
_MINUTES = ("00", "15", "30", "45", "10", "20", "40", "50")
_CURRENCIES = (("euros", "€"), ("dollars", "$"), ("pounds", "£"))
_PARAPHRASE_TRIES = 8


@dataclass(frozen=True)
class Entity:
    type: str
    name: str
    about: tuple[str, ...]  # descriptions that share no content word with the name


@dataclass(frozen=True)
class Relation:
    type: str
    name: str
    value: dict
    subjects: tuple[str, ...]
    statements: tuple[str, ...]
    questions: tuple[str, ...]
    paraphrases: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass(frozen=True)
class Value:
    shown: str  # as written in the document; also the answer
    aliases: tuple[str, ...] = ()


@dataclass
class Fact:
    entity: Entity
    relation: Relation
    value: Value
    sentence: str
    family: str

    @property
    def id(self) -> str:
        return f"{self.relation.id}:{self.entity.name}"


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # DIRECT or PARAPHRASE
    overlap: int  # content words shared with the fact sentence
    family: str


@cache
def fact_types() -> tuple[str, ...]:
    return tuple(read_json("doc_facts.json")["types"])


@cache
def entities(kind: str) -> tuple[Entity, ...]:
    spec = read_json("doc_facts.json")["types"][kind]
    return tuple(Entity(kind, e["name"], tuple(e["about"])) for e in spec["entities"])


@cache
def relations(kind: str) -> tuple[Relation, ...]:
    spec = read_json("doc_facts.json")["types"][kind]
    return tuple(Relation(kind, r["name"], r["value"], tuple(r["subjects"]), tuple(r["statements"]),
                          tuple(r["questions"]), tuple(r["paraphrases"])) for r in spec["relations"])


def entities_in_split(kind: str, split: str) -> list[Entity]:
    by_name = {entity.name: entity for entity in entities(kind)}
    return [by_name[name] for name in values_in_split(list(by_name), split)]


def genre_frames() -> dict:
    return read_json("doc_genres.json")


def make_value(rng: random.Random, spec: dict, split: str, invented_names: float) -> Value:
    kind = spec["kind"]
    if kind == "digits":
        return Value(digits(rng, rng.randint(spec["min"], spec["max"])))
    if kind == "number":
        return Value(str(rng.randint(spec["min"], spec["max"])))
    if kind == "code":
        code, aliases = alnum_code(rng)
        return Value(code, aliases)
    if kind == "room":
        return Value(f"{rng.choice('ABCDEFGH')}{rng.randint(100, 499)}")
    if kind == "time":
        return Value(f"{rng.randint(spec['min'], spec['max'])}:{rng.choice(_MINUTES)}")
    if kind == "date":
        shown, (other,) = calendar_date(rng)
        return Value(shown, (other,)) if rng.random() < 0.5 else Value(other, (shown,))
    if kind == "weekday":
        return Value(rng.choice(WEEKDAYS))
    if kind == "colour":
        return Value(rng.choice(values_in_split(COLOURS, split)))
    if kind == "name":
        if rng.random() < invented_names:
            return Value(invented_in_split(person_name, rng, split))
        return Value(rng.choice(values_in_split(FIRST_NAMES, split)))
    if kind == "price":
        amount = str(rng.randint(spec["min"], spec["max"]))
        word, symbol = rng.choice(_CURRENCIES)
        shown = f"{amount} {word}" if rng.random() < 0.5 else f"{symbol}{amount}"
        return Value(shown, tuple(a for a in (amount, f"{amount} {word}", f"{symbol}{amount}") if a != shown))
    if kind == "pool":
        return Value(rng.choice(values_in_split(read_json("doc_facts.json")["pools"][spec["pool"]], split)))
    raise ValueError(f"unknown value kind {kind!r} in doc_facts.json")


def state(rng: random.Random, entity: Entity, relation: Relation, value: Value, split: str) -> tuple[str, str]:
    """One sentence stating the fact, from the relation's own statements or a shared frame around a subject."""
    if rng.random() < 0.5:
        index, template = rng.choice(indexed_in_split(relation.statements, split))
        return _sentence(template.format(name=entity.name, value=value.shown)), f"{relation.id}.s{index}"
    frame_index, frame = rng.choice(indexed_in_split(genre_frames()["statement_frames"], split))
    subject_index, subject = rng.choice(indexed_in_split(relation.subjects, split))
    text = frame.format(S=subject.format(name=entity.name), value=value.shown)
    return _sentence(text), f"frame.s{frame_index}+{relation.id}.subj{subject_index}"


def ask(rng: random.Random, fact: Fact, split: str, paraphrased: bool) -> Question:
    """A direct question names the entity; a paraphrased one describes it (Entity.about) and the relation in other
    words, and shares at most one content word with the fact sentence and none with the entity's name (checked:
    when no paraphrase passes, the question is asked directly)."""
    sentence_words = content_words(fact.sentence)
    name_words = content_words(fact.entity.name)
    if paraphrased:
        for _ in range(_PARAPHRASE_TRIES):
            index, template = rng.choice(indexed_in_split(fact.relation.paraphrases, split))
            text = _sentence(template.format(about=rng.choice(fact.entity.about)))
            words = content_words(text)
            if len(words & sentence_words) <= 1 and not words & name_words:
                return Question(text, PARAPHRASE, len(words & sentence_words), f"{fact.relation.id}.p{index}")
    if rng.random() < 0.5:
        index, template = rng.choice(indexed_in_split(fact.relation.questions, split))
        text, family = template.format(name=fact.entity.name), f"{fact.relation.id}.q{index}"
    else:
        frame_index, frame = rng.choice(indexed_in_split(genre_frames()["question_frames"], split))
        subject_index, subject = rng.choice(indexed_in_split(fact.relation.subjects, split))
        text = frame.format(S=subject.format(name=fact.entity.name))
        family = f"frame.q{frame_index}+{fact.relation.id}.subj{subject_index}"
    text = _sentence(text)
    return Question(text, DIRECT, len(content_words(text) & sentence_words), family)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
