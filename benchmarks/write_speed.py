"""WRITE speed: seconds per inner step and context tokens per second, by batch, length, vectors.

    python benchmarks/write_speed.py                      # CPU, 2 threads, small grid
    python benchmarks/write_speed.py --device cuda        # GPU grid: batch 1/8/32/64 × 512/2048 tokens × 16/64
    python benchmarks/write_speed.py --device cuda --compile   # also torch.compile the WRITE step

Context tokens per second = batch × tokens / seconds of a whole WRITE of `--steps` steps (the paper's unit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import platform
import time
from pathlib import Path

import torch

from gradmem_agent import GradMem
from gradmem_agent.write import WriteConfig, write_batch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_write(gm: GradMem, batch: int, tokens: int, vectors: int, steps: int, repeats: int) -> dict:
    device = gm.device
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(200, 40000, (batch, tokens), generator=gen).to(device)
    mask = torch.ones_like(ids)
    config = WriteConfig(memory_tokens=vectors, steps=steps, lr=0.3, optimizer="adam", target_accuracy=None,
                         batch_size=batch)
    m0 = gm.m0(vectors)
    write_batch(gm.backbone, m0, ids, mask, config)  # warm-up (and compilation)
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        write_batch(gm.backbone, m0, ids, mask, config)
        sync(device)
        times.append(time.perf_counter() - t0)
    best = min(times)
    row = {"batch": batch, "tokens": tokens, "vectors": vectors, "steps": steps, "seconds": round(best, 4),
           "seconds_per_step": round(best / steps, 5), "context_tokens_per_s": round(batch * tokens / best, 1)}
    if device.type == "cuda":
        row["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        torch.cuda.reset_peak_memory_stats()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None, help="fp32 or bf16 (default: bf16 on GPU, fp32 on CPU)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", default=None)
    parser.add_argument("--tokens", default=None)
    parser.add_argument("--vectors", default=None)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="also measure with the WRITE step compiled")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    gpu = args.device.startswith("cuda")
    torch.set_num_threads(args.threads)
    batches = [int(x) for x in (args.batches or ("1,8,32,64" if gpu else "1,4")).split(",")]
    lengths = [int(x) for x in (args.tokens or ("512,2048" if gpu else "128,512")).split(",")]
    vectors = [int(x) for x in (args.vectors or ("16,64" if gpu else "16")).split(",")]
    steps = args.steps if gpu else min(args.steps, 5)

    gm = GradMem.from_pretrained(adapter=None, device=args.device, dtype=args.dtype)
    modes = ["eager"] + (["compiled"] if args.compile else [])
    rows = []
    for mode in modes:
        if mode == "compiled":
            gm.compile_write()
        for b, t, v in itertools.product(batches, lengths, vectors):
            try:
                row = {"mode": mode, **time_write(gm, b, t, v, steps, args.repeats)}
            except torch.OutOfMemoryError:
                row = {"mode": mode, "batch": b, "tokens": t, "vectors": v, "error": "out of memory"}
                torch.cuda.empty_cache()
            except Exception as exc:  # a compile failure is a result too
                error = f"{type(exc).__name__}: {exc}"[:300]
                row = {"mode": mode, "batch": b, "tokens": t, "vectors": v, "error": error}
            rows.append(row)
            print(json.dumps(row), flush=True)

    stamp = dt.datetime.now(dt.timezone.utc)
    machine = {"platform": platform.platform(), "torch": torch.__version__, "device": str(gm.device),
               "dtype": str(gm.backbone.dtype), "threads": torch.get_num_threads()}
    if gpu:
        machine["gpu"] = torch.cuda.get_device_name(0)
    report = {"benchmark": "write_speed", "date": stamp.isoformat(timespec="seconds"), "machine": machine,
              "model": gm.name, "rows": rows}
    kind = "gpu" if gpu else "cpu"
    out = args.out or Path(__file__).parent / "results" / f"write_speed-{stamp:%Y-%m-%d}-{kind}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
