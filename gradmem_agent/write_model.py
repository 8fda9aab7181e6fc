"""The model a WRITE runs: the adapter's LoRA merged into a private copy of the weights, in the WRITE's dtype;
and the models a READ decodes with, likewise without LoRA layers to switch.

A WRITE always runs with the adapter's LoRA on. Merged, the same function takes one matrix product per linear
layer instead of three plus a scale and an add (on a GPU a third of the WRITE's kernels), shares no on/off
switch with READ, and is kept in the WRITE's dtype, so no weight is cast on every use (as autocast did).
The copy follows the adapter: when its weights change in place (training), the next WRITE merges again.
A READ with memory where the adapter's LoRA is on for reading ("both") decodes with the merged copy in the
model's dtype; any other READ with a view of the base model that shares its weights.
"""

from __future__ import annotations

import copy
import functools
import platform
import threading
from pathlib import Path

import torch
from torch import nn

from .adapter import GradMemAdapter
from .backbone import Backbone

# /proc/cpuinfo flags of native bf16 matrix products: x86's AVX512-BF16 and AMX, Arm's BF16 (FEAT_BF16)
BF16_FLAGS = {"x86_64": {"avx512_bf16", "amx_bf16"}, "aarch64": {"bf16"}}


@functools.cache
def cpu_multiplies_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bf16 natively, where a bf16 WRITE is faster than fp32 (docs/speed.md).
    False where it cannot tell (no /proc/cpuinfo): oneDNN emulates bf16 elsewhere, slower than fp32."""
    wanted = BF16_FLAGS.get(platform.machine().lower(), set())
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    flags = {word for line in text.splitlines() if line.lower().startswith(("flags", "features"))
             for word in line.partition(":")[2].split()}
    return bool(wanted & flags)


def _lora_layers(model: nn.Module) -> list[tuple[nn.Module, str, nn.Module]]:
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
            if isinstance(child, BaseTunerLayer)]


def merged_model(model: nn.Module, adapter: GradMemAdapter | None, dtype: torch.dtype) -> nn.Module:
    """`model` with its LoRA layers replaced by plain layers holding W + scale * B @ A (summed in fp32), in
    `dtype`. Without LoRA, the model itself when its dtype already is `dtype`, else a copy in `dtype`."""
    layers = _lora_layers(model) if adapter is not None and adapter.config.lora_rank > 0 else []
    if not layers and next(model.parameters()).dtype == dtype:
        return model
    merged = copy.deepcopy(model)
    for parent, name, child in _lora_layers(merged):
        base = child.get_base_layer()
        with torch.no_grad():  # whatever the phase switch says now: a WRITE runs with LoRA on
            weight = base.weight.float()
            for key in child.lora_A:
                a, b = child.lora_A[key].weight.float(), child.lora_B[key].weight.float()
                weight = weight + child.scaling[key] * (b @ a)
            base.weight.copy_(weight)
        setattr(parent, name, base)
    merged.to(dtype)
    merged.requires_grad_(False)
    return merged


def plain_model(model: nn.Module) -> nn.Module:
    """A view of `model` without its LoRA layers, sharing every weight tensor (nothing is copied): the base
    model, with no per-layer on/off switch to check on every call."""
    if not _lora_layers(model):
        return model
    shared = {id(t): t for t in (*model.parameters(), *model.buffers())}
    view = copy.deepcopy(model, shared)
    for parent, name, child in _lora_layers(view):
        setattr(parent, name, child.get_base_layer())
    return view


class WriteBackbone:
    """The Backbone WRITE uses: the merged copy, made on first use and again whenever the adapter changed.

    Args:
        backbone: the engine's backbone (its model carries the adapter's LoRA, switched per phase).
        dtype: the WRITE's dtype (the merged copy's).
        keep_logits_elements: the loss keeps logits up to this size for backward (None: losses.py's default).
        compile_mode: torch.compile the copy's reconstruction step in this mode (None: eager).
    """

    def __init__(self, backbone: Backbone, dtype: torch.dtype, *, keep_logits_elements: int | None = None,
                 compile_mode: str | None = None) -> None:
        self.source, self.dtype = backbone, dtype
        self.keep_logits_elements, self.compile_mode = keep_logits_elements, compile_mode
        self._built: Backbone | None = None
        self._version: tuple = ()
        self._lock = threading.Lock()

    def adapter_version(self) -> tuple[int, ...]:
        """In-place updates of any adapter weight (an optimiser step) bump its tensor's version counter."""
        adapter = self.source.adapter
        if adapter is None:
            return ()
        return tuple(p._version for _, p in adapter.lora_parameters())

    def get(self) -> Backbone:
        with self._lock:
            version = self.adapter_version()
            compiled = (version, self.compile_mode)
            if self._built is None or compiled != self._version:
                model = merged_model(self.source.model, self.source.adapter, self.dtype)
                built = Backbone(model, self.source.adapter)
                if self.keep_logits_elements is not None:
                    built.keep_logits_elements = self.keep_logits_elements
                if self.compile_mode is not None:
                    built.reconstruction = torch.compile(built.reconstruction, dynamic=False, mode=self.compile_mode)
                self._built, self._version = built, compiled
            return self._built
