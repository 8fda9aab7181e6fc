"""The `gradmem` command line and the examples, run as subprocesses (real default model, tiny budgets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = (
    "The lighthouse on Gull Island was built in 1887. Its keeper, Ada Brennan, lived there for thirty years. "
    "She kept a journal of every ship that passed. The lamp burned whale oil until 1921.\n"
    "In the winter of 1903 a storm destroyed the boathouse. Ada's cat was named Pepper. "
    "Supplies came every two weeks by boat from the mainland town of Kerrow.\n"
)
TINY = ["--steps", "2", "--memory-tokens", "4", "--segment-tokens", "48", "--adapter", "none"]


def run(*args: str, timeout: float = 900, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "2", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env,
                          input=stdin)


def cli(*args: str, timeout: float = 900, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run("-m", "gradmem_agent.cli", *args, timeout=timeout, stdin=stdin)


def one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradmem: error: "), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def model_available():
    from gradmem_agent.models import ModelNotFoundError, cached_default_model_dir

    try:
        cached_default_model_dir()
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"


@pytest.fixture(scope="module")
def doc(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("doc") / "lighthouse.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ingested(model_available, db, doc):
    first = cli("ingest", str(doc), "--session", "doc", "--db", db, *TINY)
    assert first.returncode == 0, first.stderr
    return first


# --help -------------------------------------------------------------------------------------------------
def test_help_subprocess():
    result = cli("--help")
    assert result.returncode == 0 and "usage: gradmem" in result.stdout
    for command in ("chat", "ingest", "ask", "sessions", "demo", "train"):
        assert command in result.stdout
    assert "--out" in cli("train", "--help").stdout  # delegated to gradmem_agent.training.train


@pytest.mark.parametrize("command", [
    ["chat"], ["ingest"], ["ask"], ["sessions"], ["sessions", "list"], ["sessions", "show"],
    ["sessions", "delete"], ["sessions", "stats"], ["demo"],
])
def test_help(command, capsys):
    from gradmem_agent.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gradmem " + " ".join(command))
    if command[0] in ("chat", "ingest", "ask", "demo"):
        assert "--db" in out and "--model" in out and "--steps" in out


def test_no_command_prints_help(capsys):
    from gradmem_agent.cli import main

    assert main([]) == 2 and "usage:" in capsys.readouterr().out


# ingest / ask -------------------------------------------------------------------------------------------
@pytest.mark.model
def test_ingest_then_ask(ingested, db):
    assert "new block(s)" in ingested.stdout and "0 already stored" in ingested.stdout
    answer = cli("ask", "--session", "doc", "--db", db, "--adapter", "none", "--memory-tokens", "4",
                 "--max-new-tokens", "6", "What was the cat called?")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip()


@pytest.mark.model
def test_ingest_is_resumable(ingested, db, doc):
    again = cli("ingest", str(doc), "--session", "doc", "--db", db, *TINY)
    assert again.returncode == 0, again.stderr
    assert "0 to write" in again.stdout and "0 new block(s)" in again.stdout


@pytest.mark.model
def test_ingest_resumes_after_interruption(model_available, tmp_path, doc):
    """Segments stored but never written (a crash between the two) are written by the next run, once."""
    from gradmem_agent import GradMem, GradMemConversationMemory
    from gradmem_agent.documents import plan_ingest

    url = f"sqlite:///{tmp_path / 'resume.db'}"
    engine = GradMem.from_pretrained(adapter=None)
    with GradMemConversationMemory("r", engine, url=url, mode="inline", segment_tokens=48) as conv:
        segments, records = plan_ingest(conv, TEXT, doc.name, 48)
        conv.store.append_messages("r", records[:1])  # interrupted: one segment stored, nothing written
    result = cli("ingest", str(doc), "--session", "r", "--db", url, *TINY)
    assert result.returncode == 0, result.stderr
    assert f"1 already stored, {len(segments)} to write" in result.stdout
    stats = cli("sessions", "stats", "r", "--db", url)
    assert f"messages: {len(segments)} (0 as text)" in stats.stdout
    assert f"memory: {len(segments)} block(s)" in stats.stdout


# sessions ---------------------------------------------------------------------------------------------
@pytest.mark.model
def test_sessions_list_show_stats(ingested, db):
    listed = cli("sessions", "list", "--db", db)
    assert listed.returncode == 0 and "doc" in listed.stdout
    shown = cli("sessions", "show", "doc", "--db", db)
    assert shown.returncode == 0 and "blocks:" in shown.stdout and "lighthouse" in shown.stdout.lower()
    stats = cli("sessions", "stats", "doc", "--db", db)
    assert stats.returncode == 0, stats.stderr
    for key in ("messages:", "vectors,", "stored bytes:", "compression"):
        assert key in stats.stdout


def test_sessions_delete(tmp_path):
    from gradmem_agent.storage import Message, SQLStore

    url = f"sqlite:///{tmp_path / 'del.db'}"
    with SQLStore(url) as store:
        store.append_messages("gone", [Message("user", "hello")])
    deleted = cli("sessions", "delete", "gone", "--db", url)
    assert deleted.returncode == 0 and "deleted" in deleted.stdout
    assert "no sessions" in cli("sessions", "--db", url).stdout
    one_line_error(cli("sessions", "delete", "gone", "--db", url), "unknown session")


# bad input -----------------------------------------------------------------------------------------------
def test_unknown_session_subprocess(tmp_path):
    one_line_error(cli("ask", "--session", "nope", "--db", f"sqlite:///{tmp_path / 'e.db'}", "Where?"),
                   "unknown session 'nope'")


@pytest.mark.parametrize("command", [["sessions", "show", "nope"], ["sessions", "delete", "nope"],
                                     ["sessions", "stats", "nope"]])
def test_unknown_session(tmp_path, command, capsys):
    from gradmem_agent.cli import main

    assert main([*command, "--db", f"sqlite:///{tmp_path / 'empty.db'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gradmem: error: unknown session 'nope'")


def test_missing_binary_and_empty_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    one_line_error(cli("ingest", str(tmp_path / "missing.txt"), "--session", "s", "--db", url), "no such file")
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    one_line_error(cli("ingest", str(binary), "--session", "s", "--db", url), "binary")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9 cr\u00e8me".encode("latin-1"))
    one_line_error(cli("ingest", str(latin), "--session", "s", "--db", url), "not UTF-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    one_line_error(cli("ingest", str(empty), "--session", "s", "--db", url), "empty")


def test_empty_question(tmp_path):
    one_line_error(cli("ask", "--session", "doc", "--db", f"sqlite:///{tmp_path / 'q.db'}", "  "), "question is empty")


def test_usage_error_exit_2():
    result = cli("ingest")
    assert result.returncode == 2 and "required" in result.stderr


# chat -----------------------------------------------------------------------------------------------------
@pytest.mark.model
def test_chat_session_persists(model_available, tmp_path):
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    result = cli("chat", "--session", "c", "--db", url, "--max-new-tokens", "4", *TINY, "--recent-tokens", "8",
                 stdin="Hello, my name is Ada and I keep bees on the roof.\nWhat is my name?\n/memory\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("bot> ") == 2 and "memory:" in result.stdout
    stats = cli("sessions", "stats", "c", "--db", url)
    assert "messages: 4 " in stats.stdout
    from gradmem_agent.storage import SQLStore

    with SQLStore(url) as store:
        stored, blocks, upto = store.messages("c"), store.blocks("c"), store.compressed_upto("c")
    replies = [line.split("bot> ", 1)[1].split("you> ")[0].strip() for line in result.stdout.splitlines()
               if "bot> " in line]
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Hello, my name is Ada and I keep bees on the roof."), ("assistant", replies[0]),
        ("user", "What is my name?"), ("assistant", replies[1])]
    assert all(replies) and upto == (blocks[-1].last_seq if blocks else -1)
    for block in blocks:  # /memory lists what is stored
        assert f"block {block.id}: messages {block.first_seq}-{block.last_seq}, level {block.level}" in result.stdout


@pytest.mark.parametrize(("target", "cause"), [
    ("junk", "file is not a database"), ("missing", "unable to open database file"), ("pg-down", "refused")])
def test_database_failures_print_one_line(tmp_path, target, cause):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    url = {"junk": f"sqlite:///{junk}", "missing": f"sqlite:///{tmp_path / 'no' / 'dir.db'}",
           "pg-down": "postgresql+psycopg://postgres@127.0.0.1:1/test"}[target]
    for command in (["sessions", "list"], ["sessions", "show", "s"], ["sessions", "delete", "s"]):
        one_line_error(cli(*command, "--db", url), cause)


# demo and examples ----------------------------------------------------------------------------------------
@pytest.mark.model
def test_demo_quick(model_available, tmp_path):
    result = cli("demo", "--quick", "--db", f"sqlite:///{tmp_path / 'demo.db'}")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "engine:" in out and "trained adapter" in out and "segment_tokens=256" in out
    assert ">>> WRITE" in out and "1 steps" in out and "-> 16 vectors" in out
    assert "memory " in out and "truncation" in out and "recall:" in out


def test_demo_quick_frozen(model_available, tmp_path):
    result = cli("demo", "--quick", "--adapter", "none", "--db", f"sqlite:///{tmp_path / 'demo.db'}")
    assert result.returncode == 0, result.stderr
    assert "frozen" in result.stdout and "3 steps" in result.stdout and "-> 8 vectors" in result.stdout


@pytest.mark.model
def test_example_chatbot(model_available, tmp_path):
    result = run("examples/chatbot.py", "--quick", "--turns", "4", "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert result.returncode == 0, result.stderr
    assert "[4] user:" in result.stdout and "memory block(s)" in result.stdout


@pytest.mark.model
def test_example_document_qa(model_available, tmp_path):
    result = run("examples/document_qa.py", "--quick", "--db", f"sqlite:///{tmp_path / 'd.db'}")
    assert result.returncode == 0, result.stderr
    assert "ingested built-in" in result.stdout and result.stdout.count("A: ") == 2
