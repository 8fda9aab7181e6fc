"""Fact kinds with numbers and codes (random values: any split may see any number)."""

from __future__ import annotations

import random

from .fact_kind import FactKind, Slots, finish, generated, pool_context, with_context
from .values import alnum_code, digits, flight_number, number_without_leading_zero
from .vocab import CITIES

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


AGE = FactKind(
    name="age",
    make=_age,
    statements=(
        "I'm {value} years old.",
        "I just turned {value} last month.",
        "I'm {value}, so not young anymore.",
        "Fun fact: I'm {value} years old today.",
        "I'm {value} and I finally learned to swim this year.",
        "My age? I'm {value}.",
        "Being {value} years old, I need more sleep.",
        "I'm {value}, though people say I look younger.",
        "Just so you know, I'm {value}.",
        "I'm a {value}-year-old who loves puzzles.",
    ),
    questions=(
        "How old am I?",
        "What's my age?",
        "Do you remember how old I am?",
        "What age did I tell you I am?",
        "Remind me, how old did I say I was?",
        "How many years old am I?",
        "What did I say my age was?",
    ),
    acks=("{value} is a great age.", "Noted!", "Age is just a number.", "Happy to know a bit more about you."),
)

APARTMENT_NUMBER = FactKind(
    name="apartment_number",
    make=_apartment,
    statements=(
        "I live in apartment {value}.",
        "My flat number is {value}.",
        "I'm in apartment {value} on the top floor.",
        "Deliveries go to apartment {value}, just so you know.",
        "Our apartment number is {value}.",
        "I moved into unit {value} of my building.",
        "If anyone asks, I'm in flat {value}.",
        "My door says {value}; that's my apartment.",
        "The courier needs my apartment number: it's {value}.",
        "Home is apartment {value} these days.",
    ),
    questions=(
        "What's my apartment number?",
        "Which apartment do I live in?",
        "What number is my flat?",
        "Do you remember my apartment number?",
        "Remind me, which unit am I in?",
        "What apartment number did I give you?",
        "What's the number of my flat?",
    ),
    acks=("Got it, apartment {value}.", "Noted.", "Thanks, good to know.", "Okay!"),
    updates=(
        "We moved within the building, so now it's apartment {value}.",
        "Correction: my flat is {value}, not {old_value}.",
        "I switched units, I'm in {value} now.",
        "Sorry, typo earlier. The apartment is {value}.",
        "New flat number since the renovation: {value}.",
    ),
)

KIDS_COUNT = FactKind(
    name="kids_count",
    make=_kids,
    statements=(
        "We have {value} kids.",
        "I'm a parent of {value} children.",
        "With {value} kids at home, it's never quiet.",
        "I have {value} children, all still in school.",
        "My {value} kids keep me busy.",
        "We're a family with {value} kids.",
        "Raising {value} children is a lot of laundry.",
        "I've got {value} kids, so mornings are chaos.",
        "Our {value} children are at their grandparents' today.",
        "I'm a parent of {value}, believe it or not.",
    ),
    questions=(
        "How many kids do I have?",
        "How many children do I have?",
        "Do you remember how many kids I have?",
        "What's the number of children I have?",
        "Remind me, how many kids did I say I have?",
        "How many children are in my family?",
        "How many kids did I tell you about?",
    ),
    acks=("That's a full house!", "Wow, {value} kids!", "You must be busy.", "Sounds lively."),
)

_SECRETS = ("door code", "gate code", "alarm code", "locker code", "PIN for the garage", "bike lock code")
DOOR_CODE = FactKind(
    name="door_code",
    make=with_context(generated(lambda rng, split: digits(rng, rng.choice((4, 4, 5, 6)))), thing=_SECRETS),
    context=("thing",),
    statements=(
        "The {thing} is {value}.",
        "Note for later: the {thing} is {value}.",
        "Our {thing} got changed to {value}.",
        "Can you remember something for me? The {thing} is {value}.",
        "I keep forgetting the {thing}. It's {value}.",
        "The new {thing} is {value}.",
        "For the record, {value} is the {thing}.",
        "Writing this down here: {thing} {value}.",
        "My {thing} is {value}, please don't share it.",
        "If I forget, the {thing} is {value}.",
    ),
    questions=(
        "What's the {thing}?",
        "What is the {thing} again?",
        "Do you remember the {thing}?",
        "Remind me of the {thing}, please.",
        "What did I say the {thing} was?",
        "Can you tell me the {thing}?",
        "I forgot the {thing}. What is it?",
    ),
    acks=("I'll remember that.", "Got it, {value}.", "Noted, I'll keep it safe.", "Okay, saved."),
    updates=(
        "They reset the {thing}. It's {value} now, not {old_value}.",
        "Update: new {thing} is {value}.",
        "Ignore the old {thing}, it's {value} from today.",
        "The {thing} changed again: {value}.",
        "Sorry, I gave you the old {thing}. The right one is {value}.",
    ),
)

