"""Full-text search over a session's messages: the words of a question, ranked matches (BM25 on SQLite's FTS5,
ts_rank_cd on PostgreSQL's tsvector). Each function runs inside a caller's transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from sqlalchemy import desc, func, literal_column, select, text
from sqlalchemy.orm import Session

from .records import Message
from .schema import TEXT_SEARCH_CONFIG, MessageRow
from .transcript import stored_message

MAX_TERMS = 32
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchHit:
    """A stored message that shares words with the query; a higher score is a better match (within one search)."""

    message: Message
    score: float


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Words too common to find anything by (English function words and question words)."""
    return frozenset(files(__package__).joinpath("stopwords.txt").read_text(encoding="utf-8").split())


def query_terms(query: str) -> list[str]:
    """The distinct words of `query` worth searching for: lowercased, stop words dropped, at most MAX_TERMS."""
    words = (w.lower() for w in _WORD.findall(query))
    return list(dict.fromkeys(w for w in words if w not in stop_words()))[:MAX_TERMS]


def search(session: Session, session_id: str, terms: list[str], max_seq: int | None, limit: int) -> list[SearchHit]:
    """Messages of the session (seq <= max_seq) that contain any of the terms, best first."""
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite(session, session_id, terms, max_seq, limit)
    return _postgresql(session, session_id, terms, max_seq, limit)


def _sqlite(session: Session, session_id: str, terms: list[str], max_seq: int | None, limit: int) -> list[SearchHit]:
    bound = "" if max_seq is None else " AND m.seq <= :max_seq"
    ranked = session.execute(
        text(
            "SELECT m.id, bm25(messages_fts) AS rank FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid"
            f" WHERE messages_fts MATCH :query AND m.session_id = :session_id{bound} ORDER BY rank, m.seq DESC"
            " LIMIT :limit"
        ),
        {"query": " OR ".join(f'"{t}"' for t in terms), "session_id": session_id, "max_seq": max_seq, "limit": limit},
    ).all()
    rows = {row.id: row for row in session.scalars(select(MessageRow).where(MessageRow.id.in_([i for i, _ in ranked])))}
    return [SearchHit(stored_message(rows[i]), -rank) for i, rank in ranked]  # bm25(): lower is better


def _postgresql(session: Session, session_id: str, terms: list[str], max_seq: int | None,
                limit: int) -> list[SearchHit]:
    query = func.to_tsquery(TEXT_SEARCH_CONFIG, " | ".join(terms))
    vector = literal_column("messages.content_tsv")
    score = func.ts_rank_cd(vector, query).label("score")
    stmt = select(MessageRow, score).where(MessageRow.session_id == session_id, vector.op("@@")(query))
    if max_seq is not None:
        stmt = stmt.where(MessageRow.seq <= max_seq)
    stmt = stmt.order_by(desc(score), MessageRow.seq.desc()).limit(limit)
    return [SearchHit(stored_message(row), float(rank)) for row, rank in session.execute(stmt)]
