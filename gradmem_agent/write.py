"""GradMem WRITE: fit memory vectors to a text by gradient descent on its reconstruction loss.

Every sample has its own memory [m, d]; one `autograd.grad` over the summed per-sample losses gives all
per-sample gradients at once, since samples never interact. Model weights are never touched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from .backbone import Backbone
from .options import Optimizer, check_count, check_option, check_positive, check_real
from .storage import WriteStats


def normalized(grad: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Each sample's gradient [.., m, d] scaled to unit RMS: the step size no longer depends on the loss scale
    (a second-order-trained SGD step of fixed alpha blew up when one text's gradient was 30x another's)."""
    rms = grad.pow(2).mean(dim=(-2, -1), keepdim=True).add(eps).sqrt()
    return grad / rms


def sgd_step(memory: torch.Tensor, grad: torch.Tensor, lr: float, optimizer: Optimizer) -> torch.Tensor:
    """One "sgd" or "nsgd" step: the same rule in the inference WRITE and in the unrolled training WRITE."""
    return memory - lr * (normalized(grad) if optimizer == "nsgd" else grad)


@dataclass(frozen=True)
class WriteConfig:
    """Inner-loop settings. Frozen model: Adam lr 0.3 for ~100 steps; trained adapter: SGD, K <= 5.

    Args:
        memory_tokens: vectors per memory (per piece of text).
        steps: gradient steps K.
        lr: inner step size.
        optimizer: "sgd" (the paper's rule), "nsgd" (each sample's gradient scaled to unit RMS) or "adam".
        target_accuracy: stop a sample once its teacher-forced accuracy reaches this (None: run all steps).
        batch_size: texts per WRITE pass; None: 32 on an accelerator, 4 on the CPU (write_batch_size).
        betas, eps: Adam's.
        skip_tokens: leading text tokens hidden from the WRITE (an adapter trained so records it).
    """

    memory_tokens: int = 16
    steps: int = 100
    lr: float = 0.3
    optimizer: Optimizer = "adam"
    target_accuracy: float | None = 1.0
    batch_size: int | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    skip_tokens: int = 0

    def __post_init__(self) -> None:
        check_option(self.optimizer, Optimizer, "optimizer")
        check_count(self.memory_tokens, "memory_tokens", 1)
        check_count(self.steps, "steps", 0)
        check_positive(self.lr, "lr")
        if self.batch_size is not None:
            check_count(self.batch_size, "batch_size", 1)
        check_count(self.skip_tokens, "skip_tokens", 0)
        if self.target_accuracy is not None and not (0.0 <= check_real(self.target_accuracy, "target_accuracy") <= 1.0):
            raise ValueError(f"target_accuracy must be between 0 and 1 or None, got {self.target_accuracy!r}")


ProgressFn = Callable[[int, int], None]

# Texts one WRITE pass holds when WriteConfig.batch_size is None. A GPU is launch-bound at small batches (batch 1
# takes as long as 32 on an H100). On 2 CPU threads, 32 texts of ~240 tokens with the default model and adapter
# (K = 1): 32 a pass peaked at 19.1 GB in 151 s, 8 at 6.6 GB in 112 s, 4 at 4.0 GB in 100 s
# (benchmarks/results/write_batch-2026-11-27-cpu.json).
ACCELERATOR_WRITE_BATCH = 32
CPU_WRITE_BATCH = 4


def write_batch_size(config: WriteConfig, device: torch.device) -> int:
    if config.batch_size is not None:
        return config.batch_size
    return CPU_WRITE_BATCH if device.type == "cpu" else ACCELERATOR_WRITE_BATCH


