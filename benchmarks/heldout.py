"""The hand-written held-out sets in benchmarks/data/, loaded as Samples. They are benchmark data: nothing in the
package reads them, and they ship with the repository only.

- heldout_chats.json (26 chats, written before any adapter was trained), heldout_chats_b.json (36 more, written on
  2026-11-27 to make the comparison of methods less noisy) and heldout_chats_c.json (36 more, written on 2026-11-27
  after the open-key runs were trained, by a writer who saw neither the generator nor the runs: the check of a
  choice made with the first two). Records: {id, topic, messages, qas[{question, answer, aliases, fact_turns}]}.
- heldout_long_sessions.json: long chats in the same format, each question also with its style ("same-words" or
  "paraphrase", kept in meta["styles"], parallel to Sample.qas).
- heldout_handbooks.json: prose documents, {id, title, text, qas[{question, answer, aliases, evidence, style}]},
  loaded as Sample(kind="document") with empty fact_turns; each question's evidence and style are kept in
  meta["evidence"] and meta["styles"], parallel to Sample.qas.

Scripts of benchmarks/ import this module as `heldout` (their folder is on sys.path when run as
`python benchmarks/NAME.py`; pytest puts it there through pyproject's pythonpath).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from gradmem_agent.training.data import QA, Sample

DATA = Path(__file__).resolve().parent / "data"
HELDOUT_PATH = DATA / "heldout_chats.json"
HELDOUT_B_PATH = DATA / "heldout_chats_b.json"
HELDOUT_C_PATH = DATA / "heldout_chats_c.json"
HELDOUT_SETS = {"chats": HELDOUT_PATH, "chats-b": HELDOUT_B_PATH, "chats-c": HELDOUT_C_PATH}  # quality.py sections
LONG_SESSIONS_PATH = DATA / "heldout_long_sessions.json"
HANDBOOKS_PATH = DATA / "heldout_handbooks.json"


def load_heldout_chats(path: Path | None = None) -> list[Sample]:
    """The chats of `path` (default: heldout_chats.json) as Sample(kind="chat")."""
    return [_chat(record) for record in _records(path or HELDOUT_PATH)]


def load_heldout_long_sessions(path: Path | None = None) -> list[Sample]:
    """The long sessions of `path` (default: heldout_long_sessions.json) as Sample(kind="chat")."""
    return [_chat(record, styles=True) for record in _records(path or LONG_SESSIONS_PATH)]


def load_heldout_handbooks(path: Path | None = None) -> list[Sample]:
    """The handbooks of `path` (default: heldout_handbooks.json) as Sample(kind="document")."""
    return [
        Sample(
            kind="document",
            messages=[],
            document=record["text"],
            qas=[QA(qa["question"], qa["answer"], tuple(qa.get("aliases", ())), ()) for qa in record["qas"]],
            meta={"split": "heldout", "id": record["id"], "title": record["title"],
                  "evidence": [qa["evidence"] for qa in record["qas"]],
                  "styles": [qa["style"] for qa in record["qas"]]},
        )
        for record in _records(path or HANDBOOKS_PATH)
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


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FileNotFoundError(f"held-out set not found at {path}; the sets ship with the repository under "
                                "benchmarks/data/")
    return json.loads(path.read_text(encoding="utf-8"))


def _chat(record: dict[str, Any], styles: bool = False) -> Sample:
    meta = {"split": "heldout", "id": record["id"], "topic": record["topic"]}
    if styles:
        meta["styles"] = [qa["style"] for qa in record["qas"]]
    return Sample(
        kind="chat",
        messages=[dict(message) for message in record["messages"]],
        document=None,
        qas=[QA(qa["question"], qa["answer"], tuple(qa.get("aliases", ())), tuple(qa["fact_turns"]))
             for qa in record["qas"]],
        meta=meta,
    )


def _question_key(qa: QA) -> str:
    return qa.question.strip().lower()
