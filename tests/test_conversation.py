"""GradMemConversationMemory with a tiny random Llama: real SQLite files, PostgreSQL when configured."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
import torch
from gradmem_agent.storage import FingerprintMismatchError, Message, SQLStore

from gradmem_agent import GradMem, GradMemConversationMemory
from gradmem_agent.adapter import AdapterConfig, GradMemAdapter
from gradmem_agent.background import ReadGate, Worker
from gradmem_agent.policy import DEFAULT_SEGMENT_TOKENS, MemoryPolicy, plan_blocks
from gradmem_agent.read import prompt_ids
from tests.conftest import make_tiny_llama

TESTS = Path(__file__).parent
# read_blocks=None: these tests check the mechanics of every block; choosing blocks has its own tests.
SMALL = {"recent_tokens": 64, "segment_tokens": 48, "memory_tokens": 4, "steps": 2, "max_blocks": 8, "mode": "inline",
         "read_blocks": None}


@pytest.fixture
def url(store_url: str) -> str:
    return store_url


@pytest.fixture
def sid(url):
    session_id = f"conv-{uuid.uuid4().hex}"
    yield session_id
    with SQLStore(url) as store:
        store.delete_session(session_id)


def chat(n: int, tag: str = "") -> list[dict]:
    """n messages alternating user/assistant, of varied length."""
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append({"role": "user", "content": f"{tag}Turn {i}: I planted {i * 3} tulips" + " and roses" * (i % 4)})
        else:
            out.append({"role": "assistant", "content": f"{tag}Lovely, {i * 3} tulips noted."})
    return out


def conv_for(engine, url, session_id, **fields) -> GradMemConversationMemory:
    return GradMemConversationMemory(session_id, engine, url=url, **{**SMALL, **fields})


def assert_contiguous(blocks, upto: int) -> None:
    assert [b.first_seq for b in blocks][:1] in ([0], [])
    for a, b in itertools.pairwise(blocks):
        assert b.first_seq == a.last_seq + 1
    assert (blocks[-1].last_seq if blocks else -1) == upto


def state(conv) -> tuple:
    """Everything stored for the session, for before/after comparisons."""
    store = conv.store
    blocks = [(b.id, b.first_seq, b.last_seq, b.level) for b in store.blocks(conv.session_id)]
    return [m.to_dict() for m in conv.transcript], blocks, store.compressed_upto(conv.session_id)


# -- lifecycle -------------------------------------------------------------------------------------------------


def test_long_chat_compresses_and_survives_restart(tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid)
    for message in chat(50):
        conv.add_message(message)
    blocks = conv.memory_blocks
    assert len(blocks) >= 3
    upto = conv.store.compressed_upto(sid)
    assert_contiguous(blocks, upto)
    assert all(b.vectors.shape == (4, tiny_gm.hidden_size) for b in blocks)
    assert [m.content for m in conv.transcript] == [m["content"] for m in chat(50)]
    assert [m.seq for m in conv.messages] == list(range(upto + 1, 50))
    # Nothing left due: what stays text is the recent window plus at most a partial segment.
    assert plan_blocks(conv.messages, tiny_gm.count_tokens, conv.policy, tiny_gm.tokenizer) == []
    stats = conv.stats()
    assert stats.messages == 50 and stats.blocks == len(blocks) and stats.vectors == 4 * len(blocks)
    assert stats.tokens_in_memory + stats.tokens_as_text == stats.tokens_seen
    assert stats.compression_ratio > 5
    context = conv.read_context("What did I plant?")
    conv.close()

    reopened = conv_for(tiny_gm, url, sid)  # a new process would see exactly this
    assert [m.to_dict() for m in reopened.messages] == [m.to_dict() for m in conv.messages]
    for old, new in zip(blocks, reopened.memory_blocks, strict=True):
        assert (old.id, old.first_seq, old.last_seq, old.stats) == (new.id, new.first_seq, new.last_seq, new.stats)
        assert torch.equal(old.vectors, new.vectors)
    assert reopened.stats() == stats
    again = reopened.read_context("What did I plant?")
    assert again.messages == context.messages and all(map(torch.equal, again.memory, context.memory))
    reopened.close()


def test_respond_and_stream_store_both_turns(tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid, system_prompt="You are terse.")
    reply = conv.respond("Hello there?", max_new_tokens=4)
    assert isinstance(reply, str)
    pieces = list(conv.stream("And again?", max_new_tokens=4))
    roles = [(m.role, m.content) for m in conv.transcript]
    assert roles == [("user", "Hello there?"), ("assistant", reply),
                     ("user", "And again?"), ("assistant", "".join(pieces).strip())]
    assert isinstance(conv.respond("Just peeking?", remember=False, max_new_tokens=2), str)
    assert len(conv.transcript) == 4
    context = conv.read_context("Next?")
    assert context.messages[0] == {"role": "system", "content": "You are terse."}
    assert context.messages[-1] == {"role": "user", "content": "Next?"}
    assert conv.build_inputs == conv.read_context  # one method, two names
    conv.close()


def test_background_turn_never_waits_on_write(tiny_gm, tmp_path):
    entered, release = threading.Event(), threading.Event()
    writer_threads = set()

    def progress(done, total):
        writer_threads.add(threading.get_ident())
        entered.set()
        release.wait(30)

    conv = GradMemConversationMemory("bg", tiny_gm, url=f"sqlite:///{tmp_path / 'bg.db'}", write_progress=progress,
                                     **{**SMALL, "mode": "background"})
    for message in chat(12):
        conv.add_message(message)
    assert entered.wait(30), "compression should have started in the background"
    start = time.perf_counter()
    conv.add_user_message("one more while the WRITE runs")
    context = conv.read_context("question")
    assert time.perf_counter() - start < 5
    assert context.blocks == [] and context.compressed_upto == -1  # nothing committed yet: old turns still text
    assert context.recent[-1].content == "one more while the WRITE runs"
    release.set()
    conv.wait()
    assert threading.get_ident() not in writer_threads
    context = conv.read_context("question")
    assert context.blocks and context.recent[0].seq > context.compressed_upto
    conv.close()

    inline_threads = set()
    conv = GradMemConversationMemory("inline", tiny_gm, url=f"sqlite:///{tmp_path / 'bg.db'}",
                                     write_progress=lambda *_: inline_threads.add(threading.get_ident()), **SMALL)
    for message in chat(12):
        conv.add_message(message)
    assert inline_threads == {threading.get_ident()} and conv.memory_blocks
    conv.close()


def test_worker_reruns_on_kicks_and_reports_errors():
    started, release, runs = threading.Event(), threading.Event(), []

    def job():
        runs.append(len(runs))
        started.set()
        release.wait(10)
        if len(runs) == 2:
            raise RuntimeError("boom")

    worker = Worker(job, "test")
    worker.kick()
    assert started.wait(10)
    worker.kick()  # during a run: exactly one more run, however many kicks
    worker.kick()
    release.set()
    with pytest.raises(RuntimeError, match="boom"):
        worker.wait(10)
    assert runs == [0, 1]
    worker.wait(10)  # the error is reported once
    worker.shutdown()


def test_read_gate_pauses_writes_while_reading():
    gate, resumed = ReadGate(max_pause_s=10), threading.Event()
    with gate.reading():
        writer = threading.Thread(target=lambda: (gate.wait_idle(), resumed.set()))
        writer.start()
        assert not resumed.wait(0.3)
    assert resumed.wait(10)
    writer.join()
    assert _seconds(gate.wait_idle) < 0.1  # nobody reading: no pause
    stuck = ReadGate(max_pause_s=0.2)  # never a deadlock: a pause is bounded
    with stuck.reading():
        assert 0.15 < _seconds(stuck.wait_idle) < 5


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_compress_now_and_keep_last(tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid, recent_tokens=10_000)
    conv.add_messages(chat(10))
    assert conv.memory_blocks == []  # all within the recent window
    new = conv.compress(keep_last=2)
    assert new and new[-1].last_seq == 7 and [m.seq for m in conv.messages] == [8, 9]
    assert conv.compress(keep_last=2) == []
    assert conv.compress(keep_last=0)[-1].last_seq == 9 and conv.messages == []
    with pytest.raises(ValueError):
        conv.compress(keep_last=-1)
    conv.close()


# -- crashes, processes, threads ---------------------------------------------------------------------------------

CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads(1)
from conftest import make_tiny_llama
from transformers import AutoTokenizer
from gradmem_agent import GradMem, GradMemConversationMemory
from gradmem_agent.models import cached_default_model_dir
tok = AutoTokenizer.from_pretrained(cached_default_model_dir(), local_files_only=True)
gm = GradMem(make_tiny_llama(len(tok)), tok, name="tiny-llama")
url, sid, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
"""


