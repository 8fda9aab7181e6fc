"""Self-supervised reading on real text: a passage of a manual page or of the standard library's docstrings, and
questions that ask back a span removed from one of its sentences (a name, number, option or short phrase)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from . import manpages
from .reading import answer_words, approx_tokens, count_answer, split_sentences, stopwords
from .resources import read_json
from .schema import QA, Sample
from .splits import check_split, indexed_in_split, split_of_generated, values_in_split
from .text import DOC_MODULES, _module_paragraphs

BLANK, OPTION = "blank", "option"
QA_KINDS = (BLANK, OPTION)
_BLANK = "____"
# approx_tokens is within 0.84-1.31 of the real count on this text: passages are aimed inside these shares of the range
_LOW_SHARE, _HIGH_SHARE = 1.2, 0.76
_GUESSABLE = frozenset(("None", "True", "False"))  # Python's constants fill many a docstring's blank by themselves
_MAX_NON_ASCII = 0.01  # the estimate is fitted on ASCII text
_QUOTE_WORDS = 16  # words kept on each side of the blank in a quoted sentence
# Span kinds, most wanted first (hard to guess without the text), and their weights when drawing one; group "a" is
# the answer.
_SPANS: tuple[tuple[str, re.Pattern, float], ...] = (
    ("option", re.compile(r"(?<![\w-])(?P<a>--?[A-Za-z][\w-]*[A-Za-z0-9])"), 3.0),
    ("identifier", re.compile(r"(?<![\w.-])(?P<a>[A-Za-z_]\w*\.[A-Za-z_][\w.]*\w|\w*[a-z0-9]_\w+|[a-z]+[A-Z]\w*"
                              r"|[A-Z][A-Z0-9_]{2,}|\w+\(\)|/[\w.-]+(?:/[\w.-]+)+)(?![\w-])"), 3.0),
    ("number", re.compile(r"(?<![\w.-])(?P<a>\d+(?:[.:]\d+)*)(?![\w-])"), 2.0),
    ("quoted", re.compile(r"[\"'`](?P<a>[^\"'`\s][^\"'`\n]{0,28}[^\"'`\s])[\"']"), 2.0),
    ("proper", re.compile(r"(?<=[a-z,;:(] )(?P<a>[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)\b"), 2.0),
    ("phrase", re.compile(r"\b(?P<a>[a-z]{3,}(?: [a-z]{3,}){1,2})\b(?!\()"), 0.5),
)


@dataclass(frozen=True)
class _Asked:
    qa: QA
    kind: str  # BLANK or OPTION
    span: str  # what was removed: a _SPANS kind
    family: str  # question template


_OPTION_TAG = re.compile(r"^--?[A-Za-z][\w-]*(?:[ =][^\s,]+)?(?:, --?[A-Za-z][\w-]*(?:[ =][^\s,]+)?)*$")


def cloze_samples(
    n: int,
    *,
    split: str = "train",
    seed: int = 0,
    tokens: tuple[int, int] = (150, 1200),
    questions: tuple[int, int] = (1, 3),
    man_share: float = 0.6,
) -> list[Sample]:
    """Passages of `tokens` tokens (default model, estimated with `approx_tokens`), `questions` questions each.
    A question quotes a sentence of the passage with a span blanked out ("Fill in the blank from the text you
    read: ...") or, on a manual page, gives what an option does and asks which option it is. The answer occurs
    exactly once in the passage (as the scorer matches words); QA.fact_turns index the passage's
    `reading.split_sentences`; meta["qa_kinds"] (QA_KINDS) and meta["spans"] (what was blanked) are parallel to
    Sample.qas.

    Sources: a share `man_share` of the passages come from the manual pages installed here (manpages.py; families
    drawn evenly, split by a hash of the family name, so git-commit and git-push share a split), the rest from the
    docstrings of DOC_MODULES (split as in text_samples). Where groff or the pages are missing (a GPU machine, a
    slim container), every passage comes from the docstrings: the output is then the same on every machine with
    the same Python, but differs from that of a machine with manual pages, so carry generated samples over with
    jsonl.save_samples rather than regenerating them."""
    check_split(split)
    if not 0 < tokens[0] <= tokens[1]:
        raise ValueError(f"tokens must be an ordered positive range, got {tokens}")
    if not 1 <= questions[0] <= questions[1]:
        raise ValueError(f"questions must be an ordered range >= 1, got {questions}")
    if not 0.0 <= man_share <= 1.0:
        raise ValueError(f"man_share must be a share in [0, 1], got {man_share}")
    rng = random.Random(seed)
    families = _man_families(split) if man_share and manpages.available() else []
    modules = values_in_split(DOC_MODULES, split)
    samples: list[Sample] = []
    failures = 0
    while len(samples) < n:
        if families and rng.random() < man_share:
            path = rng.choice(manpages.families()[rng.choice(families)])
            source, paragraphs = f"man:{path.name.removesuffix('.gz')}", _man_paragraphs(path)
        else:
            module = rng.choice(modules)
            source, paragraphs = f"doc:{module}", _doc_paragraphs(module)
        sample = _make_sample(rng, split, source, paragraphs, tokens, questions)
        if sample is not None:
            samples.append(sample)
            failures = 0
            continue
        failures += 1
        if failures > 200 + 20 * n:
            raise ValueError(f"no passage of {tokens} tokens with a cloze question found in the {split} sources")
    return samples


def _make_sample(rng: random.Random, split: str, source: str, paragraphs: tuple[str, ...], tokens: tuple[int, int],
                 questions: tuple[int, int]) -> Sample | None:
    passage = _passage(rng, paragraphs, tokens)
    if passage is None:
        return None
    sentences = split_sentences(passage)
    words = answer_words(passage)
    drawn: list[_Asked] = []
    used_sentences: set[int] = set()
    for _ in range(rng.randint(*questions)):
        item = _ask(rng, split, passage, sentences, words, used_sentences)
        if item is None:
            break
        drawn.append(item)
        used_sentences.update(item.qa.fact_turns)
    if not drawn:
        return None
    meta = {"split": split, "source": source, "qa_kinds": [item.kind for item in drawn],
            "spans": [item.span for item in drawn], "families": [item.family for item in drawn]}
    return Sample(kind="cloze", messages=[], document=passage, qas=[item.qa for item in drawn], meta=meta)


def _passage(rng: random.Random, paragraphs: tuple[str, ...], tokens: tuple[int, int]) -> str | None:
    """Consecutive paragraphs from a random start with enough text after it, up to a length drawn inside the range
    (a paragraph that would overshoot it is cut at a sentence end)."""
    low, high = tokens[0] * _LOW_SHARE, tokens[1] * _HIGH_SHARE
    if low > high:
        low = high = (tokens[0] + tokens[1]) / 2
    sizes = [approx_tokens(paragraph) + 1 for paragraph in paragraphs]
    after = list(accumulate(reversed(sizes)))[::-1]  # tokens from each paragraph to the end
    starts = [i for i, rest in enumerate(after) if rest >= low]
    if not starts:
        return None
    target = rng.uniform(low, high)
    start = rng.choice(starts)
    kept: list[str] = []
    total = 0
    for paragraph in paragraphs[start:]:
        size = approx_tokens(paragraph) + 1
        if total + size > high:
            paragraph = _cut(paragraph, high - total)
            if paragraph:
                kept.append(paragraph)
                total += approx_tokens(paragraph) + 1
            break
        kept.append(paragraph)
        total += size
        if total >= target:
            break
    passage = "\n\n".join(kept)
    if total < low or sum(not c.isascii() for c in passage) > _MAX_NON_ASCII * len(passage):
        return None
    return passage


def _cut(paragraph: str, budget: float) -> str:
    kept, total = [], 0
    for sentence in split_sentences(paragraph):
        total += approx_tokens(sentence) + 1
        if total > budget:
            break
        kept.append(sentence)
    return " ".join(kept)


def _ask(rng: random.Random, split: str, passage: str, sentences: list[str], words: list[str],
         used: set[int]) -> _Asked | None:
    askers: list[Callable] = [_ask_blank]
    if rng.random() < 0.6:
        askers.insert(0, _ask_option)
    for asker in askers:
        item = asker(rng, split, passage, sentences, words, used)
        if item is not None:
            return item
    return None


def _ask_blank(rng: random.Random, split: str, passage: str, sentences: list[str], words: list[str],
               used: set[int]) -> _Asked | None:
    by_kind: dict[str, list[tuple[int, re.Match]]] = {}
    for index, sentence in enumerate(sentences):
        if index in used or not _is_prose(sentence):
            continue
        for kind, pattern, _ in _SPANS:
            for match in pattern.finditer(sentence):
                if _good_answer(kind, match.group("a"), passage, words):
                    by_kind.setdefault(kind, []).append((index, match))
    if not by_kind:
        return None
    kinds = [kind for kind, _, _ in _SPANS if kind in by_kind]
    kind = rng.choices(kinds, weights=[weight for name, _, weight in _SPANS if name in by_kind])[0]
    index, match = rng.choice(by_kind[kind])
    sentence = sentences[index]
    quote = _quote(sentence[:match.start("a")], sentence[match.end("a"):])
    template_index, template = rng.choice(indexed_in_split(_templates()["blank_questions"], split))
    qa = QA(template.format(quote=quote), match.group("a"), fact_turns=(index,))
    return _Asked(qa, BLANK, kind, f"blank.q{template_index}")


def _ask_option(rng: random.Random, split: str, passage: str, sentences: list[str], words: list[str],
                used: set[int]) -> _Asked | None:
    """A manual page's option tag line ("-f, --file=ARCHIVE") and the sentence after it, which says what it does."""
    options = []
    for index in range(len(sentences) - 1):
        tag, description = sentences[index], sentences[index + 1]
        if {index, index + 1} & used or not _OPTION_TAG.match(tag) or not _is_prose(description, 4, ends=False):
            continue
        names = [name for name in re.findall(r"--?[A-Za-z][\w-]*[A-Za-z0-9]|-[A-Za-z0-9]", tag)
                 if _good_answer("option", name, passage, words) and not count_answer(answer_words(description), name)]
        if names:
            options.append((index, max(names, key=len), description))
    if not options:
        return None
    index, name, description = rng.choice(options)
    template_index, template = rng.choice(indexed_in_split(_templates()["option_questions"], split))
    question = template.format(description=_clip(description))
    return _Asked(QA(question, name, fact_turns=(index, index + 1)), OPTION, "option", f"option.q{template_index}")


def _good_answer(kind: str, answer: str, passage: str, words: list[str]) -> bool:
    """Once in the passage, both as written and as the scorer reads it; not a bare stopword, not trivial."""
    normalized = answer_words(answer)
    if len("".join(normalized)) < 2 or len(answer) > 40 or len(normalized) > 4:
        return False
    written = answer.lower().split()
    if kind == "phrase" and (any(word in stopwords() for word in written) or max(map(len, written)) < 6):
        return False
    if answer in _GUESSABLE:
        return False
    if kind == "number" and len(answer) < 2:
        return False
    if kind != "phrase" and all(word in stopwords() for word in normalized):
        return False
    raw = len(re.findall(rf"(?<![\w-]){re.escape(answer)}(?![\w-])", passage))
    return raw == 1 and count_answer(words, answer) == 1


def _quote(before: str, after: str) -> str:
    """The sentence with the blank, at most _QUOTE_WORDS words on each side of it."""
    left, right = before.split(), after.split()
    head = ("... " if len(left) > _QUOTE_WORDS else "") + " ".join(left[-_QUOTE_WORDS:])
    tail = " ".join(right[:_QUOTE_WORDS]) + (" ..." if len(right) > _QUOTE_WORDS else "")
    # keep "(____)" and "____," as written
    return f"{head}{' ' if before[-1:].isspace() else ''}{_BLANK}{' ' if after[:1].isspace() else ''}{tail}".strip()


def _clip(sentence: str) -> str:
    words = sentence.rstrip(".").split()
    return " ".join(words[:2 * _QUOTE_WORDS]) + (" ..." if len(words) > 2 * _QUOTE_WORDS else "")


def _is_prose(sentence: str, min_words: int = 6, ends: bool = True) -> bool:
    """Mostly words, and (with `ends`) ending like a sentence; an option's description may have no full stop."""
    words = sentence.split()
    letters = sum(c.isalpha() or c == " " for c in sentence)
    return (min_words <= len(words) <= 80 and letters >= 0.75 * len(sentence)
            and (not ends or sentence[-1:] in ".!?:;)"))


@cache
def _templates() -> dict:
    return read_json("cloze.json")


@cache
def _man_families(split: str) -> list[str]:
    return [name for name in manpages.families() if split_of_generated(name) == split]


def _man_paragraphs(path) -> tuple[str, ...]:
    return tuple(p.strip() for p in manpages.render(path).split("\n\n") if p.strip())


@cache
def _doc_paragraphs(module: str) -> tuple[str, ...]:
    return tuple(_module_paragraphs(module))
