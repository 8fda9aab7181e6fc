"""Value pools for planted facts, read from words/*.json. Split them with `splits.values_in_split`, never index them
directly: a pool's order and contents decide every sample drawn from it."""

from __future__ import annotations

from .resources import read_json


def _pools(name: str) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in read_json(name).items() if not key.startswith("_")}


_PEOPLE = _pools("people.json")
FIRST_NAMES = _PEOPLE["first_names"]
PET_NAMES = _PEOPLE["pet_names"]
PET_SPECIES = _PEOPLE["pet_species"]

CITIES = _pools("places.json")["cities"]

_PREFERENCES = _pools("preferences.json")
COLOURS = _PREFERENCES["colours"]
FOODS = _PREFERENCES["foods"]
SPORTS = _PREFERENCES["sports"]
LANGUAGES = _PREFERENCES["languages"]

_LIFE = _pools("life.json")
JOB_TITLES = _LIFE["job_titles"]
APPOINTMENTS = _LIFE["appointments"]
MEETINGS = _LIFE["meetings"]
EVENTS = _LIFE["events"]

_CALENDAR = _pools("calendar.json")
WEEKDAYS = _CALENDAR["weekdays"]
MONTHS = _CALENDAR["months"]

# Parts of invented band, restaurant and company names (see values.py).
_INVENTED = _pools("invented_names.json")
BAND_ADJECTIVES = _INVENTED["band_adjectives"]
BAND_NOUNS = _INVENTED["band_nouns"]
PLACE_WORDS = _INVENTED["place_words"]
PLACE_ADJECTIVES = _INVENTED["place_adjectives"]
CUISINE_WORDS = _INVENTED["cuisine_words"]
ONSETS = _INVENTED["onsets"]
VOWELS = _INVENTED["vowels"]
CODAS = _INVENTED["codas"]  # repeated empty codas make open syllables likelier
COMPANY_SUFFIXES = _INVENTED["company_suffixes"]

# Key phrases of the open-key fact kinds (facts_open): none may occur in a hand-written benchmark question.
_OPEN_KEYS = _pools("open_keys.json")
ROLES = _OPEN_KEYS["roles"]
PRICED_ITEMS = _OPEN_KEYS["priced_items"]
COLOURED_ITEMS = _OPEN_KEYS["coloured_items"]
NUMBERED_THINGS = _OPEN_KEYS["numbered_things"]
OPEN_EVENTS = _OPEN_KEYS["open_events"]
