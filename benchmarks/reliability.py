"""Fault injection: kill -9 writers during WRITEs and inside transactions, and feed the API bad input.

    python benchmarks/reliability.py            # full: 200 kills, 8 writers x 500 appends, per database
    python benchmarks/reliability.py --quick    # a short run (tests/test_reliability.py runs it)

Writers are forked from this process (the tiny random Llama is built once, so a replacement starts in
milliseconds) and append keyed messages to one shared session in inline mode, so each may be compressing
when it dies. A killer picks a writer inside a WRITE or inside a database transaction (alternately) and kills
it; a replacement picks up after the writer's last acknowledged message and sends the unacknowledged one again
with its key. At the end every acknowledged message must be stored once, seqs must run without gaps, and no
replacement may wait longer than --max-stall-s for the dead writer's lease.

The fuzzer sends generated bad inputs to the Python API (conversation, policy, store), the LangChain history
and middleware, and the CLI; each must raise a typed error (ValueError, TypeError, StorageError; the CLI: exit
status 1 or 2 with a one-line error) and leave the stored state exactly as it was.

Prints the counts and saves JSON and a PNG under benchmarks/results/ (--out to choose).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing as mp
import os
import platform
import random
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)  # writers are forked: no thread pools in the parent

from gradmem_agent.storage import Message, SQLStore  # noqa: E402

from gradmem_agent import GradMem, GradMemConversationMemory, MemoryPolicy, StorageError  # noqa: E402
from tests.conftest import make_tiny_llama  # noqa: E402

# No consolidation: each pass past the cap re-reads the transcript of every block pair, which would make the
# writers, not the faults, the measure (consolidation has its own tests in test_conversation.py).
POLICY = {"recent_tokens": 64, "segment_tokens": 48, "memory_tokens": 4, "steps": 2, "max_blocks": 100_000,
          "mode": "inline", "read_blocks": None}
PHASES = ("write", "transaction")
IDLE, IN_WRITE, IN_TRANSACTION = 0, 1, 2


# -- writers and the killer ----------------------------------------------------------------------------------------


def content(worker: int, index: int) -> str:
    return f"writer {worker} message {index}: the pump at station {index % 7} reads {index * 3} bar"


def _writer(gm: GradMem, url: str, sid: str, worker: int, count: int, acks: Path, phase: Any, ready: Any) -> None:
    """Append messages `next unacknowledged`..count-1, acknowledging each in `acks` once add_message returns."""
    from sqlalchemy import event

    done = [int(line) for line in acks.read_text().split()] if acks.exists() else []
    start = (max(done) + 1) if done else 0

    def progress(step: int, total: int) -> None:
        phase.value = IN_WRITE

    conv = GradMemConversationMemory(sid, gm, url=url, write_progress=progress, **POLICY)
    engine = conv.store.sql_engine
    event.listen(engine, "begin", lambda conn: setattr(phase, "value", IN_TRANSACTION))
    event.listen(engine, "commit", lambda conn: setattr(phase, "value", IDLE))
    event.listen(engine, "rollback", lambda conn: setattr(phase, "value", IDLE))
    ready.value = time.time()
    with open(acks, "a") as out:
        for index in range(start, count):
            role = "user" if index % 2 == 0 else "assistant"
            conv.add_message({"role": role, "content": content(worker, index), "key": f"w{worker}-{index}"})
            phase.value = IDLE
            out.write(f"{index}\n")
            out.flush()
    conv.close()


class Writers:
    """N forked writer processes on one session, each replaceable after a kill."""

    def __init__(self, gm: GradMem, url: str, sid: str, n: int, count: int, work: Path) -> None:
        self.gm, self.url, self.sid, self.count, self.work = gm, url, sid, count, work
        self.ctx = mp.get_context("fork")
        self.phases = [self.ctx.Value("i", IDLE, lock=False) for _ in range(n)]
        self.ready = [self.ctx.Value("d", 0.0, lock=False) for _ in range(n)]
        self.procs: list[Any] = [None] * n
        for worker in range(n):
            self.start(worker)

    def acks(self, worker: int) -> Path:
        return self.work / f"acks-{worker}.txt"

    def acked(self, worker: int) -> int:
        path = self.acks(worker)
        return len(path.read_text().split()) if path.exists() else 0

    def start(self, worker: int) -> None:
        self.phases[worker].value, self.ready[worker].value = IDLE, 0.0
        proc = self.ctx.Process(target=_writer, args=(self.gm, self.url, self.sid, worker, self.count,
                                                      self.acks(worker), self.phases[worker], self.ready[worker]))
        proc.start()
        self.procs[worker] = proc

    def running(self) -> list[int]:
        return [w for w, p in enumerate(self.procs) if p.is_alive()]

    def kill(self, worker: int) -> None:
        os.kill(self.procs[worker].pid, signal.SIGKILL)
        self.procs[worker].join()

    def first_ack(self, worker: int, timeout: float) -> float:
        """Seconds from the replacement being ready to its first acknowledged message (inf past timeout)."""
        before = self.acked(worker)
        deadline = time.monotonic() + timeout
        while self.acked(worker) == before:
            if time.monotonic() > deadline:
                return math.inf
            if not self.procs[worker].is_alive():
                break
            time.sleep(0.005)
        ready = self.ready[worker].value
        return max(0.0, time.time() - ready) if ready else math.inf

    def join(self) -> list[int]:
        for proc in self.procs:
            proc.join()
        return [p.exitcode for p in self.procs]


def run_kills(gm: GradMem, url: str, writers: int, appends: int, kills: int, max_stall_s: float,
              rng: random.Random) -> dict[str, Any]:
    sid = f"reliability-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    stalls: list[float] = []  # how long the next writer waited on what the dead one held
    first_acks: list[float] = []  # how long its replacement took to store its first message (work included)
    landed = {"write": 0, "transaction": 0, "other": 0}
    with tempfile.TemporaryDirectory() as tmp:
        pool = Writers(gm, url, sid, writers, appends, Path(tmp))
        n = 0
        while n < kills:
            time.sleep(rng.uniform(0.0, 0.05))
            alive = [w for w in pool.running() if pool.ready[w].value and pool.acked(w) < appends - 1]
            if not alive:
                if not pool.running():
                    break  # every writer is done
                continue  # writers still starting, or finishing their last message
            n += 1
            want = IN_WRITE if PHASES[n % 2] == "write" else IN_TRANSACTION
            victim, deadline = None, time.monotonic() + 2.0
            while victim is None and time.monotonic() < deadline:
                inside = [w for w in alive if pool.phases[w].value == want and pool.procs[w].is_alive()]
                victim = rng.choice(inside) if inside else None
                if victim is None:
                    time.sleep(0.0005)
            kind = PHASES[n % 2] if victim is not None else "other"
            victim = victim if victim is not None else rng.choice(alive)
            if not pool.procs[victim].is_alive():
                continue
            pid = pool.procs[victim].pid
            pool.kill(victim)
            landed[kind] += 1
            stalls.append(next_writer_wait(url, sid, pid, timeout=120.0))
            pool.start(victim)
            first_acks.append(pool.first_ack(victim, timeout=120.0))
        exit_codes = pool.join()
        acknowledged = {f"w{w}-{i}" for w in range(writers) for i in map(int, pool.acks(w).read_text().split())}
    with SQLStore(url) as store:
        stored = store.messages(sid)
        blocks = store.blocks(sid)
        upto = store.compressed_upto(sid)
        store.check_session(sid)
        store.delete_session(sid)
    keys = [m.key for m in stored]
    found = set(keys)
    seqs = [m.seq for m in stored]
    contents = [m.content for m in stored]
    return {
        "database": url.split(":", 1)[0], "writers": writers, "appends_each": appends,
        "kills": sum(landed.values()), "kills_in_write": landed["write"], "kills_in_transaction": landed["transaction"],
        "kills_elsewhere": landed["other"], "writer_exit_codes": exit_codes,
        "acknowledged": len(acknowledged), "found": len(stored), "expected": writers * appends,
        "lost": len(acknowledged - found), "duplicates": len(keys) - len(found) + len(contents) - len(set(contents)),
        "seqs_contiguous": seqs == list(range(len(seqs))),
        "memory_contiguous": _contiguous(blocks, upto),
        "blocks": len(blocks), "compressed_upto": upto,
        "max_stall_s": max(stalls, default=0.0), "stalls_over_limit": sum(s > max_stall_s for s in stalls),
        "stalls_s": [round(s, 4) for s in stalls], "seconds": round(time.monotonic() - started, 1),
        "replacement_first_ack_s": [round(s, 3) for s in first_acks],
    }


def next_writer_wait(url: str, sid: str, dead_pid: int, timeout: float) -> float:
    """Seconds until a fresh writer gets the session's write lock and compression lease, or finds the lease held
    by a live writer: what the dead writer's locks and lease cost the next one."""
    from sqlalchemy import text

    dead = f"{socket.gethostname()}:{dead_pid}:"
    owner = f"reliability-probe-{uuid.uuid4().hex[:8]}"
    start = time.monotonic()
    with SQLStore(url) as store:  # made and closed here: no connection of it reaches a forked writer
        while time.monotonic() - start < timeout:
            if store.acquire_lease(sid, owner, 60):
                store.release_lease(sid, owner)
                return time.monotonic() - start
            with store.sql_engine.connect() as conn:
                holder = conn.execute(text("SELECT write_lease_owner FROM sessions WHERE id = :s"), {"s": sid}).scalar()
            if not (holder or "").startswith(dead):
                return time.monotonic() - start
            time.sleep(0.005)
    return math.inf


