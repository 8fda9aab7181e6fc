"""Key-value retrieval documents: the GradMem capacity diagnostic."""

from __future__ import annotations

import random
import string

from .schema import QA, Sample

_ALPHABET = string.ascii_uppercase + string.digits


def _token(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(4, 6)))


def kv_samples(pairs: int, n: int, *, seed: int = 0, questions: int = 1) -> list[Sample]:
    """Each document holds `pairs` lines "KEY: VALUE" (or "KEY=VALUE"); fact_turns are line indices."""
    if pairs < 1 or not 1 <= questions <= pairs:
        raise ValueError(f"need pairs >= 1 and 1 <= questions <= pairs, got {pairs=} {questions=}")
    rng = random.Random(seed)
    samples = []
    for _ in range(n):
        keys: list[str] = []
        while len(keys) < pairs:
            key = _token(rng)
            if key not in keys:
                keys.append(key)
        values = [_token(rng) for _ in keys]
        separator = rng.choice((": ", "="))
        document = "\n".join(f"{key}{separator}{value}" for key, value in zip(keys, values, strict=True))
        asked = rng.sample(range(pairs), k=questions)
        qas = [QA(f"What is the value of {keys[i]}?", values[i], fact_turns=(i,)) for i in asked]
        meta = {"pairs": pairs, "separator": separator.strip()}
        samples.append(Sample(kind="kv", messages=[], document=document, qas=qas, meta=meta))
    return samples
