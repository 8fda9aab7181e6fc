"""Memory blocks: validation/encoding of new blocks, and the transactional writes and reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import ConcurrentCompressionError
from .records import StoredBlock
from .schema import BlockRow, SessionRow
from .sessions import lock_session_row, utcnow
from .validation import check_int, check_json, check_optional_text, check_text
from .vectors import encode_vectors

_BLOCK_KEYS = {"first_seq", "last_seq", "vectors", "model_fingerprint", "adapter_id", "stats", "level"}
_REQUIRED_KEYS = {"first_seq", "last_seq", "vectors", "model_fingerprint"}


@dataclass(frozen=True)
class BlockSpec:
    """A validated new block with its vectors already serialised."""

    first_seq: int
    last_seq: int
    level: int
    vectors: bytes
    dtype: str
    shape: list[int]
    model_fingerprint: str
    adapter_id: str | None
    stats: dict[str, Any]


def prepare_block(
    *,
    first_seq: int,
    last_seq: int,
    vectors: Any,
    model_fingerprint: str,
    adapter_id: str | None = None,
    stats: dict[str, Any] | None = None,
    level: int = 0,
) -> BlockSpec:
    check_int(first_seq, "first_seq", minimum=0)
    check_int(last_seq, "last_seq", minimum=first_seq)
    check_int(level, "level", minimum=0)
    check_text(model_fingerprint, "model_fingerprint", allow_empty=False)
    check_optional_text(adapter_id, "adapter_id")
    stats = {} if stats is None else stats
    if not isinstance(stats, dict):
        raise TypeError(f"stats must be a dict, got {type(stats).__name__}")
    check_json(stats, "stats")
    blob, dtype, shape = encode_vectors(vectors)
    return BlockSpec(first_seq, last_seq, level, blob, dtype, shape, model_fingerprint, adapter_id, stats)


def prepare_block_dict(index: int, block: Mapping[str, Any]) -> BlockSpec:
    """prepare_block for one item of replace_blocks' new_blocks ('compressed_upto' is handled there)."""
    if not isinstance(block, Mapping):
        raise TypeError(f"new_blocks[{index}] must be a dict, got {type(block).__name__}")
    keys = set(block) - {"compressed_upto"}
    if unknown := keys - _BLOCK_KEYS:
        raise TypeError(f"new_blocks[{index}] has unknown keys {sorted(unknown)}")
    if missing := _REQUIRED_KEYS - keys:
        raise TypeError(f"new_blocks[{index}] lacks keys {sorted(missing)}")
    return prepare_block(**{key: block[key] for key in keys})


def _stored(row: BlockRow) -> StoredBlock:
    return StoredBlock(
        id=row.id,
        session_id=row.session_id,
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        dtype=row.dtype,
        shape=list(row.shape),
        model_fingerprint=row.model_fingerprint,
        adapter_id=row.adapter_id,
        stats=row.stats,
        created_at=row.created_at,
        level=row.level,
        vectors_bytes=bytes(row.vectors),
    )


def _insert(session: Session, session_id: str, specs: Sequence[BlockSpec]) -> list[StoredBlock]:
    now = utcnow()
    rows = [
        BlockRow(
            session_id=session_id,
            first_seq=spec.first_seq,
            last_seq=spec.last_seq,
            level=spec.level,
            vectors=spec.vectors,
            dtype=spec.dtype,
            shape=spec.shape,
            model_fingerprint=spec.model_fingerprint,
            adapter_id=spec.adapter_id,
            stats=spec.stats,
            created_at=now,
        )
        for spec in specs
    ]
    session.add_all(rows)
    session.flush()
    return [_stored(row) for row in rows]


def _locked_session(session: Session, session_id: str) -> SessionRow:
    row = lock_session_row(session, session_id)
    if row is None:
        raise ConcurrentCompressionError(f"session {session_id!r} does not exist (deleted meanwhile?)")
    return row


def _check_within_transcript(row: SessionRow, last_seq: int) -> None:
    if last_seq > row.last_seq:
        raise ConcurrentCompressionError(
            f"a block may cover messages up to seq {row.last_seq} of session {row.id!r}, "
            f"not {last_seq}; nothing was written"
        )


def add(session: Session, session_id: str, spec: BlockSpec, expected_compressed_upto: int) -> StoredBlock:
    """Insert the block and advance compressed_upto, if the session is as the caller last saw it."""
    row = _locked_session(session, session_id)
    if row.compressed_upto != expected_compressed_upto:
        raise ConcurrentCompressionError(
            f"session {session_id!r} is compressed up to seq {row.compressed_upto}, not "
            f"{expected_compressed_upto} as expected: another compression ran first; nothing was written"
        )
    if spec.first_seq != expected_compressed_upto + 1:
        raise ConcurrentCompressionError(
            f"a new block of session {session_id!r} must start at seq {expected_compressed_upto + 1}, "
            f"not {spec.first_seq}; nothing was written"
        )
    _check_within_transcript(row, spec.last_seq)
    (block,) = _insert(session, session_id, [spec])
    row.compressed_upto = spec.last_seq
    row.updated_at = block.created_at
    return block


def replace(
    session: Session,
    session_id: str,
    old_block_ids: Sequence[int],
    specs: Sequence[BlockSpec],
    compressed_upto: int | None,
) -> list[StoredBlock]:
    """Swap blocks atomically; compressed_upto changes only when given."""
    row = _locked_session(session, session_id)
    wanted = set(old_block_ids)
    found = set(session.scalars(select(BlockRow.id).where(BlockRow.session_id == session_id, BlockRow.id.in_(wanted))))
    if missing := wanted - found:
        raise ConcurrentCompressionError(
            f"memory blocks {sorted(missing)} of session {session_id!r} no longer exist "
            "(replaced or pruned meanwhile); nothing was written"
        )
    for spec in specs:
        _check_within_transcript(row, spec.last_seq)
    if compressed_upto is not None:
        _check_within_transcript(row, compressed_upto)
        row.compressed_upto = compressed_upto
    if wanted:
        session.execute(delete(BlockRow).where(BlockRow.id.in_(wanted)))
    blocks = _insert(session, session_id, specs)
    row.updated_at = utcnow()
    return blocks


def read(session: Session, session_id: str) -> list[StoredBlock]:
    stmt = (
        select(BlockRow)
        .where(BlockRow.session_id == session_id)
        .order_by(BlockRow.first_seq, BlockRow.level, BlockRow.id)
    )
    return [_stored(row) for row in session.scalars(stmt)]
