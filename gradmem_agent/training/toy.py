"""The toy reading task that starts the default model's recipe: one note, "the secret word is <w>", written
into a few memory vectors by one WRITE step and answered from them alone.

Meta-training from an untrained M0 did not teach the chat task to read memory; a toy reader did, but only for
some seeds: reading arrives within 25-50 outer steps or not at all (docs/experiments.md). `train_toy` trains
the seeds in turn and keeps the first adapter that reads, so that a chat run can start from it
(`TrainConfig.init_adapter`). Reading means answering from the sample's own memory and not from another
sample's: a learned answer format scores the same on both.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..backbone import Backbone
from ..layout import render_turn
from ..models import load_model
from ..write import unrolled_write
from .data import QA
from .episodes import Episode
from .meta import answer_loss, collate
from .train import Stage, TrainConfig, build_adapter, trainable

WORDS = ("apple", "river", "stone", "cloud", "tiger", "lemon", "piano", "ocean")
TEMPLATES = ("Note: the secret word is {w}.", "Remember this, the secret word is {w}.",
             "The secret word for today is {w}.", "Keep it safe: the secret word is {w}.")
TEST_NOTES, TEST_SEED = 48, 999


@dataclass(frozen=True)
class ToyConfig:
    model: str = "default"
    memory_tokens: int = 4
    lora_rank: int = 8
    lora_phases: str = "both"
    inner_steps: int = 1
    inner_lr: float = 0.1
    inner_optimizer: str = "nsgd"
    write_skip_tokens: int = 1
    lr: float = 1e-3
    weight_decay: float = 0.01  # AdamW's own default, which the toy runs kept
    grad_clip: float = 1.0
    samples_per_step: int = 8
    seeds: tuple[int, ...] = (0,)
    # a seed reads when, after its last step, own-memory exact match minus other-memory exact match reaches this
    min_gap: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if not self.seeds:
            raise ValueError("ToyConfig.seeds is empty")
        for name in ("memory_tokens", "inner_steps", "samples_per_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"ToyConfig.{name} must be at least 1, got {getattr(self, name)}")
        if self.lora_phases not in ("write", "both") or self.inner_optimizer not in ("sgd", "nsgd"):
            raise ValueError(f"ToyConfig: lora_phases 'write' or 'both' and inner_optimizer 'sgd' or 'nsgd', got "
                             f"{self.lora_phases!r} and {self.inner_optimizer!r}")


def toy_episode(rng: random.Random) -> Episode:
    """One note as the product writes a chat segment (a ChatML user turn) and its question."""
    word = rng.choice(WORDS)
    text = render_turn("user", rng.choice(TEMPLATES).format(w=word))
    qa = QA("What is the secret word?", word)
    return Episode([text], [], qa.question, qa, "kv", [{"role": "user", "content": text}], [])


def train_toy(config: ToyConfig, steps: int, out: Path, device: str | None = None) -> dict | None:
    """Train each seed for `steps` outer steps until one reads; save that adapter to out/checkpoint and return
    its record (seed, own and other exact match). None when no seed reads: nothing is saved."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    for seed in config.seeds:
        adapter, result = _train_seed(config, seed, steps, device)
        print(f"toy seed {seed}: {result}", flush=True)
        if result["own_exact"] - result["other_exact"] >= config.min_gap:
            adapter.config.training = {**asdict(config), "seed": seed, **result, "steps_done": steps}
            adapter.save(out / "checkpoint")
            return {"seed": seed, **result}
    return None


def _train_seed(config: ToyConfig, seed: int, steps: int, device: str):
    torch.manual_seed(seed)  # the LoRA init
    loaded = load_model(config.model, device=device, dtype=torch.float32, attn_implementation="eager")
    tokenizer, model = loaded.tokenizer, loaded.model
    shape = TrainConfig(memory_tokens=config.memory_tokens, lora_rank=config.lora_rank,
                        lora_phases=config.lora_phases, curriculum=[Stage(0, config.inner_steps, (1, 1), 64)],
                        inner_lr=config.inner_lr, inner_optimizer=config.inner_optimizer,
                        write_skip_tokens=config.write_skip_tokens)
    adapter = build_adapter(model, shape, Backbone(model).fingerprint).to(device)
    params = trainable(adapter)
    for p in params:
        p.requires_grad_(True)
    backbone = Backbone(model, adapter)
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    def write(episodes: list[Episode]):
        batch = collate(episodes, tokenizer, device)
        with adapter.phase("write"):
            memory, _ = unrolled_write(backbone, adapter.m0, batch.write_ids, batch.write_mask,
                                       steps=config.inner_steps, lr=config.inner_lr,
                                       skip_tokens=config.write_skip_tokens, optimizer=config.inner_optimizer)
        return memory, batch

    rng = random.Random(seed)
    for _ in range(steps):
        memory, batch = write([toy_episode(rng) for _ in range(config.samples_per_step)])
        with adapter.phase("read"):
            loss, _ = answer_loss(backbone, memory, batch)
        opt.zero_grad(set_to_none=True)
        loss.mean().backward()
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        opt.step()

    test_rng = random.Random(TEST_SEED)
    episodes = [toy_episode(test_rng) for _ in range(TEST_NOTES)]
    memory, batch = write(episodes)
    with torch.no_grad(), adapter.phase("read"):
        _, own = answer_loss(backbone, memory.detach(), batch)
        _, other = answer_loss(backbone, memory.detach().roll(1, 0), batch)
    # reading another note's memory can only be wrong where that note holds another word
    differ = torch.tensor([episodes[i].qa.answer != episodes[i - 1].qa.answer for i in range(len(episodes))],
                          device=own.device)
    return adapter, {"own_exact": round(float(own.mean()), 3), "other_exact": round(float(other[differ].mean()), 3)}
