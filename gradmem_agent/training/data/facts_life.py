"""Fact kinds about places, work, dates and times."""

from __future__ import annotations

import random

from .fact_kind import FactKind, finish, from_pool, generated, pool_context, with_context
from .values import calendar_date, clock_time, company_name, invented_in_split, restaurant_name
from .vocab import APPOINTMENTS, CITIES, EVENTS, JOB_TITLES, MEETINGS, WEEKDAYS


def _restaurant(rng: random.Random, split: str) -> str:
    return invented_in_split(restaurant_name, rng, split)


def _weekday(rng: random.Random, split: str) -> dict:
    return finish({"value": rng.choice(WEEKDAYS)})


def _time(rng: random.Random, split: str) -> dict:
    value = clock_time(rng)
    # The spoken form sometimes carries am/pm; the answer is the bare clock time either way.
    return finish({"value": value + rng.choice(("", "", " am", " pm")), "answer": value})


HOME_CITY = FactKind(
    name="home_city",
    make=from_pool(CITIES),
    statements=(
        "I live in {value}.",
        "I've been living in {value} for a few years now.",
        "Greetings from {value}, where I live.",
        "Home for me is {value}.",
        "I'm based in {value} these days.",
        "It's raining again here in {value}, where I live.",
        "I moved to {value} two years ago.",
        "My home city is {value}.",
        "I rent a small place in {value}.",
        "Life in {value} is pretty good, I have to say.",
    ),
    questions=(
        "Which city do I live in?",
        "Where do I live?",
        "What city am I based in?",
        "Do you remember where I live?",
        "Remind me, which city is home for me?",
        "What's my home city?",
        "In which city do I live now?",
    ),
    acks=("{value} sounds like a nice place to live.", "Oh, nice!", "I've heard good things about {value}.", "Cool."),
    updates=(
        "Actually, I moved to {value} last week.",
        "Big news: I've relocated to {value}.",
        "I don't live in {old_value} anymore. I moved to {value}.",
        "As of this month I live in {value}, not {old_value}.",
        "Finally settled into my new place in {value}.",
    ),
)

HOMETOWN = FactKind(
    name="hometown",
    make=from_pool(CITIES),
    statements=(
        "I grew up in {value}.",
        "I'm originally from {value}.",
        "My hometown is {value}.",
        "I was born and raised in {value}.",
        "Back in {value}, where I grew up, we did this every summer.",
        "My family still lives in {value}, where I grew up.",
        "{value} is where I spent my childhood.",
        "I'm from {value}, originally.",
        "I miss {value}, my hometown.",
        "Childhood in {value} was great.",
    ),
    questions=(
        "Where did I grow up?",
        "What's my hometown?",
        "Which city am I originally from?",
        "Do you remember where I'm from originally?",
        "Remind me, which city did I grow up in?",
        "Where was I born and raised?",
        "What city is my hometown?",
    ),
    acks=("{value}! What a place to grow up.", "Do you visit often?", "That's lovely.", "Nice roots."),
)

FAVOURITE_RESTAURANT = FactKind(
    name="favourite_restaurant",
    make=generated(_restaurant),
    statements=(
        "My favourite restaurant is {value}.",
        "I could eat at {value} every day.",
        "{value} is my go-to place for dinner.",
        "Nothing beats {value}, my favourite restaurant.",
        "I always take visitors to {value}.",
        "My favourite place to eat is {value}.",
        "We celebrate everything at {value}, best food in town.",
        "If I had to pick one restaurant, it'd be {value}.",
        "I'm a regular at {value}.",
        "The best restaurant near me is {value}, hands down.",
    ),
    questions=(
        "What's my favourite restaurant?",
        "Which restaurant do I like best?",
        "Where do I love to eat?",
        "Do you remember my favourite restaurant?",
        "Remind me, what's my go-to restaurant?",
        "Which place did I say was my favourite for dinner?",
        "What restaurant do I always go to?",
    ),
    acks=("{value} sounds delicious.", "Yum!", "I'll have to remember that.", "Good taste!"),
)

