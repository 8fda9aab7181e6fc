"""Open-key fact kinds: a value tied to a key phrase drawn from a large pool ("the electrician is Dremota",
"the umbrella is yellow", "the quiz night starts at 7:30").

The fixed kinds of the other modules ask about a few dozen relations (my partner, my pet...), so a reader
can learn a slot per relation. Here the key changes from chat to chat and a chat may hold two facts of the
same kind under different keys, so the answer must be found by the words the question shares with the
fact. The key pools avoid every key phrase of the hand-written benchmark chats (tests/test_data.py checks
it), so those stay unseen. Templates: words/facts_open.json; key pools: words/open_keys.json.
"""

from __future__ import annotations

import random

from .fact_kind import FactKind, Slots, ValueMaker, finish, from_pool, pool_context, templates, with_context
from .values import clock_time, number_without_leading_zero
from .vocab import (
    CITIES,
    COLOURED_ITEMS,
    COLOURS,
    FIRST_NAMES,
    NUMBERED_THINGS,
    OPEN_EVENTS,
    PLACE_ADJECTIVES,
    PLACE_WORDS,
    PRICED_ITEMS,
    ROLES,
)

_TEXTS = templates("facts_open.json")
_CURRENCIES = (("pounds", "£"), ("euros", "€"), ("dollars", "$"))


def _venue(rng: random.Random, split: str) -> str:
    if rng.random() < 0.5:
        return pool_context(CITIES)(rng, split)
    return f"the {rng.choice(PLACE_ADJECTIVES)} {rng.choice(PLACE_WORDS)}"


def _price(rng: random.Random, split: str) -> Slots:
    amount = str(rng.choice((rng.randint(5, 99), rng.randint(100, 999), rng.randint(20, 400))))
    word, symbol = rng.choice(_CURRENCIES)
    return finish({"value": amount, "currency": word, "aliases": (f"{amount} {word}", f"{symbol}{amount}")})


def _number(rng: random.Random, split: str) -> Slots:
    number = number_without_leading_zero(rng, rng.choice((1, 2, 2, 3)))
    return finish({"value": number + rng.choice(("",) * 5 + ("A", "B"))})


def _time(rng: random.Random, split: str) -> Slots:
    return finish({"value": clock_time(rng)})


def _place(rng: random.Random, split: str) -> Slots:
    return finish({"value": _venue(rng, split)})


def _keyed(maker: ValueMaker, pool: tuple[str, ...]) -> ValueMaker:
    """The key phrase goes in slot "key"; chat_samples keeps keys distinct within a chat."""
    return with_context(maker, key=pool_context(pool))


ROLE_NAME = FactKind(
    name="role_name",
    make=_keyed(from_pool(FIRST_NAMES), ROLES),
    context=("key",),
    **_TEXTS["role_name"],
)

ITEM_PRICE = FactKind(
    name="item_price",
    make=_keyed(_price, PRICED_ITEMS),
    context=("key", "currency"),
    **_TEXTS["item_price"],
)

ITEM_COLOUR = FactKind(
    name="item_colour",
    make=_keyed(from_pool(COLOURS), COLOURED_ITEMS),
    context=("key",),
    **_TEXTS["item_colour"],
)

THING_NUMBER = FactKind(
    name="thing_number",
    make=_keyed(_number, NUMBERED_THINGS),
    context=("key",),
    **_TEXTS["thing_number"],
)

EVENT_TIME = FactKind(name="event_time", make=_keyed(_time, OPEN_EVENTS), context=("key",), **_TEXTS["event_time"])

EVENT_PLACE = FactKind(name="event_place", make=_keyed(_place, OPEN_EVENTS), context=("key",), **_TEXTS["event_place"])

OPEN_KINDS = (ROLE_NAME, ITEM_PRICE, ITEM_COLOUR, THING_NUMBER, EVENT_TIME, EVENT_PLACE)
KEY_POOLS = (ROLES, PRICED_ITEMS, COLOURED_ITEMS, NUMBERED_THINGS, OPEN_EVENTS)
