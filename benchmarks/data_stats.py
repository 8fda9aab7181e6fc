"""Size and speed of the reading-layout generators (sessions, documents, cloze), per split.

    python benchmarks/data_stats.py               # 100 samples of each generator and split
    python benchmarks/data_stats.py --n 300 --seed 1

Tokens are counted with the default model's tokenizer (chats rendered as "role: content" lines); seconds are the
generation time of the n samples alone.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from statistics import mean

from transformers import AutoTokenizer

from gradmem_agent.models import cached_default_model_dir
from gradmem_agent.training.data import cloze_samples, document_samples, session_samples
from gradmem_agent.training.data.splits import SPLITS

GENERATORS = {
    "sessions": lambda n, split, seed: session_samples(n, split=split, seed=seed, open_facts=0.3, invented_names=0.3),
    "documents": lambda n, split, seed: document_samples(n, split=split, seed=seed),
    "cloze": lambda n, split, seed: cloze_samples(n, split=split, seed=seed),
}


def text_of(sample) -> str:
    if sample.document is not None:
        return sample.document
    return "\n".join(f"{m['role']}: {m['content']}" for m in sample.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(cached_default_model_dir(), local_files_only=True)
    print("generator  split  samples/s  questions/100  tokens mean [min-max]  messages mean  question kinds")
    for name, generate in GENERATORS.items():
        for split in SPLITS:
            start = time.perf_counter()
            samples = generate(args.n, split, args.seed)
            seconds = time.perf_counter() - start
            tokens = [len(tokenizer(text_of(s)).input_ids) for s in samples]
            questions = sum(len(s.qas) for s in samples)
            kinds = Counter(kind for s in samples for kind in s.meta.get("qa_kinds", ["chat"] * len(s.qas)))
            shares = " ".join(f"{kind} {count / questions:.0%}" for kind, count in sorted(kinds.items()))
            messages = f"{mean(len(s.messages) for s in samples):.0f}" if samples[0].messages else "-"
            print(f"{name:10} {split:5} {args.n / seconds:9.1f}  {100 * questions / args.n:13.0f}  "
                  f"{mean(tokens):6.0f} [{min(tokens)}-{max(tokens)}]  {messages:>13}  {shares}")


if __name__ == "__main__":
    main()
