"""Open-key fact kinds: a value tied to a key phrase drawn from a large pool ("the electrician is Dremota",
"the umbrella is yellow", "the quiz night starts at 7:30").

The fixed kinds of the other modules ask about a few dozen relations (my partner, my pet...), so a reader
can learn a slot per relation. Here the key changes from chat to chat and a chat may hold two facts of the
same kind under different keys, so the answer must be found by the words the question shares with the
fact. The key pools avoid every key phrase of the hand-written benchmark chats (tests/test_data.py checks
it), so those stay unseen.
"""

from __future__ import annotations

import random

from .fact_kind import FactKind, Slots, ValueMaker, finish, from_pool, pool_context, with_context
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
    statements=(
        "I finally found a {key}, someone called {value}.",
        "The {key} is {value}, apparently very good.",
        "Our {key} this year is a guy named {value}.",
        "{value} is going to be my {key} from now on.",
        "I met the new {key} today. Her name is {value}.",
        "A friend put me in touch with a {key} called {value}.",
        "Turns out the {key} is {value}, who I went to school with.",
        "My {key}, {value}, cancelled on me again.",
        "So the {key} I hired is {value}. Fingers crossed.",
        "The {key}'s name is {value}, if I need to call.",
        "We got {value} as our {key}, which is a relief.",
        "I keep forgetting to pay {value}, my {key}.",
    ),
    questions=(
        "What is my {key}'s name?",
        "Who is my {key}?",
        "What's the name of the {key}?",
        "Who did I say the {key} was?",
        "Do you remember who the {key} is?",
        "What is the {key} called?",
        "Remind me, who is the {key}?",
    ),
    acks=("Good to have a name for the {key}.", "{value}, got it.", "Hope {value} does a good job.",
          "Noted, thanks."),
    updates=(
        "Change of plan: {old_value} can't do it, so {value} is the {key} now.",
        "The {key} is {value} now; {old_value} moved away.",
        "We switched {key}s. It's {value}, not {old_value}.",
        "Sorry, I mixed up the names: the {key} is {value}. {old_value} is someone else.",
        "{old_value} retired, so our {key} is {value} now.",
    ),
)

ITEM_PRICE = FactKind(
    name="item_price",
    make=_keyed(_price, PRICED_ITEMS),
    context=("key", "currency"),
    statements=(
        "The {key} cost me {value} {currency}, ouch.",
        "I paid {value} {currency} for the {key}.",
        "Guess what the {key} was: {value} {currency}!",
        "I splashed out {value} {currency} on the {key}.",
        "The {key} came to {value} {currency} in the end.",
        "They charged {value} {currency} for the {key}, which felt steep.",
        "Got the {key} for {value} {currency} in the sale.",
        "{value} {currency} for the {key}. Can you believe it?",
        "I set aside {value} {currency} for the {key} this month.",
        "The bill for the {key} was {value} {currency}.",
        "So the {key} is {value} {currency}, cheaper than I feared.",
    ),
    questions=(
        "How much did the {key} cost?",
        "What did I pay for the {key}?",
        "How much was the {key}?",
        "What was the price of the {key}?",
        "How much did I spend on the {key}?",
        "Remind me what the {key} cost.",
        "How much money went on the {key}?",
    ),
    acks=("That's quite a lot for a {key}.", "Noted.", "Worth it, I hope!", "Prices these days..."),
    updates=(
        "They refunded part of it, so the {key} was {value} {currency} after all, not {old_value}.",
        "I misread the receipt: the {key} was {value} {currency}.",
        "The {key} went up to {value} {currency}; {old_value} was last year's price.",
        "Correction, the {key} was {value} {currency}. I said {old_value} before, my mistake.",
        "In the end the {key} came to {value} {currency}, not {old_value}.",
    ),
)

ITEM_COLOUR = FactKind(
    name="item_colour",
    make=_keyed(from_pool(COLOURS), COLOURED_ITEMS),
    context=("key",),
    statements=(
        "I went for {a_value} {key} in the end.",
        "The {key} is {value}, which I love.",
        "We painted the {key} {value} last weekend.",
        "My new {key} is bright {value}.",
        "They only had the {key} in {value}, so that's what I got.",
        "The {key} turned out {value}, not what I pictured.",
        "I picked {value} for the {key}.",
        "Look for {a_value} {key}, that's mine.",
        "The {key} we ordered is {value}.",
        "Everyone teases me about my {value} {key}.",
        "I'm getting the {key} in {value}, I've decided.",
    ),
    questions=(
        "What colour is the {key}?",
        "What colour did I pick for the {key}?",
        "Which colour is my {key}?",
        "What colour did I say the {key} is?",
        "What colour is my {key}?",
        "Do you remember the colour of the {key}?",
        "The {key}, what colour was it again?",
    ),
    acks=("{a_value} {key} sounds nice.", "Good choice.", "{value} is a bold pick.", "Lovely."),
    updates=(
        "I swapped the {key} for {a_value} one; the {old_value} one was faulty.",
        "We repainted the {key}. It's {value} now, not {old_value}.",
        "The {old_value} {key} sold out, so I got {a_value} one.",
        "Turns out the {key} is {value}; the {old_value} was just the photo.",
        "Change of heart: the {key} will be {value} instead of {old_value}.",
    ),
)

