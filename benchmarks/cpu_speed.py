"""CPU speed side by side, in one run on one machine: WRITE of one block, reply decoding, per-turn latency.

1. WRITE one ~256-token block with the shipped adapter: the old path (fp32, LoRA switched on in the shared
   model, logits recomputed in backward), the new fp32 path (LoRA merged into the WRITE's own copy, logits
   kept) and the new bf16 path (a bf16 merged copy; the default where the CPU multiplies bf16 natively), with
   how far the bf16 memory is from fp32; then where one step's time goes, against its matrix products alone.
2. Decode tokens/s on the default model: ours eager (transformers `generate`), ours fast (`Decoder`, fp32),
   ours fast with int8 weights (opt-in), ours through llama.cpp (`decode_weights="gguf"`, the default where
   llama-cpp-python is installed), and plain
   llama.cpp (llama-cpp-python, the `gguf` extra) on the same GGUF and threads; whether each one's greedy
   tokens equal eager's.
   Decode rate = (N - 1) tokens / (time for N tokens - time for 1), so the prompt's prefill is left out.
3. Per-turn latency p50/p95 against history length: memory (4 blocks of 16 vectors + a 512-token recent
   window) against the whole history as text, each with the eager and the fast decoder (prefix cache).

Prints, and saves JSON and a PNG under benchmarks/results/ with the date and the machine.

    python benchmarks/cpu_speed.py            # the full run (several minutes on 2 cores)
    python benchmarks/cpu_speed.py --quick    # small sizes, a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from gradmem_agent import GradMem, MemoryBlock
from gradmem_agent.backbone import Backbone
from gradmem_agent.gguf_decode import GgufDecodeError
from gradmem_agent.models import default_gguf_path
from gradmem_agent.read import SamplingConfig, generate_ids, prompt_ids
from gradmem_agent.write import write_batch

FACTS = ("My sister Ingrid moved to Tromsø in March; she works at the harbour office and her dog is called Pilot. "
         "The spare key to the shed is under the blue flowerpot, and the wifi password is heron-4417. ")
PROMPT = [{"role": "user", "content": "Write a short story about a harbour dog called Pilot."}]
WINDOW_TOKENS = 512  # the default policy's recent window
READ_BLOCKS = 4  # the default policy's most blocks a question reads


def machine() -> dict:
    model_name = next((line.split(":", 1)[1].strip() for line in _lscpu().splitlines()
                       if line.startswith("Model name")), platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in _lscpu().splitlines() if line.startswith("Flags")), [])
    return {"cpu": model_name, "cores": torch.get_num_threads(), "platform": platform.platform(),
            "torch": torch.__version__, "cpu_bf16": [f for f in flags if "bf16" in f or f.startswith("amx")]}


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def _load() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def text_of(tokens: int, engine: GradMem, salt: int) -> str:
    ids = engine.tokenizer(f"Note {salt}. " + FACTS * (tokens // 40 + 1), add_special_tokens=False)["input_ids"]
    return engine.tokenizer.decode(ids[:tokens])


# 1. WRITE ---------------------------------------------------------------------------------------------
def interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds of each function over `repeat` rounds, the functions taking turns within a round, so that a
    shared machine's changing load falls on all of them alike (one warm-up round first)."""
    times: dict[str, list[float]] = {label: [] for label in fns}
    for round_ in range(repeat + 1):
        for label, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_:
                times[label].append(time.perf_counter() - start)
    return times