def _contiguous(blocks: list, upto: int) -> bool:
    ends = -1
    for block in blocks:
        piece = block.first_seq == block.last_seq == ends
        if block.first_seq != ends + 1 and not piece:
            return False
        ends = block.last_seq
    return ends == upto


# -- the fuzzer ------------------------------------------------------------------------------------------------------

TYPED = (ValueError, TypeError, StorageError)
BAD_TEXT: list[Any] = [None, 42, 3.5, True, b"bytes", "", "   \n\t", "nul \x00 here", "lone \udc80", {"a": 1},
                       [1, 2], [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}], object(),
                       math.nan, ["ok", {"type": "text", "text": "\ud800"}]]
BAD_ROLES: list[Any] = ["wizard", None, 5, "", "USER", "user "]
BAD_SIDS: list[Any] = ["", "x" * 513, 7, None, "bad \udc80", "nul\x00", b"bytes", ["s"]]
BAD_NUMBERS: list[Any] = [True, False, -1, "5", 2.5, math.inf, math.nan, None, [3]]
POLICY_FIELDS = ["recent_tokens", "segment_tokens", "memory_tokens", "max_blocks", "read_blocks", "recall_tokens",
                 "min_keep_messages", "steps", "lr", "lease_ttl_s", "max_message_chars", "mode"]


