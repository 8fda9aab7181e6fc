"""Prose documents (handbooks, manuals, house rules, meeting notes, product sheets, travel notes) holding facts, with
questions that share the fact sentence's key words and questions that ask for the same fact in other words."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .doc_facts import (
    DIRECT,
    PARAPHRASE,
    Fact,
    Question,
    ask,
    entities_in_split,
    fact_types,
    genre_frames,
    make_value,
    relations,
    state,
)
from .reading import answer_words, approx_tokens, content_words, count_answer, split_sentences
from .schema import QA, Sample
from .splits import check_split, values_in_split
from .values import company_name, invented_in_split, person_name
from .vocab import CITIES, FIRST_NAMES, MONTHS, WEEKDAYS

QA_KINDS = (DIRECT, PARAPHRASE)
_TOKEN_MARGIN = 0.06  # the estimate is aimed this far inside the range: approx_tokens is off by a few percent
_ATTEMPTS = 20
_HEADING_STYLES = ("{h}", "# {h}", "## {h}", "{h}:", "{H}", "{h}\n{rule}")
_BULLETS = ("- ", "* ", "• ", "{n}. ")


@dataclass
class _Item:
    text: str
    fact: Fact | None = None
    question: Question | None = None


@dataclass
class _Block:
    heading: str | None
    items: list[_Item] = field(default_factory=list)
    bullets: bool = False
    title: bool = False  # the document's title: a heading that takes no sentences
    fixed: bool = False  # takes no filler (title, introduction, closing line)


def document_samples(
    n: int,
    *,
    split: str = "train",
    seed: int = 0,
    tokens: tuple[int, int] = (400, 1500),
    facts: tuple[int, int] = (6, 15),
    paraphrased: float = 0.5,
    free_layout: float = 0.35,
    invented_names: float = 0.3,
) -> list[Sample]:
    """Each document is `tokens` long (default model, estimated with `approx_tokens`) and holds `facts` facts, one
    question each. A share `paraphrased` of the questions describe what they ask about instead of naming it ("How do
    I get into the place where supplies are kept?" for the storage room's door code) and share at most one content
    word with the fact sentence; the rest name it. meta["qa_kinds"] says which, parallel to Sample.qas
    (QA_KINDS), meta["overlaps"] how many content words each question shares with its fact sentence.

    A share `free_layout` of the documents are composed freely (no genre: facts of 2-4 random types among filler of
    every genre, few headings) so that a reader cannot lean on one layout. Every answer occurs exactly once in its
    document (as the scorer matches words); QA.fact_turns index `reading.split_sentences(document)`.

    Split: entities and pooled values by value, fact and question templates by position (see doc_facts); titles,
    headings and filler sentences, which hold no answer, are shared by all splits."""
    check_split(split)
    if not 0 < tokens[0] <= tokens[1]:
        raise ValueError(f"tokens must be an ordered positive range, got {tokens}")
    if not 1 <= facts[0] <= facts[1]:
        raise ValueError(f"facts must be an ordered range >= 1, got {facts}")
    for name, share in (("paraphrased", paraphrased), ("free_layout", free_layout),
                        ("invented_names", invented_names)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be a share in [0, 1], got {share}")
    rng = random.Random(seed)
    samples = []
    for _ in range(n):
        for _attempt in range(_ATTEMPTS):
            sample = _make_document(rng, split, tokens, facts, paraphrased, free_layout, invented_names)
            if sample is not None:
                samples.append(sample)
                break
        else:
            raise ValueError(f"could not fit {facts} facts in a document of {tokens} tokens")
    return samples


def _make_document(rng: random.Random, split: str, tokens: tuple[int, int], facts: tuple[int, int],
                   paraphrased: float, free_layout: float, invented_names: float) -> Sample | None:
    pools = genre_frames()
    genre = rng.choice(sorted(pools["genres"]))
    free = rng.random() < free_layout
    types = rng.sample(fact_types(), k=rng.randint(2, 4)) if free else list(pools["genres"][genre]["types"])
    slots = _slots(rng, split)
    drawn = _draw_facts(rng, split, types, rng.randint(*facts), invented_names)
    items = [_Item(fact.sentence, fact, ask(rng, fact, split, rng.random() < paraphrased)) for fact in drawn]
    blocks = _free_blocks(rng, items, slots) if free else _genre_blocks(rng, genre, items, slots)
    low, high = tokens
    target = rng.uniform(low + _TOKEN_MARGIN * low, high - _TOKEN_MARGIN * high)
    _fill(rng, blocks, _filler(rng, genre, free, slots), target)
    _repair(blocks)
    asked = [item for block in blocks for item in block.items if item.fact is not None]
    document = _render(rng, blocks)
    if not facts[0] <= len(asked) <= facts[1] or not low <= approx_tokens(document) <= high:
        return None
    sentences = [answer_words(sentence) for sentence in split_sentences(document)]
    qas = []
    for item in asked:
        turns = tuple(i for i, words in enumerate(sentences) if count_answer(words, item.fact.value.shown))
        if len(turns) != 1:
            return None  # the sentence splitter cut the fact sentence apart
        qas.append(QA(item.question.text, item.fact.value.shown, item.fact.value.aliases, turns))
    meta = {
        "split": split,
        "genre": "free" if free else genre,
        "types": types,
        "facts": [item.fact.id for item in asked],
        "families": [family for item in asked for family in (item.fact.family, item.question.family)],
        "qa_kinds": [item.question.kind for item in asked],
        "overlaps": [item.question.overlap for item in asked],
    }
    return Sample(kind="document", messages=[], document=document, qas=qas, meta=meta)


def _slots(rng: random.Random, split: str) -> dict[str, str]:
    product = rng.choice(genre_frames()["product_types"])
    model = rng.choice(("Pro", "Mini", "One", "Air", "Max", "Lite", "2", "3", "S", "X"))
    return {
        "org": invented_in_split(company_name, rng, split),
        "city": rng.choice(values_in_split(CITIES, split)),
        "product": f"{invented_in_split(person_name, rng, split)} {model} {product}",
        "month": rng.choice(MONTHS),
        "weekday": rng.choice(WEEKDAYS),
    }


def _draw_facts(rng: random.Random, split: str, types: list[str], count: int, invented_names: float) -> list[Fact]:
    """Entities one by one, each with 1-3 of its relations, until `count` facts (where that runs short, more
    relations of the entities already drawn); no two entities where one's name holds the other's (the cellar, the
    wine cellar) and no value said twice."""
    candidates = [entity for kind in types for entity in entities_in_split(kind, split)]
    rng.shuffle(candidates)
    pairs, later, names = [], [], []
    for entity in candidates:
        words = content_words(entity.name)
        if any(words <= other or other <= words for other in names):
            continue
        names.append(words)
        options = rng.sample(relations(entity.type), k=len(relations(entity.type)))
        cut = rng.randint(1, 3)
        pairs += [(entity, relation) for relation in options[:cut]]
        later += [(entity, relation) for relation in options[cut:]]
    rng.shuffle(later)
    chosen: list[Fact] = []
    answers: set[str] = set()
    for entity, relation in (pairs + later)[:count]:
        for _ in range(10):
            value = make_value(rng, relation.value, split, invented_names)
            if " ".join(answer_words(value.shown)) not in answers:
                break
        answers.add(" ".join(answer_words(value.shown)))
        sentence, family = state(rng, entity, relation, value, split)
        chosen.append(Fact(entity, relation, value, sentence, family))
    return chosen


def _genre_blocks(rng: random.Random, genre: str, items: list[_Item], slots: dict[str, str]) -> list[_Block]:
    spec, headings = genre_frames()["genres"][genre], genre_frames()["headings"]
    blocks = [_Block(rng.choice(spec["titles"]).format(**slots), title=True, fixed=True),
              _Block(None, [_Item(s) for s in _fill_slots(rng, rng.choice(spec["intros"]), slots)], fixed=True)]
    by_type: dict[str, list[_Item]] = {}
    for item in items:
        by_type.setdefault(item.fact.entity.type, []).append(item)
    for kind, group in by_type.items():
        rng.shuffle(group)
        blocks.append(_Block(rng.choice(headings[kind]), group, bullets=rng.random() < 0.3))
    for heading in rng.sample(headings["general"], k=rng.randint(1, 2)):
        blocks.insert(rng.randint(2, len(blocks)), _Block(heading))
    blocks.append(_Block(None, [_Item(rng.choice(spec["closings"]))], fixed=True))
    return blocks


def _free_blocks(rng: random.Random, items: list[_Item], slots: dict[str, str]) -> list[_Block]:
    spec = genre_frames()
    blocks = []
    if rng.random() < 0.5:
        genre = rng.choice(sorted(spec["genres"]))
        blocks.append(_Block(rng.choice(spec["genres"][genre]["titles"]).format(**slots), title=True, fixed=True))
    body = [_Block(rng.choice(spec["headings"]["general"]) if rng.random() < 0.25 else None,
                   bullets=rng.random() < 0.15) for _ in range(rng.randint(3, 7))]
    for item in items:
        block = rng.choice(body)
        block.items.insert(rng.randint(0, len(block.items)), item)
    return blocks + body


def _filler(rng: random.Random, genre: str, free: bool, slots: dict[str, str]) -> list[str]:
    """Filler sentences in the order they are used: the genre's own and the shared ones first (free layout: all
    genres mixed), then the other genres', each clause once."""
    spec = genre_frames()
    own = [] if free else [("rules", c) for c in spec["genres"][genre]["rules"]] + \
        [("notes", c) for c in spec["genres"][genre]["notes"]]
    shared = [("rules", c) for c in spec["rules"]] + [("notes", c) for c in spec["notes"]]
    others = [(part, c) for name, g in sorted(spec["genres"].items()) if free or name != genre
              for part in ("rules", "notes") for c in g[part]]
    first, rest = own + shared + (others if free else []), ([] if free else others)
    rng.shuffle(first)
    rng.shuffle(rest)
    sentences = []
    for part, clause in first + rest:
        opener = rng.choice(spec["rule_openers" if part == "rules" else "note_openers"])
        text = f"{opener} {clause}".strip() if opener else clause
        sentences.append(_capitalize(_fill_slots(rng, text, slots)[0]) + ".")
    return sentences


