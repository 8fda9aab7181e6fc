"""Answer matching for memory QA (normalised, whole-word span containment), and the paired comparison of two
methods on the same questions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from math import comb

from .data.schema import QA

_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL_UNITS = (
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
    "nineteenth",
)  # fmt: skip
_ORDINAL_TENS = ("twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip

_SMALL = {word: value for value, word in enumerate(_UNITS)} | {w: v for v, w in enumerate(_ORDINAL_UNITS)}
_DECADES = {word: 20 + 10 * i for i, word in enumerate(_TENS)} | {w: 20 + 10 * i for i, w in enumerate(_ORDINAL_TENS)}
_ARTICLES = {"a", "an", "the"}
_DIGIT_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_DAY_OF_MONTH = re.compile(rf"\b(\d+) of ({'|'.join(_MONTHS)})\b")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def normalize(text: str) -> str:
    """Lowercase; punctuation and articles removed; number words, ordinals and "14th" as digits; single spaces."""
    text = _NOT_WORD.sub(" ", text.lower())
    text = _DIGIT_ORDINAL.sub(r"\1", text)
    words = _numbers_to_digits(text.split())
    text = " ".join(word for word in words if word not in _ARTICLES)
    return _DAY_OF_MONTH.sub(r"\1 \2", text)  # "14th of March" reads as "14 March"


def is_correct(prediction: str, qa: QA) -> bool:
    spoken = f" {normalize(prediction)} "
    targets = (normalize(target) for target in (qa.answer, *qa.aliases))
    return any(target and f" {target} " in spoken for target in targets)


def paired(first: Sequence[bool], second: Sequence[bool]) -> dict:
    """Two methods scored on the same questions, in the same order: how many each answered alone, and the
    exact McNemar p-value (two-sided sign test on those discordant questions): the chance of a split at least
    this uneven if neither method were better. Counts alone hide that e.g. 26 vs 18 is 19 vs 11 questions."""
    if len(first) != len(second):
        raise ValueError(f"paired comparison needs the same questions: {len(first)} vs {len(second)} answers")
    only_first = sum(1 for a, b in zip(first, second, strict=True) if a and not b)
    only_second = sum(1 for a, b in zip(first, second, strict=True) if b and not a)
    both = sum(1 for a, b in zip(first, second, strict=True) if a and b)
    n, k = only_first + only_second, min(only_first, only_second)
    p_value = min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return {"questions": len(first), "both": both, "only_first": only_first, "only_second": only_second,
            "mcnemar_p": round(p_value, 4)}


def _numbers_to_digits(words: list[str]) -> list[str]:
    """Turns runs like "one hundred and twenty three" into "123"; other words pass through."""
    out: list[str] = []
    i = 0
    while i < len(words):
        value, used = _read_number(words, i)
        if used:
            out.append(str(value))
            i += used
        else:
            out.append(words[i])
            i += 1
    return out


def _read_number(words: list[str], start: int) -> tuple[int, int]:
    """Value and word count of the number spelled out at words[start:] (0 words if none)."""
    total, current, last, i = 0, 0, "", start
    while i < len(words):
        word = words[i]
        if word in _SMALL and (last in ("", "hundred", "thousand") or (last == "decade" and 0 < _SMALL[word] < 10)):
            current, last = current + _SMALL[word], "small"
        elif word in _DECADES and last in ("", "hundred", "thousand"):
            current, last = current + _DECADES[word], "decade"
        elif word == "hundred" and last == "small" and 0 < current < 100:
            current, last = current * 100, "hundred"
        elif word == "thousand" and last in ("small", "decade", "hundred") and total == 0:
            total, current, last = current * 1000, 0, "thousand"
        elif word == "and" and last in ("hundred", "thousand") and i + 1 < len(words) and (
            words[i + 1] in _SMALL or words[i + 1] in _DECADES
        ):
            pass
        else:
            break
        i += 1
        if word in _ORDINAL_UNITS or word in _ORDINAL_TENS:
            break  # an ordinal ends the number ("thirty first" -> 31)
    return total + current, i - start
