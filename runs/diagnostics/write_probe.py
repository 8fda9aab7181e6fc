"""CPU diagnostic (2026-11-26): how much of the toy's secret word does a frozen-model WRITE put in the memory?

The toy note of toy_reading.py ("the secret word is <w>": 4 templates x 8 words) is written into memory by the
frozen default model (K steps of --optimizer from M0: the memory after exactly K steps for sgd/nsgd, as
training writes; the best memory seen for adam, as the product's frozen WRITE does).
With dM = M_K - M0 for all 32 notes:
- word_share: the share of dM's variance (about the overall mean) that the word explains once each template's
  mean is removed; the rest is the template, which the reader does not need;
- loto_centroid: leave one template out, classify its 8 notes by the nearest word centroid of the other three
  templates' template-centred updates (chance 0.125): is the word written the same way in every template?
- loto_ridge: the same with a ridge probe on the raw, uncentred updates (what a linear reader would face).

    python runs/diagnostics/write_probe.py --steps 1 3 10 --optimizer nsgd --lr 0.1 [--write-skip 1]
"""

from __future__ import annotations

import argparse
import json

import torch

from gradmem_agent.adapter import untrained_m0
from gradmem_agent.backbone import Backbone
from gradmem_agent.models import load_model
from gradmem_agent.write import WriteConfig, pad_right, unrolled_write, write_batch

WORDS = ["apple", "river", "stone", "cloud", "tiger", "lemon", "piano", "ocean"]
TEMPLATES = ["Note: the secret word is {w}.", "Remember this, the secret word is {w}.",
             "The secret word for today is {w}.", "Keep it safe: the secret word is {w}."]


def scores(dm: torch.Tensor) -> dict[str, float]:
    """dm [templates, words, features] -> word_share, loto_centroid, loto_ridge."""
    templates, words = dm.shape[:2]
    resid = dm - dm.mean(1, keepdim=True)
    share = resid.pow(2).sum() / (dm - dm.mean((0, 1), keepdim=True)).pow(2).sum()
    unit = torch.nn.functional.normalize
    centroid = ridge = 0.0
    truth = torch.arange(words)
    for t in range(templates):
        rest = [i for i in range(templates) if i != t]
        cent = resid[rest].mean(0)
        centroid += float((unit(resid[t], dim=-1) @ unit(cent, dim=-1).T).argmax(1).eq(truth).float().mean())
        x = unit(dm[rest].flatten(0, 1), dim=-1)
        y = torch.nn.functional.one_hot(truth.repeat(len(rest)), words).float()
        w = x.T @ torch.linalg.solve(x @ x.T + 1e-3 * torch.eye(len(x)), y)
        ridge += float((unit(dm[t], dim=-1) @ w).argmax(1).eq(truth).float().mean())
    return {"word_share": round(float(share), 5), "loto_centroid": centroid / templates,
            "loto_ridge": ridge / templates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--optimizer", choices=["sgd", "nsgd", "adam"], default="nsgd")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--write-skip", type=int, default=0)
    parser.add_argument("--memory-tokens", type=int, default=4)
    args = parser.parse_args()
    loaded = load_model("default", device="cpu", dtype=torch.float32, attn_implementation="eager")
    tokenizer, model = loaded.tokenizer, loaded.model
    backbone = Backbone(model, None)
    m0 = untrained_m0(args.memory_tokens, backbone.embed.weight)
    texts = [t.format(w=w) for t in TEMPLATES for w in WORDS]
    ids, mask = pad_right([tokenizer.encode(t, add_special_tokens=False) for t in texts],
                          tokenizer.pad_token_id or 0, "cpu")
    for steps in args.steps:
        if args.optimizer == "adam":  # the product's frozen WRITE: the best memory seen is kept
            config = WriteConfig(memory_tokens=args.memory_tokens, steps=steps, lr=args.lr, optimizer="adam",
                                 target_accuracy=None, skip_tokens=args.write_skip)
            memory = torch.stack([vectors for vectors, _ in write_batch(backbone, m0, ids, mask, config)])
        else:  # the training WRITE: the memory after exactly K steps
            memory, _ = unrolled_write(backbone, m0, ids, mask, steps=steps, lr=args.lr, second_order=False,
                                       skip_tokens=args.write_skip, optimizer=args.optimizer)
        with torch.no_grad():
            _, correct, count = backbone.reconstruction(memory.detach(), ids, mask, skip_tokens=args.write_skip)
        accuracy = float((correct.float() / count).mean())
        dm = memory.detach() - m0
        print(json.dumps({"optimizer": args.optimizer, "lr": args.lr, "steps": steps, "write_skip": args.write_skip,
                          "reconstruction": round(accuracy, 3),
                          **scores(dm.reshape(len(TEMPLATES), len(WORDS), -1))}), flush=True)


if __name__ == "__main__":
    main()
