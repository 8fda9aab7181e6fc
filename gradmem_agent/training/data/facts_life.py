"""Fact kinds about places, work, dates and times (templates: words/facts_life.json)."""

from __future__ import annotations

import random

from .fact_kind import FactKind, finish, from_pool, generated, pool_context, templates, with_context
from .values import calendar_date, clock_time, company_name, invented_in_split, restaurant_name
from .vocab import APPOINTMENTS, CITIES, EVENTS, JOB_TITLES, MEETINGS, WEEKDAYS

_TEXTS = templates("facts_life.json")


def _restaurant(rng: random.Random, split: str) -> str:
    return invented_in_split(restaurant_name, rng, split)


def _weekday(rng: random.Random, split: str) -> dict:
    return finish({"value": rng.choice(WEEKDAYS)})


def _time(rng: random.Random, split: str) -> dict:
    value = clock_time(rng)
    # The spoken form sometimes carries am/pm; the answer is the bare clock time either way.
    return finish({"value": value + rng.choice(("", "", " am", " pm")), "answer": value})


HOME_CITY = FactKind(name="home_city", make=from_pool(CITIES), **_TEXTS["home_city"])

HOMETOWN = FactKind(name="hometown", make=from_pool(CITIES), **_TEXTS["hometown"])

FAVOURITE_RESTAURANT = FactKind(
    name="favourite_restaurant",
    make=generated(_restaurant),
    **_TEXTS["favourite_restaurant"],
)

EMPLOYER = FactKind(
    name="employer",
    make=generated(lambda rng, split: invented_in_split(company_name, rng, split)),
    **_TEXTS["employer"],
)

JOB_TITLE = FactKind(name="job_title", make=from_pool(JOB_TITLES), **_TEXTS["job_title"])

APPOINTMENT_DAY = FactKind(
    name="appointment_day",
    make=with_context(_weekday, appt=pool_context(APPOINTMENTS)),
    context=("appt", "a_appt"),
    **_TEXTS["appointment_day"],
)

MEETING_TIME = FactKind(
    name="meeting_time",
    make=with_context(_time, meeting=pool_context(MEETINGS)),
    context=("meeting", "a_meeting"),
    **_TEXTS["meeting_time"],
)

TABLE_TIME = FactKind(
    name="table_time",
    make=with_context(_time, place=_restaurant),
    context=("place",),
    **_TEXTS["table_time"],
)

BIRTHDAY = FactKind(name="birthday", make=generated(lambda rng, split: calendar_date(rng)), **_TEXTS["birthday"])

EVENT_DATE = FactKind(
    name="event_date",
    make=with_context(generated(lambda rng, split: calendar_date(rng)), event=pool_context(EVENTS)),
    context=("event", "a_event"),
    **_TEXTS["event_date"],
)

LIFE_KINDS = (
    HOME_CITY, HOMETOWN, FAVOURITE_RESTAURANT, EMPLOYER, JOB_TITLE, APPOINTMENT_DAY, MEETING_TIME, TABLE_TIME,
    BIRTHDAY, EVENT_DATE,
)  # fmt: skip
