"""Small talk between facts, plus the assistant's generic acknowledgements and correction openers
(words/chitchat.json, which says what each list is for)."""

from __future__ import annotations

from dataclasses import dataclass

from .resources import read_json


@dataclass(frozen=True)
class Topic:
    name: str
    exchanges: tuple[tuple[str, str], ...]  # (user line, assistant reply)


_WORDS = read_json("chitchat.json")
TOPICS = tuple(Topic(topic["name"], tuple((user, reply) for user, reply in topic["exchanges"]))
               for topic in _WORDS["topics"])
GENERIC_ACKS: tuple[str, ...] = tuple(_WORDS["generic_acks"])
CORRECTION_ACKS: tuple[str, ...] = tuple(_WORDS["correction_acks"])
CORRECTION_OPENERS: tuple[str, ...] = tuple(_WORDS["correction_openers"])
LEAD_INS: tuple[str, ...] = tuple(_WORDS["lead_ins"])
LOWERABLE_STARTS: tuple[str, ...] = tuple(_WORDS["lowerable_starts"])
FACT_TAILS: tuple[str, ...] = tuple(_WORDS["fact_tails"])
ACK_FOLLOW_UPS: tuple[str, ...] = tuple(_WORDS["ack_follow_ups"])
SMALL_TALK_OPENERS: tuple[str, ...] = tuple(_WORDS["small_talk_openers"])
