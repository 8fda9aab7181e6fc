"""The meta-learning objective: answer loss read from memories written by K differentiable SGD steps.

WRITE: every segment of the batch is one row of an unrolled inner loop from M0 (LoRA on, if any).
READ: each episode's blocks are concatenated, oldest first, before its chat-templated prompt, and the
cross-entropy is taken on the answer tokens only (LoRA on only when lora_phases == "both").
Gradients reach M0, the projection and LoRA through the inner steps (second order).
An optional recall term asks the reader to repeat each segment from its memory alone: one answer token is a
sparse signal, a whole segment a dense one (the in-context autoencoder idea).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..backbone import Backbone
from ..layout import turn_markers
from ..losses import token_cross_entropy
from ..read import prompt_ids
from ..write import pad_right, unrolled_write
from .episodes import Episode


@dataclass
class Batch:
    write_ids: torch.Tensor        # [S, T] every distinct segment of the batch
    write_mask: torch.Tensor
    blocks: list[list[int]]        # per episode: its rows of write_ids, oldest first
    read_ids: list[list[int]]      # per episode: prompt + answer tokens
    answer_start: list[int]        # per episode: index in read_ids where the answer begins
    in_memory: list[bool]          # per episode: every fact behind the answer left the window
    recall_ids: list[list[int]]    # per segment: recall prompt + the segment's tokens
    recall_start: list[int]


RECALL_PROMPT = "Repeat the earlier text word for word."


def recall_batch(batch: Batch) -> Batch:
    """Each segment as an episode of its own: read its memory, answer with its text."""
    rows = list(range(len(batch.recall_ids)))
    return Batch(batch.write_ids, batch.write_mask, [[r] for r in rows], batch.recall_ids, batch.recall_start,
                 [True] * len(rows), batch.recall_ids, batch.recall_start)


def collate(episodes: Sequence[Episode], tokenizer, device) -> Batch:
    rows: dict[str, int] = {}
    seqs: list[list[int]] = []
    blocks, read_ids, answer_start, in_memory = [], [], [], []
    end = turn_markers(tokenizer)[1] or tokenizer.eos_token
    for ep in episodes:
        idx = []
        for text in ep.segments:
            if text not in rows:
                rows[text] = len(seqs)
                seqs.append(tokenizer(text, add_special_tokens=False)["input_ids"])
            idx.append(rows[text])
        blocks.append(idx)
        prompt = prompt_ids(tokenizer, ep.messages())
        answer = tokenizer(ep.qa.answer + end, add_special_tokens=False)["input_ids"]
        read_ids.append(prompt + answer)
        answer_start.append(len(prompt))
        in_memory.append(ep.in_memory)
    write_ids, write_mask = pad_right(seqs, 0, device)
    recall_prompt = prompt_ids(tokenizer, [{"role": "user", "content": RECALL_PROMPT}])
    end_ids = tokenizer(end, add_special_tokens=False)["input_ids"]
    recall_ids = [recall_prompt + seq + end_ids for seq in seqs]
    return Batch(write_ids, write_mask, blocks, read_ids, answer_start, in_memory, recall_ids,
                 [len(recall_prompt)] * len(seqs))


def answer_loss(backbone: Backbone, memories: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean answer NLL per episode and its greedy exact match (all answer tokens right), teacher-forced."""
    m = memories.shape[1] if memories.numel() else 0
    embed = backbone.embed
    rows, labels, lengths = [], [], []
    for idx, ids, start in zip(batch.blocks, batch.read_ids, batch.answer_start, strict=True):
        tokens = torch.tensor(ids, device=backbone.device)
        mem = backbone.project(memories[idx].reshape(-1, memories.shape[-1])) if idx else None
        parts = [mem] if mem is not None else []
        rows.append(torch.cat([*parts, embed(tokens)], dim=0))
        n_mem = len(idx) * m
        label = torch.full((rows[-1].shape[0],), -100, device=backbone.device, dtype=torch.long)
        # position p predicts token p+1: answer token j sits at n_mem + j
        label[n_mem + start - 1 : n_mem + len(ids) - 1] = tokens[start:]
        labels.append(label)
        lengths.append(rows[-1].shape[0])
    width = max(lengths)
    embeds = torch.zeros(len(rows), width, rows[0].shape[-1], dtype=rows[0].dtype, device=backbone.device)
    target = torch.full((len(rows), width), -100, dtype=torch.long, device=backbone.device)
    attention = torch.zeros(len(rows), width, dtype=torch.long, device=backbone.device)
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        embeds[i, : row.shape[0]] = row
        target[i, : row.shape[0]] = label
        attention[i, : row.shape[0]] = 1
    hidden = backbone.hidden_states(embeds, attention)
    mask = target != -100
    loss, correct, count = token_cross_entropy(hidden, backbone.head_weight, target.clamp(min=0), mask)
    return loss, (correct == count).float()


def outer_loss(backbone: Backbone, batch: Batch, *, steps: int, lr: float, second_order, recon_weight: float = 0.0,
               skip_tokens: int = 0, optimizer: str = "sgd", recall_weight: float = 0.0,
               answer_share: float = 1.0, segment_share: float = 1.0):
    """Answer loss through K inner steps; returns (loss, metrics).

    With gradient accumulation, `answer_share` and `segment_share` are this batch's shares of the step's
    episodes and segments: the per-episode and the per-segment terms are then weighted as in one pass.

    Metrics include `memory_exact_other`: exact match on memory-only questions when each episode reads
    another episode's memory. Reading shows up only as memory_exact > memory_exact_other; an answer format
    or a prior over likely values scores the same on both."""
    adapter = backbone.adapter
    with adapter.phase("write"):
        memories, recon = unrolled_write(backbone, adapter.m0, batch.write_ids, batch.write_mask, steps=steps,
                                         lr=lr, second_order=second_order, skip_tokens=skip_tokens,
                                         optimizer=optimizer)
    with adapter.phase("read"):
        loss, exact = answer_loss(backbone, memories, batch)
        recall = answer_loss(backbone, memories, recall_batch(batch))[0] if recall_weight else loss.new_zeros(1)
    total = answer_share * loss.mean() + segment_share * (recon_weight * recon.mean() + recall_weight * recall.mean())
    from_memory = torch.tensor(batch.in_memory, device=exact.device)
    # exact match on questions whose facts only the memory holds: the reading signal, free of recent turns
    memory_exact = float(exact[from_memory].mean()) if from_memory.any() else float("nan")
    memory_exact_other = float("nan")
    if from_memory.any() and memories.shape[0] > 1:
        with torch.no_grad(), adapter.phase("read"):
            _, other = answer_loss(backbone, memories.detach().roll(max(1, memories.shape[0] // 2), 0), batch)
        memory_exact_other = float(other[from_memory].mean())
    metrics = {"answer_loss": float(loss.detach().mean()), "answer_exact": float(exact.mean()),
               "memory_exact": memory_exact, "memory_exact_other": memory_exact_other,
               "recon_loss": float(recon.detach().mean()), "recall_loss": float(recall.detach().mean()),
               "segments": int(batch.write_ids.shape[0])}
    return total, metrics