def bad_messages(limit: int) -> Iterator[tuple[str, Any]]:
    """(label, the argument of add_messages) pairs, each with at least one bad message."""
    good = {"role": "user", "content": "fine"}
    for i, value in enumerate(BAD_TEXT):
        yield f"content[{i}]", [{"role": "user", "content": value}]
        yield f"content[{i}] after a good one", [good, {"role": "assistant", "content": value}]
    for role in BAD_ROLES:
        yield f"role {role!r}", [{"role": role, "content": "hi"}]
    yield "too long", [{"role": "user", "content": "x" * (limit + 1)}]
    yield "too long, second", [good, {"role": "user", "content": "y" * (limit + 5)}]
    yield "unknown key", [{"role": "user", "content": "hi", "colour": "red"}]
    yield "no role", [{"content": "hi"}]
    yield "no content", [{"role": "user"}]
    yield "tool calls on user", [{"role": "user", "content": "hi", "tool_calls": [{"name": "f", "args": {}}]}]
    for i, calls in enumerate(["f", [1], [{"args": {}}], [{"name": "", "args": {}}], [{"name": "f", "args": "x"}],
                               [{"name": "f", "args": [1]}], [{"function": {"name": "f", "arguments": "{oops"}}],
                               [{"name": "f", "args": {}, "id": 5}]]):
        yield f"tool_calls[{i}]", [{"role": "assistant", "content": "", "tool_calls": calls}]
    for field in ("name", "tool_call_id", "key"):
        for value in (5, "nul\x00", "\udc80"):
            yield f"{field}={value!r}", [{"role": "tool" if field == "tool_call_id" else "user", "content": "hi",
                                          field: value}]
    yield "empty key", [{"role": "user", "content": "hi", "key": ""}]
    yield "key too long", [{"role": "user", "content": "hi", "key": "k" * 256}]
    yield "key twice in a call", [{**good, "key": "k"}, {**good, "key": "k"}]
    yield "extra NaN", [{**good, "extra": {"v": math.nan}}]
    yield "extra set", [{**good, "extra": {1, 2}}]
    for i, value in enumerate(["a string", b"bytes", {"role": "user", "content": "hi"}, 42, None]):
        yield f"not a list [{i}]", value


