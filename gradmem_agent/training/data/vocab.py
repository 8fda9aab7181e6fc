"""Value pools for planted facts, read from words/*.json. Split them with `splits.values_in_split`, never index them
directly: a pool's order and contents decide every sample drawn from it."""

from __future__ import annotations

from .resources import read_json


def _pools(file: str, *names: str) -> tuple[tuple[str, ...], ...]:
    data = read_json(file)
    return tuple(tuple(data[name]) for name in names)


FIRST_NAMES, PET_NAMES, PET_SPECIES = _pools("people.json", "first_names", "pet_names", "pet_species")
(CITIES,) = _pools("places.json", "cities")
COLOURS, FOODS, SPORTS, LANGUAGES = _pools("preferences.json", "colours", "foods", "sports", "languages")
JOB_TITLES, APPOINTMENTS, MEETINGS, EVENTS = _pools("life.json", "job_titles", "appointments", "meetings", "events")
WEEKDAYS, MONTHS = _pools("calendar.json", "weekdays", "months")

# Parts of invented band, restaurant and company names (see values.py); repeated empty codas make open syllables
# likelier.
BAND_ADJECTIVES, BAND_NOUNS, PLACE_WORDS, PLACE_ADJECTIVES, CUISINE_WORDS, COMPANY_SUFFIXES = _pools(
    "invented_names.json", "band_adjectives", "band_nouns", "place_words", "place_adjectives", "cuisine_words",
    "company_suffixes")
ONSETS, VOWELS, CODAS = _pools("invented_names.json", "onsets", "vowels", "codas")

# Key phrases of the open-key fact kinds (facts_open): none may occur in a hand-written benchmark question.
ROLES, PRICED_ITEMS, COLOURED_ITEMS, NUMBERED_THINGS, OPEN_EVENTS = _pools(
    "open_keys.json", "roles", "priced_items", "coloured_items", "numbered_things", "open_events")
