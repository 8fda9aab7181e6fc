"""Offline document Q&A: write a text into memory blocks, then answer questions from the memory only.

    python examples/document_qa.py --file book.txt --question "Who keeps the lighthouse?"
    python examples/document_qa.py --quick        # built-in text, tiny budgets (used by the tests)

The same as `gradmem ingest FILE --session ID` then `gradmem ask --session ID "..."`: the document is stored
as segments in the session and compressed segment by segment (resumable), and the answer is generated with
only the memory blocks and the question in front of the model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradmem_agent import GradMem, GradMemConversationMemory
from gradmem_agent.documents import ask, ingest, read_text_file

TEXT = """The lighthouse on Gull Island was built in 1887. Its keeper, Ada Brennan, lived there for thirty years.
She kept a journal of every ship that passed. The lamp burned whale oil until 1921, when it was electrified.
In the winter of 1903 a storm destroyed the boathouse. Ada's cat was named Pepper.
Supplies came every two weeks by boat from the mainland town of Kerrow."""

QUESTIONS = ["Who was the keeper of the lighthouse?", "What was the name of Ada's cat?"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=None, help="UTF-8 text file (default: a built-in text)")
    parser.add_argument("--question", action="append", default=None, help="question(s) to ask (repeatable)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: the gradmem user database)")
    parser.add_argument("--session", default="document-qa-example")
    parser.add_argument("--quick", action="store_true", help="small blocks, short answers")
    args = parser.parse_args(argv)

    text = read_text_file(args.file) if args.file else TEXT
    source = args.file.name if args.file else "built-in"
    engine = GradMem.from_pretrained(adapter="auto")
    if engine.adapter is not None:  # the trained adapter writes its own way (16 vectors, one step)
        segment_tokens, budgets = (64 if args.quick else 256), {}
    else:  # frozen: Adam on the vectors, many steps
        segment_tokens, budgets = (64, dict(memory_tokens=4, steps=2)) if args.quick else (
            128, dict(memory_tokens=16, steps=100))
    max_new_tokens = 8 if args.quick else 48
    print(f"engine: {engine.name}, adapter: {engine.adapter_id or 'none (frozen)'}")
    with GradMemConversationMemory(args.session, engine, url=args.db, mode="inline",
                                   segment_tokens=segment_tokens, **budgets) as conv:
        result = ingest(conv, text, source, segment_tokens=segment_tokens)
        print(f"ingested {source}: {result.segments} segments, {result.blocks_written} new block(s), "
              f"{result.blocks} in memory")
        for block in conv.memory_blocks:
            print(f"  block {block.id}: {block.tokens} tokens -> {block.vectors.shape[0]} vectors, "
                  f"reconstruction accuracy {block.stats.token_accuracy:.1%}")
        for question in args.question or QUESTIONS:
            print(f"Q: {question}\nA: {' '.join(ask(conv, question, max_new_tokens=max_new_tokens).split())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
