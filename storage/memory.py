"""Memory blocks: checking and encoding new blocks, and the transactional writes and reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import ConcurrentCompressionError
from .records import EncodedVectors, MemoryBlock
from .schema import BlockRow, SessionRow
from .sessions import lock_session_row, utcnow
from .validation import check_int, check_json, check_optional_text, check_text
from .vectors import encode_vectors


@dataclass(frozen=True)
class BlockSpec:
    """A validated block to insert, its vectors already serialised."""

    first_seq: int
    last_seq: int
    level: int
    vectors: bytes
    dtype: str
    shape: list[int]
    model_fingerprint: str
    adapter_id: str | None
    stats: dict[str, Any]


def prepare_block(block: MemoryBlock, where: str = "block") -> BlockSpec:
    """Check a placed block (first_seq..last_seq set) and serialise its vectors."""
    if not isinstance(block, MemoryBlock):
        raise TypeError(f"{where} must be a MemoryBlock, got {type(block).__name__}")
    if block.first_seq is None or block.last_seq is None:
        raise ValueError(f"{where} is not placed on any messages: use block.placed(first_seq, last_seq)")
    check_int(block.first_seq, f"{where}.first_seq", minimum=0)
    check_int(block.last_seq, f"{where}.last_seq", minimum=block.first_seq)
    check_int(block.level, f"{where}.level", minimum=0)
    check_text(block.model_fingerprint, f"{where}.model_fingerprint", allow_empty=False)
    check_optional_text(block.adapter_id, f"{where}.adapter_id")
    stats = block.stats.to_dict()
    check_json(stats, f"{where}.stats")
    blob, dtype, shape = encode_vectors(block.vectors)
    return BlockSpec(block.first_seq, block.last_seq, block.level, blob, dtype, shape, block.model_fingerprint,
                     block.adapter_id, stats)


def _stored(row: BlockRow) -> MemoryBlock:
    return MemoryBlock(
        model_fingerprint=row.model_fingerprint,
        adapter_id=row.adapter_id,
        shape=tuple(row.shape),
        source=EncodedVectors(bytes(row.vectors), row.dtype, tuple(row.shape)),
        raw_stats=row.stats,
        id=row.id,
        session_id=row.session_id,
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        level=row.level,
        created_at=row.created_at,
    )


def _insert(session: Session, session_id: str, specs: Sequence[BlockSpec]) -> list[MemoryBlock]:
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


def add(session: Session, session_id: str, specs: Sequence[BlockSpec], expected_compressed_upto: int
        ) -> list[MemoryBlock]:
    """Insert a run of blocks and advance compressed_upto to its end, if the session is as the caller last saw
    it. The run starts right after compressed_upto and each block follows the one before it, except that the
    pieces of one long message (blocks of that message alone) follow each other on the same seq."""
    row = _locked_session(session, session_id)
    if row.compressed_upto != expected_compressed_upto:
        raise ConcurrentCompressionError(
            f"session {session_id!r} is compressed up to seq {row.compressed_upto}, not "
            f"{expected_compressed_upto} as expected: another compression ran first; nothing was written"
        )
    previous: BlockSpec | None = None
    for spec in specs:
        piece = previous is not None and previous.first_seq == previous.last_seq == spec.first_seq == spec.last_seq
        start = expected_compressed_upto + 1 if previous is None else previous.last_seq + 1
        if spec.first_seq != start and not piece:
            raise ConcurrentCompressionError(
                f"a new block of session {session_id!r} must start at seq {start}, not {spec.first_seq}; "
                "nothing was written"
            )
        previous = spec
    if previous is None:
        return []
    _check_within_transcript(row, previous.last_seq)
    blocks = _insert(session, session_id, specs)
    row.compressed_upto = previous.last_seq
    row.updated_at = blocks[-1].created_at
    return blocks


def replace(
    session: Session,
    session_id: str,
    old_block_ids: Sequence[int],
    specs: Sequence[BlockSpec],
    compressed_upto: int | None,
) -> list[MemoryBlock]:
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


def read(session: Session, session_id: str) -> list[MemoryBlock]:
    stmt = (
        select(BlockRow)
        .where(BlockRow.session_id == session_id)
        .order_by(BlockRow.first_seq, BlockRow.level, BlockRow.id)
    )
    return [_stored(row) for row in session.scalars(stmt)]
