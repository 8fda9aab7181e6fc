"""Fact kinds about people and pets (templates and relations: words/facts_people.json)."""

from __future__ import annotations

from .fact_kind import FactKind, from_pool, options, pool_context, templates, with_context
from .vocab import FIRST_NAMES, PET_NAMES, PET_SPECIES

_TEXTS = templates("facts_people.json")
_RELATIONS = options("facts_people.json")

OWN_NAME = FactKind(name="own_name", make=from_pool(FIRST_NAMES), **_TEXTS["own_name"])

PARTNER_NAME = FactKind(
    name="partner_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_RELATIONS["partners"]),
    context=("rel",),
    **_TEXTS["partner_name"],
)

FRIEND_NAME = FactKind(
    name="friend_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_RELATIONS["friends"]),
    context=("rel",),
    **_TEXTS["friend_name"],
)

COLLEAGUE_NAME = FactKind(
    name="colleague_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_RELATIONS["colleagues"]),
    context=("rel",),
    **_TEXTS["colleague_name"],
)

SIBLING_NAME = FactKind(
    name="sibling_name",
    make=with_context(from_pool(FIRST_NAMES), rel=_RELATIONS["relatives"]),
    context=("rel",),
    **_TEXTS["sibling_name"],
)

PET_NAME = FactKind(
    name="pet_name",
    group="pet",
    make=with_context(from_pool(PET_NAMES), pet=pool_context(PET_SPECIES)),
    context=("pet", "a_pet"),
    **_TEXTS["pet_name"],
)

PET_SPECIES_FACT = FactKind(
    name="pet_species",
    group="pet",
    make=with_context(from_pool(PET_SPECIES), name=pool_context(PET_NAMES)),
    context=("name",),
    **_TEXTS["pet_species"],
)

# Kinds whose value is a name; chat_samples(invented_names=...) may swap it for a made-up one.
NAME_KINDS = frozenset(kind.name for kind in (OWN_NAME, PARTNER_NAME, FRIEND_NAME, COLLEAGUE_NAME, SIBLING_NAME,
                                              PET_NAME))
PEOPLE_KINDS = (OWN_NAME, PARTNER_NAME, FRIEND_NAME, COLLEAGUE_NAME, SIBLING_NAME, PET_NAME, PET_SPECIES_FACT)
