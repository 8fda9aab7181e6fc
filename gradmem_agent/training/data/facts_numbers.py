"""Fact kinds with numbers and codes (random values: any split may see any number; templates and the things a code
or order is for: words/facts_numbers.json)."""

from __future__ import annotations

import random

from .fact_kind import FactKind, Slots, finish, generated, options, pool_context, templates, with_context
from .values import alnum_code, digits, flight_number, number_without_leading_zero
from .vocab import CITIES

_TEXTS = templates("facts_numbers.json")
_THINGS = options("facts_numbers.json")
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _age(rng: random.Random, split: str) -> Slots:
    return finish({"value": str(rng.randint(18, 79))})


def _apartment(rng: random.Random, split: str) -> Slots:
    number = str(rng.randint(1, 250))
    return finish({"value": number + rng.choice(("", "", "", "A", "B", "C"))})


def _kids(rng: random.Random, split: str) -> Slots:
    count = rng.randint(2, 6)
    spoken = _NUMBER_WORDS[count] if rng.random() < 0.5 else str(count)
    return finish({"value": spoken, "answer": str(count), "aliases": (_NUMBER_WORDS[count],)})


AGE = FactKind(name="age", make=_age, **_TEXTS["age"])

APARTMENT_NUMBER = FactKind(name="apartment_number", make=_apartment, **_TEXTS["apartment_number"])

KIDS_COUNT = FactKind(name="kids_count", make=_kids, **_TEXTS["kids_count"])

DOOR_CODE = FactKind(
    name="door_code",
    make=with_context(generated(lambda rng, split: digits(rng, rng.choice((4, 4, 5, 6)))), thing=_THINGS["secrets"]),
    context=("thing",),
    **_TEXTS["door_code"],
)

PHONE_EXTENSION = FactKind(
    name="phone_extension",
    make=generated(lambda rng, split: number_without_leading_zero(rng, rng.choice((3, 4)))),
    **_TEXTS["phone_extension"],
)

ORDER_NUMBER = FactKind(
    name="order_number",
    make=with_context(generated(lambda rng, split: number_without_leading_zero(rng, rng.randint(7, 9))),
                      item=_THINGS["order_items"]),
    context=("item",),
    **_TEXTS["order_number"],
)

BOOKING_CODE = FactKind(
    name="booking_code",
    make=with_context(generated(lambda rng, split: alnum_code(rng)), what=_THINGS["bookable"]),
    context=("what",),
    **_TEXTS["booking_code"],
)

FLIGHT_NUMBER = FactKind(
    name="flight_number",
    make=with_context(generated(lambda rng, split: flight_number(rng)), city=pool_context(CITIES)),
    context=("city",),
    **_TEXTS["flight_number"],
)

HOTEL_ROOM = FactKind(
    name="hotel_room",
    make=with_context(generated(lambda rng, split: number_without_leading_zero(rng, rng.choice((3, 3, 4)))),
                      city=pool_context(CITIES)),
    context=("city",),
    **_TEXTS["hotel_room"],
)

NUMBER_KINDS = (
    AGE, APARTMENT_NUMBER, KIDS_COUNT, DOOR_CODE, PHONE_EXTENSION, ORDER_NUMBER, BOOKING_CODE, FLIGHT_NUMBER,
    HOTEL_ROOM,
)  # fmt: skip
