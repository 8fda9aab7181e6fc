"""The `gradmem` argument parser; memory options come from MemoryPolicy's own fields and docs."""

from __future__ import annotations

import argparse

from .. import __version__
from ..options import add_options
from ..policy import MemoryPolicy
from . import commands, demo

PROG = "gradmem"
DESCRIPTION = """\
Chat with persistent GradMem memory, document Q&A from memory, sessions, demo, training.

    gradmem chat --session alice
    gradmem ingest book.txt --session book
    gradmem ask --session book "Who is the captain?"
    gradmem sessions list | show ID | delete ID | stats ID
    gradmem demo [--quick]
    gradmem serve --port 8000          (OpenAI-compatible HTTP server; needs the `server` extra)
    gradmem train --out runs/x ...

Errors print one line, `gradmem: error: ...`, on stderr: exit 1 for runtime errors (unknown session, missing
or binary file, bad value...), 2 for bad command-line usage, 130 when interrupted.
"""


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _db_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", metavar="URL", default=None,
                   help="SQLAlchemy URL of the store (default: gradmem.db in the user data directory)")
    return p


def _model_options(memory: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("model")
    g.add_argument("--model", default="default", help='"default" (SmolLM2-135M-Instruct) or a HF id/local path')
    g.add_argument("--adapter", default="auto", metavar="auto|none|PATH",
                   help="trained GradMem adapter: auto (the shipped one for the default model, if any), none "
                        "(frozen model), or a path")
    g.add_argument("--device", default=None, help="cpu, cuda, ... (default: best available)")
    add_options(p.add_argument_group("memory (MemoryPolicy)"), MemoryPolicy, memory)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gradmem-agent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    db = _db_options()
    writing = ["steps", "memory_tokens", "segment_tokens"]
    model = _model_options(writing)
    chatting = _model_options([*writing, "recent_tokens"])

    p = sub.add_parser("chat", parents=[db, chatting], help="interactive chat with persistent memory",
                       description="Interactive chat; old turns are written into memory blocks (inline, with a "
                                   "progress bar). /memory shows the memory, /quit leaves.")
    p.add_argument("--session", default="chat", help="session id (default: chat)")
    p.add_argument("--max-new-tokens", type=_count, default=256)
    p.set_defaults(func=commands.chat)

    p = sub.add_parser("ingest", parents=[db, model], help="write a text file into a session's memory",
                       description="Split a UTF-8 text file into segments and write each into a memory block. "
                                   "Resumable: segments already stored or written are skipped.")
    p.add_argument("file", help="UTF-8 text file")
    p.add_argument("--session", required=True, help="session id")
    p.set_defaults(func=commands.ingest)

    p = sub.add_parser("ask", parents=[db, model], help="answer a question about an ingested document",
                       description="Answer from the session's memory; the question is not stored.")
    p.add_argument("question")
    p.add_argument("--session", required=True, help="session id")
    p.add_argument("--max-new-tokens", type=_count, default=128)
    p.set_defaults(func=commands.ask)

    p = sub.add_parser("sessions", parents=[db], help="list, show, delete sessions; memory statistics",
                       description="Manage stored sessions (default action: list).")
    p.set_defaults(func=commands.sessions, action=None)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", parents=[db], help="all sessions, most recent first")
    a = actions.add_parser("show", parents=[db], help="a session's blocks and transcript")
    a.add_argument("id")
    a.add_argument("--width", type=_count, default=100, help="truncate messages to this many characters")
    for name, text in (("delete", "delete a session (transcript and memory)"),
                       ("stats", "turns, vectors, bytes, compression ratio")):
        a = actions.add_parser(name, parents=[db], help=text)
        a.add_argument("id")

    p = sub.add_parser("demo", parents=[db, chatting], help="scripted long chat: memory vs truncation",
                       description=demo.DESCRIPTION)
    p.add_argument("--quick", action="store_true", help="a few WRITE steps and short answers (for tests)")
    p.add_argument("--max-new-tokens", type=_count, default=None)
    p.set_defaults(func=demo.run_demo)

    p = sub.add_parser("serve", parents=[db, chatting], help="OpenAI-compatible HTTP server with session memory",
                       description="Serve /v1/chat/completions (streaming or not) and /v1/models. A request's "
                                   "session is its X-Session-Id header or its `user` field; without one the model "
                                   "is stateless. Needs the `server` extra.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_count, default=8000)
    p.add_argument("--api-key", default=None,
                   help="require `Authorization: Bearer KEY` (default: $GRADMEM_API_KEY; unset: no authentication)")
    p.add_argument("--served-name", default=None, help="the model id clients name (default: the engine's name)")
    p.add_argument("--max-new-tokens", type=_count, default=256, help="reply length when a request sets none")
    p.set_defaults(func=commands.serve)

    # `gradmem train ...` is handed to training.train.main before parsing (see main); listed here for --help.
    sub.add_parser("train", help="meta-train a GradMem adapter (see `gradmem train --help`)", add_help=False)
    return parser
