"""Records shared by every data generator."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QA:
    question: str
    answer: str
    aliases: tuple[str, ...] = ()
    # Chats: indices into Sample.messages; documents: indices of the supporting sentences/lines.
    fact_turns: tuple[int, ...] = ()


@dataclass
class Sample:
    kind: str  # "chat", "babi1", "babi2", "babi3", "kv", "text"
    messages: list[dict[str, str]]
    document: str | None
    qas: list[QA]
    meta: dict = field(default_factory=dict)