def write_section(gm: GradMem, repeat: int) -> dict:
    text = text_of(256, gm, 0)
    fp32 = GradMem(gm.model, gm.tokenizer, gm.adapter, name=gm.name, write_precision="fp32")
    bf16 = GradMem(gm.model, gm.tokenizer, gm.adapter, name=gm.name, write_precision="bf16")
    blocks = {}

    def old() -> None:  # before issue 23: the shared model with its LoRA switched on, logits recomputed
        config = gm.write_config
        ids, mask = gm._pad(gm._encode_for_write([text], config.memory_tokens))
        with gm.phase("write"):
            vectors, stats = write_batch(Backbone(gm.model, gm.adapter, keep_logits_elements=0),
                                         gm.m0(config.memory_tokens), ids, mask, config)[0]
        blocks["old fp32"] = MemoryBlock.written(vectors, stats, gm.fingerprint, None)

    def new(label: str, engine: GradMem) -> Callable[[], object]:
        def run() -> None:
            blocks[label] = engine.write(text)[0]
        return run

    times = interleaved({"old fp32": old, "new fp32": new("new fp32", fp32), "new bf16": new("new bf16", bf16)}, repeat)
    rows = {}
    for label, runs in times.items():
        rows[label] = {"seconds": round(statistics.median(runs), 3), "runs": [round(t, 3) for t in runs],
                       "loss": round(blocks[label].stats.loss, 4),
                       "token_accuracy": round(blocks[label].stats.token_accuracy, 4)}
        print(f"WRITE {label:<9} {rows[label]['seconds']:6.3f} s  loss {blocks[label].stats.loss:.4f}", flush=True)
    ratios = {label: round(statistics.median(o / n for o, n in zip(times["old fp32"], runs, strict=True)), 3)
              for label, runs in times.items()}
    m0 = gm.m0(16)
    ref, bf = blocks["old fp32"].vectors - m0, blocks["new bf16"].vectors - m0
    deviation = {
        "new_fp32_max_abs_diff": float((blocks["new fp32"].vectors - blocks["old fp32"].vectors).abs().max()),
        "bf16_update_cosine": float(torch.nn.functional.cosine_similarity(ref.flatten(), bf.flatten(), dim=0)),
        "bf16_update_relative_error": float((bf - ref).norm() / ref.norm()),
    }
    print(f"WRITE speed-up over old fp32 (median of paired rounds): {ratios}; {deviation}", flush=True)
    floor = {label: step_floor(engine, text, repeat) for label, engine in (("fp32", fp32), ("bf16", bf16))}
    return {"tokens": blocks["old fp32"].stats.tokens, "default": gm.write_precision, "paths": rows,
            "speedup_vs_old": ratios, "deviation": deviation, "floor": floor}


def step_floor(engine: GradMem, text: str, repeat: int) -> dict:
    """Where one K = 1 WRITE's time goes (the forward with its graph, the backward to the memory, the pass that
    scores the written memory), against the time of the same matrix products alone, the lower bound of any
    implementation that multiplies at this CPU's rate: a forward's products, twice for forward + backward
    (weights are frozen: the backward only multiplies by each weight once)."""
    config = engine.write_config
    ids, mask = engine._pad(engine._encode_for_write([text], config.memory_tokens))
    backbone = engine._write.get()
    memory = engine.m0(config.memory_tokens).float().unsqueeze(0)

    def parts() -> list[float]:
        t0 = time.perf_counter()
        leaf = memory.clone().requires_grad_(True)
        loss, _, _ = backbone.reconstruction(leaf, ids, mask, padded=False, skip_tokens=config.skip_tokens)
        t1 = time.perf_counter()
        torch.autograd.grad(loss.sum(), leaf)
        t2 = time.perf_counter()
        with torch.no_grad():
            backbone.reconstruction(memory, ids, mask, padded=False, skip_tokens=config.skip_tokens)
        return [t1 - t0, t2 - t1, time.perf_counter() - t2]

    parts()
    forward, backward, scoring = (statistics.median(p) for p in zip(*[parts() for _ in range(repeat)], strict=True))
    c = engine.model.config
    positions = ids.shape[1] + config.memory_tokens
    kv = c.hidden_size // c.num_attention_heads * c.num_key_value_heads
    shapes = [(c.hidden_size, c.hidden_size), (c.hidden_size, kv), (c.hidden_size, kv), (c.hidden_size, c.hidden_size),
              (c.hidden_size, c.intermediate_size), (c.hidden_size, c.intermediate_size),
              (c.intermediate_size, c.hidden_size)] * c.num_hidden_layers + [(c.hidden_size, c.vocab_size)]
    inputs = {k: torch.randn(positions, k, dtype=backbone.dtype) for k, _ in shapes}
    weights = [torch.randn(n, k, dtype=backbone.dtype) for k, n in shapes]

    def products() -> None:
        for (k, _), w in zip(shapes, weights, strict=True):
            inputs[k] @ w.T

    gemm = statistics.median(interleaved({"products": products}, repeat)["products"])
    flops = 2 * positions * sum(k * n for k, n in shapes)
    row = {"forward": round(forward, 3), "backward": round(backward, 3), "scoring": round(scoring, 3),
           "forward_products_seconds": round(gemm, 3), "forward_gflop": round(flops / 1e9, 1),
           "products_gflop_per_s": round(flops / gemm / 1e9), "floor_forward_backward": round(2 * gemm, 3)}
    print(f"WRITE step {backbone.dtype}: forward {forward:.3f} s, backward {backward:.3f} s, scoring {scoring:.3f} s;"
          f" the matrix products alone {gemm:.3f} s a forward ({row['products_gflop_per_s']} GFLOP/s), so forward +"
          f" backward cannot take less than {2 * gemm:.3f} s here", flush=True)
    return row


