"""Random values: numbers and codes (no split needed) and invented names (split by hash)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from .splits import split_of_generated
from .vocab import MONTHS

_BAND_ADJECTIVES = (
    "Velvet Paper Electric Silent Golden Hollow Neon Crimson Wandering Broken Lucky Midnight Restless Quiet "
    "Burning Frozen Lonely Wild Gentle Rusty Marble Cosmic Tidal Amber Static Sleepy Copper Violet Distant"
).split()
_BAND_NOUNS = (
    "Foxes Lanterns Orchards Pilots Harbours Mirrors Ravens Tigers Echoes Satellites Owls Comets Rivers "
    "Wolves Engines Gardens Sparrows Anchors Giants Lighthouses Monks Dolphins Bandits Clocks Ghosts Kites"
).split()
_PLACE_WORDS = (
    "Fig Olive Lantern Anchor Saffron Juniper Harbour Orchard Copper Pepper Basil Cedar Lemon Walnut Plum "
    "Salt Ember Willow Thistle Cobble Meadow Clove Quince Pearl"
).split()
_PLACE_ADJECTIVES = "Blue Golden Little Green Red Old Hidden Crooked Silver Sleepy Hungry Lucky Rusty".split()
_CUISINE_WORDS = "Kitchen Table Bistro Canteen Diner Trattoria Tavern Cantina Grill Noodle Bar Eatery".split()
_ONSETS = "b br c d dr f g gr k l m n p pr qu r s st t tr v z".split()
_VOWELS = "a e i o u ai ea io".split()
_CODAS = ["", "", "n", "r", "l", "x", "s", "th", "m"]
_COMPANY_SUFFIXES = (
    "Labs Logistics Systems Analytics Foods Energy Robotics Media Health Studios Software Insurance Bank "
    "Consulting Pharma Motors Textiles Games Freight Solar Biotech"
).split()


def _syllable(rng: random.Random) -> str:
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)


def invented_in_split(make: Callable[[random.Random], str], rng: random.Random, split: str) -> str:
    while True:
        value = make(rng)
        if split_of_generated(value) == split:
            return value


def band_name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"The {rng.choice(_BAND_ADJECTIVES)} {rng.choice(_BAND_NOUNS)}"
    return f"{rng.choice(_PLACE_WORDS)} {rng.choice(_BAND_NOUNS)}"


def restaurant_name(rng: random.Random) -> str:
    pattern = rng.randrange(4)
    if pattern == 0:
        return f"The {rng.choice(_PLACE_ADJECTIVES)} {rng.choice(_PLACE_WORDS)}"
    if pattern == 1:
        return f"{rng.choice(_PLACE_WORDS)} {rng.choice(_CUISINE_WORDS)}"
    if pattern == 2:
        return f"Casa {(_syllable(rng) + _syllable(rng)).capitalize()}"
    return f"{rng.choice(_PLACE_WORDS)} and {rng.choice(_PLACE_WORDS)}"


def company_name(rng: random.Random) -> str:
    stem = "".join(_syllable(rng) for _ in range(rng.choice((2, 2, 3))))
    return f"{stem.capitalize()} {rng.choice(_COMPANY_SUFFIXES)}"


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
