"""What each `gradmem` command does, and the helpers they share (the engine, the conversation, errors)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..options import given
from ..policy import MemoryPolicy
from .progress import WriteBar


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def url(args: argparse.Namespace) -> str:
    from ..storage import default_url

    return args.db or default_url()


def load_engine(args: argparse.Namespace):
    from ..engine import GradMem

    adapter: Any = None if args.adapter.lower() == "none" else args.adapter
    return GradMem.from_pretrained(args.model, adapter=adapter, device=args.device)


def engine_label(engine) -> str:
    if engine.adapter is None:
        return f"{engine.name}, frozen (no trained adapter): WRITE = Adam on the memory vectors only"
    return f"{engine.name} + trained adapter {engine.adapter_id}"


def open_conversation(args: argparse.Namespace, engine=None, *, write_progress=None, **defaults: Any):
    """The session of --session with the memory options given on the command line over `defaults`."""
    from ..conversation import GradMemConversationMemory

    engine = engine if engine is not None else load_engine(args)
    policy = MemoryPolicy(**{**defaults, **given(args, MemoryPolicy)})
    return GradMemConversationMemory(args.session, engine, url=url(args), policy=policy,
                                     write_progress=write_progress)


def serve(args: argparse.Namespace) -> int:
    import os

    try:
        from ..integrations.server import GradMemServer, serve
    except ImportError as exc:
        raise CliError(str(exc)) from None
    engine = load_engine(args)
    server = GradMemServer(engine, url=url(args), api_key=args.api_key or os.environ.get("GRADMEM_API_KEY") or None,
                           model_name=args.served_name, max_tokens=args.max_new_tokens,
                           memory_options=given(args, MemoryPolicy))
    print(f"gradmem serve: {engine_label(engine)} at http://{args.host}:{args.port}/v1, sessions in {url(args)}",
          flush=True)
    serve(server, host=args.host, port=args.port)
    return 0


def require_session(store, session_id: str):
    info = store.session(session_id)
    if info is None:
        raise CliError(f"unknown session {session_id!r} (see `gradmem sessions list`)")
    return info


def chat(args: argparse.Namespace) -> int:
    bar = WriteBar(desc="compressing", announce="[memory] old turns are being written into a memory block...")
    conv = open_conversation(args, write_progress=bar, mode="inline")
    print(f"gradmem chat: session {args.session!r} ({engine_label(conv.engine)})")
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
            for piece in conv.stream(text, max_new_tokens=args.max_new_tokens):
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
    print_stats(conv.stats())
    for b in conv.memory_blocks:
        print(f"  block {b.id}: messages {b.first_seq}-{b.last_seq}, level {b.level}, {b.vector_count} vectors, "
              f"{b.tokens} tokens, accuracy {b.stats.token_accuracy:.1%}")


def ingest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import documents

    text = documents.read_text_file(args.file)  # before loading the model: fail fast
    source = Path(args.file).name
    conv = open_conversation(args, mode="inline")
    try:
        engine = conv.engine
        segment_tokens = conv.policy.segment_tokens  # --segment-tokens, else the adapter's trained size
        segments, missing = documents.plan_ingest(conv, text, source, segment_tokens)
        pending = documents.pending_messages(conv) + len(missing)
        steps = conv.policy.steps if conv.policy.steps is not None else engine.write_config.steps
        print(f"{args.file}: {len(segments)} segment(s) of <= {segment_tokens} tokens; "
              f"{len(segments) - len(missing)} already stored, {pending} to write ({engine_label(engine)})")
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


def ask(args: argparse.Namespace) -> int:
    from .. import documents
    from ..storage import SQLStore

    if not args.question.strip():
        raise CliError("the question is empty")
    with SQLStore(url(args)) as store:
        require_session(store, args.session)
    conv = open_conversation(args, mode="inline")
    try:
        print(documents.ask(conv, args.question, max_new_tokens=args.max_new_tokens))
    finally:
        conv.close()
    return 0


def sessions(args: argparse.Namespace) -> int:
    from ..stats import session_stats
    from ..storage import SQLStore

    with SQLStore(url(args)) as store:
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
        transcript, blocks = store.messages(args.id), store.blocks(args.id)
        print(f"session: {info.session_id}")
        print_stats(session_stats(transcript, blocks, info.compressed_upto))
        print(f"stored bytes: {info.stored_bytes}")
        if args.action == "stats":
            return 0
        print("blocks:")
        for b in blocks:
            st = b.stats
            print(f"  {b.id}: messages {b.first_seq}-{b.last_seq}, level {b.level}, shape {list(b.shape)}, "
                  f"{st.tokens} tokens, accuracy {st.token_accuracy:.1%}, {st.steps} steps")
        print("transcript:")
        for m in transcript:
            mark = "M" if m.seq <= info.compressed_upto else "T"
            content = " ".join(m.content.split())
            if len(content) > args.width > 3:
                content = content[: args.width - 3] + "..."
            print(f"  [{mark}] {m.seq} {m.role}: {content}")
        return 0


def print_stats(stats) -> None:
    ratio = f"{stats.compression_ratio:.1f} tokens/vector" if stats.compression_ratio else "n/a"
    acc = f"{stats.mean_token_accuracy:.1%}" if stats.mean_token_accuracy is not None else "n/a"
    as_text = f", {stats.tokens_as_text} tokens" if stats.tokens_as_text is not None else ""
    print(f"messages: {stats.messages} ({stats.text_messages} as text{as_text})")
    print(f"memory: {stats.blocks} block(s), {stats.vectors} vectors, {stats.tokens_in_memory} tokens, "
          f"compression {ratio}, reconstruction accuracy {acc}")
    print(f"bytes: transcript {stats.transcript_bytes}, vectors {stats.vector_bytes}")


def train(argv: list[str]) -> int:
    from ..training.train import main as train_main

    train_main(argv)
    return 0