# 2. decode --------------------------------------------------------------------------------------------
def eager_tokens(gm: GradMem, embeds, attention, n: int) -> list[int]:
    return generate_ids(gm.backbone, embeds, attention, SamplingConfig(max_new_tokens=n), min_new_tokens=n)


def fast_tokens(gm: GradMem, embeds, phase: str, n: int) -> list[int]:
    gm.decoder.clear()  # no prefix reuse here: every run prefills the prompt
    # the key picks the model (LoRA merged in for "read"): without it a memory READ ran the plain model
    return list(gm.decoder.decode(embeds, SamplingConfig(max_new_tokens=n), key=phase))


def gguf_tokens(gm: GradMem, embeds, ids: list[int], phase: str, n: int) -> list[int]:
    gm.decoder.clear()  # no prefix reuse here either
    return list(gm.decoder.decode(embeds, SamplingConfig(max_new_tokens=n), key=phase, prompt_ids=ids))


def gguf_engine(gm: GradMem) -> GradMem | str:
    """An engine on gm's model and adapter that decodes through llama.cpp, or why there is none."""
    try:
        return GradMem(gm.model, gm.tokenizer, gm.adapter, name=gm.name, decode_weights="gguf")
    except GgufDecodeError as exc:
        return f"ours gguf skipped: {exc}"


def decode_rates(runners: dict[str, Callable[[int], object]], tokens: int, repeat: int) -> dict[str, dict]:
    """Per runner: prefill (1 token) and decode rate (N - 1 tokens over the time past the first), the runners
    taking turns within each round (interleaved); medians over rounds, and each round's rates kept."""
    fns = {}
    for label, run in runners.items():
        fns[(label, 1)] = lambda run=run: run(1)
        fns[(label, tokens)] = lambda run=run: run(tokens)
    times = interleaved(fns, repeat)
    out = {}
    for label in runners:
        rates = [(tokens - 1) / (full - one) for one, full in zip(times[(label, 1)], times[(label, tokens)],
                                                                   strict=True)]
        out[label] = {"prefill_s": round(statistics.median(times[(label, 1)]), 4),
                      "tokens_per_s": round(statistics.median(rates), 1), "rounds": [round(r, 1) for r in rates]}
    return out


def llama_cpp_runner(ids: list[int], threads: int) -> Callable[[int], list[int]] | str:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        return f"llama.cpp skipped: llama-cpp-python is not installed ({exc}); pip install '.[bench]'"
    llm = Llama(model_path=str(default_gguf_path()), n_ctx=2048, n_threads=threads, n_threads_batch=threads,
                verbose=False)

    def run(n: int) -> list[int]:
        llm.reset()
        llm.eval(ids)
        out = []
        for _ in range(n):
            token = llm.sample(top_k=1, temp=0.0)
            out.append(token)
            llm.eval([token])
        return out

    return run


def first_difference(a: list[int], b: list[int]) -> int | None:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)


def in_phase(engine: GradMem, phase: str, fn: Callable[..., list[int]], *args) -> Callable[[int], list[int]]:
    def run(n: int) -> list[int]:
        with engine.phase(phase):
            return fn(*args, n)
    return run


