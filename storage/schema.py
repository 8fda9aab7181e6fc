"""Tables (SQLAlchemy typed ORM) and the schema-version check run on first use."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Connection,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .errors import StorageError
from .validation import MAX_KEY_LENGTH, MAX_OWNER_LENGTH, MAX_ROLE_LENGTH, MAX_SESSION_ID_LENGTH

SCHEMA_VERSION = 3  # 2: full-text search over message contents; 3: message keys

TEXT_SEARCH_CONFIG = "english"  # PostgreSQL's stemming and stop words for recall

# Advisory-lock key ("grad" in ASCII); it only has to be the same in every process creating the tables.
_PG_SCHEMA_LOCK_KEY = 0x67726164

_KEY_INDEX = "uq_messages_session_key"

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
_ID = BigInteger().with_variant(Integer, "sqlite")
_SESSION_ID = String(MAX_SESSION_ID_LENGTH)
_NULLABLE_JSON = JSON(none_as_null=True)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class StatsJSON(TypeDecorator[Any]):
    """JSON on PostgreSQL; on SQLite, text that the block parses on first use, so that a row whose JSON is
    broken still loads (and reports itself corrupt where its statistics are read) instead of failing the
    whole query."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else JSON())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and value is not None:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        return value


class Base(DeclarativeBase):
    pass


class SchemaVersionRow(Base):
    __tablename__ = "schema_version"
    __table_args__ = (CheckConstraint("id = 1", name="ck_schema_version_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(_SESSION_ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Highest seq ever assigned: kept here because pruning may delete the newest messages.
    last_seq: Mapped[int] = mapped_column(Integer, default=-1)
    compressed_upto: Mapped[int] = mapped_column(Integer, default=-1)
    write_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    write_lease_owner: Mapped[str | None] = mapped_column(String(MAX_OWNER_LENGTH))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)


class MessageRow(Base):
    __tablename__ = "messages"
    # The unique constraint's index also serves lookups by (session_id, seq).
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
        Index(_KEY_INDEX, "session_id", "key", unique=True),  # NULL keys never collide
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(_SESSION_ID, ForeignKey(SessionRow.id, ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(MAX_ROLE_LENGTH))
    content: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    tool_calls: Mapped[Any] = mapped_column(_NULLABLE_JSON, nullable=True)
    tool_call_id: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[Any] = mapped_column(_NULLABLE_JSON, nullable=True)
    token_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key: Mapped[str | None] = mapped_column(String(MAX_KEY_LENGTH))


class BlockRow(Base):
    __tablename__ = "memory_blocks"
    # AUTOINCREMENT: SQLite would otherwise hand a deleted block's id to the next block, and a
    # stale replace_blocks() could then delete the wrong one.
    __table_args__ = (
        Index("ix_memory_blocks_session_first_seq", "session_id", "first_seq"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(_SESSION_ID, ForeignKey(SessionRow.id, ondelete="CASCADE"))
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=0)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    dtype: Mapped[str] = mapped_column(String(32))
    shape: Mapped[list[int]] = mapped_column(JSON)
    model_fingerprint: Mapped[str] = mapped_column(Text)
    adapter_id: Mapped[str | None] = mapped_column(Text)
    stats: Mapped[Any] = mapped_column(StatsJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


_DATA_TABLES = {SessionRow.__tablename__, MessageRow.__tablename__, BlockRow.__tablename__}


def ensure_schema(conn: Connection) -> None:
    """Create the tables if absent, migrate older schemas, refuse newer or foreign ones. Call in a transaction."""
    if conn.dialect.name == "postgresql":
        # Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalogs.
        conn.execute(select(func.pg_advisory_xact_lock(_PG_SCHEMA_LOCK_KEY)))
    tables = set(inspect(conn).get_table_names())
    version = None
    if SchemaVersionRow.__tablename__ in tables:
        version = _check_version(list(conn.execute(select(SchemaVersionRow.version)).scalars()))
    elif clash := tables & _DATA_TABLES:
        raise StorageError(
            f"the database already has table(s) {sorted(clash)} but no schema_version table: "
            "it is not a gradmem-agent database; use another database or schema"
        )
    Base.metadata.create_all(conn)  # checkfirst: creates only what is missing
    if version is None:
        for migrate in MIGRATIONS.values():
            migrate(conn)
        conn.execute(insert(SchemaVersionRow).values(id=1, version=SCHEMA_VERSION))
        return
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step + 1](conn)
    if version != SCHEMA_VERSION:
        conn.execute(update(SchemaVersionRow).values(version=SCHEMA_VERSION))


def _full_text_search(conn: Connection) -> None:
    """Version 2: an index of message contents for recall, kept up to date in the transaction of each change
    (SQLite: an FTS5 table with triggers; PostgreSQL: a generated tsvector column with a GIN index)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
            "content, content='messages', content_rowid='id', tokenize='porter unicode61')"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN "
            "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); "
            "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
        )
        conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"ALTER TABLE messages ADD COLUMN IF NOT EXISTS content_tsv tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('{TEXT_SEARCH_CONFIG}', content)) STORED"
        )
        conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_messages_content_tsv ON messages USING GIN (content_tsv)")


def _message_keys(conn: Connection) -> None:
    """Version 3: messages.key, the caller's id of a message, unique within its session."""
    if "key" not in {c["name"] for c in inspect(conn).get_columns(MessageRow.__tablename__)}:
        conn.exec_driver_sql(f'ALTER TABLE messages ADD COLUMN "key" VARCHAR({MAX_KEY_LENGTH})')
    conn.exec_driver_sql(f'CREATE UNIQUE INDEX IF NOT EXISTS {_KEY_INDEX} ON messages (session_id, "key")')


# Version n's migration from version n - 1; a new database runs them all. Each is idempotent.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _full_text_search, 3: _message_keys}


def _check_version(versions: list[int]) -> int:
    if len(versions) != 1:
        raise StorageError(f"schema_version must have exactly one row, found {len(versions)}")
    (version,) = versions
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"the database has gradmem-agent schema version {version}, newer than the version "
            f"{SCHEMA_VERSION} this code supports: upgrade gradmem-agent"
        )
    if version < 1:
        raise StorageError(f"the database has unknown gradmem-agent schema version {version}")
    return version