def spawn(tmp_path: Path, body: str, *args: str) -> subprocess.Popen:
    script = tmp_path / f"child-{uuid.uuid4().hex[:6]}.py"
    script.write_text(CHILD.format(tests=str(TESTS)) + textwrap.dedent(body))
    with open(script.with_suffix(".log"), "w") as log:  # a file, not a pipe nobody reads while we wait
        return subprocess.Popen([sys.executable, str(script), *args], stdout=log, stderr=subprocess.STDOUT)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child exited early with {proc.returncode}; see the .log next to {path}")
        assert time.monotonic() < deadline, f"timed out waiting for {path}"
        time.sleep(0.05)


KILL = {**SMALL, "max_blocks": 100}  # no consolidation: block ids stay comparable


def test_kill_during_write_loses_nothing(tiny_gm, url, sid, tmp_path):
    body = f"""
    armed = False
    def progress(done, total):
        if armed:
            (work / "in-write").touch()
            time.sleep(3600)  # stay inside the WRITE until killed
    conv = GradMemConversationMemory(sid, gm, url=url, write_progress=progress, lease_ttl_s=3600, **{KILL!r})
    for i, message in enumerate(CHAT):
        armed = i >= 30
        conv.add_message(message)
    """
    messages = chat(60)
    proc = spawn(tmp_path, f"CHAT = {messages!r}\n" + textwrap.dedent(body), url, sid, str(tmp_path))
    wait_for(tmp_path / "in-write", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    conv = conv_for(tiny_gm, url, sid, max_blocks=100)
    stored = [m.content for m in conv.transcript]
    assert len(stored) >= 31 and stored == [m["content"] for m in messages[: len(stored)]]
    before = conv.memory_blocks
    assert before, "blocks committed before the kill survive"
    assert_contiguous(before, conv.store.compressed_upto(sid))
    started = time.monotonic()
    conv.compress()  # resumes: the dead writer's lease (an hour) is taken over at once, then what is due written
    assert time.monotonic() - started < 120
    after = conv.memory_blocks
    assert [(b.id, b.last_seq) for b in after[: len(before)]] == [(b.id, b.last_seq) for b in before]
    assert len(after) > len(before)

    # The same turns added without a crash give the same block boundaries.
    reference = conv_for(tiny_gm, url, sid + "-ref", max_blocks=100)
    try:
        for message in messages[: len(stored)]:
            reference.add_message(message)
        ranges = [(b.first_seq, b.last_seq) for b in reference.memory_blocks]
        assert ranges == [(b.first_seq, b.last_seq) for b in after]
    finally:
        reference.clear()
        reference.close()
    conv.close()


def test_two_processes_append_to_one_session(url, sid, tmp_path):
    body = """
    tag = sys.argv[4]
    conv = GradMemConversationMemory(sid, gm, url=url, recent_tokens=64, segment_tokens=48, memory_tokens=4,
                                     steps=2, mode="inline")
    (work / f"ready-{tag}").touch()
    while not (work / "go").exists():
        time.sleep(0.01)
    for i in range(30):
        conv.add_user_message(f"{tag} says {i}: the kettle is on and the cat is asleep")
    conv.close()
    """
    with SQLStore(url) as store:  # create the file first (see test_threads_share_a_session)
        store.list_sessions()
    procs = [spawn(tmp_path, body, url, sid, str(tmp_path), tag) for tag in ("A", "B")]
    for tag, proc in zip("AB", procs, strict=True):
        wait_for(tmp_path / f"ready-{tag}", proc)
    (tmp_path / "go").touch()
    for proc in procs:
        assert proc.wait(timeout=300) == 0, f"child failed; see the logs in {tmp_path}"
    with SQLStore(url) as store:
        stored = store.messages(sid)
        assert [m.seq for m in stored] == list(range(60))
        for tag in "AB":
            mine = [m.content for m in stored if m.content.startswith(tag)]
            assert mine == [f"{tag} says {i}: the kettle is on and the cat is asleep" for i in range(30)]
        blocks = store.blocks(sid)
        assert blocks
        assert_contiguous(blocks, store.compressed_upto(sid))


def test_threads_share_a_session(tiny_gm, tmp_path):
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    with SQLStore(url) as store:  # a fresh file opened by many connections at once trips SQLite's WAL switch
        store.list_sessions()
    convs = [GradMemConversationMemory("shared", tiny_gm, url=url, **{**SMALL, "mode": "background"})
             for _ in range(3)]

    def talk(k):
        for i in range(15):
            convs[k].add_user_message(f"thread {k} message {i} about the weather")

    threads = [threading.Thread(target=talk, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for conv in convs:
        conv.wait()
    contents = [m.content for m in convs[0].transcript]
    assert sorted(contents) == sorted(f"thread {k} message {i} about the weather" for k in range(3) for i in range(15))
    assert_contiguous(convs[0].memory_blocks, convs[0].store.compressed_upto("shared"))
    for conv in convs:
        conv.close()


def test_compression_waits_for_the_lease(tiny_gm, tmp_path):
    conv = GradMemConversationMemory("leased", tiny_gm, url=f"sqlite:///{tmp_path / 'lease.db'}",
                                     **{**SMALL, "recent_tokens": 10_000})
    conv.add_messages(chat(10))
    with conv.store.lease("leased"):
        worker = threading.Thread(target=conv.compress, kwargs={"keep_last": 0})
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive() and conv.memory_blocks == []
    worker.join(30)
    assert conv.memory_blocks and conv.messages == []
    conv.close()


# -- models and sessions -----------------------------------------------------------------------------------------


def test_fingerprint_mismatch(tokenizer, tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid)
    conv.add_messages(chat(20))
    written = state(conv)
    assert written[1]
    # Another seed; a different config too, as the engine's fingerprint cannot tell random inits of one config apart.
    other = GradMem(make_tiny_llama(len(tokenizer), seed=1, max_positions=320), tokenizer, name="tiny-llama")
    assert other.fingerprint != tiny_gm.fingerprint
    strict = conv_for(other, url, sid)
    assert [m.seq for m in strict.messages] == [m.seq for m in conv.messages]  # text needs no model
    for call in (strict.read_context, lambda: strict.respond("hi?"), strict.compress):
        with pytest.raises(FingerprintMismatchError, match="rebuild"):
            call()
    assert state(strict) == written

    rebuilt = conv_for(other, url, sid, on_mismatch="rebuild")
    context = rebuilt.read_context("hi?")
    assert context.blocks and {b.model_fingerprint for b in context.blocks} == {other.fingerprint}
    assert_contiguous(context.blocks, written[2])
    assert state(rebuilt)[0] == written[0]
    with pytest.raises(FingerprintMismatchError):
        conv.read_context()  # now the first model's turn to be the stranger
    conv.rebuild()
    assert {b.model_fingerprint for b in conv.memory_blocks} == {tiny_gm.fingerprint}
    for c in (conv, strict, rebuilt):
        c.close()


def test_memory_tokens_follow_the_adapter(tokenizer, tmp_path):
    model = make_tiny_llama(len(tokenizer))
    adapter = GradMemAdapter(AdapterConfig(hidden_size=32, memory_tokens=6, write_steps=2))
    gm = GradMem(model, tokenizer, adapter)
    url = f"sqlite:///{tmp_path / 'adapter.db'}"
    conv = GradMemConversationMemory("a", gm, url=url, **{**SMALL, "memory_tokens": None})
    conv.add_messages(chat(20))
    blocks = conv.compress(keep_last=0)
    assert blocks and all(b.vectors.shape[0] == 6 for b in blocks)
    assert {b.adapter_id for b in blocks} == {gm.adapter_id}
    with pytest.raises(ValueError, match="trained for 6"):
        GradMemConversationMemory("b", gm, url=url, **SMALL).compress()
    conv.close()


def test_segment_tokens_follow_the_adapter(tokenizer, tiny_gm, tmp_path):
    gm = GradMem(make_tiny_llama(len(tokenizer)), tokenizer,
                 GradMemAdapter(AdapterConfig(hidden_size=32, memory_tokens=6, segment_tokens=40)))
    url = f"sqlite:///{tmp_path / 'segments.db'}"
    fields = {"recent_tokens": 16, "steps": 1, "mode": "inline"}
    with GradMemConversationMemory("a", gm, url=url, **fields) as conv:
        assert conv.policy.segment_tokens == 40
        conv.add_messages(chat(12))
        assert conv.memory_blocks and all(b.tokens <= 40 for b in conv.memory_blocks)
    with GradMemConversationMemory("b", gm, url=url, segment_tokens=64, **fields) as conv:
        assert conv.policy.segment_tokens == 64  # given: kept
    with GradMemConversationMemory("c", tiny_gm, url=url, **fields) as conv:
        assert conv.policy.segment_tokens == DEFAULT_SEGMENT_TOKENS  # no adapter
    lazy = GradMemConversationMemory("d", url=url, **fields)  # the engine loads on first use
    assert lazy.policy.segment_tokens is None
    lazy.close()
    with pytest.raises(ValueError, match="resolve it first"):
        plan_blocks([], tiny_gm.count_tokens, MemoryPolicy())


def test_sessions_never_see_each_other(tiny_gm, url, sid):
    alice = conv_for(tiny_gm, url, sid)
    bob = conv_for(tiny_gm, url, sid + "-bob")
    alice.add_messages(chat(30, tag="alice "))
    bob.add_messages(chat(16, tag="bob "))
    for conv, tag in ((alice, "alice "), (bob, "bob ")):
        assert all(m.content.startswith(tag) for m in conv.transcript)
        context = conv.read_context("who am I?")
        assert all(tag in m["content"] or m["content"] == "who am I?" for m in context.messages)
        assert {b.id for b in conv.memory_blocks} == {b.id for b in context.blocks}
    assert not {b.id for b in alice.memory_blocks} & {b.id for b in bob.memory_blocks}
    alice.clear()
    assert alice.transcript == [] and alice.memory_blocks == []
    assert len(bob.transcript) == 16 and bob.memory_blocks
    bob.clear()
    alice.close()
    bob.close()


# -- input -------------------------------------------------------------------------------------------------------

BAD = [
    ("", ValueError),
    ("  \n\t ", ValueError),
    (None, TypeError),
    (42, TypeError),
    (b"bytes", TypeError),
    ("lone \udc80 surrogate", ValueError),
    ("nul \x00 char", ValueError),
    ({"role": "wizard", "content": "hi"}, ValueError),
    ({"role": "user"}, ValueError),
    ({"role": "user", "content": "hi", "colour": "red"}, ValueError),
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}, TypeError),
    ({"role": "user", "content": ["fine", {"type": "text", "text": "\ud800"}]}, ValueError),
    ({"role": "user", "content": "hi", "tool_calls": [{"name": "f", "args": {}}]}, ValueError),
    ({"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]},
     ValueError),
    ([{"role": "user", "content": "good"}, {"role": "user", "content": "   "}], ValueError),
]


@pytest.mark.parametrize(("bad", "error"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_changes_nothing(tiny_gm, url, sid, bad, error):
    conv = conv_for(tiny_gm, url, sid)
    conv.add_messages(chat(20))
    before = state(conv)
    if isinstance(bad, list):
        call = lambda: conv.add_messages(bad)  # noqa: E731
    elif isinstance(bad, dict):
        call = lambda: conv.add_message(bad)  # noqa: E731
    else:
        call = lambda: conv.add_user_message(bad)  # noqa: E731
    with pytest.raises(error):
        call()
    if not isinstance(bad, dict | list):
        with pytest.raises(error):
            conv.respond(bad)
    assert state(conv) == before
    conv.close()


def test_bad_session_ids_and_langchain_input(tiny_gm, url, sid):
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    with SQLStore(url) as store:
        sessions = {s.session_id for s in store.list_sessions()}
    with pytest.raises(ValueError, match="512"):
        GradMemConversationMemory("x" * 513, tiny_gm, url=url)
    with pytest.raises(ValueError):
        GradMemConversationMemory("", tiny_gm, url=url)
    with pytest.raises(TypeError):
        GradMemConversationMemory(7, tiny_gm, url=url)
    with pytest.raises(ValueError):
        GradMemConversationMemory("bad\udc80", tiny_gm, url=url)
    ok = GradMemConversationMemory("é/ü " * 128, tiny_gm, url=url)  # 512 characters: fine
    with SQLStore(url) as store:
        assert {s.session_id for s in store.list_sessions()} == sessions
    ok.close()

    conv = conv_for(tiny_gm, url, sid)
    image = HumanMessage(content=[{"type": "text", "text": "look"}, {"type": "image", "url": "http://x/y.png"}])
    with pytest.raises(TypeError, match="not text"):
        conv.add_messages([HumanMessage("fine"), image])
    assert conv.transcript == []
    conv.add_messages([
        SystemMessage("Be brief."),
        HumanMessage(content=[{"type": "text", "text": "part one"}, "part two"]),
        AIMessage("", tool_calls=[{"name": "search", "args": {"q": "bees"}, "id": "c1"}]),
        ToolMessage("bees are insects", tool_call_id="c1"),
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "lookup", "arguments": '{"k": 1}'}}]},
        {"role": "tool", "content": "1", "tool_call_id": "c2"},
        {"role": "ai", "content": "Bees are insects."},
    ])
    stored = conv.transcript
    assert stored[1].content == "part one\npart two"
    assert stored[2].tool_calls == [{"name": "search", "args": {"q": "bees"}, "id": "c1"}]
    assert stored[4].tool_calls == [{"name": "lookup", "args": {"k": 1}, "id": "c2"}]
    assert "<tool_call>" in stored[2].turn()["content"]
    back = conv.langchain_messages()
    assert [type(m).__name__ for m in back] == ["SystemMessage", "HumanMessage", "AIMessage", "ToolMessage",
                                                "AIMessage", "ToolMessage", "AIMessage"]
    assert back[2].tool_calls[0]["args"] == {"q": "bees"} and back[3].tool_call_id == "c1"
    conv.close()


