"""decode_weights="gguf" against the fp32 torch path: greedy tokens and first-token logits, LoRA on and off.

For each question, without memory (plain READ, LoRA off) and with a block written by the shipped adapter
(memory READ, LoRA on), it reports how many greedy tokens llama.cpp gives before the first that differs from
torch fp32, the max abs difference of the first-token logits, and, with memory, the same for llama.cpp with
the LoRA switched off (what the converted LoRA changes). Prints JSON lines.

    python benchmarks/gguf_agreement.py [--tokens 32]
"""

from __future__ import annotations

import argparse
import json

import torch

from gradmem_agent import GradMem
from gradmem_agent.read import SamplingConfig

FACTS = ["My sister Ingrid moved to Tromsø in March; she works at the harbour office and her dog is called Pilot.",
         "The spare key to the shed is under the blue flowerpot, and the wifi password is heron-4417.",
         "Our team meeting moved to Thursday at 3 pm in room 4B; bring the quarterly budget report."]
QUESTIONS = ["Where does Ingrid work?", "Where is the spare key?", "When is the team meeting?",
             "Write a short story about a harbour dog called Pilot."]


def agree(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    ours = GradMem.from_pretrained(device="cpu", fast_decode=True)
    gguf = GradMem(ours.model, ours.tokenizer, ours.adapter, name=ours.name, decode_weights="gguf")
    blocks = ours.write(FACTS)
    greedy = SamplingConfig(max_new_tokens=args.tokens)
    for i, question in enumerate(QUESTIONS):
        for memory in (None, blocks[i % len(blocks)]):
            embeds, _, ids = ours._read_inputs([{"role": "user", "content": question}], memory)
            phase = "read" if memory is not None else "plain"
            with ours.phase(phase):
                reference = list(ours.decoder.decode(embeds, greedy, key=phase))
                logits = ours.model(inputs_embeds=embeds).logits[0, -1]
            row = {"question": i, "memory": memory is not None,
                   "tokens_equal": agree(reference, list(gguf.decoder.decode(embeds, greedy, key=phase,
                                                                             prompt_ids=ids))),
                   "logits_max_abs_diff": round(float((gguf.decoder.next_logits(embeds, phase, ids)[0]
                                                       - logits).abs().max()), 3),
                   "tokens_equal_prompt_as_embeddings": agree(reference, list(gguf.decoder.decode(
                       embeds, greedy, key=phase)))}
            if memory is not None:
                with ours.phase("plain"):
                    logits_off = ours.model(inputs_embeds=embeds).logits[0, -1]
                with_lora = gguf.decoder.next_logits(embeds, "read", ids)[0]
                without = gguf.decoder.next_logits(embeds, "plain", ids)[0]
                row.update(
                    tokens_equal_lora_off=agree(reference, list(gguf.decoder.decode(embeds, greedy, key="plain",
                                                                                    prompt_ids=ids))),
                    logits_max_abs_diff_lora_off=round(float((without - logits).abs().max()), 3),
                    torch_lora_effect_max_abs=round(float((logits_off - logits).abs().max()), 3),
                    lora_effect_correlation=round(float(torch.corrcoef(torch.stack(
                        [with_lora - without, logits - logits_off]))[0, 1]), 4))
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
