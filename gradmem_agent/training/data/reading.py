"""Helpers shared by the reading generators (documents, cloze): sentences, a token estimate, answer counts.

An answer is counted the way the scorer matches it (`scoring.normalize`, whole words), so "occurs once" means
that no other span of the text could be credited for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from .resources import read_lines

_LINE_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_PIECE = re.compile(r"[A-Za-z]+|\d|\s*\n|[^\sA-Za-z\d]")
_WORD = re.compile(r"[a-z]+")


def split_sentences(text: str) -> list[str]:
    """Lines, each cut at sentence ends: the units that QA.fact_turns index for documents and passages."""
    return [part.strip() for line in text.splitlines() if line.strip() for part in _LINE_SENTENCE_END.split(line)
            if part.strip()]


def approx_tokens(text: str) -> int:
    """Token count of the default model's tokenizer, estimated from character classes without loading it: digits,
    punctuation and line breaks one each, lower-case or capitalised words one per 10 letters, other words (ALLCAPS,
    camelCase) one per 3. Fitted on man pages and docstrings; the real count is within 0.84-1.31 of it there."""
    count = 0
    for piece in _PIECE.findall(text):
        if not piece[0].isalpha():
            count += 1
        elif piece.islower() or (piece[0].isupper() and piece[1:].islower()):
            count += 1 + (len(piece) - 1) // 10
        else:
            count += 1 + len(piece) // 3
    return round(count * 1.04)


def answer_words(text: str) -> list[str]:
    """The text as the scorer sees it, word by word: the argument of `count_answer`."""
    from ..scoring import normalize  # scoring imports this package: a top-level import would be circular

    return normalize(text).split()


def count_answer(words: Sequence[str], answer: str) -> int:
    """How many times `answer` occurs in `words` (from `answer_words`) as a whole-word span."""
    target = answer_words(answer)
    if not target:
        return 0
    size = len(target)
    return sum(1 for i in range(len(words) - size + 1) if list(words[i:i + size]) == target)


@cache
def stopwords() -> frozenset[str]:
    """Words a question may share with a sentence without that being a keyword match (words/stopwords.txt).

    A list of its own, not storage.search.stop_words: that one drops what is too common to find a message by (with
    the pieces that query_terms cuts contractions into: "don", "t"), this one also vague words ("thing", "know",
    "need") that would let a paraphrased question pass. The generated documents and cloze passages are drawn with
    it; the storage list, or the union of both, would change them."""
    return frozenset(read_lines("stopwords.txt"))


def content_words(text: str) -> set[str]:
    """Lower-case words that carry meaning (no stopwords), crudely stemmed so that "rooms"/"room" and
    "starts"/"starting" meet: what a question must share with a sentence to be a keyword match."""
    return {_stem(word) for word in _WORD.findall(text.lower()) if word not in stopwords() and len(word) > 1}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