PHONE_EXTENSION = FactKind(
    name="phone_extension",
    make=generated(lambda rng, split: number_without_leading_zero(rng, rng.choice((3, 4)))),
    statements=(
        "My extension at work is {value}.",
        "You can reach me at the office on extension {value}.",
        "My desk phone extension is {value}.",
        "They gave me extension {value} at work.",
        "If you need me at work, dial extension {value}.",
        "My work extension is {value}.",
        "My new office line is extension {value}.",
        "Extension {value} rings straight to my desk.",
        "My phone extension at the office is {value}.",
        "The front desk can put you through to extension {value}, that's me.",
    ),
    questions=(
        "What's my work extension?",
        "What is my phone extension at the office?",
        "Which extension rings at my desk?",
        "Do you remember my extension number?",
        "Remind me, what's my extension?",
        "What extension did I give you?",
        "What number is my work extension?",
    ),
    acks=("Extension {value}, got it.", "Noted.", "Handy to know.", "Okay, saved that."),
    updates=(
        "I changed desks, so my extension is {value} now.",
        "Correction: my extension is {value}, not {old_value}.",
        "IT moved me to extension {value}.",
        "New desk, new extension: {value}.",
        "My old extension {old_value} is gone; use {value}.",
    ),
)

_ORDER_ITEMS = (
    "headphones", "desk lamp", "running shoes", "rug", "coffee grinder", "phone case", "winter boots", "tent",
    "backpack", "office chair", "blender", "bike helmet", "monitor", "kettle", "suitcase", "yoga mat",
)  # fmt: skip
ORDER_NUMBER = FactKind(
    name="order_number",
    make=with_context(generated(lambda rng, split: number_without_leading_zero(rng, rng.randint(7, 9))),
                      item=_ORDER_ITEMS),
    context=("item",),
    statements=(
        "The order number for my new {item} is {value}.",
        "I ordered a new {item}; the order number is {value}.",
        "My order for the {item} is number {value}.",
        "Still waiting on my {item}. Order number {value}.",
        "Keeping track: order {value} is my new {item}.",
        "The shop says order {value}, my {item}, ships soon.",
        "I just bought a new {item}, order number {value}.",
        "Can you hold onto this? Order {value}, for my {item}.",
        "Delivery delayed again for my {item}, order number {value}.",
        "Order number {value} is the one with my {item}.",
    ),
    questions=(
        "What's the order number for my {item}?",
        "What was my order number for the {item}?",
        "Do you remember the order number for my {item}?",
        "Remind me of my order number for the {item}.",
        "Which order number did I give for the {item}?",
        "What's the number of my {item} order?",
        "What order number is my new {item}?",
    ),
    acks=("Hope the {item} arrives soon!", "Got it.", "I'll keep that handy.", "Fingers crossed for a quick delivery."),
)

