"""Fact kinds about likes and dislikes (templates: words/facts_preferences.json)."""

from __future__ import annotations

from .fact_kind import FactKind, from_pool, generated, templates
from .values import band_name, invented_in_split
from .vocab import COLOURS, FOODS, LANGUAGES, SPORTS

_TEXTS = templates("facts_preferences.json")

FAVOURITE_COLOUR = FactKind(name="favourite_colour", make=from_pool(COLOURS), **_TEXTS["favourite_colour"])

FAVOURITE_FOOD = FactKind(name="favourite_food", make=from_pool(FOODS), **_TEXTS["favourite_food"])

DISLIKED_FOOD = FactKind(name="disliked_food", make=from_pool(FOODS), **_TEXTS["disliked_food"])

FAVOURITE_BAND = FactKind(
    name="favourite_band",
    make=generated(lambda rng, split: invented_in_split(band_name, rng, split)),
    **_TEXTS["favourite_band"],
)

FAVOURITE_SPORT = FactKind(name="favourite_sport", make=from_pool(SPORTS), **_TEXTS["favourite_sport"])

LANGUAGE_LEARNING = FactKind(name="language_learning", make=from_pool(LANGUAGES), **_TEXTS["language_learning"])

PREFERENCE_KINDS = (
    FAVOURITE_COLOUR, FAVOURITE_FOOD, DISLIKED_FOOD, FAVOURITE_BAND, FAVOURITE_SPORT, LANGUAGE_LEARNING,
)  # fmt: skip