def pad_right(seqs: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists → right-padded ids [B, T] and mask [B, T] (an empty batch gives one masked column)."""
    width = max([len(s) for s in seqs] or [1]) or 1
    ids = torch.full((max(1, len(seqs)), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)


class WritePass(Protocol):
    """One pass of the WRITE over rows of memory [B, m, d] and right-padded text [B, T]: per-row loss, correct
    and counted tokens, and with needs_grad the loss's gradient for each row's memory (else None)."""

    def __call__(self, memory: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, padded: bool,
                 needs_grad: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]: ...


def eager_pass(backbone: Backbone, skip_tokens: int) -> WritePass:
    """The pass run op by op (the CPU's, and a GPU's when graphs are off)."""

    def run(memory, ids, mask, padded, needs_grad):
        memory = memory.detach().requires_grad_(needs_grad)
        with torch.set_grad_enabled(needs_grad):
            loss, correct, count = backbone.reconstruction(memory, ids, mask, padded=padded, skip_tokens=skip_tokens)
            grad = None
            if needs_grad:  # a non-finite row adds nothing to the others' gradients
                (grad,) = torch.autograd.grad(torch.where(torch.isfinite(loss), loss, 0.0).sum(), memory)
        return loss.detach(), correct, count, grad

    return run


def write_batch(
    backbone: Backbone,
    m0: torch.Tensor,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    config: WriteConfig,
    progress: ProgressFn | None = None,
    run_pass: WritePass | None = None,
) -> list[tuple[torch.Tensor, WriteStats]]:
    """Write B right-padded texts [B, T] into B memories; returns (vectors [m, d] fp32 CPU, stats) each.

    Each sample stops on its own once its teacher-forced accuracy reaches the target; finished samples leave
    the batch so the rest runs on fewer rows. The best memory seen (accuracy, then loss) is returned.
    run_pass: how each pass runs (eager_pass by default; write_graphs.py replays captured CUDA graphs).
    """
    start = time.perf_counter()
    run_pass = run_pass or eager_pass(backbone, config.skip_tokens)
    batch = input_ids.shape[0]
    lengths = mask.sum(1).cpu()
    memory = m0.detach().float().to(backbone.device).expand(batch, -1, -1).clone()
    exp_avg = torch.zeros_like(memory) if config.optimizer == "adam" else None
    exp_avg_sq = torch.zeros_like(memory) if config.optimizer == "adam" else None
    best = memory.clone()
    best_acc = torch.full((batch,), -1.0)
    best_loss = torch.full((batch,), math.inf)
    history: list[list[dict[str, float]]] = [[] for _ in range(batch)]
    stopped = ["steps"] * batch
    active = torch.arange(batch, device=memory.device)

    for step in range(config.steps + 1):
        rows = active
        row_lengths = lengths[rows.cpu()]
        width = int(row_lengths.max())
        needs_grad = step < config.steps
        current = memory[rows]
        loss, correct, count, grad = run_pass(current, input_ids[rows, :width], mask[rows, :width],
                                              bool(row_lengths.min() < width), needs_grad)
        # one device->host copy per step
        loss_cpu, acc, finite_cpu = torch.stack(
            [loss.float(), correct.float() / count.clamp(min=1), torch.isfinite(loss).float()]
        ).cpu()
        finite_cpu = finite_cpu.bool()

        keep, improved = [], []
        for j, row in enumerate(rows.tolist()):
            history[row].append({"loss": float(loss_cpu[j]), "token_accuracy": float(acc[j])})
            if finite_cpu[j] and (acc[j] > best_acc[row] or (acc[j] == best_acc[row] and loss_cpu[j] < best_loss[row])):
                best_acc[row], best_loss[row] = acc[j], loss_cpu[j]
                improved.append(j)
            if not finite_cpu[j]:
                stopped[row] = "nonfinite"
            elif config.target_accuracy is not None and acc[j] >= config.target_accuracy:
                stopped[row] = "target"
            elif needs_grad:
                keep.append(j)
        if improved:  # one indexed copy for all rows, not one per row
            picked = torch.tensor(improved, device=memory.device)
            best[rows[picked]] = current[picked]
        if progress is not None:
            progress(step, config.steps)
        if not keep:
            break
        keep_t = torch.tensor(keep, device=memory.device)
        rows, grad = rows[keep_t], grad[keep_t]
        memory[rows] = _update(memory[rows], grad, exp_avg, exp_avg_sq, rows, step + 1, config)
        active = rows

    seconds = time.perf_counter() - start
    vectors = best.cpu()  # one copy for the batch
    results = []
    for row in range(batch):
        steps_done = len(history[row]) - 1
        stats = WriteStats(
            tokens=int(lengths[row]),
            token_accuracy=float(max(best_acc[row], 0.0)),
            loss=float(best_loss[row]),
            steps=steps_done,
            seconds=seconds,
            stopped=stopped[row],
            history=tuple(history[row]),
        )
        results.append((vectors[row].clone(), stats))
    return results


def _update(memory, grad, exp_avg, exp_avg_sq, rows, t: int, config: WriteConfig) -> torch.Tensor:
    if config.optimizer in ("sgd", "nsgd"):
        return sgd_step(memory, grad, config.lr, config.optimizer)
    beta1, beta2 = config.betas
    exp_avg[rows] = m = beta1 * exp_avg[rows] + (1 - beta1) * grad
    exp_avg_sq[rows] = v = beta2 * exp_avg_sq[rows] + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return memory - config.lr * m_hat / (v_hat.sqrt() + config.eps)


def unrolled_write(
    backbone: Backbone,
    m0: torch.Tensor,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    *,
    steps: int,
    lr: float,
    second_order: bool | int = True,
    skip_tokens: int = 0,
    optimizer: Optimizer = "sgd",
) -> tuple[torch.Tensor, torch.Tensor]:
    """K SGD steps ("sgd", or "nsgd": per-sample normalised gradient) from M0 that stay differentiable.

    second_order: True keeps the graph through every inner gradient (create_graph), False treats inner
    gradients as constants (first order), an int k keeps second order only for the last k steps.
    skip_tokens: leading text tokens hidden from the WRITE (see Backbone.reconstruction).
    Returns (M_K [B, m, d], reconstruction loss of the last step [B]).
    """
    if optimizer not in ("sgd", "nsgd"):
        raise ValueError(f"the unrolled WRITE takes optimizer 'sgd' or 'nsgd', got {optimizer!r}")
    batch = input_ids.shape[0]
    memory = m0.float().unsqueeze(0).expand(batch, -1, -1)
    if not memory.requires_grad:
        memory = memory.clone().requires_grad_(True)
    loss = memory.new_zeros(batch)
    for k in range(steps):
        keep = second_order is True or (second_order is not False and k >= steps - int(second_order))
        with torch.enable_grad():
            loss, _, _ = backbone.reconstruction(memory, input_ids, mask, skip_tokens=skip_tokens)
            # the last step's graph stays alive: callers may add its reconstruction loss to the outer loss
            (grad,) = torch.autograd.grad(loss.sum(), memory, create_graph=keep, retain_graph=keep or k == steps - 1)
        memory = sgd_step(memory, grad if keep else grad.detach(), lr, optimizer)
    return memory, loss
