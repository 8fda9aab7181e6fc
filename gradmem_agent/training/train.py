"""Meta-train a GradMem adapter (M0, projection, LoRA) so that memory becomes readable.

    gradmem train --out runs/smol --minutes 8            # resumes from runs/smol/checkpoint if present
    gradmem train --recipe smollm2-135m --out runs/recipe --minutes 8   # the shipped adapter's legs, resumable

One GPU command lasts at most 10 minutes here, so training runs in time-boxed legs: every leg resumes from
the checkpoint (adapter, optimiser, step, RNG-free data: step-seeded) and saves it again before its time is up.
Several GPUs: `python -m torch.distributed.run --standalone --nproc_per_node N -m gradmem_agent.training.train ...`
(or `accelerate launch`): one process a GPU, each drawing its own samples; gradients are averaged.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import load_file

from ..adapter import ADAPTER_CONFIG, ADAPTER_WEIGHTS, AdapterConfig, GradMemAdapter
from ..backbone import Backbone
from ..models import load_model
from ..options import LoraPhases, Precision, add_options, check_count, check_option, check_positive, check_real, given
from ..policy import MemoryPolicy
from .episodes import DATA_KINDS, Recaller, flatten, read_episodes, sample_mix
from .meta import collate, outer_loss

OOM_RETRY_STEPS = 20  # after running out of GPU memory, steps with half-size passes before the full size again


@dataclass
class Stage:
    """One curriculum stage: from `start` step on, these settings hold."""

    start: int
    inner_steps: int
    chat_turns: tuple[int, int]
    segment_tokens: int
    kv_pairs: tuple[int, int] = (2, 8)
    facts: tuple[int, int] = (2, 5)
    memory_only: float = 0.5  # share of chat questions kept only if their facts left the window
    # Chats cut as the product cuts them (policy.plan_blocks, a recent window of this many tokens, drawn per
    # step; a None in the list: the last 2 or `recent_messages` messages, as when this is unset).
    recent_tokens: list[int | None] | None = None
    # At most this many questions per sample, drawn at random. Every question reads the whole layout (all its
    # blocks and up to `recent_tokens` of text), so in long layouts the reads, not the writes, fill the step.
    questions: int | None = None
    invented_names: float = 0.0  # share of people's and pets' names made up (data.chat_samples)
    open_facts: float = 0.0  # share of chat facts from the open-key kinds (data.facts_open)
    # Every sample read as the product's query-aware READ reads it (episodes.read_episodes: chosen blocks,
    # recalled old turns, the recent window), with these budgets drawn per sample; cloze samples never recall
    # (their question quotes the text that recall would find). Chats also need recent_tokens.
    read_layout: bool = False
    recall_tokens: list[int] = field(default_factory=lambda: [0, 96, 192])
    read_blocks: list[int | None] = field(default_factory=lambda: [2, 4])


InnerOptimizer = Literal["sgd", "nsgd"]  # the unrolled WRITE's rule (Adam cannot be unrolled here)


@dataclass
class TrainConfig:
    """What a meta-training run does; `gradmem train` takes every field as an option (--field-name).

    Args:
        model: "default" (SmolLM2-135M-Instruct) or a Hugging Face id or local path.
        memory_tokens: memory vectors per block.
        lora_rank: rank of the LoRA on the model (0: no LoRA).
        lora_phases: "write" (LoRA in WRITE only: READ goes through the base model) or "both".
        inner_lr: step size of the WRITE's inner steps.
        write_skip_tokens: leading segment tokens hidden from WRITE, not attended to nor predicted (with the
            turn-start token visible, one step's update was nearly the same for any content:
            docs/experiments.md).
        inner_optimizer: "sgd" or "nsgd" (each sample's inner gradient scaled to unit RMS).
        projection_lr: outer learning rate of the memory projection (None: lr).
        second_order: true (through every inner step), false (first order) or k (the last k steps only).
        samples_per_step: samples per outer step and process.
        micro_samples: samples per forward/backward pass, the step's gradient accumulated over passes (None: all
            at once); halved for a while when a pass runs out of GPU memory.
        recent_messages: messages kept as text in the lab layout (2 or this many, drawn per step).
        lr: outer learning rate (AdamW), after a linear warm-up of `warmup` steps.
        warmup: warm-up steps.
        weight_decay: AdamW's.
        grad_clip: outer gradient norm clip.
        spike_factor: skip an outer step whose gradient norm exceeds this multiple of the running norm.
        recon_weight: weight of the outer reconstruction loss (each segment read back from its memory).
        recall_weight: weight of the READ-side repetition of each segment from its memory alone.
        precision: "fp32" or "bf16" (autocast with fp32 master weights).
        init_adapter: start a fresh run from this saved adapter (same memory tokens, LoRA rank and targets).
        grow_memory: with init_adapter: repeat its M0 to memory_tokens (a multiple of its count).
        max_steps: stop after this many outer steps.
        mix: task weights, from episodes.DATA_KINDS (JSON on the command line).
        curriculum: stages by start step (a JSON list of Stage fields on the command line).
        seed: seeds the data (step-seeded, so a resumed run draws what it would have drawn) and a fresh LoRA.
    """

    model: str = "default"
    memory_tokens: int = 16
    lora_rank: int = 16
    lora_phases: LoraPhases = "both"
    inner_lr: float = 0.4
    write_skip_tokens: int = 0
    inner_optimizer: InnerOptimizer = "sgd"
    projection_lr: float | None = None
    second_order: bool | int = True
    samples_per_step: int = 8
    micro_samples: int | None = None
    recent_messages: int = 4
    lr: float = 1e-3
    warmup: int = 50
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    spike_factor: float = 8.0
    recon_weight: float = 0.1
    recall_weight: float = 0.0
    precision: Precision = "fp32"
    init_adapter: str | None = None
    grow_memory: bool = False
    max_steps: int = 100_000
    mix: dict[str, float] = field(default_factory=lambda: {"chat": 0.6, "babi1": 0.1, "babi2": 0.1,
                                                           "babi3": 0.05, "kv": 0.15})
    # Short contexts and questions about compressed facts first, so the reader must learn to read memory
    # before the answer format alone can lower the loss.
    curriculum: list[Stage] = field(default_factory=lambda: [
        Stage(0, 1, (6, 8), 128, (1, 4), (1, 3), 0.9),
        Stage(200, 2, (8, 12), 192, (2, 8), (2, 4), 0.7),
        Stage(500, 3, (8, 16), 256, (2, 12), (2, 5), 0.5),
    ])
    seed: int = 0

    def __post_init__(self) -> None:
        check_option(self.lora_phases, LoraPhases, "lora_phases")
        check_option(self.inner_optimizer, InnerOptimizer, "inner_optimizer")
        check_option(self.precision, Precision, "precision")
        for name in ("memory_tokens", "samples_per_step", "max_steps"):
            check_count(getattr(self, name), name, 1)
        for name in ("lora_rank", "write_skip_tokens", "recent_messages", "warmup"):
            check_count(getattr(self, name), name, 0)
        if self.micro_samples is not None:
            check_count(self.micro_samples, "micro_samples", 1)
        for name in ("inner_lr", "lr", "grad_clip", "spike_factor"):
            check_positive(getattr(self, name), name)
        if not (isinstance(self.second_order, bool) or check_count(self.second_order, "second_order", 1)):
            raise ValueError(f"second_order must be true, false or a number of steps, got {self.second_order!r}")
        if unknown := set(self.mix) - set(DATA_KINDS):
            raise ValueError(f"mix: unknown task(s) {sorted(unknown)}; known: {', '.join(DATA_KINDS)}")
        if not self.mix or any(check_real(w, "mix weight") < 0 for w in self.mix.values()):
            raise ValueError(f"mix needs non-negative task weights, got {self.mix!r}")
        self.curriculum = [s if isinstance(s, Stage) else Stage(**s) for s in self.curriculum]
        if not self.curriculum or self.curriculum[0].start != 0:
            raise ValueError("the curriculum needs a first stage that starts at step 0")

    def stage(self, step: int) -> Stage:
        return [s for s in self.curriculum if s.start <= step][-1]


def build_adapter(model, config: TrainConfig, fingerprint: str) -> GradMemAdapter:
    from ..adapter import untrained_m0

    emb = model.get_input_embeddings().weight
    cfg = AdapterConfig(hidden_size=emb.shape[1], memory_tokens=config.memory_tokens, model_fingerprint=fingerprint,
                        lora_rank=config.lora_rank, lora_phases=config.lora_phases,
                        write_steps=config.curriculum[-1].inner_steps, write_lr=config.inner_lr,
                        write_optimizer=config.inner_optimizer, write_skip_tokens=config.write_skip_tokens,
                        segment_tokens=config.curriculum[-1].segment_tokens, training=_jsonable(asdict(config)))
    adapter = GradMemAdapter(cfg, m0=untrained_m0(config.memory_tokens, emb.detach().cpu()))
    adapter.attach_lora(model)
    return adapter


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o)))


def trainable(adapter: GradMemAdapter) -> list[torch.nn.Parameter]:
    params = [adapter.m0] + ([adapter.projection.weight] if adapter.projection is not None else [])
    return params + [p for _, p in adapter.lora_parameters()]


def lr_at(step: int, config: TrainConfig, warmup_from: int = 0) -> float:
    return config.lr * min(1.0, (step - warmup_from + 1) / max(1, config.warmup))


class Trainer:
    def __init__(self, config: TrainConfig, out: Path, device: str | None = None) -> None:
        from accelerate import Accelerator

        self.config, self.out = config, out
        torch.manual_seed(config.seed)  # a fresh run's LoRA init is reproducible
        # bf16 autocast keeps fp32 master weights (M0, projection, LoRA) and the fp32 memory of the inner loop
        self.acc = Accelerator(cpu=device == "cpu", mixed_precision="bf16" if config.precision == "bf16" else "no")
        loaded = load_model(config.model, device=self.acc.device, dtype=torch.float32, attn_implementation="eager")
        self.tokenizer = loaded.tokenizer
        self.recaller = Recaller()  # the product's full-text search, for episodes in the READ layout
        model = loaded.model
        base = Backbone(model)
        self.adapter = build_adapter(model, config, base.fingerprint)
        self.adapter.to(self.acc.device)
        for p in trainable(self.adapter):
            p.requires_grad_(True)
        self.backbone = Backbone(model, self.adapter)
        self.params = trainable(self.adapter)
        projection = self._projection_weight()
        groups = [{"params": [p for p in self.params if p is not projection], "scale": 1.0}]
        if projection is not None:
            groups.append({"params": [projection], "scale": (config.projection_lr or config.lr) / config.lr})
        self.opt = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
        self.step = 0
        self.micro_samples = config.micro_samples
        self.full_micro_from = 0  # after running out of GPU memory, the step at which the full pass is tried again
        self.warmup_from = 0
        self.norm_ema: float | None = None
        self.skips_in_row = 0
        self.log: list[dict] = []
        if not self._resume() and config.init_adapter:
            self._load_weights(Path(config.init_adapter), grow_memory=config.grow_memory)
            self.acc.print(f"initialised from {config.init_adapter}")
            self._warn_if_written_differently(Path(config.init_adapter))

    def _projection_weight(self) -> torch.nn.Parameter | None:
        return self.adapter.projection.weight if self.adapter.projection is not None else None

    def count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # checkpoints ----------------------------------------------------------------------------------
    def _load_weights(self, directory: Path, grow_memory: bool = False) -> None:
        """Copy a saved adapter's tensors into this run's; every name and shape must match, except that with
        grow_memory a saved M0 of m vectors fills a run of k*m by repetition (RoPE gives each copy its own
        inner gradient, so the copies part at the first WRITE step)."""
        if not (directory / ADAPTER_WEIGHTS).is_file():
            raise FileNotFoundError(f"no {ADAPTER_WEIGHTS} in {directory}")
        saved = load_file(str(directory / ADAPTER_WEIGHTS))
        mine = {name: self._param(name) for name in self.adapter.state_tensors()}
        if grow_memory and "m0" in saved and saved["m0"].shape[1:] == mine["m0"].shape[1:]:
            have, want = saved["m0"].shape[0], mine["m0"].shape[0]
            if want % have:
                raise ValueError(f"--grow-memory: {want} memory tokens is not a multiple of the saved {have}")
            saved["m0"] = saved["m0"].repeat(want // have, 1)
        if set(saved) != set(mine):
            raise ValueError(f"{directory} does not fit this run: tensors {sorted(set(saved) ^ set(mine))[:4]} "
                             "are in only one of them (LoRA targets, phases or projection differ)")
        for name, tensor in saved.items():
            if tensor.shape != mine[name].shape:
                raise ValueError(f"{directory} does not fit this run: {name} is {tuple(tensor.shape)}, here "
                                 f"{tuple(mine[name].shape)} (memory tokens and LoRA rank must match; "
                                 "--grow-memory repeats a smaller M0)")
        with torch.no_grad():
            for name, tensor in saved.items():
                mine[name].copy_(tensor.to(self.acc.device))

    def _warn_if_written_differently(self, directory: Path) -> None:
        """The source's reader learned to read memories written its way; a different WRITE may be deliberate,
        so this warns rather than refuses."""
        saved = json.loads((directory / ADAPTER_CONFIG).read_text())
        mine = self.adapter.config
        differ = [f"{key} {saved[key]} -> {getattr(mine, key)}"
                  for key in ("write_optimizer", "write_lr", "write_skip_tokens")
                  if key in saved and saved[key] != getattr(mine, key)]
        if differ:
            self.acc.print(f"warning: {directory} was trained with another WRITE ({', '.join(differ)})")

    def _resume(self) -> bool:
        """Continue from out/checkpoint: adapter weights always; optimiser moments when state.pt survived."""
        ckpt = self.out / "checkpoint"
        if not (ckpt / ADAPTER_WEIGHTS).is_file():
            return False
        self._load_weights(ckpt)
        saved = json.loads((ckpt / ADAPTER_CONFIG).read_text()).get("training", {})
        self.step = int(saved.get("steps_done", 0))
        state = None
        if (ckpt / "state.pt").is_file():
            state = torch.load(ckpt / "state.pt", map_location="cpu", weights_only=False)  # load_state_dict moves it
            try:
                self.opt.load_state_dict(state["optimizer"])
            except ValueError:  # parameter groups of an older version
                state = None
        if state is not None:
            self.step, self.log = state["step"], state.get("log", [])
            self.norm_ema = state.get("norm_ema")
        else:  # moments lost (only the adapter travelled): re-warm the learning rate
            self.warmup_from = self.step
        self.acc.print(f"resumed from step {self.step}")
        return True

    def _param(self, name: str) -> torch.Tensor:
        if name == "m0":
            return self.adapter.m0
        if name == "projection":
            return self.adapter.projection.weight
        return dict(self.adapter.lora_parameters())[name.removeprefix("lora.")]

    def save(self) -> None:
        if not self.acc.is_main_process:
            return
        ckpt = self.out / "checkpoint"
        self.adapter.config.training = _jsonable({**asdict(self.config), "steps_done": self.step})
        self.adapter.save(ckpt)
        torch.save({"optimizer": self.opt.state_dict(), "step": self.step, "log": self.log, "norm_ema": self.norm_ema},
                   ckpt / "state.pt")
        (self.out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in self.log))

    # loop -----------------------------------------------------------------------------------------
    def train_step(self) -> dict:
        cfg = self.config
        stage = cfg.stage(self.step)
        started = time.perf_counter()
        seed = cfg.seed + self.step * self.acc.num_processes + self.acc.process_index
        rng = random.Random(seed)
        samples = sample_mix(rng, cfg.samples_per_step, cfg.mix, seed, "train", stage.chat_turns, stage.kv_pairs,
                             tuple(stage.facts), stage.invented_names, stage.open_facts)
        recent_messages = rng.choice([2, cfg.recent_messages])
        recent_tokens = rng.choice(stage.recent_tokens) if stage.recent_tokens else None
        every, chunks = [], []
        for sample in samples:
            if stage.read_layout:
                episodes = read_episodes(sample, self.count, self._read_policy(rng, stage, sample), self.recaller,
                                         self.tokenizer)
            else:
                episodes = flatten([sample], self.count, stage.segment_tokens, recent_messages,
                                   recent_tokens=recent_tokens)
            kept = [e for e in episodes if e.in_memory or rng.random() >= stage.memory_only]
            if stage.questions is not None and len(kept) > stage.questions:
                kept = rng.sample(kept, stage.questions)
            every += episodes
            chunks.append(kept)
        chunks = [c for c in chunks if c] or [every]  # all about the recent turns: keep them rather than skip
        data_seconds = time.perf_counter() - started
        if self.micro_samples != cfg.micro_samples and self.step >= self.full_micro_from:
            self.micro_samples = cfg.micro_samples
        for group in self.opt.param_groups:
            group["lr"] = lr_at(self.step, cfg, self.warmup_from) * group["scale"]
        while True:
            try:
                loss, metrics = self._accumulate(chunks, stage)
                break
            except torch.OutOfMemoryError:
                micro = self.micro_samples or len(chunks)
                if micro <= 1:
                    raise
                self.micro_samples = micro // 2
                # Not kept for good: one long batch or a fragmented cache may have caused it, and half-size
                # passes make every later step slower.
                self.full_micro_from = self.step + OOM_RETRY_STEPS
                self.opt.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                print(f"process {self.acc.process_index}, step {self.step + 1}: out of GPU memory at {micro} samples "
                      f"a pass, now {self.micro_samples} for {OOM_RETRY_STEPS} steps", flush=True)
        if self.acc.num_processes > 1:
            self._average_gradients()
        norm = float(torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip))
        skipped = self._is_spike(norm)
        if not skipped:
            self.opt.step()
        self.step += 1
        return {**metrics, "step": self.step, "loss": loss, "grad_norm": norm, "skipped": float(skipped),
                "inner_steps": stage.inner_steps, "micro_samples": self.micro_samples or len(chunks),
                "data_seconds": data_seconds}

    def _read_policy(self, rng: random.Random, stage: Stage, sample) -> MemoryPolicy:
        recall = 0 if sample.kind == "cloze" else rng.choice(stage.recall_tokens)
        return MemoryPolicy(recent_tokens=rng.choice([t for t in stage.recent_tokens or [512] if t is not None]),
                            segment_tokens=stage.segment_tokens, recall_tokens=recall,
                            read_blocks=rng.choice(stage.read_blocks))

    def _average_gradients(self) -> None:
        """One all-reduce of every gradient, flattened; a parameter without a gradient in this process counts
        as zero, so every process makes the same collective call whatever its samples touched."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        flat = self.acc.reduce(torch.cat([g.reshape(-1) for g in grads]), reduction="mean")
        for p, g in zip(self.params, flat.split([g.numel() for g in grads]), strict=True):
            p.grad = g.view_as(p)

    def _time_is_up(self, deadline: float) -> bool:
        """One clock running out stops every process: processes that stopped a step apart would leave the
        others waiting in the gradient all-reduce forever."""
        up = time.time() >= deadline
        if self.acc.num_processes == 1:
            return up
        return bool(self.acc.reduce(torch.tensor(float(up), device=self.acc.device), reduction="sum") > 0)

    def _accumulate(self, chunks: list[list], stage: Stage) -> tuple[float, dict]:
        """Backward over the step's samples, `micro_samples` at a time, each pass weighted by its share of the
        episodes, so the gradient is the one of a single pass over all of them."""
        cfg = self.config
        self.opt.zero_grad(set_to_none=True)
        size = self.micro_samples or len(chunks)
        passes = [[e for c in chunks[i : i + size] for e in c] for i in range(0, len(chunks), size)]
        batches = [collate(episodes, self.tokenizer, self.acc.device) for episodes in passes if episodes]
        total = sum(len(b.read_ids) for b in batches)
        segments = sum(len(b.write_ids) for b in batches)
        loss_sum, rows = 0.0, []
        for batch in batches:
            share = len(batch.read_ids) / total
            with self.acc.autocast():
                loss, metrics = outer_loss(self.backbone, batch, steps=stage.inner_steps, lr=cfg.inner_lr,
                                           second_order=cfg.second_order, recon_weight=cfg.recon_weight,
                                           skip_tokens=cfg.write_skip_tokens, optimizer=cfg.inner_optimizer,
                                           recall_weight=cfg.recall_weight, answer_share=share,
                                           segment_share=len(batch.write_ids) / segments)
            loss.backward()
            loss_sum += float(loss.detach())
            rows.append((share, metrics))
        return loss_sum, {**_weighted(rows), "episodes": total, "segments": segments}

    def _is_spike(self, norm: float) -> bool:
        """Second order through K inner steps can blow up (seen at K=3: outer norms of 1e3-1e7, then the loss
        diverged although every update was clipped). Skip steps whose norm is far above the running norm;
        after 10 skips in a row the higher norm is taken as the new normal (e.g. a curriculum stage changed K)."""
        if not math.isfinite(norm):
            return True
        typical = self.norm_ema
        spike = typical is not None and norm > self.config.spike_factor * typical
        if spike and self.skips_in_row < 10:
            self.skips_in_row += 1
            return True
        self.skips_in_row = 0
        self.norm_ema = norm if typical is None or spike else 0.95 * typical + 0.05 * norm
        return False

    def run(self, minutes: float, save_every: int = 50) -> None:
        deadline = time.time() + minutes * 60
        window: list[dict] = []
        t0 = time.time()
        while self.step < self.config.max_steps and not self._time_is_up(deadline):
            row = self.train_step()
            window.append(row)
            if self.step % 10 == 0:
                avg = {k: sum(r[k] for r in window) / len(window) for k in
                       ("loss", "answer_loss", "answer_exact", "recon_loss", "recall_loss", "grad_norm", "skipped")}
                for key in ("memory_exact", "memory_exact_other"):
                    values = [r[key] for r in window if not math.isnan(r[key])]
                    avg[key] = sum(values) / len(values) if values else float("nan")
                per_step = (time.time() - t0) / len(window)
                avg.update(step=self.step, inner_steps=row["inner_steps"], sec_per_step=per_step,
                           data_sec_per_step=sum(r["data_seconds"] for r in window) / len(window),
                           min_micro_samples=min(r["micro_samples"] for r in window))
                if torch.cuda.is_available():
                    avg["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
                self.log.append(avg)
                self.acc.print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in avg.items()}))
                window, t0 = [], time.time()
            if self.step % save_every == 0:
                self.save()
        self.save()