def python_api_cases(conv: GradMemConversationMemory, url: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    limit = conv.policy.max_message_chars or 1_000_000
    store = conv.store
    sid = conv.session_id
    for label, batch in bad_messages(limit):
        yield f"add_messages {label}", lambda b=batch: conv.add_messages(b)
    for i, value in enumerate(BAD_TEXT):
        yield f"add_user_message content[{i}]", lambda v=value: conv.add_user_message(v)
        yield f"respond content[{i}]", lambda v=value: conv.respond(v, max_new_tokens=2)
    yield "respond too long", lambda: conv.respond("q" * (limit + 1), max_new_tokens=2)
    for value in BAD_NUMBERS:
        if value is None:
            continue  # keep_last=None and max_new_tokens=None are the defaults
        yield f"compress keep_last={value!r}", lambda v=value: conv.compress(keep_last=v)
        yield f"respond max_new_tokens={value!r}", lambda v=value: conv.respond("hi?", max_new_tokens=v)
    for field in POLICY_FIELDS:
        for value in [*BAD_NUMBERS, 0, 10**12, -(10**12)] if field != "mode" else ["lazy", None, 1, True]:
            if field in ("read_blocks", "segment_tokens", "memory_tokens", "steps", "lr", "max_message_chars") \
                    and value is None:
                continue  # None is allowed there
            if value == 0 and field in ("recent_tokens", "read_blocks", "recall_tokens", "min_keep_messages", "steps"):
                continue  # 0 is allowed there
            if field in ("segment_tokens", "memory_tokens", "recent_tokens", "recall_tokens", "steps",
                         "max_message_chars", "max_blocks") and value == 10**12:
                continue  # too big is a number the engine refuses later, on use
            if (field in ("lr", "lease_ttl_s") and value == 2.5) or (field == "lr" and value == 10**12):
                continue  # legal, however odd
            if field in ("read_blocks", "min_keep_messages") and value == 10**12:
                continue  # legal: every block, every message
            yield f"policy {field}={value!r}", lambda f=field, v=value: MemoryPolicy(**{f: v})
            yield f"conversation {field}={value!r}", lambda f=field, v=value: GradMemConversationMemory(
                sid, conv.engine, url=url, **{**POLICY, f: v})
    yield "conversation with url and store", lambda: GradMemConversationMemory(sid, conv.engine, url=url, store=store)
    yield "conversation on_mismatch", lambda: GradMemConversationMemory(sid, conv.engine, url=url, on_mismatch="x")
    yield "segment too big for the model", lambda: GradMemConversationMemory(
        sid, conv.engine, url=url, **{**POLICY, "segment_tokens": conv.engine.max_positions}).add_user_message("hi")
    for value in BAD_SIDS:
        yield f"conversation session {value!r}", lambda v=value: GradMemConversationMemory(v, conv.engine, url=url)
        yield f"store append session {value!r}", lambda v=value: store.append_messages(v, [Message("user", "hi")])
        yield f"store lease session {value!r}", lambda v=value: store.acquire_lease(v, "me", 10)
    for value in (*[v for v in BAD_NUMBERS if v != 2.5], 0, 1e12, 86_401):
        yield f"store lease ttl {value!r}", lambda v=value: store.acquire_lease(sid, "me", v)
    for value in ("a", None, 2.5, True):
        yield f"store messages start {value!r}", lambda v=value: store.messages(sid, v)
        yield f"store search limit {value!r}", lambda v=value: store.search_messages(sid, "pump", limit=v)
    yield "store search limit 0", lambda: store.search_messages(sid, "pump", limit=0)
    yield "store prune naive", lambda: store.prune(sid, before=datetime.now(), what="memory")
    yield "store prune what", lambda: store.prune(sid, before=datetime.now(timezone.utc), what="all")
    yield "store append not messages", lambda: store.append_messages(sid, [{"role": "user", "content": "hi"}])
    yield "store append message key conflict", lambda: store.append_messages(sid, [Message("user", "other", key="k0")])
    yield "store add_block stale", lambda: store.add_block(sid, _nan_block(False), expected_compressed_upto=-1)
    yield "store add_block NaN", lambda: store.add_block(sid, _nan_block(True), expected_compressed_upto=-1)


def _nan_block(nan: bool):
    from gradmem_agent.storage import MemoryBlock, WriteStats

    stats = WriteStats(tokens=4, token_accuracy=1.0, loss=0.1, steps=1, seconds=0.1)
    vectors = torch.full((2, 32), math.nan) if nan else torch.ones(2, 32)
    return MemoryBlock.written(vectors, stats, "tiny").placed(0, 1)


def langchain_cases(gm: GradMem, url: str, sid: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    from gradmem_agent.integrations.langchain import GradMemChatMessageHistory, GradMemMiddleware
    from langchain_core.messages import AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.runnables import RunnableLambda

    history = GradMemChatMessageHistory(sid, gm, url=url, **{k: v for k, v in POLICY.items() if k != "mode"})
    middleware = GradMemMiddleware(gm, url=url, **{k: v for k, v in POLICY.items() if k != "mode"})
    # What LangChain itself lets through but no store can keep (images and empty messages are not among them:
    # the integration keeps their text, or "(empty)").
    bad = [
        ("nul", HumanMessage(content="a\x00b")),
        ("surrogate", HumanMessage(content="\udc80")),
        ("nul in a text block", HumanMessage(content=[{"type": "text", "text": "\x00"}])),
        ("nul in ai", AIMessage(content="ok\x00")),
        ("nul in system", SystemMessage(content="be \x00 brief")),
        ("surrogate in tool", ToolMessage(content="\ud800", tool_call_id="c1")),
        ("nul in tool call id", ToolMessage(content="fine", tool_call_id="c\x00")),
        ("unknown chat role", ChatMessage(content="fine", role="wizard")),
        ("tool args NaN", AIMessage(content="", tool_calls=[{"name": "f", "args": {"x": math.nan}, "id": "c"}])),
        ("too long", HumanMessage(content="x" * 1_000_001)),
    ]
    for label, message in bad:
        yield f"history {label}", lambda m=message: history.add_messages([HumanMessage("fine"), m])
        run = RunnableLambda(lambda state: middleware.before_model(state, None))
        config = {"configurable": {"thread_id": sid.removeprefix(middleware.session_prefix)}}
        yield f"middleware {label}", lambda m=message, r=run, c=config: r.invoke(
            {"messages": [HumanMessage("fine", id="h1"), m]}, config=c)
    yield "history no session", lambda: GradMemChatMessageHistory(None, gm, url=url)
    yield "middleware url and store", lambda: GradMemMiddleware(gm, url=url, store=SQLStore(url))


def cli_cases(url: str, sid: str, work: Path) -> Iterator[tuple[str, list[str]]]:
    junk = work / "junk.db"
    junk.write_bytes(b"not a database" * 64)
    empty = work / "empty.txt"
    empty.write_text("  \n")
    for value in ("", "x" * 513, "bad\udc80"):
        for command in ("show", "delete", "stats"):
            yield f"sessions {command} session {value[:8]!r}", ["sessions", command, value, "--db", url]
    for db in (f"sqlite:///{junk}", f"sqlite:///{work / 'no' / 'dir.db'}", "postgresql+psycopg://u@127.0.0.1:1/x",
               "nonsense://x"):
        yield f"sessions list {db[:24]}", ["sessions", "list", "--db", db]
    yield "ingest missing file", ["ingest", str(work / "missing.txt"), "--session", sid, "--db", url]
    yield "ingest empty file", ["ingest", str(empty), "--session", sid, "--db", url]
    yield "ingest a directory", ["ingest", str(work), "--session", sid, "--db", url]
    for option in ("--steps", "--memory-tokens", "--segment-tokens", "--recent-tokens", "--max-new-tokens"):
        for value in ("-1", "abc", "1e99"):
            yield f"chat {option} {value}", ["chat", "--session", sid, "--db", url, option, value]
    yield "no such command", ["frobnicate"]


def run_fuzz(gm: GradMem, url: str, cli_subprocesses: int) -> dict[str, Any]:
    from gradmem_agent.cli import main as cli_main

    sid = f"fuzz-{uuid.uuid4().hex[:12]}"
    conv = GradMemConversationMemory(sid, gm, url=url, **{**POLICY, "max_message_chars": 4000})
    conv.add_messages([{"role": "user" if i % 2 == 0 else "assistant", "content": content(0, i), "key": f"k{i}"}
                       for i in range(24)])
    results: dict[str, Any] = {"tried": 0, "typed": 0, "untyped": [], "accepted": [], "changed": [], "by_surface": {}}

    def check(surface: str, label: str, call: Callable[[], Any], sessions: list[str]) -> None:
        before = [_state(url, s) for s in sessions]
        outcome, detail = _outcome(call)
        after = [_state(url, s) for s in sessions]
        results["tried"] += 1
        results["by_surface"][surface] = results["by_surface"].get(surface, 0) + 1
        if outcome == "typed":
            results["typed"] += 1
        else:
            results[outcome].append(f"{surface}: {label}" + (f" -> {detail}" if detail else ""))
        if before != after:
            results["changed"].append(f"{surface}: {label}")

    for label, call in python_api_cases(conv, url):
        check("python", label, call, [sid])
    lc_sid = f"fuzz-lc-{uuid.uuid4().hex[:8]}"
    for label, call in langchain_cases(gm, url, lc_sid):
        check("langchain", label, call, [lc_sid])
    with tempfile.TemporaryDirectory() as tmp:
        for n, (label, argv) in enumerate(cli_cases(url, sid, Path(tmp))):
            via = "subprocess" if n < cli_subprocesses else "in-process"
            check("cli", f"{label} ({via})", lambda a=argv, v=via: _cli(a, v, cli_main), [sid])
    conv.clear()
    conv.close()
    results["state_changes"] = len(results["changed"])
    return results


class _Accepted(Exception):
    pass


def _outcome(call: Callable[[], Any]) -> tuple[str, str]:
    """("typed", ""), ("accepted", "") or ("untyped", what was raised)."""
    try:
        call()
    except TYPED:
        return "typed", ""
    except _Accepted:
        return "accepted", ""
    except Exception as exc:  # anything else is what the fuzzer is looking for
        return "untyped", f"{type(exc).__name__}: {str(exc)[:200]}"
    return "accepted", ""


def _cli(argv: list[str], via: str, cli_main: Callable[[list[str]], int]) -> None:
    """Run the CLI; a one-line error with exit 1 (2: usage) is its typed refusal, raised here as ValueError."""
    if via == "subprocess":
        import subprocess

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "gradmem_agent.cli", *argv], capture_output=True, text=True,
                              env=env, timeout=300, errors="surrogateescape")
        code, err = done.returncode, done.stderr
    else:
        buffer = io.StringIO()
        with contextlib.redirect_stderr(buffer), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli_main(argv)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 2
        err = buffer.getvalue()
    lines = err.strip().splitlines()
    if code == 0:
        raise _Accepted
    if code == 1 and len(lines) == 1 and lines[0].startswith("gradmem: error: "):
        raise ValueError(lines[0])
    if code == 2 and lines and lines[-1].startswith("gradmem") and "error:" in lines[-1] and "Traceback" not in err:
        raise ValueError(lines[-1])
    raise RuntimeError(f"exit {code}: {err.strip()[-300:]}")