def decode_section(gm: GradMem, eager: GradMem, int8: GradMem, gguf: GradMem | None, tokens: int,
                   repeat: int) -> dict:
    ids = prompt_ids(gm.tokenizer, PROMPT)
    embeds, attention, _ = gm.build_inputs(PROMPT)
    memory = gm.write(text_of(200, gm, 1))
    mem_embeds, mem_attention, _ = gm.build_inputs(PROMPT, memory)
    int8.decoder.prepare(int8.read_backbone("plain"))
    runners = {  # eager: `generate` on the shared model with the adapter's LoRA switched per phase
        "ours eager": in_phase(eager, "plain", eager_tokens, eager, embeds, attention),
        "ours fast": in_phase(gm, "plain", fast_tokens, gm, embeds, "plain"),
        "ours fast int8": in_phase(int8, "plain", fast_tokens, int8, embeds, "plain"),
        "ours eager, memory": in_phase(eager, "read", eager_tokens, eager, mem_embeds, mem_attention),
        "ours fast, memory": in_phase(gm, "read", fast_tokens, gm, mem_embeds, "read"),
    }
    if gguf is not None:
        runners["ours, gguf (llama.cpp READ)"] = functools.partial(gguf_tokens, gguf, embeds, ids, "plain")
        runners["ours, gguf, memory"] = functools.partial(gguf_tokens, gguf, mem_embeds, ids, "read")
    llama = llama_cpp_runner(ids, torch.get_num_threads())
    if isinstance(llama, str):
        print(llama, flush=True)
    else:
        runners["llama.cpp"] = llama
    rows = decode_rates(runners, tokens, repeat)
    reference = runners["ours eager"](tokens)
    # replies as users get them (ending at a stop token): the timed runs above never stop, and `generate`'s
    # min_new_tokens hides the stop token where fast decoding yields it, so their tokens are not compared
    replies = {"fast_equals_eager_greedy": gm.generate(PROMPT, max_new_tokens=tokens)
               == eager.generate(PROMPT, max_new_tokens=tokens),
               "fast_equals_eager_greedy_memory": gm.generate(PROMPT, memory, max_new_tokens=tokens)
               == eager.generate(PROMPT, memory, max_new_tokens=tokens),
               "int8_first_token_differing_from_fp32": first_difference(reference, runners["ours fast int8"](tokens))}
    if gguf is not None:
        replies["gguf_first_token_differing_from_fp32"] = first_difference(
            reference, runners["ours, gguf (llama.cpp READ)"](tokens))
        memory_reference = runners["ours fast, memory"](tokens)
        replies["gguf_first_token_differing_from_fp32_memory"] = first_difference(
            memory_reference, runners["ours, gguf, memory"](tokens))
    if "llama.cpp" in runners:
        replies["llama_cpp_first_token_differing_from_fp32"] = first_difference(reference, runners["llama.cpp"](tokens))
        for row in rows.values():
            row["of_llama_cpp"] = round(statistics.median(
                a / b for a, b in zip(row["rounds"], rows["llama.cpp"]["rounds"], strict=True)), 3)
    else:
        rows["llama.cpp"] = None
    for label, row in rows.items():
        if row is not None:
            ratio = f"  ({row['of_llama_cpp']:.2f} of llama.cpp, paired)" if "of_llama_cpp" in row else ""
            print(f"decode {label:<28} {row['tokens_per_s']:7.1f} tokens/s  prefill {row['prefill_s']:.3f} s{ratio}",
                  flush=True)
    print(f"greedy tokens: {replies}", flush=True)
    return {"new_tokens": tokens, "prompt_tokens": len(ids), "rows": rows, "replies": replies}


# 3. per-turn latency ---------------------------------------------------------------------------------
def chat_turns(gm: GradMem, tokens: int) -> list[dict]:
    """A chat of about `tokens` tokens: alternating user and assistant turns of ~60 tokens."""
    turns, used, salt = [], 0, 0
    while used < tokens:
        role = "user" if salt % 2 == 0 else "assistant"
        content = text_of(60, gm, salt)
        turns.append({"role": role, "content": content})
        used += gm.count_tokens(content) + 5
        salt += 1
    return turns if turns[-1]["role"] == "assistant" else turns[:-1]


def recent_window(gm: GradMem, turns: list[dict]) -> list[dict]:
    kept, used = [], 0
    for turn in reversed(turns):
        used += gm.count_tokens(turn["content"]) + 5
        if used > WINDOW_TOKENS:
            break
        kept.insert(0, turn)
    return kept


def latency_section(gm: GradMem, eager: GradMem, gguf: GradMem | None, histories: list[int], turns: int,
                    reply_tokens: int) -> list[dict]:
    blocks = gm.write([text_of(230, gm, 100 + i) for i in range(READ_BLOCKS)])
    rows = []
    for history in histories:
        for arm in ("memory", "text"):
            engines = [("eager", eager), ("fast", gm)] + ([("gguf", gguf)] if gguf is not None else [])
            for label, engine in engines:
                if engine.decoder is not None:
                    engine.decoder.clear()
                chat = chat_turns(gm, history)
                times, positions = [], 0
                for turn in range(turns):
                    question = {"role": "user", "content": f"Question {turn}: where does Ingrid work?"}
                    messages = [*(recent_window(gm, chat) if arm == "memory" else chat), question]
                    memory = blocks if arm == "memory" else None
                    positions = (16 * READ_BLOCKS if memory else 0) + len(prompt_ids(gm.tokenizer, messages))
                    if positions + reply_tokens >= gm.max_positions:
                        break
                    start = time.perf_counter()
                    reply = engine.generate(messages, memory=memory, max_new_tokens=reply_tokens)
                    times.append(time.perf_counter() - start)
                    chat += [question, {"role": "assistant", "content": reply}]
                if not times:
                    continue
                ordered = sorted(times)
                row = {"history_tokens": history, "arm": arm, "decoder": label, "turns": len(times),
                       "positions": positions, "p50_s": round(statistics.median(ordered), 3),
                       "p95_s": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 3)}
                rows.append(row)
                print(f"turn  history {history:6d}  {arm:<6} {label:<5}  positions {positions:5d}  "
                      f"p50 {row['p50_s']:6.2f} s  p95 {row['p95_s']:6.2f} s", flush=True)
    return rows


