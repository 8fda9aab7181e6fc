"""CPU/GPU diagnostic (2026-11-26): can meta-training teach the real default model to read a trivial memory?

One note, "the secret word is <one of 8 words>", is written into --memory-tokens (4) memory vectors by
--inner-steps differentiable SGD steps (alpha = --inner-lr) from M0; the question is answered from the memory
alone. Every --eval-every outer steps it prints the test exact match and answer loss reading each sample's
*own* memory and *another* sample's memory: reading shows up only as own < other. `--write-skip N` hides the
first N text tokens from the WRITE (attention and loss), as the product does (`gradmem train --write-skip`;
the first drafts' `--skip-first` is `--write-skip 1`). `--chat` writes the note as a ChatML user turn,
`--train-base` also trains every base weight (a capacity check), `--save DIR` keeps the adapter.

    python runs/diagnostics/toy_reading.py --steps 150 [--write-skip 1] [--inner-lr 4]   # ~4.5 s a step, 2 threads
"""

from __future__ import annotations

import argparse
import json
import random
import time

import torch

from gradmem_agent.backbone import Backbone
from gradmem_agent.layout import render_turn
from gradmem_agent.models import load_model
from gradmem_agent.training.data import QA
from gradmem_agent.training.episodes import Episode
from gradmem_agent.training.meta import answer_loss, collate, recall_batch
from gradmem_agent.training.train import Stage, TrainConfig, build_adapter, trainable
from gradmem_agent.write import unrolled_write

WORDS = ["apple", "river", "stone", "cloud", "tiger", "lemon", "piano", "ocean"]
TEMPLATES = ["Note: the secret word is {w}.", "Remember this, the secret word is {w}.",
             "The secret word for today is {w}.", "Keep it safe: the secret word is {w}."]


def episode(rng: random.Random, chat: bool = False) -> Episode:
    word = rng.choice(WORDS)
    text = rng.choice(TEMPLATES).format(w=word)
    if chat:  # the note as the product writes a chat segment: one ChatML user turn
        text = render_turn("user", text)
    qa = QA("What is the secret word?", word)
    return Episode([text], [], qa.question, qa, "kv", [{"role": "user", "content": text}], [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--write-skip", type=int, default=0)
    parser.add_argument("--inner-lr", type=float, default=0.4)
    parser.add_argument("--inner-optimizer", choices=["sgd", "nsgd"], default="sgd")
    parser.add_argument("--projection-lr", type=float, default=None)
    parser.add_argument("--recall-weight", type=float, default=0.0, help="add the READ-side recall of the note")
    parser.add_argument("--lora-phases", choices=["write", "both"], default="both")
    parser.add_argument("--lora-rank", type=int, default=8)
    parser.add_argument("--inner-steps", type=int, default=1)
    parser.add_argument("--train-base", action="store_true",
                        help="also train every base weight (a capacity check: such a model cannot ship as an adapter)")
    parser.add_argument("--base-lr", type=float, default=3e-5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--memory-tokens", type=int, default=4)
    parser.add_argument("--chat", action="store_true", help="write the note as a ChatML user turn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--save", default=None, help="save the adapter here at the end (not with --train-base)")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    device = args.device
    loaded = load_model("default", device=device, dtype=torch.float32, attn_implementation="eager")
    tokenizer, model = loaded.tokenizer, loaded.model
    config = TrainConfig(memory_tokens=args.memory_tokens, lora_rank=args.lora_rank, lora_phases=args.lora_phases,
                         curriculum=[Stage(0, args.inner_steps, (1, 1), 64)],
                         inner_lr=args.inner_lr, inner_optimizer=args.inner_optimizer,
                         write_skip_tokens=args.write_skip)
    adapter = build_adapter(model, config, "toy").to(device)
    params = trainable(adapter)
    base = [p for n, p in model.named_parameters() if "lora_" not in n] if args.train_base else []
    for p in params + base:
        p.requires_grad_(True)
    backbone = Backbone(model, adapter)
    projection = [adapter.projection.weight]
    opt = torch.optim.AdamW([{"params": [p for p in params if p is not projection[0]]},
                             {"params": projection, "lr": args.projection_lr or args.lr},
                             {"params": base, "lr": args.base_lr}], lr=args.lr)
    params += base

    def write(episodes):
        batch = collate(episodes, tokenizer, device)
        with adapter.phase("write"):
            memory, _ = unrolled_write(backbone, adapter.m0, batch.write_ids, batch.write_mask,
                                       steps=args.inner_steps,
                                       lr=args.inner_lr, skip_tokens=args.write_skip,
                                       optimizer=args.inner_optimizer)
        return memory, batch

    def test() -> dict:
        rng = random.Random(999)
        episodes = [episode(rng, args.chat) for _ in range(48)]
        memory, batch = write(episodes)
        with torch.no_grad(), adapter.phase("read"):
            own_loss, own = answer_loss(backbone, memory.detach(), batch)
            other_loss, other = answer_loss(backbone, memory.detach().roll(1, 0), batch)
        differ = torch.tensor([episodes[i].qa.answer != episodes[i - 1].qa.answer for i in range(len(episodes))],
                              device=own.device)
        return {"own_exact": float(own.mean()), "other_exact": float(other[differ].mean()),
                "own_loss": float(own_loss.mean()), "other_loss": float(other_loss[differ].mean())}

    rng, t0 = random.Random(args.seed), time.time()
    print("before", test(), flush=True)
    row = {}
    for step in range(1, args.steps + 1):
        memory, batch = write([episode(rng, args.chat) for _ in range(args.batch)])
        with adapter.phase("read"):
            loss, _ = answer_loss(backbone, memory, batch)
            if args.recall_weight:
                loss = loss.mean() + args.recall_weight * answer_loss(backbone, memory, recall_batch(batch))[0].mean()
        opt.zero_grad(set_to_none=True)
        loss.mean().backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % args.eval_every == 0:
            row = {k: round(v, 3) for k, v in test().items()}
            print(step, row, f"{(time.time() - t0) / step:.2f} s/step", flush=True)
    if args.save:  # a reading toy adapter, e.g. to warm-start a chat run from a memory that is already read
        adapter.save(args.save)
    print("final", json.dumps({**vars(args), **row}), flush=True)


if __name__ == "__main__":
    main()