def _state(url: str, sid: str) -> tuple:
    from sqlalchemy import text

    with SQLStore(url) as store:
        store.message_count(sid)
        with store.sql_engine.connect() as conn:
            return tuple(
                sorted(tuple(map(repr, row)) for row in conn.execute(
                    text(f"SELECT * FROM {table} WHERE {column} = :sid"), {"sid": sid}))
                for table, column in (("sessions", "id"), ("messages", "session_id"), ("memory_blocks", "session_id")))


# -- main --------------------------------------------------------------------------------------------------------------


def tiny_engine() -> GradMem:
    from transformers import AutoTokenizer

    from gradmem_agent.models import cached_default_model_dir

    tokenizer = AutoTokenizer.from_pretrained(cached_default_model_dir(), local_files_only=True)
    return GradMem(make_tiny_llama(len(tokenizer)), tokenizer, name="tiny-llama")


def run(args: argparse.Namespace, save: Callable[[dict[str, Any]], None] = lambda report: None) -> dict[str, Any]:
    """Every phase on every database; `save(report)` after each, so that a run cut short keeps what it did."""
    rng = random.Random(args.seed)
    gm = tiny_engine()
    urls = [] if args.skip_sqlite else [args.sqlite_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'reliability.db'}"]
    if args.postgres_url:
        urls.append(args.postgres_url)
    report: dict[str, Any] = {
        "benchmark": "reliability", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full", "machine": machine(), "max_stall_s": args.max_stall_s,
        "kills": [], "fuzz": [], "finished": False,
    }
    for url in urls:
        if args.kills >= 0:
            result = run_kills(gm, url, args.writers, args.appends, args.kills, args.max_stall_s, rng)
            report["kills"].append(result)
            print(summary_kills(result), flush=True)
            save(report)
        if args.fuzz:
            fuzz = {"database": url.split(":", 1)[0], **run_fuzz(gm, url, args.cli_subprocesses)}
            report["fuzz"].append(fuzz)
            print(summary_fuzz(fuzz), flush=True)
            save(report)
    report["passed"], report["finished"] = passed(report), True
    save(report)
    return report


