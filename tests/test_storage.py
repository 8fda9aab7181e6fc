"""SQLStore against real databases: a SQLite file always, PostgreSQL when GRADMEM_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import torch
from gradmem_agent.storage import (
    ConcurrentCompressionError,
    CorruptBlockError,
    FingerprintMismatchError,
    MemoryBlock,
    Message,
    SQLStore,
    StorageError,
    WriteStats,
    default_url,
)
from gradmem_agent.storage.schema import SCHEMA_VERSION
from sqlalchemy import create_engine, make_url, text

FP = "test-model@0123abcd"


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def db_url(store_url: str) -> str:
    return store_url


@pytest.fixture
def made_ids() -> list[str]:
    """Session ids a test created; the store fixtures delete them afterwards."""
    return []


@pytest.fixture
def new_sid(made_ids: list[str]) -> Callable[..., str]:
    def make(prefix: str = "test") -> str:
        session_id = f"{prefix}-{uuid.uuid4()}"
        made_ids.append(session_id)
        return session_id

    return make


@pytest.fixture
def store(db_url: str, made_ids: list[str]) -> Iterator[SQLStore]:
    with SQLStore(db_url) as s:
        yield s
        for session_id in made_ids:
            s.delete_session(session_id)


@pytest.fixture
async def astore(db_url: str, made_ids: list[str]) -> AsyncIterator[SQLStore]:
    async with SQLStore(db_url) as s:
        yield s
        for session_id in made_ids:
            await s.adelete_session(session_id)


def msgs(*contents: str, role: str = "user") -> list[Message]:
    return [Message(role=role, content=c) for c in contents]


STATS = WriteStats(tokens=10, token_accuracy=0.5, loss=0.5, steps=1, seconds=0.1)


def block_of(first: int, last: int, vectors=None, *, adapter_id: str | None = None, level: int = 0,
             stats: WriteStats = STATS, fingerprint: str = FP) -> MemoryBlock:
    vectors = torch.randn(2, 8) if vectors is None else vectors
    return MemoryBlock.written(vectors, stats, fingerprint, adapter_id).placed(first, last, level)


def add_block(store: SQLStore, sid: str, first: int, last: int, *, expected: int | None = None, **kw) -> MemoryBlock:
    expected = first - 1 if expected is None else expected
    return store.add_block(sid, block_of(first, last, **kw), expected_compressed_upto=expected)


def ids(blocks: list[MemoryBlock]) -> list[int | None]:
    return [b.id for b in blocks]


def in_future() -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=5)


# -- transcript ----------------------------------------------------------------------------------


def test_append_and_read_in_order(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    assert store.last_seq(sid) == -1 and store.messages(sid) == [] and store.session(sid) is None
    first = store.append_messages(
        sid,
        [
            Message("system", "be brief"),
            Message(
                "assistant",
                "calling",
                name="bot",
                tool_calls=[{"id": "c1", "name": "f", "args": {"x": 1}}],
                extra={"id": "run-1", "additional_kwargs": {}},
            ),
            Message("tool", "42", tool_call_id="c1"),
        ],
    )
    second = store.append_messages(sid, msgs("a", "b"))
    assert [m.seq for m in first + second] == [0, 1, 2, 3, 4]
    stored = store.messages(sid)
    assert stored == first + second
    assert [m.content for m in stored] == ["be brief", "calling", "42", "a", "b"]
    assert stored[1].tool_calls == [{"id": "c1", "name": "f", "args": {"x": 1}}]
    assert (stored[1].name, stored[1].extra) == ("bot", first[1].extra)
    assert stored[2].tool_call_id == "c1" and stored[0].tool_calls is None and stored[0].extra is None
    assert stored[0].created_at.tzinfo is not None and stored[0].created_at.utcoffset() == timedelta(0)
    assert [m.seq for m in store.messages(sid, 1, 3)] == [1, 2, 3]
    assert [m.seq for m in store.messages(sid, start_seq=3)] == [3, 4]
    assert store.message_count(sid) == 5 and store.last_seq(sid) == 4
    assert store.append_messages(sid, []) == []


def test_multi_append_is_all_or_nothing(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    bad = [*msgs("ok 1", "ok 2"), Message("user", 123)]  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"messages\[2\]\.content must be a str"):
        store.append_messages(sid, bad)
    assert store.session(sid) is None and store.messages(sid) == []
    store.append_messages(sid, msgs("kept"))
    with pytest.raises(ValueError, match="UTF-8"):
        store.append_messages(sid, [*msgs("x"), Message("user", "bad \ud800")])
    assert [m.content for m in store.messages(sid)] == ["kept"]


@pytest.mark.parametrize(
    ("record", "error", "match"),
    [
        (Message("user", b"bytes"), TypeError, "content must be a str"),  # type: ignore[arg-type]
        (Message("user", None), TypeError, "content must be a str"),  # type: ignore[arg-type]
        (Message("user", "lone \ud800 surrogate"), ValueError, "cannot be encoded as UTF-8"),
        (Message("user", "nul \x00 char"), ValueError, "NUL"),
        (Message("", "x"), ValueError, "role must not be empty"),
        (Message(7, "x"), TypeError, "role must be a str"),  # type: ignore[arg-type]
        (Message("user", "x", extra={1, 2}), TypeError, "extra is not JSON-serialisable"),
        (Message("user", "x", extra={"v": float("nan")}), ValueError, "extra cannot be stored"),
    ],
)
def test_bad_records_change_nothing(store: SQLStore, new_sid, record, error, match) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs("before"))
    with pytest.raises(error, match=match):
        store.append_messages(sid, [*msgs("valid"), record])
    assert [m.content for m in store.messages(sid)] == ["before"] and store.last_seq(sid) == 0


def test_bad_session_ids_change_nothing(store: SQLStore) -> None:
    token = uuid.uuid4().hex
    with pytest.raises(ValueError, match="512"):
        store.append_messages(token + "x" * 512, msgs("a"))
    with pytest.raises(ValueError, match="512"):
        store.append_messages("", msgs("a"))
    for bad in (123, None, token.encode()):
        with pytest.raises(TypeError, match="session_id must be a str"):
            store.append_messages(bad, msgs("a"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="UTF-8"):
        store.append_messages(token + "\udc80", msgs("a"))
    assert not [s for s in store.list_sessions() if token in s.session_id]


@pytest.mark.parametrize(
    "sid",
    ["a/b/c", "with spaces  ", "日本語 🚀 ümlaut", "../../etc/passwd", "'; DROP TABLE sessions; --", "x" * 512],
)
def test_unusual_session_ids_round_trip(store: SQLStore, made_ids: list[str], sid: str) -> None:
    sid = sid if len(sid) == 512 else f"{sid}|{uuid.uuid4()}"
    made_ids.append(sid)
    store.append_messages(sid, msgs("hello"))
    assert store.messages(sid)[0].content == "hello"
    info = store.session(sid)
    assert info is not None and info.session_id == sid
    assert sid in {s.session_id for s in store.list_sessions()}
    assert store.delete_session(sid) and store.session(sid) is None


# -- schema version ------------------------------------------------------------------------------


@pytest.fixture
def private_db_url(db_url: str) -> Iterator[str]:
    """db_url, but on PostgreSQL inside a throwaway schema so that tampering hurts nobody."""
    if not db_url.startswith("postgresql"):
        yield db_url
        return
    schema = f"gradmem_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(db_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_newer_schema_version_is_refused(private_db_url: str) -> None:
    with SQLStore(private_db_url) as store:
        store.append_messages("s", msgs("kept"))
        with store.sql_engine.begin() as conn:
            conn.execute(text("UPDATE schema_version SET version = 999"))
    with SQLStore(private_db_url) as store:
        with pytest.raises(StorageError, match="schema version 999, newer"):
            store.append_messages("s", msgs("lost?"))
        with pytest.raises(StorageError, match="999"):
            store.messages("s")
        with store.sql_engine.begin() as conn:
            assert conn.execute(text("SELECT content FROM messages")).scalars().all() == ["kept"]


DATA = Path(__file__).parent / "data"


def test_a_database_of_the_first_release_is_migrated(private_db_url: str, tmp_path) -> None:
    """Schema 1 (the release before full-text search), loaded from a dump of a database that release wrote."""
    backend = "postgresql" if private_db_url.startswith("postgresql") else "sqlite"
    if backend == "sqlite":
        private_db_url = f"sqlite:///{tmp_path / 'v1.db'}"
    dump = (DATA / f"schema_v1_{backend}.sql").read_text()
    engine = create_engine(private_db_url)
    with engine.begin() as conn:
        if backend == "sqlite":
            conn.connection.executescript(dump)
        else:
            conn.exec_driver_sql(dump)
    engine.dispose()
    with SQLStore(private_db_url) as store:
        assert [m.content for m in store.messages("alice")][2] == "The storage room door code is 4417."
        assert [h.message.seq for h in store.search_messages("alice", "What is the door code?")] == [2]
        (block,) = store.blocks("alice")
        assert (block.first_seq, block.last_seq, block.stats.tokens) == (0, 1, 20)
        assert torch.equal(block.vectors, torch.ones(2, 4)) and store.compressed_upto("alice") == 1
        store.append_messages("alice", msgs("My sister Ingrid visits on Friday."))
        assert [h.message.seq for h in store.search_messages("alice", "When does Ingrid visit?")] == [4]
        keyed = Message("user", "Sent twice.", key="retry-1")
        assert [m.seq for m in store.append_messages("alice", [keyed])] == [5]
        assert [m.seq for m in store.append_messages("alice", [keyed])] == [5]  # v3: keys
        with store.sql_engine.begin() as conn:
            assert conn.execute(text("SELECT version FROM schema_version")).scalar() == SCHEMA_VERSION
    with SQLStore(private_db_url) as store:  # opening it again migrates nothing more
        assert store.message_count("alice") == 6 and store.messages("alice")[5].key == "retry-1"


def test_search_finds_words_in_order_of_relevance_within_one_session(store: SQLStore, new_sid) -> None:
    sid, other = new_sid(), new_sid()
    store.append_messages(sid, msgs("My dog Biscuit loves the beach.", "We planted tulips and roses.",
                                    "The tulips are red.", "Nothing to see here.", "Biscuit ate a tulip bulb!"))
    store.append_messages(other, msgs("Biscuit is also the name of my cat."))
    hits = store.search_messages(sid, "Which tulips did we plant?")
    assert [h.message.seq for h in hits][:1] == [1] and {h.message.seq for h in hits} == {1, 2, 4}
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert [h.message.seq for h in store.search_messages(sid, "biscuit", max_seq=3)] == [0]
    assert store.search_messages(sid, "what is it that you did?") == []  # stop words only
    assert len(store.search_messages(sid, "tulip", limit=1)) == 1
    assert store.search_messages(new_sid(), "tulip") == []
    with pytest.raises(ValueError, match="limit"):
        store.search_messages(sid, "tulip", limit=0)
    with pytest.raises(TypeError, match="query must be a str"):
        store.search_messages(sid, None)  # type: ignore[arg-type]
    store.delete_session(sid)
    assert store.search_messages(sid, "tulip") == []
    (found,) = store.search_messages(other, "biscuit")
    assert found.message.content == "Biscuit is also the name of my cat."


def test_foreign_tables_are_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE sessions (x INTEGER)"))
    engine.dispose()
    with SQLStore(url) as store, pytest.raises(StorageError, match="not a gradmem-agent database"):
        store.list_sessions()


def test_default_url_is_in_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = default_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'gradmem-agent' / 'gradmem.db'}"
    assert (tmp_path / "data" / "gradmem-agent").is_dir()


def test_store_accepts_an_engine(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'given.db'}")
    with SQLStore(sql_engine=engine) as store:
        store.append_messages("s", msgs("a"))
        assert store.sql_engine is engine and store.message_count("s") == 1
    with engine.connect() as conn:  # the store does not dispose an engine it was given
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 1
    engine.dispose()


# -- memory blocks -------------------------------------------------------------------------------


def test_add_block_and_read_back(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs("0", "1", "2", "3"))
    vectors = torch.randn(3, 16, dtype=torch.bfloat16)
    stats = WriteStats(tokens=7, token_accuracy=0.75, loss=1.5, steps=5, seconds=0.25, stopped="target")
    block = add_block(store, sid, 0, 1, vectors=vectors, adapter_id="lora-a", stats=stats)
    assert store.compressed_upto(sid) == 1
    assert (block.shape, block.level, block.session_id, block.vector_count) == ((3, 16), 0, sid, 3)
    assert block.vectors.dtype == torch.bfloat16 and torch.equal(block.vectors, vectors)
    add_block(store, sid, 2, 3, vectors=torch.zeros(2, 16), level=0)
    blocks = store.blocks(sid)
    assert [(b.first_seq, b.last_seq) for b in blocks] == [(0, 1), (2, 3)]
    assert blocks[0].id == block.id and blocks[0].stats == stats and blocks[0].adapter_id == "lora-a"
    assert store.compressed_upto(sid) == 3
    info = store.session(sid)
    assert info is not None
    assert (info.message_count, info.block_count, info.vector_count, info.compressed_upto) == (4, 2, 5, 3)
    vector_bytes = sum(b.nbytes for b in blocks)
    assert info.stored_bytes == vector_bytes + 4  # four one-byte messages


def test_add_block_refuses_stale_or_bad_ranges(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs("0", "1", "2", "3"))
    add_block(store, sid, 0, 1)
    with pytest.raises(ConcurrentCompressionError, match="compressed up to seq 1, not -1"):
        add_block(store, sid, 0, 2, expected=-1)
    with pytest.raises(ConcurrentCompressionError, match="must start at seq 2"):
        add_block(store, sid, 3, 3, expected=1)
    with pytest.raises(ConcurrentCompressionError, match="up to seq 3"):
        add_block(store, sid, 2, 9)
    with pytest.raises(ConcurrentCompressionError, match="does not exist"):
        add_block(store, new_sid(), 0, 0)
    with pytest.raises(TypeError, match=r"vectors must be a torch\.Tensor"):
        store.add_block(sid, MemoryBlock(FP, None, (1, 1), [[1.0]], STATS, first_seq=2, last_seq=3),
                        expected_compressed_upto=1)
    with pytest.raises(ValueError, match="not placed"):
        store.add_block(sid, MemoryBlock.written(torch.ones(2, 8), STATS, FP), expected_compressed_upto=1)
    with pytest.raises(ValueError, match="NaN"):
        add_block(store, sid, 2, 3, vectors=torch.full((2, 8), float("nan")))
    assert store.compressed_upto(sid) == 1 and len(store.blocks(sid)) == 1


def test_add_blocks_takes_a_run_and_the_pieces_of_one_message(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs(*"0123"))
    run = [block_of(0, 1), block_of(2, 2), block_of(2, 2), block_of(2, 2)]  # message 2 in three pieces
    added = store.add_blocks(sid, run, expected_compressed_upto=-1)
    assert [(b.first_seq, b.last_seq) for b in added] == [(0, 1), (2, 2), (2, 2), (2, 2)]
    assert ids(store.blocks(sid)) == ids(added) and store.compressed_upto(sid) == 2
    for bad in ([block_of(3, 3), block_of(3, 3), block_of(2, 2)], [block_of(4, 4)], [block_of(3, 3), block_of(3, 4)]):
        with pytest.raises(ConcurrentCompressionError):  # back to an earlier seq, a gap, two messages overlapping
            store.add_blocks(sid, bad, expected_compressed_upto=2)
    assert ids(store.blocks(sid)) == ids(added) and store.compressed_upto(sid) == 2
    assert store.add_blocks(sid, [], expected_compressed_upto=2) == []


def test_replace_blocks_is_atomic(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs(*"012345"))
    a, b = add_block(store, sid, 0, 1), add_block(store, sid, 2, 3)
    merged = block_of(0, 3, torch.ones(2, 8), level=1)
    with pytest.raises(ConcurrentCompressionError, match=r"\[999999999\]"):
        store.replace_blocks(sid, [a.id, 999_999_999], [merged])
    assert ids(store.blocks(sid)) == [a.id, b.id]
    (new,) = store.replace_blocks(sid, [a.id, b.id], [merged])
    assert ids(store.blocks(sid)) == [new.id] and new.level == 1 and store.compressed_upto(sid) == 3
    with pytest.raises(ConcurrentCompressionError):  # a is gone now
        store.replace_blocks(sid, [a.id], [])
    # rebuild: everything replaced, compressed_upto set explicitly
    (again,) = store.replace_blocks(sid, [new.id], [merged.placed(0, 5)], compressed_upto=5)
    assert store.compressed_upto(sid) == 5 and again.last_seq == 5
    assert store.replace_blocks(sid, [again.id], [], compressed_upto=-1) == []
    assert store.blocks(sid) == [] and store.compressed_upto(sid) == -1
    with pytest.raises(TypeError, match=r"new_blocks\[0\] must be a MemoryBlock"):
        store.replace_blocks(sid, [], [{"first_seq": 0}])  # type: ignore[list-item]


def test_corrupt_blob_is_reported(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs("0", "1"))
    block = add_block(store, sid, 0, 1)
    good = block.source.data
    with store.sql_engine.begin() as conn:
        conn.execute(text("UPDATE memory_blocks SET vectors = :v WHERE id = :id"), {"v": b"junk", "id": block.id})
    (stored,) = store.blocks(sid)
    assert stored.stats == STATS  # listed, and its other parts readable
    with pytest.raises(CorruptBlockError, match=rf"block {block.id} of session '{sid}'") as caught:
        _ = stored.vectors
    assert (caught.value.session_id, caught.value.block_id) == (sid, block.id)
    with store.sql_engine.begin() as conn:
        conn.execute(text("UPDATE memory_blocks SET vectors = :v WHERE id = :id"), {"v": good, "id": block.id})
        conn.execute(text("UPDATE memory_blocks SET dtype = 'float16' WHERE id = :id"), {"id": block.id})
    with pytest.raises(CorruptBlockError, match="block's columns say float16"):
        store.blocks(sid)[0].check()


def test_corrupt_stats_are_reported_where_read(tmp_path) -> None:
    with SQLStore(f"sqlite:///{tmp_path / 'c.db'}") as store:  # PostgreSQL's json type refuses broken JSON itself
        store.append_messages("s", msgs("0", "1"))
        block = add_block(store, "s", 0, 1)
        with store.sql_engine.begin() as conn:
            conn.execute(text("UPDATE memory_blocks SET stats = '{not json' WHERE id = :id"), {"id": block.id})
        (stored,) = store.blocks("s")
        assert torch.equal(stored.vectors, block.vectors)
        with pytest.raises(CorruptBlockError, match="unreadable statistics"):
            _ = stored.stats
        with store.sql_engine.begin() as conn:
            conn.execute(text("""UPDATE memory_blocks SET stats = '{"tokens": "many"}' WHERE id = :id"""),
                         {"id": block.id})
        with pytest.raises(CorruptBlockError, match="unreadable statistics"):
            store.blocks("s")[0].check()


def test_fingerprint_mismatch(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs("0"))
    block = add_block(store, sid, 0, 0, adapter_id="lora-a")
    block.check_fingerprint(FP, "lora-a")
    with pytest.raises(FingerprintMismatchError, match=r"model 'test-model@0123abcd' / adapter 'lora-a'.*rebuild"):
        block.check_fingerprint("other-model", "lora-a")
    with pytest.raises(FingerprintMismatchError, match="adapter None"):
        block.check_fingerprint(FP, None)


# -- lease ---------------------------------------------------------------------------------------


def test_lease_is_exclusive_and_expires(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    assert store.acquire_lease(sid, "alice", ttl_s=30)
    assert not store.acquire_lease(sid, "bob", ttl_s=30)
    assert store.acquire_lease(sid, "alice", ttl_s=30)  # renewal
    assert not store.release_lease(sid, "bob")
    with pytest.raises(ConcurrentCompressionError, match="'alice'"), store.lease(sid, owner="bob", wait=False):
        pass
    started = time.monotonic()
    with pytest.raises(ConcurrentCompressionError, match="timed out"), store.lease(sid, timeout=0.3):
        pass
    assert 0.25 < time.monotonic() - started < 5
    assert store.release_lease(sid, "alice")
    with store.lease(sid, owner="bob") as owner:
        assert owner == "bob" and not store.acquire_lease(sid, "alice", ttl_s=30)
    assert store.acquire_lease(sid, "alice", ttl_s=0.05)  # bob's was released on exit
    time.sleep(0.1)
    assert store.acquire_lease(sid, "bob", ttl_s=30)  # alice's expired
    assert not store.acquire_lease(sid, "alice", ttl_s=30)


def test_lease_waits_for_release(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    held, order = threading.Event(), []

    def holder() -> None:
        with store.lease(sid, owner="first"):
            held.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    with store.lease(sid, owner="second", timeout=10):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


# -- retention and deletion ----------------------------------------------------------------------


def test_prune_never_drops_uncompressed_messages(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    store.append_messages(sid, msgs(*"012345"))
    add_block(store, sid, 0, 2)
    past = datetime.now(timezone.utc) - timedelta(days=1)
    assert store.prune(sid, before=past, what="transcript") == 0
    assert store.prune(sid, before=in_future(), what="transcript") == 3
    assert [m.seq for m in store.messages(sid)] == [3, 4, 5]
    assert store.last_seq(sid) == 5 and store.message_count(sid) == 3
    assert store.append_messages(sid, msgs("6"))[0].seq == 6  # seqs keep counting after pruning
    assert store.prune(sid, before=in_future(), what="memory") == 1
    assert store.blocks(sid) == [] and store.compressed_upto(sid) == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        store.prune(sid, before=datetime.now(), what="memory")
    with pytest.raises(ValueError, match="'memory' or 'transcript'"):
        store.prune(sid, before=in_future(), what="everything")  # type: ignore[arg-type]


def test_prune_all_sessions(tmp_path) -> None:
    # Only on a private SQLite file: pruning every session of a shared PostgreSQL would hit others' data.
    with SQLStore(f"sqlite:///{tmp_path / 'p.db'}") as store:
        for sid in ("a", "b"):
            store.append_messages(sid, msgs("0", "1"))
            add_block(store, sid, 0, 0)
        assert store.prune(before=in_future(), what="transcript") == 2
        assert store.prune(before=in_future(), what="memory") == 2
        assert [m.seq for m in store.messages("a")] == [1] and store.blocks("b") == []


def test_delete_session_cascades(store: SQLStore, new_sid) -> None:
    sid, other = new_sid(), new_sid()
    for s in (sid, other):
        store.append_messages(s, msgs("0", "1"))
        add_block(store, s, 0, 1)
    assert store.delete_session(sid) and not store.delete_session(sid)
    assert store.session(sid) is None and store.messages(sid) == [] and store.blocks(sid) == []
    assert store.message_count(other) == 2 and len(store.blocks(other)) == 1
    with store.sql_engine.begin() as conn:  # the foreign keys cascade by themselves too
        conn.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": other})
        leftovers = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM messages WHERE session_id = :id)"
                " + (SELECT count(*) FROM memory_blocks WHERE session_id = :id)"
            ),
            {"id": other},
        ).scalar()
    assert leftovers == 0


# -- concurrency ---------------------------------------------------------------------------------


def _assert_each_once(store: SQLStore, sid: str, expected: set[str]) -> None:
    stored = store.messages(sid)
    assert [m.seq for m in stored] == list(range(len(expected)))
    assert sorted(m.content for m in stored) == sorted(expected)


def test_threads_append_to_one_session(store: SQLStore, new_sid) -> None:
    sid = new_sid()
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(25):
                store.append_messages(sid, msgs(f"thread{w}-{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_each_once(store, sid, {f"thread{w}-{i}" for w in range(4) for i in range(25)})


def _append_in_process(url: str, sid: str, worker: int, count: int, barrier) -> None:
    with SQLStore(url) as store:
        store.last_seq(sid)  # schema check and connection set up before the race starts
        barrier.wait(timeout=60)
        for i in range(count):
            store.append_messages(sid, msgs(f"proc{worker}-{i}"))


def test_processes_append_to_one_session(store: SQLStore, db_url: str, new_sid) -> None:
    sid = new_sid()
    store.last_seq(sid)  # create the schema before the workers race for it
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_append_in_process, args=(db_url, sid, w, 25, barrier)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    _assert_each_once(store, sid, {f"proc{w}-{i}" for w in range(2) for i in range(25)})


# -- async twins ---------------------------------------------------------------------------------


async def test_async_append_and_read(astore: SQLStore, new_sid) -> None:
    sid = new_sid()
    first = await astore.aappend_messages(sid, msgs("a", "b"))
    assert [m.seq for m in first] == [0, 1]
    await astore.aappend_messages(sid, msgs("c"))
    assert [m.content for m in await astore.amessages(sid)] == ["a", "b", "c"]
    assert [m.seq for m in await astore.amessages(sid, 1, 1)] == [1]
    assert await astore.amessage_count(sid) == 3 and await astore.alast_seq(sid) == 2
    info = await astore.asession(sid)
    assert info is not None and info.message_count == 3
    with pytest.raises(TypeError):
        await astore.aappend_messages(sid, [Message("user", 1)])  # type: ignore[arg-type]
    assert await astore.amessage_count(sid) == 3


async def test_async_blocks(astore: SQLStore, new_sid) -> None:
    sid = new_sid()
    await astore.aappend_messages(sid, msgs("0", "1", "2"))
    vectors = torch.randn(4, 8)
    block = await astore.aadd_block(sid, block_of(0, 1, vectors), expected_compressed_upto=-1)
    with pytest.raises(ConcurrentCompressionError):
        await astore.aadd_block(sid, block_of(0, 2, vectors), expected_compressed_upto=-1)
    (stored,) = await astore.ablocks(sid)
    assert stored.id == block.id and torch.equal(stored.vectors, vectors)
    assert await astore.acompressed_upto(sid) == 1
    (merged,) = await astore.areplace_blocks(sid, [block.id], [block_of(0, 2, vectors, level=1)])
    assert [b.id for b in await astore.ablocks(sid)] == [merged.id]
    assert await astore.aprune(sid, before=in_future(), what="transcript") == 2


async def test_async_lease(astore: SQLStore, new_sid) -> None:
    sid = new_sid()
    assert await astore.aacquire_lease(sid, "alice", ttl_s=30)
    assert not await astore.aacquire_lease(sid, "bob", ttl_s=30)
    with pytest.raises(ConcurrentCompressionError):
        async with astore.alease(sid, owner="bob", wait=False):
            pass
    assert await astore.arelease_lease(sid, "alice")
    async with astore.alease(sid, owner="bob") as owner:
        assert owner == "bob" and not await astore.aacquire_lease(sid, "alice", ttl_s=30)
    assert await astore.aacquire_lease(sid, "alice", ttl_s=30)
    assert [s.session_id for s in await astore.alist_sessions() if s.session_id == sid] == [sid]
