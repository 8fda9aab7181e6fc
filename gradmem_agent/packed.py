"""Opt-in int8 weight-only linear layers for decoding on the CPU (PyTorch's `_weight_int8pack_mm`).

A decode step multiplies one row by every weight matrix: its time is the time to read the weights. Stored as
int8 with one bf16 scale per output channel, they are read at a quarter of fp32's bytes, and the kernel
computes with bf16 activations. This changes the numbers (replies can differ from fp32 after a few tokens;
docs/speed.md has the measured difference), so it is off unless asked for. Calls that need gradients (WRITE)
or hold many rows (long prefills) keep the dense fp32 path.
"""

from __future__ import annotations

import torch
from torch import nn

# Above this many rows (a long prefill) the dense fp32 kernel is used: it is faster there, and exact.
PACKED_MAX_ROWS = 64


def int8_kernel_available() -> bool:
    return hasattr(torch.ops.aten, "_weight_int8pack_mm")


def quantize_int8(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel int8: (q [N, K] int8, scales [N] bf16) with weight ~ q * scale."""
    w = weight.detach().float()
    scales = (w.abs().amax(dim=1) / 127).clamp(min=1e-12)
    q = torch.round(w / scales.unsqueeze(1)).clamp(-127, 127).to(torch.int8)
    return q.contiguous(), scales.to(torch.bfloat16)


def int8_matmul(q: torch.Tensor, scales: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x [..., K] @ (q * scales).T in fp32 out, through the int8 weight-only kernel (bf16 activations)."""
    flat = x.reshape(-1, x.shape[-1]).to(torch.bfloat16).contiguous()
    out = torch.ops.aten._weight_int8pack_mm(flat, q, scales)
    return out.float().reshape(*x.shape[:-1], q.shape[0])


class Int8Linear(nn.Linear):
    """An nn.Linear (same parameters, same state dict) whose no-grad CPU calls of few rows use int8 weights."""

    q: torch.Tensor
    scales: torch.Tensor

    @classmethod
    def replace(cls, linear: nn.Linear) -> Int8Linear:
        packed = cls.__new__(cls)
        packed.__dict__.update(linear.__dict__)  # the same Parameters, hooks and flags, no copy
        packed.q, packed.scales = quantize_int8(linear.weight)
        return packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or x.device.type != "cpu" or x.numel() > PACKED_MAX_ROWS * x.shape[-1]:
            return super().forward(x)
        out = int8_matmul(self.q, self.scales, x).to(x.dtype)
        return out + self.bias if self.bias is not None else out


def quantize_linears(model: nn.Module) -> int:
    """Swap every nn.Linear of `model`, its output head included, for an Int8Linear; returns how many.

    LoRA layers keep their own small fp32 matrices and wrap the int8 base layer. A tied head keeps sharing its
    Parameter with the embeddings (only the decode path reads the int8 copy).
    """
    swaps = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
             if type(child) is nn.Linear and child.weight.device.type == "cpu"]
    for parent, name, child in swaps:
        setattr(parent, name, Int8Linear.replace(child))
    return len(swaps)