def passed(report: dict[str, Any]) -> bool:
    kills_ok = all(k["lost"] == 0 and k["duplicates"] == 0 and k["seqs_contiguous"] and k["memory_contiguous"]
                   and k["stalls_over_limit"] == 0 and k["found"] == k["expected"] == k["acknowledged"]
                   for k in report["kills"])
    fuzz_ok = all(f["typed"] == f["tried"] and f["state_changes"] == 0 for f in report["fuzz"])
    return kills_ok and fuzz_ok


def summary_kills(k: dict[str, Any]) -> str:
    return (f"[{k['database']}] kills survived: {k['kills']} ({k['kills_in_write']} in WRITE, "
            f"{k['kills_in_transaction']} in a transaction, {k['kills_elsewhere']} elsewhere); "
            f"messages acknowledged {k['acknowledged']} / found {k['found']} / expected {k['expected']}; "
            f"lost {k['lost']}, duplicates {k['duplicates']}; seqs contiguous {k['seqs_contiguous']}, "
            f"memory contiguous {k['memory_contiguous']}; longest stall after a kill {k['max_stall_s']:.3f} s "
            f"({k['stalls_over_limit']} over the limit); {k['seconds']} s")


def summary_fuzz(f: dict[str, Any]) -> str:
    return (f"[{f['database']}] bad inputs tried: {f['tried']} ({f['by_surface']}); refused with a typed error: "
            f"{f['typed']}; untyped errors: {len(f['untyped'])}; accepted: {len(f['accepted'])}; "
            f"state changes after refused calls: {f['state_changes']}")


