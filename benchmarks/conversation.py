"""A long chat with GradMemConversationMemory versus the full history in context, as the history grows.

    python benchmarks/conversation.py                          # CPU, 2 threads: ~160 messages, 5 WRITE steps
    python benchmarks/conversation.py --turns 600 --steps 100 --device cuda

Both arms replay the same seeded synthetic chat (training.data.chat_samples, test split). At every user turn
each arm READs (generates up to --max-new-tokens) and then stores the chat's own user and assistant turns, so
both always hold identical histories. The memory arm compresses in the background (its default mode) while
the chat goes on; the full-history arm feeds everything as text and stops once it no longer fits the model.
Reported: per-turn READ latency p50/p95 by history length, positions and KV-cache bytes at READ
(2 x layers x kv_heads x head_dim x dtype bytes x positions), stored bytes (transcript vs vectors), and a
sweep of READ latency over the recent-window size (the measurement behind MemoryPolicy.recent_tokens).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gradmem_agent import GradMem, GradMemConversationMemory
from gradmem_agent.compression import resolve_memory_tokens
from gradmem_agent.layout import read_messages, render_turn
from gradmem_agent.policy import MemoryPolicy
from gradmem_agent.read import prompt_ids
from gradmem_agent.training.data import chat_samples


def synthetic_chat(messages: int, seed: int) -> list[dict]:
    chat: list[dict] = []
    batch = 0
    while len(chat) < messages:
        for sample in chat_samples(16, split="test", seed=seed + batch, turns=(12, 16)):
            chat += [{"role": m["role"], "content": m["content"]} for m in sample.messages]
        batch += 1
    return chat[: messages - messages % 2]


def kv_bytes(gm: GradMem, positions: int) -> int:
    cfg = gm.model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    dtype_bytes = torch.finfo(gm.backbone.dtype).bits // 8
    return 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * dtype_bytes * positions


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def memory_arm(gm: GradMem, chat: list[dict], policy: MemoryPolicy, max_new_tokens: int, url: str,
               think_s: float) -> dict:
    conv = GradMemConversationMemory("bench", gm, url=url, policy=policy)
    rows = []
    for i in range(0, len(chat), 2):
        question, answer = chat[i], chat[i + 1]
        ctx = conv.read_context(question["content"])  # what the turn below reads (for positions)
        start = time.perf_counter()
        reply = conv.respond(question["content"], remember=False, max_new_tokens=max_new_tokens)
        seconds = time.perf_counter() - start
        positions = ctx.vectors + len(prompt_ids(gm.tokenizer, ctx.messages))
        add = time.perf_counter()
        conv.add_messages([question, answer])  # the chat's own turns, as in the full-history arm
        time.sleep(think_s)  # the user reading and typing: background compression's time
        rows.append({"history": i, "seconds": seconds, "add_ms": 1000 * (time.perf_counter() - add),
                     "positions": positions, "vectors": ctx.vectors, "blocks": len(ctx.blocks),
                     "text_messages": len(ctx.recent), "reply_tokens": gm.count_tokens(reply)})
        print(f"memory  msgs {i:4d}  {seconds:6.2f}s  positions {positions:5d}  blocks {len(ctx.blocks):3d}",
              flush=True)
    wait = time.perf_counter()
    conv.wait()  # let the last background WRITE land before measuring storage
    stats = conv.stats()
    conv.close()
    return {"rows": rows, "stats": stats.to_dict(), "final_wait_s": time.perf_counter() - wait}


def full_arm(gm: GradMem, chat: list[dict], max_new_tokens: int) -> dict:
    rows, history, stopped = [], [], None
    for i in range(0, len(chat), 2):
        question, answer = chat[i], chat[i + 1]
        messages = read_messages(history, question["content"])
        positions = len(prompt_ids(gm.tokenizer, messages))
        if positions + max_new_tokens >= gm.max_positions:
            stopped = {"history": i, "positions": positions, "reason": f"exceeds {gm.max_positions} positions"}
            print(f"full    msgs {i:4d}  stopped: {stopped['reason']}", flush=True)
            break
        start = time.perf_counter()
        reply = gm.generate(messages, max_new_tokens=max_new_tokens)
        seconds = time.perf_counter() - start
        history += [question, answer]
        rows.append({"history": i, "seconds": seconds, "positions": positions, "reply_tokens": gm.count_tokens(reply)})
        print(f"full    msgs {i:4d}  {seconds:6.2f}s  positions {positions:5d}", flush=True)
    transcript_bytes = sum(len(m["content"].encode()) for m in history)
    return {"rows": rows, "stopped": stopped, "transcript_bytes": transcript_bytes}


def buckets(rows: list[dict], total: int, parts: int = 4) -> list[dict]:
    """p50/p95 latency and mean positions per quarter of the chat (by history length)."""
    out = []
    for k in range(parts):
        low, high = k * total // parts, (k + 1) * total // parts
        mine = [r for r in rows if low <= r["history"] < high]
        if mine:
            secs = [r["seconds"] for r in mine]
            out.append({"history": [low, high], "turns": len(mine), "p50_s": round(percentile(secs, 0.5), 3),
                        "p95_s": round(percentile(secs, 0.95), 3),
                        "mean_positions": round(statistics.mean(r["positions"] for r in mine))})
    return out


def window_sweep(gm: GradMem, chat: list[dict], windows: list[int], vectors: int, reply_tokens: int) -> list[dict]:
    """READ cost by recent-window size, with a full memory (`vectors` vectors) in front."""
    memory = gm.m0(16).repeat(vectors // 16 + 1, 1)[:vectors]
    rows = []
    for window in windows:
        turns, used = [], 0
        for m in chat:
            if used >= window:
                break
            turns.append(m)
            used += gm.count_tokens(render_turn(m["role"], m["content"], gm.tokenizer))
        embeds, attention, prompt = gm.build_inputs(read_messages(turns, "What did I say?"), memory)
        prefill, decode = _time_read(gm, embeds, attention)
        row = {"recent_tokens": window, "text_tokens": used, "memory_vectors": vectors, "prompt_tokens": prompt,
               "prefill_s": round(prefill, 3), "decode_ms_per_token": round(1000 * decode, 1),
               f"turn_s_for_{reply_tokens}_token_reply": round(prefill + reply_tokens * decode, 3),
               "prefill_share": round(prefill / (prefill + reply_tokens * decode), 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


@torch.no_grad()
def _time_read(gm: GradMem, embeds: torch.Tensor, attention: torch.Tensor, repeats: int = 3) -> tuple[float, float]:
    """(prefill seconds, seconds per decoded token), best of `repeats`; generate() runs the LM head on the
    last position only, so a plain forward would overstate prefill."""
    def generate(tokens: int) -> float:
        start = time.perf_counter()
        gm.model.generate(inputs_embeds=embeds, attention_mask=attention, max_new_tokens=tokens,
                          min_new_tokens=tokens, do_sample=False)
        return time.perf_counter() - start

    generate(1)  # warm-up
    one = min(generate(1) for _ in range(repeats))
    seventeen = min(generate(17) for _ in range(repeats))
    return one, max(0.0, seventeen - one) / 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=160, help="chat messages (user + assistant)")
    parser.add_argument("--steps", type=int, default=5, help="WRITE steps per block (engine default: 100)")
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--think-s", type=float, default=1.0,
                        help="pause after each turn (a user reading and typing); 0 = back-to-back, as in an agent loop")
    parser.add_argument("--recent-tokens", type=int, default=MemoryPolicy.recent_tokens)
    parser.add_argument("--segment-tokens", type=int, default=MemoryPolicy.segment_tokens)
    parser.add_argument("--max-blocks", type=int, default=MemoryPolicy.max_blocks)
    parser.add_argument("--sweep", default="128,256,512,1024,2048", help="recent windows to time ('' to skip)")
    parser.add_argument("--sweep-reply-tokens", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gm = GradMem.from_pretrained(adapter=None, device=args.device)
    chat = synthetic_chat(args.turns, args.seed)
    policy = MemoryPolicy(recent_tokens=args.recent_tokens, segment_tokens=args.segment_tokens,
                          max_blocks=args.max_blocks, steps=args.steps)

    sweep = []
    if args.sweep:
        windows = [int(w) for w in args.sweep.split(",")]
        sweep = window_sweep(gm, chat, windows, policy.max_blocks * 16, args.sweep_reply_tokens)
    with tempfile.TemporaryDirectory() as folder:
        mem = memory_arm(gm, chat, policy, args.max_new_tokens, f"sqlite:///{Path(folder) / 'bench.db'}",
                         args.think_s)
    full = full_arm(gm, chat, args.max_new_tokens)

    n = len(chat)
    last_mem, last_full = mem["rows"][-1], full["rows"][-1]
    stats = mem["stats"]
    both = min(len(mem["rows"]), len(full["rows"]))
    report = {
        "benchmark": "conversation",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "device": str(gm.device), "dtype": str(gm.backbone.dtype),
                    "gpu": torch.cuda.get_device_name(0) if gm.device.type == "cuda" else None},
        "model": gm.name,
        "settings": {"messages": n, "write_steps": args.steps, "max_new_tokens": args.max_new_tokens,
                     "think_s": args.think_s,
                     "policy": dataclasses.asdict(policy),
                     "memory_tokens": resolve_memory_tokens(gm, policy), "seed": args.seed},
        "latency": {
            "memory": {"p50_s": round(percentile([r["seconds"] for r in mem["rows"]], 0.5), 3),
                       "p95_s": round(percentile([r["seconds"] for r in mem["rows"]], 0.95), 3),
                       "by_history": buckets(mem["rows"], n)},
            "full": {"p50_s": round(percentile([r["seconds"] for r in full["rows"]], 0.5), 3),
                     "p95_s": round(percentile([r["seconds"] for r in full["rows"]], 0.95), 3),
                     "by_history": buckets(full["rows"], n), "stopped": full["stopped"]},
            "last_turn_ratio_full_over_memory": round(last_full["seconds"] / last_mem["seconds"], 2),
            "mean_ratio_full_over_memory_same_turns": round(
                statistics.mean(f["seconds"] / m["seconds"] for m, f in zip(mem["rows"][:both], full["rows"][:both],
                                                                             strict=True)), 2),
        },
        "positions_at_last_read": {"memory": last_mem["positions"], "full": last_full["positions"],
                                   "model_max": gm.max_positions},
        "kv_cache_bytes_at_last_read": {"memory": kv_bytes(gm, last_mem["positions"]),
                                        "full": kv_bytes(gm, last_full["positions"]),
                                        "bytes_per_position": kv_bytes(gm, 1)},
        "stored_bytes": {"transcript": stats["transcript_bytes"], "vectors": stats["vector_bytes"],
                         "vectors_per_text_token": stats["vector_bytes"] / max(1, stats["tokens_in_memory"])},
        "memory": {**stats, "final_background_wait_s": round(mem["final_wait_s"], 2)},
        "window_sweep": sweep,
        "turns": {"memory": mem["rows"], "full": full["rows"]},
    }
    print(json.dumps({k: v for k, v in report.items() if k not in ("turns", "window_sweep")}, indent=1))
    kind = "gpu" if gm.device.type == "cuda" else "cpu"
    stamp = dt.datetime.now(dt.timezone.utc)
    out = args.out or Path(__file__).parent / "results" / f"conversation-{stamp:%Y-%m-%d}-{kind}{os.cpu_count()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