# report --------------------------------------------------------------------------------------------
def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.5))
    write = report["write"]["paths"]
    ax1.bar(list(write), [r["seconds"] for r in write.values()], color=["grey", "tab:blue", "tab:green"])
    ax1.axhline(0.5, color="red", linestyle="--", label="target 0.5 s")
    ax1.set_ylabel("seconds")
    ax1.set_title(f"WRITE one block ({report['write']['tokens']} tokens)")
    ax1.legend()
    decode = {k: v for k, v in report["decode"]["rows"].items() if v is not None}
    ax2.barh(list(decode), [r["tokens_per_s"] for r in decode.values()])
    if report["decode"]["rows"].get("llama.cpp"):
        ax2.axvline(report["decode"]["rows"]["llama.cpp"]["tokens_per_s"] / 2, color="red", linestyle="--",
                    label="50% of llama.cpp")
        ax2.legend()
    ax2.set_xlabel("tokens/s")
    ax2.set_title("reply decoding, same model")
    for arm in ("memory", "text"):
        for label, style in (("eager", "--"), ("fast", "-"), ("gguf", ":")):
            rows = [r for r in report["latency"] if r["arm"] == arm and r["decoder"] == label]
            if rows:
                ax3.plot([r["history_tokens"] for r in rows], [r["p50_s"] for r in rows], style, marker="o",
                         label=f"{arm} as READ, {label} (p50)")
    ax3.set_xscale("log")
    ax3.set_xlabel("history tokens")
    ax3.set_ylabel("seconds per turn")
    ax3.set_title(f"per-turn latency, {report['latency_reply_tokens']}-token replies")
    ax3.legend(fontsize=8)
    fig.suptitle(f"{report['machine']['cpu']}, {report['machine']['cores']} threads, {report['date'][:10]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--threads", type=int, default=None, help="torch and llama.cpp threads (default: all)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs of each measure (median)")
    parser.add_argument("--tokens", type=int, default=None, help="new tokens in the decode measure")
    parser.add_argument("--histories", default=None, help="history lengths in tokens, comma-separated")
    parser.add_argument("--turns", type=int, default=None, help="turns per history length")
    parser.add_argument("--reply-tokens", type=int, default=None, help="reply tokens per turn")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeat = args.repeat or (1 if args.quick else 3)
    tokens = args.tokens or (16 if args.quick else 64)
    histories = ([int(h) for h in args.histories.split(",")] if args.histories
                 else [256, 1024] if args.quick else [512, 1024, 2048, 5120])
    turns = args.turns or (2 if args.quick else 3)
    reply_tokens = args.reply_tokens or (8 if args.quick else 32)

    gm = GradMem.from_pretrained(device="cpu", fast_decode=True, decode_weights="fp32")  # torch's fast decoder
    eager = GradMem.from_pretrained(device="cpu", fast_decode=False)
    int8 = GradMem.from_pretrained(device="cpu", decode_weights="int8")  # its own model: its layers get swapped
    gguf = gguf_engine(gm)  # gm's model and adapter, replies through llama.cpp
    if isinstance(gguf, str):
        print(gguf, flush=True)
        gguf = None
    stamp = dt.datetime.now(dt.timezone.utc)
    report: dict = {"benchmark": "cpu_speed", "date": stamp.isoformat(timespec="seconds"), "machine": machine(),
                    "model": gm.name, "adapter": gm.adapter_id, "quick": args.quick,
                    "defaults": {"write_precision": gm.write_precision, "decode_weights": "gguf" if gguf else "fp32"},
                    "latency_reply_tokens": reply_tokens, "load_average_at_start": _load()}
    print(json.dumps(report["machine"]), flush=True)
    name = f"cpu_speed-{stamp:%Y-%m-%d}-cpu{torch.get_num_threads()}{'-quick' if args.quick else ''}"
    out = args.out or Path(__file__).parent / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every section: a run cut short keeps what it measured
        report["load_average_now"] = _load()
        out.write_text(json.dumps(report, indent=1) + "\n")

    report["write"] = write_section(gm, repeat)
    save()
    report["decode"] = decode_section(gm, eager, int8, gguf, tokens, repeat)
    save()
    del int8
    report["latency"] = latency_section(gm, eager, gguf, histories, turns, reply_tokens)
    save()
    try:
        plot(report, out.with_suffix(".png"))
    except ImportError:
        print("no plot: matplotlib is not installed", file=sys.stderr)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
