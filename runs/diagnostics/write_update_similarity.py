"""CPU diagnostic (2026-11-26): how much does one WRITE step from M0 depend on the text's content?

Prints the cosine similarity between the one-step updates M_1 - M0 of different texts, with and without text
token 0 in the WRITE (the last memory slot predicts it directly) or hidden from it. See README.md here.

    python runs/diagnostics/write_update_similarity.py
"""

from __future__ import annotations

import torch

from gradmem_agent import GradMem
from gradmem_agent.adapter import untrained_m0
from gradmem_agent.write import pad_right, unrolled_write

TEXTS = [f"Note: the secret word is {w}." for w in ("apple", "river", "stone", "cloud")] + [
    "User: My dog is called Biscuit and I live in Porto.", "User: I work as a nurse in Lyon and my cat is Tom."]


def main() -> None:
    gm = GradMem.from_pretrained(adapter=None, device="cpu", dtype="fp32")
    m0 = untrained_m0(4, gm.backbone.model.get_input_embeddings().weight.detach())
    ids, mask = pad_right([gm.tokenizer(t, add_special_tokens=False)["input_ids"] for t in TEXTS], 0, "cpu")
    without_first = mask.clone()
    without_first[:, 0] = 0
    arms = (("with token 0", mask, 0), ("token 0 hidden (mask: attention and loss)", without_first, 0),
            ("token 0 hidden the product's way (skip_tokens=1)", mask, 1))
    for label, write_mask, skip in arms:
        memory, _ = unrolled_write(gm.backbone, m0, ids, write_mask, steps=1, lr=0.4, second_order=False,
                                   skip_tokens=skip)
        update = (memory - m0).reshape(len(TEXTS), -1).detach()
        cos = torch.nn.functional.cosine_similarity(update[:, None], update[None], dim=-1)
        print(f"{label}: update norms {[round(v, 2) for v in update.norm(dim=1).tolist()]}")
        print(cos.round(decimals=3))


if __name__ == "__main__":
    main()