THING_NUMBER = FactKind(
    name="thing_number",
    make=_keyed(_number, NUMBERED_THINGS),
    context=("key",),
    statements=(
        "I got {key} number {value}.",
        "My {key} is number {value}.",
        "They gave me {key} {value}, right at the end.",
        "It's {key} {value}, if you need to find me.",
        "We're in {key} {value} this time.",
        "Remember, {key} {value}.",
        "The {key} they assigned me is {value}.",
        "My {key} number is {value}, easy to forget.",
        "Got {key} {value} again, same as last year.",
        "Look for {key} {value}.",
        "I was put in {key} {value}.",
    ),
    questions=(
        "What is my {key} number?",
        "Which {key} did I get?",
        "What number is my {key}?",
        "Which {key} number was I given?",
        "What {key} number did I mention?",
        "Remind me of my {key} number.",
        "Which {key} am I in?",
    ),
    acks=("{key} {value}, noted.", "Got it.", "Easy enough to remember.", "Thanks, I'll keep that in mind."),
    updates=(
        "They moved me from {key} {old_value} to {key} {value}.",
        "Mix-up at the desk: I'm in {key} {value}, not {old_value}.",
        "Scratch {key} {old_value}, they swapped me to {value}.",
        "My {key} is {value} now. {old_value} was a typo on the form.",
        "New {key}: {value}. {old_value} is taken after all.",
    ),
)

EVENT_TIME = FactKind(
    name="event_time",
    make=_keyed(_time, OPEN_EVENTS),
    context=("key",),
    statements=(
        "The {key} starts at {value}.",
        "I have the {key} at {value} tomorrow.",
        "Don't let me forget the {key} at {value}.",
        "The {key} is at {value}, so I'll eat early.",
        "We're meeting for the {key} at {value}.",
        "They moved the {key} to {value}.",
        "The {key} kicks off at {value} sharp.",
        "I'm off to the {key} at {value}.",
        "Doors for the {key} open at {value}.",
        "The {key}? It's at {value}.",
        "Apparently the {key} begins at {value}.",
    ),
    questions=(
        "What time is the {key}?",
        "When does the {key} start?",
        "What time does the {key} begin?",
        "What time did I say the {key} was?",
        "At what time is the {key}?",
        "When is the {key}? What time?",
        "Remind me when the {key} starts.",
    ),
    acks=("{value} for the {key}, noted.", "I'll remind you.", "Enjoy the {key}!", "Sounds fun."),
    updates=(
        "The {key} got pushed from {old_value} to {value}.",
        "New time for the {key}: {value}, not {old_value}.",
        "The {key} is at {value} now, they dropped the {old_value} slot.",
        "I had the time wrong: the {key} is at {value}, not {old_value}.",
        "Heads up, the {key} now starts at {value}.",
    ),
)

EVENT_PLACE = FactKind(
    name="event_place",
    make=_keyed(_place, OPEN_EVENTS),
    context=("key",),
    statements=(
        "The {key} is at {value} this year.",
        "They're holding the {key} in {value}.",
        "The {key} will be at {value}.",
        "I'm going to the {key} in {value}.",
        "This time the {key} is in {value}.",
        "The {key} moved to {value}.",
        "We're hosting the {key} at {value}.",
        "The {key} takes place in {value}.",
        "Apparently the {key} is in {value}.",
        "Heading to {value} for the {key}.",
        "The venue for the {key} is {value}.",
    ),
    questions=(
        "Where is the {key}?",
        "Where is the {key} being held?",
        "Where did I say the {key} is?",
        "What's the venue for the {key}?",
        "Where will the {key} take place?",
        "Where am I going for the {key}?",
        "Remind me where the {key} is.",
    ),
    acks=("{value} is a good spot for it.", "Noted.", "Hope the {key} goes well.", "Nice!"),
    updates=(
        "The {key} moved from {old_value} to {value}.",
        "Venue change for the {key}: {value}, not {old_value}.",
        "The {key} won't be in {old_value} after all. It's in {value}.",
        "I got it wrong, the {key} is in {value}.",
        "They relocated the {key} to {value}.",
    ),
)

OPEN_KINDS = (ROLE_NAME, ITEM_PRICE, ITEM_COLOUR, THING_NUMBER, EVENT_TIME, EVENT_PLACE)
KEY_POOLS = (ROLES, PRICED_ITEMS, COLOURED_ITEMS, NUMBERED_THINGS, OPEN_EVENTS)