def _weighted(rows: list[tuple[float, dict]]) -> dict:
    """Metrics of several passes, each weighted by its share of the episodes (NaN where a pass had none)."""
    out = {}
    for key in rows[0][1]:
        pairs = [(w, m[key]) for w, m in rows if not math.isnan(m[key])]
        weight = sum(w for w, _ in pairs)
        out[key] = sum(w * v for w, v in pairs) / weight if weight else float("nan")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gradmem train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="run directory (checkpoint, log)")
    parser.add_argument("--minutes", type=float, default=8.0, help="stop and save after this long")
    parser.add_argument("--device", default=None, help="cpu to force the CPU")
    parser.add_argument("--recipe", default=None,
                        help="run a shipped recipe's legs in order, each in OUT/<leg>; the legs set every option")
    parser.add_argument("--leg", default=None, help="with --recipe: run this leg only")
    add_options(parser.add_argument_group("training (TrainConfig)"), TrainConfig)
    args = parser.parse_args(argv)
    if args.recipe or args.leg:
        from .recipe import run_from_args

        run_from_args(parser, args)
        return
    try:
        config = TrainConfig(**given(args, TrainConfig))
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    if config.grow_memory and not config.init_adapter:
        parser.error("--grow-memory needs --init-adapter")
    args.out.mkdir(parents=True, exist_ok=True)
    Trainer(config, args.out, args.device).run(args.minutes)


if __name__ == "__main__":
    main()
