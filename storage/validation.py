"""Argument checks, all done before the database is touched."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .records import Message

MAX_SESSION_ID_LENGTH = 512
MAX_ROLE_LENGTH = 64
MAX_OWNER_LENGTH = 255
MAX_KEY_LENGTH = 255
MAX_INT = 2**31 - 1  # seq, token_count, level... are INTEGER columns
MAX_LEASE_TTL_S = 86_400.0  # a lease longer than a day is a mistake (and past datetime's range from 1e12 on)


def check_text(value: object, what: str, *, allow_empty: bool = True, max_length: int | None = None) -> str:
    """A str that PostgreSQL and SQLite both store unchanged: valid UTF-8, no NUL."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    if not allow_empty and not value:
        raise ValueError(f"{what} must not be empty")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{what} is {len(value)} characters long; the limit is {max_length}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{what} cannot be encoded as UTF-8 (lone surrogate {value[exc.start]!r} at index {exc.start})"
        ) from None
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character, which PostgreSQL text cannot store")
    return value


def check_optional_text(value: object, what: str) -> str | None:
    return None if value is None else check_text(value, what)


def check_session_id(session_id: object) -> str:
    """Any str of 1..512 characters (unicode, spaces and slashes allowed)."""
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a str, got {type(session_id).__name__}")
    if not 1 <= len(session_id) <= MAX_SESSION_ID_LENGTH:
        raise ValueError(f"session_id must be 1 to {MAX_SESSION_ID_LENGTH} characters long, got {len(session_id)}")
    return check_text(session_id, "session_id")


def check_json(value: Any, what: str) -> None:
    """Value must round-trip through strict JSON as UTF-8 (no NaN, no lone surrogates)."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except TypeError as exc:
        raise TypeError(f"{what} is not JSON-serialisable: {exc}") from None
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"{what} cannot be stored as JSON: {exc}") from None


def check_int(value: object, what: str, *, minimum: int | None = None, maximum: int | None = MAX_INT) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{what} must be <= {maximum}, got {value}")
    return value


def check_aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return value


def check_seconds(value: object, what: str, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive, finite number of seconds, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{what} must be at most {maximum} seconds, got {value}")
    return float(value)


def check_messages(messages: object) -> list[Message]:
    """Validate every message to append; the first problem raises, naming its index."""
    if isinstance(messages, str | bytes | Message) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a sequence of Message")
    keys: set[str] = set()
    for i, record in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(record, Message):
            raise TypeError(f"{where} must be a Message, got {type(record).__name__}")
        check_text(record.role, f"{where}.role", allow_empty=False, max_length=MAX_ROLE_LENGTH)
        check_text(record.content, f"{where}.content")
        check_optional_text(record.name, f"{where}.name")
        check_optional_text(record.tool_call_id, f"{where}.tool_call_id")
        check_json(record.tool_calls, f"{where}.tool_calls")
        check_json(record.extra, f"{where}.extra")
        if record.key is not None:
            check_text(record.key, f"{where}.key", allow_empty=False, max_length=MAX_KEY_LENGTH)
            if record.key in keys:
                raise ValueError(f"{where}.key {record.key!r} is given twice in one call")
            keys.add(record.key)
    return list(messages)