def test_long_message_is_split_across_blocks_not_truncated(tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid)
    story = " ".join(f"Sentence {i} tells how the bees found clover near the river." for i in range(30))
    conv.add_messages([{"role": "user", "content": story}, {"role": "assistant", "content": "What a story."},
                       {"role": "user", "content": "Thanks."}, {"role": "assistant", "content": "Any time."}])
    pieces = [b for b in conv.memory_blocks if b.first_seq == 0]
    assert len(pieces) >= 5 and all(b.last_seq == 0 and b.vectors.shape[0] == 4 for b in pieces)
    assert sum(b.tokens for b in pieces) >= tiny_gm.count_tokens(story)  # every piece written, nothing cut
    assert conv.transcript[0].content == story
    conv.close()


def test_a_message_longer_than_the_model_never_wedges_the_session(tokenizer, tmp_path):
    """Memory of one huge message must not outgrow the model: each piece is a block, READ takes a few."""
    gm = GradMem(make_tiny_llama(len(tokenizer), max_positions=256), tokenizer, name="tiny-llama")
    url = f"sqlite:///{tmp_path / 'huge.db'}"
    with GradMemConversationMemory("huge", gm, url=url, **{**SMALL, "segment_tokens": 64, "read_blocks": 4}) as conv:
        huge = " ".join(f"Line {i} of the log says the pump at station {i % 7} is fine." for i in range(300))
        conv.add_messages([{"role": "user", "content": huge}, {"role": "assistant", "content": "Long log."}])
        conv.add_messages([{"role": "user", "content": "ok"}, {"role": "assistant", "content": "ok"}] * 3)
        assert len(conv.memory_blocks) > 20
        ctx = conv.read_context("Which station has a pump?", reply_tokens=8)
        assert len(ctx.blocks) <= conv.policy.read_blocks
        assert ctx.vectors + len(prompt_ids(gm.tokenizer, ctx.messages)) + 8 <= 256
        assert conv.respond("Which station has a pump?", max_new_tokens=8) is not None
        conv.rebuild()
        assert isinstance(conv.respond(huge, max_new_tokens=8), str)  # a question longer than the model
        assert conv.transcript[-2].content == huge  # stored whole


