"""Next-token cross-entropy over the vocabulary, one chunk of positions at a time.

Full-vocabulary fp32 logits for a whole batch do not fit (32 × 2048 tokens × 49k vocab ran out of an 80 GB
H100), so logits are made per chunk inside an activation checkpoint: only the hidden states are kept for
the backward pass and each chunk's logits are recomputed there. Non-reentrant checkpointing also supports
the double backward that meta-training needs. Logits small enough to keep (one block of one session) are made
once and kept for the backward pass: recomputing them cost a second head matmul and softmax per step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

# Logit elements materialised at once (fp32): 64M elements = 256 MB.
DEFAULT_CHUNK_ELEMENTS = 64 * 1024 * 1024
# Up to this many logit elements for the whole batch, they are kept for backward instead of recomputed.
KEEP_LOGITS_ELEMENTS = 16 * 1024 * 1024


def _chunk_loss(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor):
    logits = (hidden @ weight.T).float()
    # vocabulary last: a (B, V, T) layout runs a "spatial" log-softmax that took half a GPU WRITE
    nll = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view_as(labels)
    correct = (logits.detach().argmax(-1) == labels) & mask
    return (nll * mask).sum(1), correct.sum(1)


def token_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    labels: torch.Tensor,
    mask: torch.Tensor,
    *,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    keep_elements: int = KEEP_LOGITS_ELEMENTS,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample mean NLL, correct-token counts and token counts.

    hidden [B, T, d] are the states that predict labels [B, T]; mask [B, T] marks real tokens. Logits of up to
    `keep_elements` elements in all are made once and kept for backward (no chunks, no recomputation).
    """
    batch, length, _ = hidden.shape
    recompute = batch * length * weight.shape[0] > keep_elements
    step = max(1, chunk_elements // max(1, batch * weight.shape[0])) if recompute else length
    mask = mask.bool()
    nll_sum = hidden.new_zeros(batch, dtype=torch.float32)
    correct = torch.zeros(batch, dtype=torch.long, device=hidden.device)
    for start in range(0, length, step):
        sl = slice(start, start + step)
        args = (hidden[:, sl], weight, labels[:, sl], mask[:, sl])
        if recompute and torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
            part, hits = checkpoint(_chunk_loss, *args, use_reentrant=False, preserve_rng_state=False)  # pure: no RNG
        else:
            part, hits = _chunk_loss(*args)
        nll_sum = nll_sum + part
        correct = correct + hits
    counts = mask.sum(1)
    return nll_sum / counts.clamp(min=1), correct, counts