def _fill_slots(rng: random.Random, text: str, slots: dict[str, str]) -> list[str]:
    """Slots of a filler text filled ({person} and {number} drawn afresh); split into sentences."""
    person = rng.choice(FIRST_NAMES) if rng.random() < 0.5 else person_name(rng)
    filled = text.format(**slots, person=person, number=rng.randint(2, 60))
    return split_sentences(filled)


def _fill(rng: random.Random, blocks: list[_Block], filler: list[str], target: float) -> None:
    """Filler sentences go into random places of the text blocks until the estimate reaches `target`."""
    body = [block for block in blocks if not block.fixed]
    total = approx_tokens(_render(random.Random(0), blocks))
    for sentence in filler:
        if total >= target:
            return
        block = rng.choice(body)
        block.items.insert(rng.randint(0, len(block.items)), _Item(sentence))
        total += approx_tokens(sentence) + 1


def _repair(blocks: list[_Block]) -> None:
    """Makes every answer occur once, in its fact sentence and not in its question: filler sentences that repeat an
    answer go; a fact whose answer a title, heading or other fact sentence also holds goes."""
    while True:
        items = [item for block in blocks for item in block.items]
        headings = [answer_words(block.heading) for block in blocks if block.heading is not None]
        words = {id(item): answer_words(item.text) for item in items}
        for fact in (item for item in items if item.fact is not None):
            targets = (fact.fact.value.shown, *fact.fact.value.aliases)
            fillers = [item for item in items if item is not fact and item.fact is None
                       and any(count_answer(words[id(item)], t) for t in targets)]
            bad = (count_answer(words[id(fact)], fact.fact.value.shown) != 1
                   or any(count_answer(answer_words(fact.question.text), t) for t in targets)
                   or any(count_answer(heading, t) for heading in headings for t in targets)
                   or any(count_answer(words[id(item)], t) for item in items
                          if item is not fact and item.fact is not None for t in targets))
            if fillers or bad:
                break
        else:
            return
        for block in blocks:
            block.items = [item for item in block.items if item not in (fillers or [fact])]


def _render(rng: random.Random, blocks: list[_Block]) -> str:
    style = rng.choice(_HEADING_STYLES)
    bullet = rng.choice(_BULLETS)
    parts = []
    for block in blocks:
        if block.title:
            parts.append(f"# {block.heading}" if style.startswith("#") else block.heading)
            continue
        if not block.items:
            continue  # a section whose filler never came
        if block.heading is not None:
            parts.append(style.format(h=block.heading, H=block.heading.upper(), rule="-" * len(block.heading)))
        if block.bullets:
            parts.append("\n".join(bullet.format(n=k + 1) + item.text for k, item in enumerate(block.items)))
        else:
            parts += _paragraphs(rng, [item.text for item in block.items])
    return "\n\n".join(parts)


def _paragraphs(rng: random.Random, sentences: list[str]) -> list[str]:
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(2, 5)
        paragraphs.append(" ".join(sentences[start:start + size]))
        start += size
    return paragraphs


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