# -- policy ------------------------------------------------------------------------------------------------------


def test_tool_calls_never_split_between_memory_and_text(tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid, recent_tokens=40)
    for i in range(12):
        conv.add_messages([{"role": "user", "content": f"Question {i}: what is the weather in town {i}?"}])
        conv.add_ai_message("", tool_calls=[{"name": "weather", "args": {"town": i}, "id": f"a{i}"},
                                            {"name": "clock", "args": {}, "id": f"b{i}"}])
        conv.add_messages([{"role": "tool", "content": f"sunny, {10 + i} C", "tool_call_id": f"a{i}"}])
        conv.add_messages([{"role": "tool", "content": "noon", "tool_call_id": f"b{i}"}])
        conv.add_ai_message(f"It is sunny and {10 + i} C at noon in town {i}.")
        transcript, upto = conv.transcript, conv.store.compressed_upto(sid)
        if upto >= 0:  # the memory/text boundary (blocks may split a pair among themselves: all is memory)
            assert not transcript[upto].tool_calls
            assert upto + 1 == len(transcript) or transcript[upto + 1].role != "tool"
    assert len(conv.memory_blocks) >= 3
    conv.close()


def test_plan_keeps_partial_segments_and_tool_pairs_as_text():
    count = lambda text: len(text.split())  # noqa: E731  (one "token" per word)
    policy = MemoryPolicy(recent_tokens=6, segment_tokens=12, min_keep_messages=1)
    msgs = [Message("user", "one two three four", seq=i) for i in range(6)]  # 5 words rendered
    plans = plan_blocks(msgs, count, policy)
    assert [(p.first_seq, p.last_seq) for p in plans] == [(0, 1), (2, 3)]  # msg 4 (partial) stays text
    assert plan_blocks(msgs[:3], count, policy) == []  # 10 words outside the window: not a segment yet
    assert [(p.first_seq, p.last_seq) for p in plan_blocks(msgs, count, policy, keep_last=0)][-1] == (4, 5)

    call = Message("assistant", "", tool_calls=[{"name": "f", "args": {}, "id": "1"}], seq=3)
    tooled = [*msgs[:3], call, Message("tool", "result here", seq=4), *msgs[5:]]
    assert [(p.first_seq, p.last_seq) for p in plan_blocks(tooled, count, policy)] == [(0, 1)]

    long = [Message("user", "word " * 40, seq=0), Message("assistant", "ok", seq=1), Message("user", "yes", seq=2)]
    plans = plan_blocks(long, count, policy)
    assert len(plans) >= 4 and all((p.first_seq, p.last_seq) == (0, 0) for p in plans)


