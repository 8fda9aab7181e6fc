"""Random values: numbers and codes (no split needed) and invented names (split by hash)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from .splits import split_of_generated
from .vocab import (
    BAND_ADJECTIVES,
    BAND_NOUNS,
    CODAS,
    COMPANY_SUFFIXES,
    CUISINE_WORDS,
    MONTHS,
    ONSETS,
    PLACE_ADJECTIVES,
    PLACE_WORDS,
    VOWELS,
)


def _syllable(rng: random.Random) -> str:
    return rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)


def invented_in_split(make: Callable[[random.Random], str], rng: random.Random, split: str) -> str:
    while True:
        value = make(rng)
        if split_of_generated(value) == split:
            return value


def band_name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"The {rng.choice(BAND_ADJECTIVES)} {rng.choice(BAND_NOUNS)}"
    return f"{rng.choice(PLACE_WORDS)} {rng.choice(BAND_NOUNS)}"


def restaurant_name(rng: random.Random) -> str:
    pattern = rng.randrange(4)
    if pattern == 0:
        return f"The {rng.choice(PLACE_ADJECTIVES)} {rng.choice(PLACE_WORDS)}"
    if pattern == 1:
        return f"{rng.choice(PLACE_WORDS)} {rng.choice(CUISINE_WORDS)}"
    if pattern == 2:
        return f"Casa {(_syllable(rng) + _syllable(rng)).capitalize()}"
    return f"{rng.choice(PLACE_WORDS)} and {rng.choice(PLACE_WORDS)}"


def company_name(rng: random.Random) -> str:
    stem = "".join(_syllable(rng) for _ in range(rng.choice((2, 2, 3))))
    return f"{stem.capitalize()} {rng.choice(COMPANY_SUFFIXES)}"


def person_name(rng: random.Random) -> str:
    """A made-up name of 2-3 open syllables and a coda ("Dremota", "Kivul"): no prior can guess it, only memory can."""
    stem = "".join(rng.choice(ONSETS) + rng.choice("aeiou") for _ in range(rng.choice((2, 2, 3))))
    return (stem + rng.choice(CODAS)).capitalize()


def digits(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(length))


def number_without_leading_zero(rng: random.Random, length: int) -> str:
    return str(rng.randrange(10 ** (length - 1), 10**length))


def alnum_code(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A booking-style code and its accepted variants without the separator."""
    letters = string.ascii_uppercase
    pattern = rng.randrange(3)
    if pattern == 0:
        code = f"{rng.choice(letters)}{rng.choice(letters)}-{number_without_leading_zero(rng, 4)}"
    elif pattern == 1:
        code = "".join(rng.choice(letters + string.digits) for _ in range(6))
    else:
        code = "".join(rng.choice(letters) for _ in range(3)) + number_without_leading_zero(rng, 3)
    plain = code.replace("-", "")
    return code, ((plain,) if plain != code else ())


def flight_number(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    airline = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
    number = number_without_leading_zero(rng, rng.choice((3, 4)))
    return f"{airline}{number}", (f"{airline} {number}",)


def clock_time(rng: random.Random) -> str:
    return f"{rng.randint(1, 12)}:{rng.choice(('00', '15', '30', '45', '10', '20', '40', '50'))}"


def calendar_date(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    month, day = rng.choice(MONTHS), rng.randint(1, 28)
    return f"{month} {day}", (f"{day} {month}",)
