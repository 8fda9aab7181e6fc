"""Where one WRITE's time goes: torch.profiler over GradMem.write of one block and of a batch.

For each case: wall time (median of --repeat runs after a warm-up), the operators with the most self time
on the device and on the host, how many kernels were launched, and how many times the host waited for the
device (synchronisations and device-to-host copies). Prints a summary and saves JSON under
benchmarks/results/ (with the date and the machine).

    python benchmarks/profile_write.py --device cuda
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from gradmem_agent import GradMem

TEXT = ("My sister Ingrid moved to Tromsø in March; she works at the harbour office and her dog is called Pilot. "
        "The spare key to the shed is under the blue flowerpot, and the wifi password is heron-4417. ")


def text_of(tokens: int, engine: GradMem, salt: int) -> str:
    """A text of about `tokens` tokens, different for each salt (so a batch holds distinct samples)."""
    text = f"Note {salt}. " + TEXT * (tokens // 40 + 1)
    ids = engine.tokenizer(text, add_special_tokens=False)["input_ids"][:tokens]
    return engine.tokenizer.decode(ids)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def case(engine: GradMem, batch: int, tokens: int, repeat: int) -> dict:
    texts = [text_of(tokens, engine, i) for i in range(batch)]
    engine.write(texts)  # warm-up (allocator, kernels, caches)
    times = []
    for _ in range(repeat):
        sync(engine.device)
        start = time.perf_counter()
        engine.write(texts)
        sync(engine.device)
        times.append(time.perf_counter() - start)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if engine.device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        engine.write(texts)
        sync(engine.device)
    events = prof.key_averages()
    on_device = "self_device_time_total" if engine.device.type == "cuda" else "self_cpu_time_total"
    top = sorted(events, key=lambda e: getattr(e, on_device, 0), reverse=True)[:15]
    host = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:15]
    kernels = sum(e.count for e in events if e.key.startswith(("cudaLaunchKernel", "cuLaunchKernel")))
    waiting = ("Synchronize", "Memcpy", "item", "_local_scalar")
    waits = {e.key: e.count for e in events if any(s in e.key for s in waiting)}
    seconds = statistics.median(times)
    return {
        "batch": batch, "tokens": tokens, "seconds_median": round(seconds, 4), "seconds": [round(t, 4) for t in times],
        "context_tokens_per_s": round(batch * tokens / seconds, 1), "kernel_launches": kernels, "host_waits": waits,
        "top_device_ops_us": [(e.key, round(getattr(e, on_device, 0), 1), e.count) for e in top],
        "top_host_ops_us": [(e.key, round(e.self_cpu_time_total, 1), e.count) for e in host],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--cases", default="1x256,32x256", help="BATCHxTOKENS,... to profile")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--modes", default="eager",
                        help="eager and/or torch.compile modes of the WRITE step (default, reduce-overhead)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = []
    for mode in args.modes.split(","):
        engine = GradMem.from_pretrained(device=args.device)  # fresh: compiling replaces the step in place
        if mode != "eager":
            engine.compile_write(mode)
        for spec in args.cases.split(","):
            batch, tokens = (int(x) for x in spec.split("x"))
            try:
                row = {"mode": mode, **case(engine, batch, tokens, args.repeat)}
            except Exception as exc:  # a compile failure is a result too
                row = {"mode": mode, "batch": batch, "tokens": tokens, "error": f"{type(exc).__name__}: {exc}"[:300]}
                print(row, flush=True)
                results.append(row)
                continue
            results.append(row)
            print(f"{mode}: {batch} x {tokens}: {row['seconds_median']:.3f} s "
                  f"({row['context_tokens_per_s']:.0f} context tokens/s), {row['kernel_launches']} kernel launches, "
                  f"host waits {row['host_waits']}", flush=True)
            for name, us, count in row["top_device_ops_us"][:8]:
                print(f"    {us / 1000:8.2f} ms  x{count:<5} {name}")
    device = str(engine.device)
    stamp = dt.datetime.now(dt.timezone.utc)
    machine = {"platform": platform.platform(), "torch": torch.__version__, "device": device,
               "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
               "threads": torch.get_num_threads()}
    out = args.out or Path(__file__).parent / "results" / f"profile_write-{stamp:%Y-%m-%d}-{device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "profile_write", "date": stamp.isoformat(timespec="seconds"),
                               "machine": machine, "adapter": engine.adapter_id, "results": results}, indent=1) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