EMPLOYER = FactKind(
    name="employer",
    make=generated(lambda rng, split: invented_in_split(company_name, rng, split)),
    statements=(
        "I work at {value}.",
        "I've been at {value} for three years.",
        "My employer is {value}.",
        "I just started a new job at {value}.",
        "I work for a company called {value}.",
        "{value} pays my bills, for now.",
        "I'm employed at {value}.",
        "Work at {value} has been hectic lately.",
        "I got hired by {value} last spring.",
        "My company, {value}, is growing fast.",
    ),
    questions=(
        "Where do I work?",
        "Which company do I work for?",
        "Who is my employer?",
        "Do you remember where I work?",
        "Remind me, what's the name of my company?",
        "What company did I say I work at?",
        "Which company employs me?",
    ),
    acks=("{value}, nice!", "How do you like it there?", "Sounds like a good place.", "Cool, thanks for sharing."),
    updates=(
        "I switched jobs. I'm at {value} now.",
        "New job! I left {old_value} and joined {value}.",
        "As of Monday I work at {value}.",
        "I've moved from {old_value} to {value}.",
        "Quick update: my new employer is {value}.",
    ),
)

JOB_TITLE = FactKind(
    name="job_title",
    make=from_pool(JOB_TITLES),
    statements=(
        "I work as {a_value}.",
        "I'm {a_value} by profession.",
        "By day I'm {a_value}.",
        "I've been {a_value} for ten years.",
        "My job? I'm {a_value}.",
        "Being {a_value} is tiring but fun.",
        "I trained as {a_value} and still love it.",
        "I earn my living as {a_value}.",
        "I'm {a_value}, so long shifts are normal for me.",
        "Work-wise, I'm {a_value}.",
    ),
    questions=(
        "What do I do for a living?",
        "What's my job?",
        "What is my profession?",
        "Do you remember what I do for work?",
        "Remind me, what's my job title?",
        "What kind of work do I do?",
        "What did I say my job was?",
    ),
    acks=("That sounds rewarding.", "Oh, interesting job!", "Respect.", "Being {a_value} must keep you busy."),
)

APPOINTMENT_DAY = FactKind(
    name="appointment_day",
    make=with_context(_weekday, appt=pool_context(APPOINTMENTS)),
    context=("appt", "a_appt"),
    statements=(
        "My {appt} is on {value}.",
        "I have {a_appt} on {value}.",
        "Don't let me forget: {appt} on {value}.",
        "I booked {a_appt} for {value}.",
        "The {appt} is this {value}.",
        "{value} is my {appt}, ugh.",
        "I've got my {appt} coming up on {value}.",
        "They scheduled my {appt} for {value}.",
        "Next {value} I have my {appt}.",
        "My {appt} got booked for {value} morning.",
    ),
    questions=(
        "When is my {appt}?",
        "What day is my {appt}?",
        "Which day did I book my {appt} for?",
        "Do you remember when my {appt} is?",
        "Remind me, what day is the {appt}?",
        "On which day is my {appt}?",
        "When did I say my {appt} was?",
    ),
    acks=("Good luck with the {appt}!", "I'll remind you if you ask.", "Noted for {value}.", "Hope it goes well."),
    updates=(
        "Change of plan: the {appt} is on {value}, not {old_value}.",
        "They moved my {appt} to {value}.",
        "My {appt} got rescheduled to {value}.",
        "The {appt} is now {value} instead of {old_value}.",
        "Update: {appt} pushed to {value}.",
    ),
)

MEETING_TIME = FactKind(
    name="meeting_time",
    make=with_context(_time, meeting=pool_context(MEETINGS)),
    context=("meeting", "a_meeting"),
    statements=(
        "My {meeting} is at {value}.",
        "I have {a_meeting} at {value} today.",
        "The {meeting} starts at {value}.",
        "Reminder to self: {meeting} at {value}.",
        "I need to be ready for the {meeting} at {value}.",
        "At {value} I've got the {meeting}.",
        "The {meeting} is set for {value}.",
        "Today's {meeting} is at {value}, so I'm a bit rushed.",
        "My {meeting} got booked for {value}.",
        "Don't let me miss the {meeting} at {value}.",
    ),
    questions=(
        "What time is my {meeting}?",
        "When is the {meeting}?",
        "At what time is the {meeting}?",
        "Do you remember what time my {meeting} is?",
        "Remind me, when's my {meeting}?",
        "What time did I say the {meeting} was?",
        "When does the {meeting} start?",
    ),
    acks=("Don't be late!", "Got it, {value}.", "Good luck with the {meeting}.", "Noted."),
    updates=(
        "Change of plan: the {meeting} is at {value}, not {old_value}.",
        "The {meeting} moved to {value}.",
        "Now the {meeting} is at {value} instead.",
        "Heads up, the {meeting} got pushed to {value}.",
        "They rescheduled the {meeting} for {value}.",
    ),
)

