"""Held-out chats through a trained adapter with other inference settings than it was trained with.

WRITE steps K (the adapter was trained with K = 1) and segment size (256 tokens in training and in
benchmarks/quality.py; 128 cuts the 8 compressed turns into two or three blocks, i.e. more vectors a token).

    python runs/grow16/inference_sweep.py runs/grow16/g16m/checkpoint --steps 1,2,3 --segments 256,128
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from gradmem_agent import GradMem
from gradmem_agent.training.data.heldout import load_heldout_chats
from gradmem_agent.training.episodes import flatten
from gradmem_agent.training.evaluate import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter")
    parser.add_argument("--steps", default="1,2,3")
    parser.add_argument("--segments", default="256,128")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    gm = GradMem.from_pretrained(adapter=args.adapter, device=args.device, dtype="fp32")
    chats = load_heldout_chats()
    rows = []
    for seg in [int(s) for s in args.segments.split(",")]:
        episodes = flatten(chats, gm.count_tokens, seg, recent_messages=4)
        for k in [int(s) for s in args.steps.split(",")]:
            t0 = time.time()
            r = evaluate(gm, episodes, "gradmem", steps=k)
            rows.append({"segment_tokens": seg, "steps": k, "correct": r["correct"], "total": r["total"],
                         "segments": r["write"]["segments"], "seconds": round(time.time() - t0, 1)})
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"adapter": args.adapter, "device": str(gm.device), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