def machine() -> dict[str, Any]:
    return {"host": socket.gethostname(), "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "cpus": os.cpu_count()}


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for k in report["kills"]:
        stalls = sorted(s for s in k["stalls_s"] if math.isfinite(s))
        axes[0].step([0.0, *stalls], [0.0, *((i + 1) / len(stalls) for i in range(len(stalls)))], where="post",
                     label=k["database"])
    axes[0].axvline(report["max_stall_s"], color="grey", linestyle="--", label="limit")
    axes[0].set(xlabel="next writer's wait after a kill (s)", ylabel="fraction of kills", title="stalls")
    axes[0].legend()
    labels, values = [], []
    for f in report["fuzz"]:
        labels += [f"{f['database']} tried", f"{f['database']} typed", f"{f['database']} changed"]
        values += [f["tried"], f["typed"], f["state_changes"]]
    axes[1].bar(range(len(values)), values)
    axes[1].set_xticks(range(len(values)), labels, rotation=30, ha="right")
    axes[1].set_title("bad inputs")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 writers x 20 appends, 6 kills, a few CLI calls")
    parser.add_argument("--writers", type=int, default=None)
    parser.add_argument("--appends", type=int, default=None)
    parser.add_argument("--kills", type=int, default=None, help="kills per database (-1: no kill run)")
    parser.add_argument("--no-fuzz", dest="fuzz", action="store_false")
    parser.add_argument("--cli-subprocesses", type=int, default=None, help="CLI cases run as real processes")
    parser.add_argument("--max-stall-s", type=float, default=2.0)
    parser.add_argument("--sqlite-url", default=None, help="default: a fresh file")
    parser.add_argument("--postgres-url", default=os.environ.get("GRADMEM_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default: benchmarks/results/...)")
    parser.add_argument("--no-save", dest="save", action="store_false")
    args = parser.parse_args(argv)
    quick = {"writers": 2, "appends": 20, "kills": 6, "cli_subprocesses": 2}
    full = {"writers": 8, "appends": 500, "kills": 200, "cli_subprocesses": 6}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    stamp = datetime.now(timezone.utc)
    out = args.out or ROOT / "benchmarks" / "results" / (
        f"reliability-{stamp:%Y-%m-%d}-{socket.gethostname()}-{'quick' if args.quick else 'full'}.json")

    def save(report: dict[str, Any]) -> None:
        if args.save:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=2) + "\n")
            plot(report, out.with_suffix(".png"))

    report = run(args, save)
    print("passed" if report["passed"] else "FAILED", flush=True)
    if args.save:
        print(f"saved {out}", flush=True)
    return report


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
