"""`gradmem demo`: a scripted long chat, facts planted early; memory (GradMem blocks) vs truncation.

The user's facts come in the first turns, then chit-chat pushes them out of the recent text window; they are
compressed into memory blocks as the chat goes on (printed as they happen, with each block's teacher-forced
reconstruction accuracy). Then recall questions are answered twice by the same model from the same recent
text turns: once with the memory blocks as a soft prompt, once without (truncation: old turns dropped).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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

DEFAULTS = {"memory_tokens": 16, "steps": 80, "segment_tokens": 128, "recent_tokens": 128}
QUICK = {"memory_tokens": 8, "steps": 3, "segment_tokens": 128, "recent_tokens": 128}
# With a trained adapter: its own WRITE (vectors, steps) and the block size it was trained to read.
TRAINED = {"segment_tokens": 256, "recent_tokens": 128}


def _say(text: str = "") -> None:
    print(text, flush=True)


def run_demo(args) -> int:
    from .cli import WriteBar, engine_label, load_engine, policy_fields
    from .conversation import GradMemConversationMemory

    quick = bool(getattr(args, "quick", False))
    max_new = args.max_new_tokens or (8 if quick else 24)
    started = time.perf_counter()
    engine = load_engine(args)
    _say(f"engine: {engine_label(engine)}")
    if engine.adapter is None:
        fields = policy_fields(args, **(QUICK if quick else DEFAULTS))
    else:
        fields = policy_fields(args, **TRAINED)
    _say("memory policy: " + ", ".join(f"{k}={v}" for k, v in fields.items()) + ", mode=inline")

    tmp = None
    url = args.db
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="gradmem-demo-")
        url = f"sqlite:///{Path(tmp.name) / 'demo.db'}"
    bar = WriteBar(desc="WRITE")
    conv = GradMemConversationMemory("demo", engine, url=url, write_progress=bar, mode="inline", **fields)
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
                     f"{block.vectors.shape[0]} vectors in {float(st.get('seconds', 0)):.1f} s, "
                     f"{st.get('steps')} steps, reconstruction accuracy {float(st.get('token_accuracy', 0)):.1%} "
                     f"(stopped: {st.get('stopped')})")
                if not quick:  # what the block holds: greedy decoding from the memory alone
                    text = engine.reconstruct(block.vectors, max_new_tokens=block.tokens)
                    _say(f"         decoded from the {block.vectors.shape[0]} vectors alone: "
                         f"{' | '.join(text.split(chr(10)))[:240]!r}")
        stats = conv.stats()
        ratio = f"{stats.compression_ratio:.1f}" if stats.compression_ratio else "n/a"
        acc = f"{stats.mean_token_accuracy:.1%}" if stats.mean_token_accuracy is not None else "n/a"
        _say(f"\nmemory: {stats.blocks} block(s), {stats.vectors} vectors for {stats.tokens_in_memory} tokens "
             f"({ratio} tokens/vector, mean reconstruction accuracy {acc}); "
             f"{stats.text_messages} recent messages ({stats.tokens_as_text} tokens) stay as text")

        _say("\n--- recall: same model, same recent text turns; with memory vs truncation (old turns dropped) ---")
        score = {"memory": 0, "truncation": 0}
        for question, expected in QUESTIONS:
            ctx = conv.read_context(question)
            _say(f"Q: {question}")
            answers: dict[str, Any] = {}
            for name, memory in (("memory", ctx.memory or None), ("truncation", None)):
                answer = engine.generate(ctx.messages, memory, max_new_tokens=max_new)
                answers[name] = answer
                hit = any(e in answer.lower() for e in expected)
                score[name] += hit
                _say(f"   {name:<10} [{'ok' if hit else '--'}] {' '.join(answer.split())}")
        n = len(QUESTIONS)
        _say(f"\nrecall: memory {score['memory']}/{n}, truncation {score['truncation']}/{n} "
             f"(an answer counts if it contains the expected word)")
        if engine.adapter is None:
            _say("note: frozen model, no trained adapter: WRITE fits the vectors so that the model reconstructs the "
                 "turns (the accuracy above), but this model was never trained to answer questions from memory "
                 "vectors; recall from memory is what a trained adapter (`gradmem train`) is for.")
        else:
            _say("note: the trained adapter answers about 1 in 3 hand-written held-out chat questions from memory "
                 "(106/294; the model with the whole history as text: 71/294; benchmarks/quality.py), so three "
                 "questions can go either way; near misses and likely-looking values of the right kind (a city, "
                 "a job) are common after one WRITE step.")
        _say(f"total time: {time.perf_counter() - started:.0f} s")
    finally:
        bar.close()
        conv.close()
        if tmp is not None:
            tmp.cleanup()
    if sys.stdout.isatty():
        _say()
    return 0
