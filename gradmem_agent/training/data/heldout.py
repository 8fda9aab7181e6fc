"""Loader for the hand-written held-out chats in benchmarks/data/: heldout_chats.json (26 chats, written before
any adapter was trained), heldout_chats_b.json (36 more, written on 2026-11-27 to make the comparison of
methods less noisy) and heldout_chats_c.json (36 more, written on 2026-11-27 after the open-key runs were
trained, by a writer who saw neither the generator nor the runs: the check of a choice made with the first
two)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .schema import QA, Sample

HELDOUT_PATH = Path(__file__).resolve().parents[3] / "benchmarks" / "data" / "heldout_chats.json"
HELDOUT_B_PATH = HELDOUT_PATH.with_name("heldout_chats_b.json")
HELDOUT_C_PATH = HELDOUT_PATH.with_name("heldout_chats_c.json")
HELDOUT_SETS = {"chats": HELDOUT_PATH, "chats-b": HELDOUT_B_PATH, "chats-c": HELDOUT_C_PATH}  # benchmark sections


def load_heldout_chats(path: Path | None = None) -> list[Sample]:
    path = path or HELDOUT_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"held-out chats not found at {path}; they ship with the repository under benchmarks/data/ "
            "(an installed package without the source tree has no copy, pass path= explicitly)"
        )
    records = json.loads(path.read_text(encoding="utf-8"))
    return [
        Sample(
            kind="chat",
            messages=[dict(message) for message in record["messages"]],
            document=None,
            qas=[
                QA(qa["question"], qa["answer"], tuple(qa.get("aliases", ())), tuple(qa["fact_turns"]))
                for qa in record["qas"]
            ],
            meta={"split": "heldout", "id": record["id"], "topic": record["topic"]},
        )
        for record in records
    ]


def heldout_sessions(chats: list[Sample], per_session: int = 4) -> list[Sample]:
    """Consecutive hand-written chats joined into one long session each, as a user who talks about several
    things over a day: read in the product layout, the older chats leave the window for several memory blocks.
    A question asked, word for word, of two chats of one session is dropped (its answer would be ambiguous)."""
    if per_session < 1:
        raise ValueError(f"per_session must be at least 1, got {per_session}")
    sessions = []
    for start in range(0, len(chats), per_session):
        group = chats[start:start + per_session]
        asked = Counter(key for chat in group for key in {_question_key(qa) for qa in chat.qas})
        messages: list[dict[str, str]] = []
        qas: list[QA] = []
        for chat in group:
            offset = len(messages)
            messages += [dict(m) for m in chat.messages]
            qas += [QA(qa.question, qa.answer, qa.aliases, tuple(t + offset for t in qa.fact_turns))
                    for qa in chat.qas if asked[_question_key(qa)] == 1]
        sessions.append(Sample(kind="chat", messages=messages, document=None, qas=qas,
                               meta={"split": "heldout", "id": "+".join(c.meta.get("id", "?") for c in group)}))
    return sessions


def _question_key(qa: QA) -> str:
    return qa.question.strip().lower()
