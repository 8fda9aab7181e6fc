"""A long-running chatbot over GradMemConversationMemory: old turns move into memory blocks as the chat grows.

    python examples/chatbot.py --turns 12 --db sqlite:///chatbot.db
    python examples/chatbot.py --quick            # tiny budgets, a few seconds of WRITE (used by the tests)

The turns are scripted so that the example runs unattended; replace `SCRIPT` by input() for a real chat (or
use `gradmem chat`). Everything is stored in SQL, so running it again continues the same session.
"""

from __future__ import annotations

import argparse
import itertools
import sys

from gradmem_agent import GradMem, GradMemConversationMemory

SCRIPT = [
    "Hi, I'm Noor. I grow tomatoes on my balcony.",
    "My cat is called Miso and she sleeps all day.",
    "What should I cook tonight?",
    "I started learning Spanish last week.",
    "Any tips for staying focused while working from home?",
    "It rained all morning here.",
    "Do you remember my cat's name?",
    "What do I grow on my balcony?",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=len(SCRIPT), help="user turns to play (the script repeats)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: the gradmem user database)")
    parser.add_argument("--session", default="chatbot-example")
    parser.add_argument("--quick", action="store_true", help="small blocks, short replies")
    args = parser.parse_args(argv)

    engine = GradMem.from_pretrained(adapter="auto")
    if engine.adapter is not None:  # the trained adapter writes its own way (16 vectors, one step)
        budgets = dict(segment_tokens=64, recent_tokens=32) if args.quick else dict(segment_tokens=256,
                                                                                      recent_tokens=128)
    else:  # frozen: Adam on the vectors, many steps
        budgets = (dict(memory_tokens=4, steps=2, segment_tokens=48, recent_tokens=32) if args.quick
                   else dict(memory_tokens=16, steps=60, segment_tokens=128, recent_tokens=128))
    max_new_tokens = 8 if args.quick else 48
    print(f"engine: {engine.name}, adapter: {engine.adapter_id or 'none (frozen)'}")

    def progress(done: int, total: int) -> None:
        if done == total:
            print(f"   [memory] WRITE finished ({total} steps)", flush=True)

    with GradMemConversationMemory(args.session, engine, url=args.db, mode="inline", write_progress=progress,
                                   **budgets) as conv:
        for i, text in enumerate(itertools.islice(itertools.cycle(SCRIPT), args.turns)):
            print(f"[{i + 1}] user: {text}", flush=True)
            reply = conv.respond(text, max_new_tokens=max_new_tokens)
            print(f"    bot:  {' '.join(reply.split())}", flush=True)
        s = conv.stats()
        print(f"session {args.session!r}: {s.messages} messages, {s.blocks} memory block(s) with {s.vectors} vectors "
              f"holding {s.tokens_in_memory} tokens, {s.text_messages} recent messages as text")
    return 0


if __name__ == "__main__":
    sys.exit(main())
