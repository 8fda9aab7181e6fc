"""WRITE batch on the CPU: time and peak memory of GradMem.write over the same texts, by texts per pass.

    python benchmarks/write_batch.py                       # default model + shipped adapter, 32 texts, 2 threads
    python benchmarks/write_batch.py --batches 32,8,4,1 --steps 1

Each batch size runs in its own process, so each peak resident memory (ru_maxrss) is that run's alone. The
texts are the first 32 hand-written held-out chats, cut to ~240 tokens (one 256-token block each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path


def one_run(batch: int, steps: int, texts: int, threads: int) -> dict:
    import torch

    from gradmem_agent import GradMem
    from heldout import load_heldout_chats

    torch.set_num_threads(threads)
    gm = GradMem.from_pretrained(device="cpu")
    chats = load_heldout_chats()
    tok = gm.tokenizer
    pool = [tok.decode(tok(" ".join(m["content"] for m in c.messages))["input_ids"][:240]) for c in chats]
    inputs = (pool * (texts // len(pool) + 1))[:texts]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    gm.write(inputs, batch_size=batch, steps=steps)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"batch": batch, "steps": steps, "texts": texts, "seconds": round(seconds, 1),
            "peak_rss_gb": round(peak / 1e6, 2), "rss_before_write_gb": round(before / 1e6, 2),
            "adapter": gm.adapter_id}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="32,8,4,1")
    parser.add_argument("--steps", type=int, default=1, help="WRITE steps (the shipped adapter's K is 1)")
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_run(args.child, args.steps, args.texts, args.threads)))
        return
    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        run = subprocess.run([sys.executable, __file__, "--child", str(batch), "--steps", str(args.steps),
                              "--texts", str(args.texts), "--threads", str(args.threads)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            rows.append({"batch": batch, "error": run.stderr.strip().splitlines()[-1:]})
        else:
            rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    stamp = dt.datetime.now(dt.timezone.utc)
    out = args.out or Path(__file__).parent / "results" / f"write_batch-{stamp:%Y-%m-%d}-cpu.json"
    report = {"benchmark": "write_batch", "date": stamp.isoformat(timespec="seconds"),
              "machine": {"platform": platform.platform(), "python": platform.python_version(),
                          "threads": args.threads}, "rows": rows}
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
