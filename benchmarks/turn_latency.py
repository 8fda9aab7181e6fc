"""Per-turn latency of the product's default path against history length, next to the whole history as text.

For each history length a session (SQLite, the default MemoryPolicy: background compression) is filled with a
chat of that many tokens in one `add_messages` call and its due blocks written (batched through the engine's
write queue); then `respond()` answers --turns questions, each one timed (recall over SQL, block choice, READ,
decoding, storing the exchange). A WRITE a turn makes due runs on the session's worker after the reply, as
in use; the benchmark waits for it between turns, untimed. The whole history as text is timed where it fits
the model's window. Reports p50/p95 seconds per turn, the prompt positions READ used, the
blocks stored and the seconds the fill spent writing.

Prints, saves JSON (and a PNG where matplotlib is) under benchmarks/results/ with the date and the machine.

    python benchmarks/turn_latency.py --device cuda --histories 1000,10000,100000
    python benchmarks/turn_latency.py --histories 500,5000 --turns 5     # the CPU
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gradmem_agent import GradMem, GradMemConversationMemory
from gradmem_agent.read import prompt_ids

FACT = ("On day {i} {name} told me the code for locker {i} is {code}, that the meeting moved to room {room}, "
        "and that {name}'s favourite snack this week is {snack}.")
NAMES = ["Ingrid", "Tomas", "Aiko", "Ravi", "Lena", "Omar", "Greta", "Jun"]
SNACKS = ["figs", "rye crackers", "dark chocolate", "pistachios", "dried mango", "pretzels"]


def chat(tokens: int, engine: GradMem) -> list[dict]:
    """User/assistant turns of about `tokens` tokens in all, each fact distinct."""
    turns, used, i = [], 0, 0
    while used < tokens:
        fact = FACT.format(i=i, name=NAMES[i % len(NAMES)], code=1000 + 37 * i % 9000, room=100 + i % 400,
                           snack=SNACKS[i % len(SNACKS)])
        turns += [{"role": "user", "content": fact}, {"role": "assistant", "content": f"Noted, day {i}."}]
        used += engine.count_tokens(fact) + 8
        i += 1
    return turns


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_turns(ask, questions: list[str], before=None) -> tuple[list[float], list[str]]:
    times, replies = [], []
    for question in questions:
        if before is not None:
            before()
        start = time.perf_counter()
        replies.append(ask(question))
        times.append(time.perf_counter() - start)
    return times, replies


def reply_tokens(engine: GradMem, replies: list[str]) -> float:
    """Mean reply length: replies end at a stop token, so turns differ in tokens decoded."""
    return round(statistics.mean(engine.count_tokens(r) for r in replies), 1)


def history_row(engine: GradMem, history: int, turns: int, max_reply: int, directory: Path) -> list[dict]:
    messages = chat(history, engine)
    questions = [f"What is the code for locker {i * 7 % max(1, len(messages) // 2)}?" for i in range(turns)]
    rows = []
    tag = f"h{history}-{engine.decode_weights}"
    conv = GradMemConversationMemory(tag, engine, url=f"sqlite:///{directory}/{tag}.db")
    start = time.perf_counter()
    conv.add_messages(messages)
    conv.wait()
    fill = time.perf_counter() - start
    context = conv.read_context(questions[0])

    times, replies = timed_turns(lambda q: conv.respond(q, max_new_tokens=max_reply), questions,
                                 before=conv.wait)  # the WRITE the last turn made due: untimed
    stats = conv.stats()
    rows.append({"history_tokens": history, "arm": "memory (respond)", "turns": len(times),
                 "p50_s": round(statistics.median(times), 3), "p95_s": round(percentile(times, 0.95), 3),
                 "reply_tokens_mean": reply_tokens(engine, replies),
                 "positions": context.vectors + len(prompt_ids(engine.tokenizer, context.messages)),
                 "blocks": stats.blocks, "fill_seconds": round(fill, 1),
                 "write_seconds": round(stats.write_seconds, 1)})
    conv.close()
    whole = len(prompt_ids(engine.tokenizer, messages)) + 64
    if whole + max_reply < engine.max_positions:
        times, replies = timed_turns(lambda q: engine.generate([*messages, {"role": "user", "content": q}],
                                                               max_new_tokens=max_reply), questions)
        rows.append({"history_tokens": history, "arm": "whole text", "turns": len(times),
                     "p50_s": round(statistics.median(times), 3), "p95_s": round(percentile(times, 0.95), 3),
                     "reply_tokens_mean": reply_tokens(engine, replies),
                     "positions": whole})
    else:
        rows.append({"history_tokens": history, "arm": "whole text", "turns": 0,
                     "skipped": f"{whole} positions do not fit the model's {engine.max_positions}"})
    for row in rows:
        row["decode_weights"] = engine.decode_weights
        print(json.dumps(row), flush=True)
    return rows


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for arm in ("memory (respond)", "whole text"):
        for weights in dict.fromkeys(r.get("decode_weights", "") for r in report["rows"]):
            rows = [r for r in report["rows"] if r["arm"] == arm and r.get("turns")
                    and r.get("decode_weights", "") == weights]
            label = f"{arm}, {weights}" if weights else arm
            if rows:
                ax.plot([r["history_tokens"] for r in rows], [r["p50_s"] for r in rows], marker="o",
                        label=f"{label} p50")
                ax.plot([r["history_tokens"] for r in rows], [r["p95_s"] for r in rows], marker="x", linestyle=":",
                        label=f"{label} p95")
    ax.set_xscale("log")
    ax.set_xlabel("history tokens")
    ax.set_ylabel("seconds per turn")
    ax.set_title(f"Per-turn latency, {report['machine']['device']}, {report['date'][:10]}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--histories", default="500,5000")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--reply-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--decode-weights", default="auto",
                        help="decoders to time side by side, e.g. fp32,gguf (GradMem's decode_weights; default: auto)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    engine = GradMem.from_pretrained(device=args.device)
    engines = [GradMem(engine.model, engine.tokenizer, engine.adapter, name=engine.name, decode_weights=weights)
               for weights in args.decode_weights.split(",")] if args.decode_weights != "auto" else [engine]
    stamp = dt.datetime.now(dt.timezone.utc)
    device = str(engine.device)
    machine = {"platform": platform.platform(), "torch": torch.__version__, "device": device,
               "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
               "threads": torch.get_num_threads()}
    name = machine["gpu"].split()[1].lower() if machine["gpu"] else f"cpu{torch.get_num_threads()}"
    out = args.out or Path(__file__).parent / "results" / f"turn_latency-{stamp:%Y-%m-%d}-{name}.json"
    report = {"benchmark": "turn_latency", "date": stamp.isoformat(timespec="seconds"), "machine": machine,
              "adapter": engine.adapter_id, "write_precision": engine.write_precision,
              "reply_tokens": args.reply_tokens, "rows": []}
    with tempfile.TemporaryDirectory() as directory:
        for history in (int(h) for h in args.histories.split(",")):
            for one in engines:
                report["rows"] += history_row(one, history, args.turns, args.reply_tokens, Path(directory))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=1) + "\n")
    try:
        plot(report, out.with_suffix(".png"))
    except ImportError:
        print("no plot: matplotlib is not installed")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