_BOOKABLE = (
    "train tickets", "concert tickets", "rental car", "ferry", "museum tickets", "campsite", "bike rental",
    "escape room", "cabin", "boat tour",
)  # fmt: skip
BOOKING_CODE = FactKind(
    name="booking_code",
    make=with_context(generated(lambda rng, split: alnum_code(rng)), what=_BOOKABLE),
    context=("what",),
    statements=(
        "The booking code for the {what} is {value}.",
        "My confirmation code for the {what} is {value}.",
        "I booked the {what}; the reference is {value}.",
        "Reference for the {what}: {value}.",
        "Got the {what} sorted. Confirmation {value}.",
        "The {what} booking reference is {value}.",
        "Saving this here: {what} code {value}.",
        "For the {what}, the code they sent is {value}.",
        "Our {what} reservation is under code {value}.",
        "The email says the {what} code is {value}.",
    ),
    questions=(
        "What's the booking code for the {what}?",
        "What is the confirmation code for the {what}?",
        "Do you remember the reference for the {what}?",
        "Remind me of the {what} booking code.",
        "What code did I get for the {what}?",
        "Which reference is the {what} booked under?",
        "What's the {what} reservation code?",
    ),
    acks=("Saved: {value}.", "Great, sounds like a plan.", "Got it.", "Nice, enjoy!"),
    updates=(
        "I had to rebook the {what}. New code: {value}.",
        "Correction, the {what} reference is {value}, not {old_value}.",
        "They reissued the {what} booking as {value}.",
        "The {what} code changed to {value} after I edited the booking.",
        "Use {value} for the {what} now; {old_value} was cancelled.",
    ),
)

FLIGHT_NUMBER = FactKind(
    name="flight_number",
    make=with_context(generated(lambda rng, split: flight_number(rng)), city=pool_context(CITIES)),
    context=("city",),
    statements=(
        "My flight to {city} is {value}.",
        "I'm flying to {city} on flight {value}.",
        "Booked it: flight {value} to {city}.",
        "The flight number for my {city} trip is {value}.",
        "I'll be on {value} to {city}, leaving early.",
        "My {city} flight is {value}, window seat.",
        "Flight {value} takes me to {city} next week.",
        "For my trip to {city} I'm on flight {value}.",
        "Just got the ticket: {value}, straight to {city}.",
        "My flight number to {city} is {value}.",
    ),
    questions=(
        "What's my flight number to {city}?",
        "Which flight am I taking to {city}?",
        "What flight am I on for {city}?",
        "Do you remember my flight number to {city}?",
        "Remind me of my flight to {city}.",
        "What's the flight number for my {city} trip?",
        "Which flight number did I book to {city}?",
    ),
    acks=("Have a great trip to {city}!", "Safe travels!", "Exciting, {city}!", "Got it, {value}."),
    updates=(
        "They changed my {city} flight to {value}, not {old_value} anymore.",
        "Update: the airline moved me to flight {value} for {city}.",
        "My {city} flight got switched to {value}.",
        "New flight number for {city}: {value}. {old_value} was cancelled.",
        "Rebooked! I'm now on {value} to {city}.",
    ),
)

HOTEL_ROOM = FactKind(
    name="hotel_room",
    make=with_context(generated(lambda rng, split: number_without_leading_zero(rng, rng.choice((3, 3, 4)))),
                      city=pool_context(CITIES)),
    context=("city",),
    statements=(
        "My hotel room in {city} is {value}.",
        "I'm staying in room {value} at the hotel in {city}.",
        "The hotel in {city} gave me room {value}.",
        "Room {value} is mine for the {city} trip.",
        "Checked into my {city} hotel. Room {value}.",
        "At the {city} hotel I'm in room {value}.",
        "In {city} I'll be in hotel room {value}.",
        "My room number at the {city} hotel is {value}.",
        "The {city} hotel put me in room {value}, top floor.",
        "I'm in room {value} while I'm in {city}.",
    ),
    questions=(
        "What's my hotel room number in {city}?",
        "Which room am I in at the {city} hotel?",
        "What room did the hotel in {city} give me?",
        "Do you remember my room number in {city}?",
        "Remind me, what's my {city} hotel room?",
        "What number is my hotel room in {city}?",
        "Which hotel room am I staying in while in {city}?",
    ),
    acks=("Enjoy {city}!", "Hope the room has a view.", "Room {value}, noted.", "Have a restful stay."),
    updates=(
        "They moved me to room {value} in {city}, {old_value} had a leak.",
        "Room change in {city}: I'm in {value} now.",
        "The {city} hotel upgraded me to room {value}.",
        "Correction, my {city} room is {value}, not {old_value}.",
        "Switched rooms in {city}, now it's {value}.",
    ),
)

NUMBER_KINDS = (
    AGE, APARTMENT_NUMBER, KIDS_COUNT, DOOR_CODE, PHONE_EXTENSION, ORDER_NUMBER, BOOKING_CODE, FLIGHT_NUMBER,
    HOTEL_ROOM,
)  # fmt: skip