def test_consolidation_keeps_transcript_and_range(tokenizer, url, sid):
    gm = GradMem(make_tiny_llama(len(tokenizer), max_positions=1024), tokenizer, name="tiny-llama")
    conv = conv_for(gm, url, sid, max_blocks=100)
    conv.add_messages(chat(40))
    conv.compress(keep_last=4)
    before = conv.memory_blocks
    assert len(before) >= 6

    capped = conv_for(gm, url, sid, max_blocks=3)
    merged = capped.compress()
    after = capped.memory_blocks
    assert len(after) <= 3 and max(b.level for b in after) >= 2 and merged
    assert (after[0].first_seq, after[-1].last_seq) == (before[0].first_seq, before[-1].last_seq)
    assert_contiguous(after, capped.store.compressed_upto(sid))
    assert [m.content for m in capped.transcript] == [m["content"] for m in chat(40)]
    for block in after:
        assert block.vectors.shape[0] == 4
        if block.level:  # re-written from the transcript: every token of the range, once
            turns = capped.transcript[block.first_seq : block.last_seq + 1]
            assert block.tokens == sum(gm.count_tokens(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n")
                                       for m in turns)
    capped.add_messages(chat(12, tag="more "))
    assert len(capped.memory_blocks) <= 3
    conv.close()
    capped.close()


def test_policy_validation():
    MemoryPolicy()
    for bad in ({"segment_tokens": 4}, {"max_blocks": 1}, {"mode": "lazy"}, {"lr": -1.0}, {"recent_tokens": -1},
                {"memory_tokens": 0}, {"steps": -1}, {"lease_ttl_s": 0}):
        with pytest.raises(ValueError):
            MemoryPolicy(**bad)
    with pytest.raises(TypeError):
        GradMemConversationMemory("p", url="sqlite://", recent_token=3)
    with pytest.raises(ValueError, match="on_mismatch"):
        GradMemConversationMemory("p", url="sqlite://", on_mismatch="ignore")


# -- async -------------------------------------------------------------------------------------------------------


async def test_async_twins(tiny_gm, url, sid):
    conv = conv_for(tiny_gm, url, sid, recent_tokens=10_000)
    await conv.aadd_messages(chat(8))
    await conv.aadd_user_message("async user")
    await conv.aadd_ai_message("async ai")
    reply = await conv.arespond("async question?", max_new_tokens=3)
    pieces = [p async for p in conv.astream("streamed?", max_new_tokens=3)]
    transcript = await conv.aget_transcript()
    assert [m.content for m in transcript[-6:]] == ["async user", "async ai", "async question?", reply,
                                                    "streamed?", "".join(pieces).strip()]
    assert await conv.aget_memory_blocks() == []
    blocks = await conv.acompress(keep_last=2)
    assert blocks and blocks[-1].last_seq == len(transcript) - 3
    assert [m.seq for m in await conv.aget_messages()] == [m.seq for m in conv.messages]
    assert (await conv.astats()) == conv.stats()
    context = await conv.aread_context("q?")
    assert len(context.blocks) == len(blocks)
    rebuilt = await conv.arebuild()
    assert [(b.first_seq, b.last_seq) for b in rebuilt] == [(b.first_seq, b.last_seq) for b in blocks]
    with pytest.raises(ValueError):
        await conv.aadd_user_message("   ")
    assert len(await conv.aget_transcript()) == len(transcript)
    await conv.await_compression()
    await conv.aclose()


def test_every_policy_field_is_a_constructor_argument():
    """The explicit keyword arguments must not drift from MemoryPolicy when a field is added."""
    import dataclasses
    import inspect

    params = inspect.signature(GradMemConversationMemory.__init__).parameters
    missing = {f.name for f in dataclasses.fields(MemoryPolicy)} - set(params)
    assert not missing, f"MemoryPolicy fields without a GradMemConversationMemory argument: {missing}"
    doc = GradMemConversationMemory.__doc__ or ""
    assert all(f"{f.name}:" in doc for f in dataclasses.fields(MemoryPolicy))