TABLE_TIME = FactKind(
    name="table_time",
    make=with_context(_time, place=_restaurant),
    context=("place",),
    statements=(
        "I booked a table at {place} for {value}.",
        "Dinner at {place} is at {value}.",
        "We have a reservation at {place} at {value}.",
        "Table for four at {place}, {value} tonight.",
        "{place} could only give us a table at {value}.",
        "Our table at {place} is booked for {value}.",
        "Reserved {place} for {value} on Saturday.",
        "Meeting friends at {place} at {value} for dinner.",
        "The reservation at {place} is for {value}.",
        "Got us a table at {place}, {value} sharp.",
    ),
    questions=(
        "What time is my table at {place}?",
        "When is my reservation at {place}?",
        "What time did I book {place} for?",
        "Do you remember what time our table at {place} is?",
        "Remind me, what time is dinner at {place}?",
        "For what time is the reservation at {place}?",
        "When should I be at {place}?",
    ),
    acks=("Enjoy your dinner!", "{place} sounds great.", "Yum, have fun.", "Nice, enjoy!"),
    updates=(
        "Change of plan: the table at {place} is at {value}, not {old_value}.",
        "{place} called, they moved us to {value}.",
        "Our {place} booking is now {value} instead.",
        "We pushed dinner at {place} to {value}.",
        "Update: {place} is at {value} now.",
    ),
)

BIRTHDAY = FactKind(
    name="birthday",
    make=generated(lambda rng, split: calendar_date(rng)),
    statements=(
        "My birthday is on {value}.",
        "I was born on {value}.",
        "My birthday's coming up: {value}.",
        "Mark your calendar, {value} is my birthday.",
        "I celebrate my birthday on {value} every year.",
        "{value} is my birthday, so expect cake talk.",
        "My big day is {value}.",
        "Every {value} I take the day off for my birthday.",
        "I'm a {value} baby, by the way.",
        "I turn a year older on {value}.",
    ),
    questions=(
        "When is my birthday?",
        "What day is my birthday?",
        "Do you remember my birthday?",
        "On what date is my birthday?",
        "Remind me, when's my birthday?",
        "What date did I say my birthday is?",
        "When do I celebrate my birthday?",
    ),
    acks=("I'll remember {value}!", "Noted, cake on {value}.", "Lovely.", "Any plans for it?"),
)

EVENT_DATE = FactKind(
    name="event_date",
    make=with_context(generated(lambda rng, split: calendar_date(rng)), event=pool_context(EVENTS)),
    context=("event", "a_event"),
    statements=(
        "The {event} is on {value}.",
        "We're having {a_event} on {value}.",
        "Save the date: {event} on {value}.",
        "I'm hosting {a_event} on {value}.",
        "The {event} got set for {value}.",
        "{value} is the {event}, I'm so excited.",
        "I'm invited to {a_event} on {value}.",
        "We finally picked a date for the {event}: {value}.",
        "Our {event} will be on {value}.",
        "On {value} there's {a_event} I can't miss.",
    ),
    questions=(
        "When is the {event}?",
        "What date is the {event}?",
        "Do you remember when the {event} is?",
        "On what date is the {event}?",
        "Remind me, when's the {event}?",
        "Which date did I give for the {event}?",
        "What day is the {event} happening?",
    ),
    acks=("Sounds fun!", "A {event}, how exciting.", "Noted for {value}.", "Enjoy it!"),
    updates=(
        "Change of plan: the {event} is on {value}, not {old_value}.",
        "The {event} moved to {value}.",
        "We had to push the {event} to {value}.",
        "New date for the {event}: {value}.",
        "The {event} is now on {value} instead.",
    ),
)

LIFE_KINDS = (
    HOME_CITY, HOMETOWN, FAVOURITE_RESTAURANT, EMPLOYER, JOB_TITLE, APPOINTMENT_DAY, MEETING_TIME, TABLE_TIME,
    BIRTHDAY, EVENT_DATE,
)  # fmt: skip
