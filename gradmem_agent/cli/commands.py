"""`gradmem`: chat with persistent GradMem memory, document Q&A from memory, sessions, demo, training.

    gradmem chat --session alice
    gradmem ingest book.txt --session book
    gradmem ask --session book "Who is the captain?"
    gradmem sessions list | show ID | delete ID | stats ID
    gradmem demo [--quick]
    gradmem train --out runs/x ...

Errors print one line, `gradmem: error: ...`, on stderr: exit 1 for runtime errors (unknown session, missing
or binary file, bad value...), 2 for bad command-line usage (argparse), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

PROG = "gradmem"


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


# shared options -------------------------------------------------------------------------------------
def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _db_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", metavar="URL", default=None,
                   help="SQLAlchemy URL of the store (default: gradmem.db in the user data directory)")
    return p


def _model_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("model and memory")
    g.add_argument("--model", default="default", help='"default" (SmolLM2-135M-Instruct) or a HF id/local path')
    g.add_argument("--adapter", default="auto", metavar="auto|none|PATH",
                   help="trained GradMem adapter: auto (the shipped one for the default model, if any), none "
                        "(frozen model), or a path")
    g.add_argument("--device", default=None, help="cpu, cuda, ... (default: best available)")
    g.add_argument("--steps", type=_positive, default=None, help="WRITE optimisation steps per block")
    g.add_argument("--memory-tokens", type=_positive, default=None, help="memory vectors per block")
    g.add_argument("--segment-tokens", type=_positive, default=None,
                   help="most tokens one block holds (default: the adapter's trained size, else 256)")
    return p


def _recent_option() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--recent-tokens", type=_positive, default=None, help="newest turns kept as text (tokens)")
    return p


def _url(args) -> str:
    from .storage import default_url

    return args.db or default_url()


def load_engine(args):
    from .engine import GradMem

    adapter: Any = args.adapter
    if isinstance(adapter, str) and adapter.lower() == "none":
        adapter = None
    return GradMem.from_pretrained(args.model, adapter=adapter, device=args.device)


def engine_label(engine) -> str:
    if engine.adapter is None:
        return f"{engine.name}, frozen (no trained adapter): WRITE = Adam on the memory vectors only"
    return f"{engine.name} + trained adapter {engine.adapter_id}"


def policy_fields(args, **defaults: Any) -> dict[str, Any]:
    fields = dict(defaults)
    for name in ("steps", "memory_tokens", "segment_tokens", "recent_tokens"):
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    return fields


def open_conversation(args, engine=None, *, write_progress=None, **defaults: Any):
    from .conversation import GradMemConversationMemory

    engine = engine if engine is not None else load_engine(args)
    return GradMemConversationMemory(args.session, engine, url=_url(args), write_progress=write_progress,
                                     **policy_fields(args, **defaults))


def require_session(store, session_id: str):
    info = store.session(session_id)
    if info is None:
        raise CliError(f"unknown session {session_id!r} (see `gradmem sessions list`)")
    return info


class WriteBar:
    """A tqdm bar over several WRITEs, fed by write_progress(done, total) calls that restart at each block."""

    def __init__(self, total: int | None = None, desc: str = "WRITE", announce: str | None = None) -> None:
        self.total, self.desc, self.announce = total, desc, announce
        self.bar = None
        self.base = self.last = self.last_total = 0
        self.blocks = 0

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            if self.announce:
                print(self.announce, file=sys.stderr, flush=True)
            self.bar = tqdm(total=self.total or total, desc=self.desc, unit="step", file=sys.stderr,
                            dynamic_ncols=True, leave=True)
        if done < self.last:  # a new block started
            self.base += self.last_total
            self.blocks += 1
        self.last, self.last_total = done, total
        position = self.base + done
        if self.bar.total is not None and position > self.bar.total:
            self.bar.total = position
        self.bar.n = position
        self.bar.refresh()

    def close(self) -> bool:
        """Close the bar; True if anything was written."""
        if self.bar is None:
            return False
        self.bar.close()
        self.bar = None
        self.base = self.last = self.last_total = 0
        return True


def _sampling(args) -> dict[str, Any]:
    return {"max_new_tokens": args.max_new_tokens}


# commands -------------------------------------------------------------------------------------------
def cmd_chat(args) -> int:
    bar = WriteBar(desc="compressing", announce="[memory] old turns are being written into a memory block...")
    conv = open_conversation(args, write_progress=bar, mode="inline")
    engine = conv.engine
    print(f"gradmem chat: session {args.session!r} ({engine_label(engine)})")
    print("Type /memory to see the memory, /quit to leave.")
    try:
        while True:
            try:
                line = input("you> ")
            except EOFError:
                print()
                break
            text = line.strip()
            if not text:
                continue
            if text in ("/quit", "/exit", "/q"):
                break
            if text == "/memory":
                print_memory(conv)
                continue
            print("bot> ", end="", flush=True)
            for piece in conv.stream(text, **_sampling(args)):
                print(piece, end="", flush=True)
            print()
            if bar.close():
                s = conv.stats()
                print(f"[memory] {s.blocks} block(s), {s.vectors} vectors hold {s.tokens_in_memory} tokens; "
                      f"{s.text_messages} recent message(s) kept as text", file=sys.stderr)
    finally:
        bar.close()
        conv.close()
    return 0


def print_memory(conv) -> None:
    s = conv.stats()
    ratio = f"{s.compression_ratio:.1f} tokens/vector" if s.compression_ratio else "n/a"
    acc = f"{s.mean_token_accuracy:.1%}" if s.mean_token_accuracy is not None else "n/a"
    print(f"messages: {s.messages} ({s.text_messages} as text, {s.tokens_as_text} tokens)")
    print(f"memory: {s.blocks} block(s), {s.vectors} vectors, {s.tokens_in_memory} tokens, compression {ratio}, "
          f"reconstruction accuracy {acc}")
    for b in conv.memory_blocks:
        print(f"  block {b.id}: messages {b.first_seq}-{b.last_seq}, level {b.level}, {b.vectors.shape[0]} vectors, "
              f"{b.tokens} tokens, accuracy {float(b.stats.get('token_accuracy', 0.0)):.1%}")


def cmd_ingest(args) -> int:
    from pathlib import Path

    from . import documents

    text = documents.read_text_file(args.file)  # before loading the model: fail fast
    source = Path(args.file).name
    conv = open_conversation(args, mode="inline")
    try:
        engine = conv.engine
        segment_tokens = conv.policy.segment_tokens  # --segment-tokens, else the adapter's trained size
        segments, records = documents.plan_ingest(conv, text, source, segment_tokens)
        # (plan_ingest is repeated by ingest(); it only reads)
        pending = documents.pending_messages(conv) + len(records)
        steps = args.steps if args.steps is not None else engine.write_config.steps
        print(f"{args.file}: {len(segments)} segment(s) of <= {segment_tokens} tokens; "
              f"{len(segments) - len(records)} already stored, {pending} to write ({engine_label(engine)})")
        bar = WriteBar(total=pending * (steps + 1), desc="WRITE")
        conv.write_progress = bar
        try:
            result = documents.ingest(conv, text, source, segment_tokens=segment_tokens)
        finally:
            bar.close()
        s = conv.stats()
        ratio = f", {s.compression_ratio:.1f} tokens/vector" if s.compression_ratio else ""
        print(f"session {args.session!r}: {result.blocks_written} new block(s); {s.blocks} block(s), "
              f"{s.vectors} vectors hold {s.tokens_in_memory} tokens{ratio}")
    finally:
        conv.close()
    return 0


def cmd_ask(args) -> int:
    from . import documents
    from .storage import SQLStore

    if not args.question.strip():
        raise CliError("the question is empty")
    with SQLStore(_url(args)) as store:
        require_session(store, args.session)
    conv = open_conversation(args, mode="inline")
    try:
        print(documents.ask(conv, args.question, **_sampling(args)))
    finally:
        conv.close()
    return 0


def cmd_sessions(args) -> int:
    from .storage import SQLStore

    with SQLStore(_url(args)) as store:
        if args.action in (None, "list"):
            infos = store.list_sessions()
            if not infos:
                print("no sessions")
            for i in infos:
                print(f"{i.session_id}\t{i.message_count} messages\t{i.block_count} blocks\t{i.vector_count} vectors"
                      f"\t{i.stored_bytes} bytes\tupdated {i.updated_at:%Y-%m-%d %H:%M}")
            return 0
        info = require_session(store, args.id)
        if args.action == "delete":
            store.delete_session(args.id)
            print(f"deleted session {args.id!r}")
            return 0
        if args.action == "stats":
            print_stats(store, info)
            return 0
        print_stats(store, info)  # show
        print("blocks:")
        for b in store.blocks(args.id):
            st = b.stats
            print(f"  {b.id}: messages {b.first_seq}-{b.last_seq}, level {b.level}, shape {b.shape}, "
                  f"{st.get('tokens', '?')} tokens, accuracy {float(st.get('token_accuracy', 0.0)):.1%}, "
                  f"{st.get('steps', '?')} steps")
        print("transcript:")
        for m in store.messages(args.id):
            mark = "M" if m.seq <= info.compressed_upto else "T"
            content = " ".join(m.content.split())
            if len(content) > args.width > 3:
                content = content[: args.width - 3] + "..."
            print(f"  [{mark}] {m.seq} {m.role}: {content}")
        return 0


def session_stats(store, info) -> dict[str, Any]:
    blocks = store.blocks(info.session_id)
    messages = store.messages(info.session_id)
    vectors = sum(b.shape[0] for b in blocks)
    tokens = sum(int(b.stats.get("tokens", 0)) for b in blocks)
    acc = (sum(float(b.stats.get("token_accuracy", 0.0)) * int(b.stats.get("tokens", 0)) for b in blocks) / tokens
           if tokens else None)
    return {
        "session": info.session_id,
        "turns": info.message_count,
        "turns_in_memory": info.compressed_upto + 1,
        "turns_as_text": info.message_count - (info.compressed_upto + 1),
        "blocks": len(blocks),
        "vectors": vectors,
        "tokens_in_memory": tokens,
        "compression_ratio": tokens / vectors if vectors else None,
        "reconstruction_accuracy": acc,
        "transcript_bytes": sum(len(m.content.encode()) for m in messages),
        "vector_bytes": sum(len(b.vectors_bytes) for b in blocks),
        "stored_bytes": info.stored_bytes,
    }


def print_stats(store, info) -> None:
    for key, value in session_stats(store, info).items():
        if key == "compression_ratio" and value is not None:
            value = f"{value:.2f} tokens/vector"
        elif key == "reconstruction_accuracy" and value is not None:
            value = f"{value:.1%}"
        print(f"{key}: {value if value is not None else 'n/a'}")


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args)


def cmd_train(argv: list[str]) -> int:
    from .training.train import main as train_main

    train_main(argv)
    return 0


# parser -----------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"gradmem-agent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    db, model, recent = _db_options(), _model_options(), _recent_option()

    p = sub.add_parser("chat", parents=[db, model, recent], help="interactive chat with persistent memory",
                       description="Interactive chat; old turns are written into memory blocks (inline, with a "
                                   "progress bar). /memory shows the memory, /quit leaves.")
    p.add_argument("--session", default="chat", help="session id (default: chat)")
    p.add_argument("--max-new-tokens", type=_positive, default=256)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ingest", parents=[db, model], help="write a text file into a session's memory",
                       description="Split a UTF-8 text file into segments (default 256 tokens) and write each into "
                                   "a memory block. Resumable: segments already stored/written are skipped.")
    p.add_argument("file", help="UTF-8 text file")
    p.add_argument("--session", required=True, help="session id")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", parents=[db, model], help="answer a question from a session's memory only",
                       description="Answer from the memory blocks only (the document text is not in the prompt); "
                                   "the question is not stored.")
    p.add_argument("question")
    p.add_argument("--session", required=True, help="session id")
    p.add_argument("--max-new-tokens", type=_positive, default=128)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("sessions", parents=[db], help="list, show, delete sessions; memory statistics",
                       description="Manage stored sessions (default action: list).")
    p.set_defaults(func=cmd_sessions, action=None)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", parents=[db], help="all sessions, most recent first")
    a = actions.add_parser("show", parents=[db], help="a session's blocks and transcript")
    a.add_argument("id")
    a.add_argument("--width", type=_positive, default=100, help="truncate messages to this many characters")
    for name, text in (("delete", "delete a session (transcript and memory)"),
                       ("stats", "turns, vectors, bytes, compression ratio")):
        a = actions.add_parser(name, parents=[db], help=text)
        a.add_argument("id")

    p = sub.add_parser("demo", parents=[db, model, recent], help="scripted long chat: memory vs truncation",
                       description="Plant facts early in a long scripted chat, show the compressions as they happen, "
                                   "then ask recall questions answered from memory and, side by side, by the same "
                                   "model with the old turns dropped (truncation). Defaults: 16 memory vectors, "
                                   "up to 80 Adam steps, 128-token segments, 128-token recent window. With --db, "
                                   "its session 'demo' is cleared first (default: a temporary database).")
    p.add_argument("--quick", action="store_true", help="a few WRITE steps and short answers (for tests)")
    p.add_argument("--max-new-tokens", type=_positive, default=None)
    p.set_defaults(func=cmd_demo)

    # `gradmem train ...` is handed to training.train.main before parsing (see main); listed here for --help.
    sub.add_parser("train", help="meta-train a GradMem adapter (see `gradmem train --help`)", add_help=False)
    return parser


def _errors() -> tuple[type[BaseException], ...]:
    from .adapter import AdapterMismatchError
    from .models import ModelNotFoundError
    from .storage import StorageError

    return (CliError, ValueError, TypeError, FileNotFoundError, IsADirectoryError, ModelNotFoundError, StorageError,
            AdapterMismatchError)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    train = bool(argv) and argv[0] == "train"
    args = None if train else parser.parse_args(argv)
    if args is not None and getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    handled = _errors()
    try:
        if train:
            return cmd_train(argv[1:])
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted (stored state is kept; run the command again to resume)", file=sys.stderr)
        return 130
    except handled as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1


def entry(fn: Callable[[list[str] | None], int] = main) -> None:
    sys.exit(fn(None))


if __name__ == "__main__":
    entry()
