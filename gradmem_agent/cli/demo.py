"""`gradmem demo`: a scripted long chat, facts planted early; what the product recalls vs truncation.

The user's facts come in the first turns, then chit-chat pushes them out of the recent text window; they are
compressed into memory blocks as the chat goes on (printed as they happen, with each block's teacher-forced
reconstruction accuracy). Then recall questions are answered by the same model three ways: as respond() does
(memory blocks, old turns found for the question, recent turns), from memory blocks and recent turns only,
and from the recent turns alone (truncation).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from ..layout import read_messages
from ..options import given
from ..policy import MemoryPolicy
from ..recall import choose_blocks
from .commands import engine_label, load_engine
from .progress import WriteBar

SCRIPT: list[tuple[str, str]] = [
    ("Hi! My name is Marta and I live in Lisbon, in Portugal.", "Nice to meet you, Marta! Lisbon is a lovely city."),
    ("I have a dog called Biscuit. He is a small brown terrier.", "Biscuit sounds adorable. Terriers are lively dogs."),
    ("I work as a beekeeper; I have twelve hives near the river.", "Beekeeping is fascinating work. Twelve hives!"),
    ("My favourite colour is green and I play the cello.", "Green and the cello, a calm combination."),
    ("The weather has been strange this week, rain then sun.", "Spring weather can change quickly."),
    ("I watched a documentary about whales yesterday.", "Whales are amazing; some sing for hours."),
    ("Do you think tea or coffee is better in the morning?", "Both are fine; coffee has more caffeine."),
    ("I am thinking of repainting the kitchen next month.", "A fresh colour can change a room a lot."),
    ("My neighbour is learning to play the drums. Loudly.", "That must be hard on the ears!"),
    ("I read that octopuses have three hearts.", "Yes, and their blood is blue."),
    ("What is a good way to keep houseplants alive?", "Water them regularly and give them light."),
    ("I might take a train trip in the summer.", "Train trips are a relaxing way to travel."),
]

QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("What is the name of my dog?", ("biscuit",)),
    ("Which city do I live in?", ("lisbon",)),
    ("What is my job?", ("beekeep", "bee")),
]

DESCRIPTION = ("Plant facts early in a long scripted chat, show the compressions as they happen, then ask recall "
               "questions answered from memory and, side by side, by the same model with the old turns dropped "
               "(truncation). Without a trained adapter: 16 memory vectors, up to 80 Adam steps, 128-token "
               "segments, 128-token recent window. With --db, its session 'demo' is cleared first (default: a "
               "temporary database).")
DEFAULTS = {"memory_tokens": 16, "steps": 80, "segment_tokens": 128, "recent_tokens": 128}
QUICK = {"memory_tokens": 8, "steps": 3, "segment_tokens": 128, "recent_tokens": 128}
# With a trained adapter: its own WRITE (vectors, steps) and the block size it was trained to read.
TRAINED = {"segment_tokens": 256, "recent_tokens": 128}


def _say(text: str = "") -> None:
    print(text, flush=True)


def run_demo(args) -> int:
    from ..conversation import GradMemConversationMemory

    quick = bool(getattr(args, "quick", False))
    max_new = args.max_new_tokens or (8 if quick else 24)
    started = time.perf_counter()
    engine = load_engine(args)
    _say(f"engine: {engine_label(engine)}")
    defaults = TRAINED if engine.adapter is not None else QUICK if quick else DEFAULTS
    policy = MemoryPolicy(**{**defaults, **given(args, MemoryPolicy), "mode": "inline"})
    _say("memory policy: " + ", ".join(f"{k}={getattr(policy, k)}" for k in (*defaults, "mode")))

    tmp = None
    url = args.db
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="gradmem-demo-")
        url = f"sqlite:///{Path(tmp.name) / 'demo.db'}"
    bar = WriteBar(desc="WRITE")
    conv = GradMemConversationMemory("demo", engine, url=url, policy=policy, write_progress=bar)
    try:
        conv.clear()
        _say(f"\n--- a {len(SCRIPT)}-exchange chat (facts in the first 4 exchanges, then chit-chat) ---")
        seen: set[int] = set()
        for i, (user, bot) in enumerate(SCRIPT):
            _say(f"[{i + 1:2d}] user: {user}")
            _say(f"     bot:  {bot}")
            conv.add_messages([{"role": "user", "content": user}, {"role": "assistant", "content": bot}])
            bar.close()
            for block in conv.memory_blocks:
                if block.id in seen:
                    continue
                seen.add(block.id)
                st = block.stats
                _say(f"     >>> WRITE: messages {block.first_seq}-{block.last_seq} ({block.tokens} tokens) -> "
                     f"{block.vector_count} vectors in {st.seconds:.1f} s, {st.steps} steps, reconstruction "
                     f"accuracy {st.token_accuracy:.1%} (stopped: {st.stopped})")
                if not quick:  # what the block holds: greedy decoding from the memory alone
                    text = engine.reconstruct(block.vectors, max_new_tokens=block.tokens)
                    _say(f"         decoded from the {block.vector_count} vectors alone: "
                         f"{' | '.join(text.split(chr(10)))[:240]!r}")
        stats = conv.stats()
        ratio = f"{stats.compression_ratio:.1f}" if stats.compression_ratio else "n/a"
        acc = f"{stats.mean_token_accuracy:.1%}" if stats.mean_token_accuracy is not None else "n/a"
        _say(f"\nmemory: {stats.blocks} block(s), {stats.vectors} vectors for {stats.tokens_in_memory} tokens "
             f"({ratio} tokens/vector, mean reconstruction accuracy {acc}); "
             f"{stats.text_messages} recent messages ({stats.tokens_as_text} tokens) stay as text")

        _say("\n--- recall: the same model, three ways of reading the old turns ---")
        _say("   memory+recall: what respond() feeds (memory blocks, old turns found for the question, recent turns)")
        _say("   memory only:   the memory blocks and the recent turns; truncation: the recent turns alone")
        score = dict.fromkeys(("memory+recall", "memory only", "truncation"), 0)
        for question, expected in QUESTIONS:
            _say(f"Q: {question}")
            ctx = conv.read_context(question, reply_tokens=max_new)
            recent = read_messages([m.turn() for m in ctx.recent], question)
            newest = choose_blocks(conv.memory_blocks, [], conv.policy.read_blocks)
            answers = {
                "memory+recall": conv.respond(question, remember=False, max_new_tokens=max_new),
                "memory only": engine.generate(recent, newest or None, max_new_tokens=max_new),
                "truncation": engine.generate(recent, None, max_new_tokens=max_new),
            }
            for name, answer in answers.items():
                hit = any(e in answer.lower() for e in expected)
                score[name] += hit
                _say(f"   {name:<14} [{'ok' if hit else '--'}] {' '.join(answer.split())}")
            if ctx.recalled:
                _say(f"   (recalled: {' | '.join(' '.join(m.content.split())[:60] for m in ctx.recalled)})")
        n = len(QUESTIONS)
        _say("\nrecall: " + ", ".join(f"{name} {hits}/{n}" for name, hits in score.items())
             + " (an answer counts if it contains the expected word)")
        if engine.adapter is None:
            _say("note: frozen model, no trained adapter: WRITE fits the vectors so that the model reconstructs the "
                 "turns (the accuracy above), but this model was never trained to answer questions from memory "
                 "vectors; recall from memory is what a trained adapter (`gradmem train`) is for.")
        else:
            _say("note: three questions are a showcase, not a measure; docs/benchmarks.md has the figures that count.")
        _say(f"total time: {time.perf_counter() - started:.0f} s")
    finally:
        bar.close()
        conv.close()
        if tmp is not None:
            tmp.cleanup()
    if sys.stdout.isatty():
        _say()
    return 0
