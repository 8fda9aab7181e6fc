"""GPU WRITE side by side in one run: each path on one block and on batches, and the shared write queue.

Paths (the shipped adapter, one WRITE step, the model in bf16):
- unmerged: as before issue 23: the shared model with its LoRA switched on, logits recomputed in chunks
- eager: the WRITE's own merged copy (write_model.py), logits kept, op by op
- graphs: the same, each pass replayed as a captured CUDA graph (write_graphs.py; the default on a GPU)
- compiled+graphs: torch.compile (default mode) of the step, inside the captured graphs
- reduce-overhead: torch.compile's own CUDA graphs instead of ours (`--modes` to add it: it compiles per shape)
For each: median seconds of --repeat calls after a warm-up (which captures or compiles), context tokens/s,
kernel launches and host waits of one profiled call. The queue: N sessions each ask for one block at the same
moment from their own thread; through the engine's write queue they share passes, against N one-block calls.

Saves JSON under benchmarks/results/ (date, machine); `--plot FILE.json` draws its PNG where matplotlib is.

    python benchmarks/gpu_write.py --device cuda
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import platform
import statistics
import threading
import time
from pathlib import Path

import torch

from gradmem_agent import GradMem
from gradmem_agent.write_queue import WriteQueue
from profile_write import case, sync, text_of

MODES = ("unmerged", "eager", "graphs", "compiled+graphs")


def engine_for(mode: str, device: str) -> GradMem:
    engine = GradMem.from_pretrained(device=device, write_graphs=mode in ("graphs", "compiled+graphs"))
    if mode == "unmerged":  # the shared model: the shipped adapter's LoRA is on outside any phase switch
        engine._write.get = lambda: type(engine.backbone)(engine.model, engine.adapter, keep_logits_elements=0)
    elif mode == "compiled+graphs":
        engine.compile_write("default")
    elif mode == "reduce-overhead":
        engine.compile_write("reduce-overhead")
    return engine


def queue_case(engine: GradMem, sessions: int, tokens: int, repeat: int) -> dict:
    """N threads each write one block at once through a queue, against the same N blocks written one by one."""
    texts = [text_of(tokens, engine, 1000 + i) for i in range(sessions)]
    queue = WriteQueue(engine)
    memory_tokens = engine.write_config.memory_tokens

    def one_by_one() -> None:
        for text in texts:
            engine.write(text)

    def together() -> None:
        threads = [threading.Thread(target=queue.write, args=([t],),
                                    kwargs={"memory_tokens": memory_tokens, "steps": None, "lr": None})
                   for t in texts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    timings = {}
    for name, fn in (("one_by_one", one_by_one), ("queue", together)):
        fn()  # warm-up: captures the shapes this path needs
        runs = []
        for _ in range(repeat):
            sync(engine.device)
            start = time.perf_counter()
            fn()
            sync(engine.device)
            runs.append(time.perf_counter() - start)
        timings[name] = statistics.median(runs)
    passes = queue.passes
    return {"sessions": sessions, "tokens": tokens, "seconds_one_by_one": round(timings["one_by_one"], 4),
            "seconds_queue": round(timings["queue"], 4), "speedup": round(timings["one_by_one"] / timings["queue"], 2),
            "queue_context_tokens_per_s": round(sessions * tokens / timings["queue"], 1),
            "passes_per_round": round(passes / (repeat + 1), 2)}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["results"] if "seconds_median" in r]
    cases = sorted({(r["batch"], r["tokens"]) for r in rows})
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fig, axes = plt.subplots(1, len(cases) + 1, figsize=(5 * (len(cases) + 1) + 2, 4.5))
    for ax, (batch, tokens) in zip(axes, cases, strict=False):
        values = [next((r["seconds_median"] * 1000 for r in rows if r["mode"] == m and r["batch"] == batch
                        and r["tokens"] == tokens), 0) for m in modes]
        ax.bar(modes, values)
        ax.set_yscale("log")
        ax.set_ylabel("ms per WRITE call")
        ax.set_title(f"{batch} x {tokens} tokens")
        ax.tick_params(axis="x", rotation=30)
        if batch == 1:
            ax.axhline(20, color="red", linestyle="--", label="target 20 ms")
            ax.legend()
    ax = axes[-1]
    batched = [r for r in rows if r["batch"] > 1]
    widest = max((r["batch"] for r in batched), default=0)
    labels = [f"{r['mode']} {r['batch']}x" for r in batched if r["batch"] == widest or r["batch"] == 32]
    values = [r["context_tokens_per_s"] for r in batched if r["batch"] == widest or r["batch"] == 32]
    for q in report.get("queue", []):
        labels += [f"{q['sessions']} sessions one by one", f"{q['sessions']} sessions queued"]
        values += [q["sessions"] * q["tokens"] / q["seconds_one_by_one"], q["queue_context_tokens_per_s"]]
    ax.barh(labels, values)
    ax.axvline(100_000, color="red", linestyle="--", label="target 100k tokens/s")
    ax.set_title("context tokens/s")
    ax.legend()
    fig.suptitle(f"GPU WRITE, {report['machine'].get('gpu')}, {report['date'][:10]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--cases", default="1x256,32x256,128x256")
    parser.add_argument("--queue", default="32x256", help="SESSIONSxTOKENS,... for the write queue (graphs path)")
    parser.add_argument("--queue-mode", default="graphs", help="the path the queue is measured on")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="only draw the PNG of a saved JSON")
    args = parser.parse_args()
    if args.plot:
        plot(json.loads(args.plot.read_text()), args.plot.with_suffix(".png"))
        return
    stamp = dt.datetime.now(dt.timezone.utc)
    machine = {"platform": platform.platform(), "torch": torch.__version__,
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    gpu = (machine["gpu"] or "cpu").split()[1].lower() if machine["gpu"] else "cpu"
    out = args.out or Path(__file__).parent / "results" / f"gpu_write-{stamp:%Y-%m-%d}-{gpu}.json"
    report = {"benchmark": "gpu_write", "date": stamp.isoformat(timespec="seconds"), "machine": machine,
              "results": [], "queue": []}

    def save() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n")

    for mode in args.modes.split(","):
        engine = engine_for(mode, args.device)
        report["adapter"] = engine.adapter_id
        for spec in args.cases.split(","):
            batch, tokens = (int(x) for x in spec.split("x"))
            engine.write_config = dataclasses.replace(engine.write_config, batch_size=batch)
            try:
                row = {"mode": mode, **case(engine, batch, tokens, args.repeat)}
                row.pop("top_host_ops_us")
                row["top_device_ops_us"] = row["top_device_ops_us"][:6]
            except Exception as exc:  # a failed capture or compile is a result too
                row = {"mode": mode, "batch": batch, "tokens": tokens, "error": f"{type(exc).__name__}: {exc}"[:400]}
            report["results"].append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "top_device_ops_us"}), flush=True)
            save()
        if mode == args.queue_mode:
            engine.write_config = dataclasses.replace(engine.write_config, batch_size=None)
            for spec in args.queue.split(","):
                sessions, tokens = (int(x) for x in spec.split("x"))
                report["queue"].append(queue_case(engine, sessions, tokens, max(3, args.repeat // 3)))
                print(json.dumps(report["queue"][-1]), flush=True)
                save()
        del engine
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    print(f"saved {out}")


if __name__ == "__main__":
    main()
