"""Nothing a caller sends can wedge a session: refused calls change nothing stored, retries never duplicate,
dead writers do not stall, database failures are typed. Real SQLite files and PostgreSQL when configured."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest
import torch
from gradmem_agent.storage import (
    CorruptBlockError,
    CorruptSessionError,
    DatabaseError,
    KeyConflictError,
    Message,
    SQLStore,
)
from sqlalchemy import event, text

from gradmem_agent import GradMem, GradMemConversationMemory, MemoryPolicy
from gradmem_agent.compression import CompressionFailedError
from gradmem_agent.policy import clean_cut, plan_blocks, recent_start
from gradmem_agent.recall import recent_window, turn_size
from tests.conftest import make_tiny_llama
from tests.test_conversation import chat, conv_for

FP = "test-model@0123abcd"


@pytest.fixture
def url(store_url: str) -> str:
    return store_url


@pytest.fixture
def sid(url) -> Iterator[str]:
    session_id = f"robust-{uuid.uuid4().hex}"
    yield session_id
    with SQLStore(url) as store:
        store.delete_session(session_id)
        store.delete_session(session_id + "-b")


def stored_state(url: str, session_id: str) -> tuple:
    """Every stored row of the session, every column (vector bytes too), for before/after comparisons."""
    with SQLStore(url) as store:
        store.message_count(session_id)  # creates the schema if needed
        with store.sql_engine.connect() as conn:
            rows = []
            for table, column in (("sessions", "id"), ("messages", "session_id"), ("memory_blocks", "session_id")):
                rows.append(sorted(tuple(map(repr, r)) for r in conn.execute(
                    text(f"SELECT * FROM {table} WHERE {column} = :sid"), {"sid": session_id})))
    return tuple(rows)


def stats_of(tokens: int = 4):
    from gradmem_agent.storage import WriteStats

    return WriteStats(tokens=tokens, token_accuracy=1.0, loss=0.1, steps=3, seconds=0.01, stopped="target")


def block(first: int, last: int, vectors: torch.Tensor | None = None):
    from gradmem_agent.storage import MemoryBlock

    vectors = torch.ones(2, 8) if vectors is None else vectors
    return MemoryBlock.written(vectors, stats_of(), FP).placed(first, last)


# -- refused calls change nothing ---------------------------------------------------------------------------------


def test_numbers_refuse_bools_and_huge_leases():
    MemoryPolicy(segment_tokens=8, recall_tokens=0, recent_tokens=0, min_keep_messages=0, lease_ttl_s=86_400)
    for edge in ({"segment_tokens": 7}, {"recall_tokens": -1}, {"lease_ttl_s": 86_400.5}):
        with pytest.raises(ValueError):
            MemoryPolicy(**edge)
    for bad, error in (({"memory_tokens": True}, TypeError), ({"steps": True}, TypeError),
                       ({"recent_tokens": False}, TypeError), ({"lease_ttl_s": True}, TypeError),
                       ({"lease_ttl_s": math.inf}, ValueError), ({"lease_ttl_s": 1e12}, ValueError),
                       ({"lease_ttl_s": math.nan}, ValueError), ({"max_message_chars": 0}, ValueError),
                       ({"max_message_chars": True}, TypeError), ({"lr": True}, TypeError)):
        with pytest.raises(error):
            MemoryPolicy(**bad)


def test_refused_calls_change_nothing_stored(tokenizer, url, sid):
    """Bad policy for the engine, over-long messages, bool arguments, repeated keys: each refused with a typed
    error before anything is written, on a fresh session and on one with history."""
    gm = GradMem(make_tiny_llama(len(tokenizer), max_positions=256), tokenizer, name="tiny-llama")
    # segment_tokens 256 + 16 memory tokens do not fit 256 positions: refused before the message is stored
    wide = GradMemConversationMemory(sid, gm, url=url, mode="inline", segment_tokens=256, memory_tokens=16)
    empty = stored_state(url, sid)
    for _ in range(3):  # a caller retrying the same call never stores copies
        with pytest.raises(ValueError, match="exceed the model's 256 positions"):
            wide.add_user_message("hello")
    assert stored_state(url, sid) == empty == ([], [], [])
    wide.close()

    conv = conv_for(gm, url, sid, max_message_chars=200)
    conv.add_messages(chat(12))
    before = stored_state(url, sid)
    calls = [
        (lambda: conv.add_user_message("x" * 201), ValueError),
        (lambda: conv.add_messages([{"role": "user", "content": "fine"}, {"role": "user", "content": "y" * 500}]),
         ValueError),
        (lambda: conv.respond("z" * 201), ValueError),
        (lambda: list(conv.stream("z" * 201)), ValueError),
        (lambda: conv.compress(keep_last=True), TypeError),
        (lambda: conv.compress(keep_last=-1), ValueError),
        (lambda: conv.add_messages([{"role": "user", "content": "a", "key": "k"},
                                    {"role": "user", "content": "b", "key": "k"}]), ValueError),
        (lambda: conv.add_message({"role": "user", "content": "a", "key": ""}), ValueError),
        (lambda: conv.add_message({"role": "user", "content": "a", "key": 7}), TypeError),
        (lambda: conv.store.acquire_lease(sid, "someone", 1e12), ValueError),
        (lambda: conv.store.acquire_lease(sid, "someone", math.inf), ValueError),
        (lambda: conv.store.acquire_lease(sid, "someone", True), TypeError),
    ]
    for call, error in calls:
        with pytest.raises(error):
            call()
        assert stored_state(url, sid) == before
    conv.close()


# -- retries never duplicate --------------------------------------------------------------------------------------


def test_message_keys_make_appends_idempotent(url, sid):
    with SQLStore(url) as store:
        first = store.append_messages(sid, [Message("user", "hi", key="m1"), Message("assistant", "hello", key="m2")])
        again = store.append_messages(sid, [Message("user", "hi", key="m1"), Message("assistant", "hello", key="m2")])
        assert [(m.seq, m.key) for m in again] == [(0, "m1"), (1, "m2")] == [(m.seq, m.key) for m in first]
        mixed = store.append_messages(sid, [Message("assistant", "hello", key="m2"), Message("user", "more"),
                                            Message("user", "new", key="m3")])
        assert [m.seq for m in mixed] == [1, 2, 3] and store.last_seq(sid) == 3
        before = stored_state(url, sid)
        with pytest.raises(KeyConflictError, match="'m1'"):
            store.append_messages(sid, [Message("user", "other"), Message("user", "changed", key="m1")])
        assert stored_state(url, sid) == before
        other = store.append_messages(sid + "-b", [Message("user", "hi", key="m1")])  # keys are per session
        assert other[0].seq == 0

        def retry() -> None:
            store.append_messages(sid, [Message("user", "raced", key="race")])

        threads = [threading.Thread(target=retry) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [m.content for m in store.messages(sid)].count("raced") == 1


def test_compression_failure_after_storing_says_so_and_keys_make_retries_safe(tiny_gm, url, sid, monkeypatch):
    conv = conv_for(tiny_gm, url, sid)
    conv.add_messages(chat(10))

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory (injected)")

    monkeypatch.setattr(conv.compressor, "write", broken)
    batch = [{**m, "key": f"k{i}"} for i, m in enumerate(chat(12, tag="late "))]
    with pytest.raises(CompressionFailedError, match="are stored") as caught:
        conv.add_messages(batch)
    assert isinstance(caught.value.__cause__, RuntimeError)
    stored = conv.transcript
    assert [m.seq for m in caught.value.stored] == [m.seq for m in stored[10:]] and len(stored) == 22
    with pytest.raises(CompressionFailedError):
        conv.add_messages(batch)  # the caller retries: the keys make it a no-op
    monkeypatch.undo()
    again = conv.add_messages(batch)
    assert [m.seq for m in again] == [m.seq for m in stored[10:]]
    assert [m.to_dict() for m in conv.transcript] == [m.to_dict() for m in stored]
    assert conv.memory_blocks and conv.store.compressed_upto(sid) >= 10
    conv.close()


# -- dead writers ---------------------------------------------------------------------------------------------------


def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(url, sid):
    host = socket.gethostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    zombie.send_signal(signal.SIGKILL)
    os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # dead, not reaped yet
    with SQLStore(url) as store:
        for dead in (f"{host}:{gone.pid}:1:aaaa", f"{host}:{zombie.pid}:1:bbbb"):
            assert store.acquire_lease(sid, dead, 3600)
            assert store.acquire_lease(sid, "next", 3600), dead
            assert store.release_lease(sid, "next")
        for alive in (f"{host}:{os.getpid()}:1:cccc", f"elsewhere:{gone.pid}:1:dddd", "custom-owner"):
            assert store.acquire_lease(sid, alive, 3600)
            assert not store.acquire_lease(sid, "next", 3600), alive
            assert store.release_lease(sid, alive)
    zombie.wait()


# -- database failures ----------------------------------------------------------------------------------------------


def test_database_failures_are_typed_one_line_errors(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    urls = {
        f"sqlite:///{junk}": "file is not a database",
        f"sqlite:///{tmp_path / 'missing' / 'x.db'}": "unable to open database file",
        "postgresql+psycopg://postgres@127.0.0.1:1/test": "Connection refused",
    }
    for url, cause in urls.items():
        store = SQLStore(url)
        for call in (store.list_sessions, lambda: store.append_messages("s", [Message("user", "hi")])):  # noqa: B023
            with pytest.raises(DatabaseError, match=cause) as caught:
                call()
            assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)
    assert junk.read_bytes() == b"this is not a database" * 100


async def test_async_database_failures_are_typed(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"nope" * 1000)
    store = SQLStore(f"sqlite:///{junk}")
    with pytest.raises(DatabaseError, match="file is not a database"):
        await store.alist_sessions()
    await store.aclose()


def test_nan_vectors_refused_at_write_and_detected_at_read(url, sid):
    from safetensors.torch import save

    with SQLStore(url) as store:
        store.append_messages(sid, [Message("user", "0"), Message("user", "1")])
        before = stored_state(url, sid)
        with pytest.raises(ValueError, match="NaN"):
            store.add_block(sid, block(0, 1, torch.full((2, 8), math.nan)), expected_compressed_upto=-1)
        assert stored_state(url, sid) == before
        good = store.add_block(sid, block(0, 1), expected_compressed_upto=-1)
        with store.sql_engine.begin() as conn:
            conn.execute(text("UPDATE memory_blocks SET vectors = :v WHERE id = :id"),
                         {"v": save({"vectors": torch.full((2, 8), math.nan)}), "id": good.id})
        with pytest.raises(CorruptBlockError, match="NaN"):
            store.blocks(sid)[0].check()


def test_corrupt_stats_are_repaired_by_rebuild(tiny_gm, tmp_path):
    url = f"sqlite:///{tmp_path / 'stats.db'}"  # PostgreSQL's json type refuses broken JSON itself
    conv = conv_for(tiny_gm, url, "s")
    conv.add_messages(chat(24))
    blocks = conv.memory_blocks
    assert len(blocks) >= 2
    with conv.store.sql_engine.begin() as conn:
        conn.execute(text("UPDATE memory_blocks SET stats = '{broken' WHERE id = :id"), {"id": blocks[0].id})
    assert [b.id for b in conv.memory_blocks] == [b.id for b in blocks]  # still listed
    with pytest.raises(CorruptBlockError, match="unreadable statistics"):
        conv.stats()
    rebuilt = conv.rebuild()
    assert rebuilt and {b.id for b in rebuilt}.isdisjoint(b.id for b in blocks)
    after = conv.memory_blocks
    for stored in after:
        stored.check()
    assert after[0].first_seq == 0 and after[-1].last_seq == blocks[-1].last_seq
    assert conv.stats().blocks == len(after)
    conv.close()


def test_inconsistent_sessions_are_detected_on_open(tiny_gm, url, sid):
    with SQLStore(url) as store:
        store.append_messages(sid, [Message("user", str(i)) for i in range(6)])
        store.check_session(sid)
        store.check_session(sid + "-b")  # absent: fine
        with store.sql_engine.begin() as conn:
            conn.execute(text("UPDATE sessions SET compressed_upto = 9 WHERE id = :s"), {"s": sid})
        with pytest.raises(CorruptSessionError, match="compressed up to seq 9, but its last message is seq 5"):
            store.check_session(sid)
        conv = conv_for(tiny_gm, url, sid)
        with pytest.raises(CorruptSessionError):
            conv.read_context("anything?")
        conv.close()
        with store.sql_engine.begin() as conn:
            conn.execute(text("UPDATE sessions SET compressed_upto = -1 WHERE id = :s"), {"s": sid})
            conn.execute(text("DELETE FROM messages WHERE session_id = :s AND seq = 3"), {"s": sid})
        with pytest.raises(CorruptSessionError, match="gap"):
            store.check_session(sid)
        conv = conv_for(tiny_gm, url, sid)
        with pytest.raises(CorruptSessionError, match="gap"):
            _ = conv.messages
        conv.close()


# -- tests that catch deliberate bugs ---------------------------------------------------------------------------------


def test_block_and_its_mark_commit_together(url, sid):
    """If setting compressed_upto fails, the block must not stay: both are one transaction."""
    with SQLStore(url) as store:
        store.append_messages(sid, [Message("user", str(i)) for i in range(4)])
        before = stored_state(url, sid)

        def fail_on_mark(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("UPDATE SESSIONS") and "compressed_upto" in statement:
                raise RuntimeError("crash between the block and its mark (injected)")

        event.listen(store.sql_engine, "before_cursor_execute", fail_on_mark)
        try:
            with pytest.raises(Exception, match="injected"):
                store.add_block(sid, block(0, 1), expected_compressed_upto=-1)
        finally:
            event.remove(store.sql_engine, "before_cursor_execute", fail_on_mark)
        assert stored_state(url, sid) == before
        assert store.blocks(sid) == [] and store.compressed_upto(sid) == -1
        store.add_block(sid, block(0, 1), expected_compressed_upto=-1)
        assert store.compressed_upto(sid) == 1


def tool_chat() -> list[Message]:
    call = Message("assistant", "", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "a"},
                                                {"name": "g", "args": {}, "id": "b"}], seq=1)
    return [Message("user", "look both up", seq=0), call,
            Message("tool", "first result", tool_call_id="a", seq=2),
            Message("tool", "second result", tool_call_id="b", seq=3),
            Message("assistant", "done", seq=4), Message("user", "thanks", seq=5)]


def test_clean_cut_keeps_every_tool_result_with_its_call():
    messages = tool_chat()
    assert clean_cut(messages, 3) == 1  # between the two results: back before the call
    assert clean_cut(messages, 2) == 1  # between the call and its results
    assert clean_cut(messages, 4) == 4 and clean_cut(messages, 5) == 5 and clean_cut(messages, 1) == 1
    count = len  # characters as tokens: exact sizes
    policy = MemoryPolicy(segment_tokens=200, recent_tokens=0, min_keep_messages=0)
    ends = {}
    for keep_last in range(len(messages) + 1):
        plans = plan_blocks(messages, count, policy, keep_last=keep_last)
        ends[keep_last] = plans[-1].last_seq if plans else -1  # the last message memory takes; text from there
    assert ends == {0: 5, 1: 4, 2: 3, 3: 0, 4: 0, 5: 0, 6: -1}


def test_recent_window_boundaries_are_exact():
    policy = MemoryPolicy(recent_tokens=20, min_keep_messages=0)
    assert recent_start([10, 10, 10], policy) == 1  # the last two fill the budget exactly: both stay
    assert recent_start([10, 10, 11], policy) == 2
    assert recent_start([10, 10, 10], MemoryPolicy(recent_tokens=19, min_keep_messages=0)) == 2
    assert recent_start([10, 10, 10], MemoryPolicy(recent_tokens=0, min_keep_messages=2)) == 1
    assert recent_start([10, 10, 10], MemoryPolicy(recent_tokens=0, min_keep_messages=0)) == 3
    messages = [Message("user", "a" * 10), Message("user", "b" * 10), Message("user", "c" * 10)]
    turn = turn_size(messages[0], len)  # characters as tokens: every turn here renders to the same size
    assert [m.content[0] for m in recent_window(messages, 2 * turn, len)] == ["b", "c"]
    assert [m.content[0] for m in recent_window(messages, 2 * turn - 1, len)] == ["c"]
    assert [m.content[0] for m in recent_window(messages, 3 * turn, len)] == ["a", "b", "c"]


def test_prune_touches_only_the_session_named(url, sid):
    from datetime import datetime, timedelta, timezone

    later = datetime.now(timezone.utc) + timedelta(days=1)
    earlier = datetime.now(timezone.utc) - timedelta(days=1)
    other = sid + "-b"  # sorts after sid: a session filter turned into < or > shows one way or the other
    with SQLStore(url) as store:
        for session, upto in ((sid, 1), (other, 2)):
            store.append_messages(session, [Message("user", str(i)) for i in range(4)])
            store.add_block(session, block(0, upto), expected_compressed_upto=-1)
        assert store.prune(sid, before=earlier, what="memory") == 0
        assert store.prune(sid, before=earlier, what="transcript") == 0
        before = stored_state(url, other)
        assert store.prune(sid, before=later, what="transcript") == 2
        assert store.prune(sid, before=later, what="memory") == 1
        assert [m.seq for m in store.messages(sid)] == [2, 3] and store.blocks(sid) == []
        assert stored_state(url, other) == before
        kept = stored_state(url, sid)
        assert store.prune(other, before=later, what="transcript") == 3  # its own compressed_upto: 2
        assert store.prune(other, before=later, what="memory") == 1
        assert [m.seq for m in store.messages(other)] == [3] and stored_state(url, sid) == kept


def test_a_lease_is_one_session_s(url, sid):
    other = sid + "-b"
    with SQLStore(url) as store:
        assert store.acquire_lease(other, "holder-b", 3600)
        before = stored_state(url, other)
        assert store.acquire_lease(sid, "holder-a", 3600)
        assert stored_state(url, other) == before
        assert not store.acquire_lease(other, "holder-a", 3600)
        assert store.release_lease(sid, "holder-a") and stored_state(url, other) == before


def test_merge_order_takes_the_lowest_level_then_the_oldest_pair():
    from gradmem_agent.policy import merge_order

    assert merge_order([0, 0, 1, 0, 0]) == [0, 3, 1, 2]
    assert merge_order([2, 1, 1, 0]) == [1, 2, 0]
    assert merge_order([3]) == [] and merge_order([]) == []
