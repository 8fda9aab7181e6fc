"""The frozen language model seen as parts: token embeddings, decoder stack, output head.

Memory vectors enter as input embeddings at positions 0..m-1, in WRITE and in READ alike.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import nn

from .adapter import GradMemAdapter
from .losses import KEEP_LOGITS_ELEMENTS, token_cross_entropy

# Architecture fields that identify a model across transformers versions (other keys come and go).
_FINGERPRINT_FIELDS = ("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                       "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "tie_word_embeddings")


@dataclass
class Backbone:
    """keep_logits_elements: the loss keeps logits of up to this many elements for backward (losses.py)."""

    model: nn.Module
    adapter: GradMemAdapter | None = None
    keep_logits_elements: int = KEEP_LOGITS_ELEMENTS

    @property
    def embed(self) -> nn.Embedding:
        return self.model.get_input_embeddings()

    @property
    def head_weight(self) -> torch.Tensor:
        return self.model.get_output_embeddings().weight

    @property
    def device(self) -> torch.device:
        return self.head_weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.head_weight.dtype

    @property
    def hidden_size(self) -> int:
        return self.head_weight.shape[1]

    @property
    def max_positions(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the weights (not their device, nor fp32 vs bf16): architecture plus sampled weights.

        Sampled rows of the embeddings and of the last layer's weights, rounded to bf16, are hashed: two
        models of the same shape (other seeds, fine-tunes) get different fingerprints.
        """
        config = {k: getattr(self.model.config, k, None) for k in _FINGERPRINT_FIELDS}
        digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
        last = [p for n, p in self.model.named_parameters() if "lora_" not in n and p.dim() == 2][-2]
        for weight in (self.embed.weight, last):
            rows = weight.detach()[:: max(1, weight.shape[0] // 64), :64]
            digest.update(rows.to(torch.bfloat16).view(torch.int16).cpu().numpy().tobytes())
        name = str(getattr(self.model.config, "name_or_path", "") or "model").rstrip("/").split("/")[-1]
        return f"{name}-{digest.hexdigest()[:12]}"

    def project(self, memory: torch.Tensor) -> torch.Tensor:
        """Memory [.., m, d] (fp32) → input embeddings in the model's dtype."""
        if self.adapter is not None:
            memory = self.adapter.project(memory)
        return memory.to(self.dtype)

    def hidden_states(self, embeds: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """attention_mask None means no padding: the decoder takes its plain causal path (no mask tensor)."""
        positions = torch.arange(embeds.shape[1], device=embeds.device).unsqueeze(0)
        out = self.model.get_decoder()(
            inputs_embeds=embeds, attention_mask=attention_mask, position_ids=positions, use_cache=False
        )
        return out.last_hidden_state

    def reconstruction(
        self, memory: torch.Tensor, input_ids: torch.Tensor, mask: torch.Tensor, padded: bool | None = None,
        skip_tokens: int = 0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample NLL of the text given [memory; text]; the last memory position predicts token 0.

        memory [B, m, d] fp32, input_ids/mask [B, T] (right-padded). `padded=False` promises that mask is all
        ones (a faster attention path); None checks nothing and always passes the mask. `skip_tokens` hides
        the first text tokens from the WRITE (not attended to, not predicted). Every chat segment starts
        with the same role prefix; with it visible, one step's update was nearly the same for any content, and
        leaving it out of the loss alone did not change that (docs/experiments.md).
        Returns (loss [B], correct [B], count [B]).
        """
        m = memory.shape[1]
        if skip_tokens:
            mask = mask.clone()
            mask[:, :skip_tokens] = 0
            padded = True
        embeds = torch.cat([self.project(memory), self.embed(input_ids)], dim=1)
        attention = None if padded is False else torch.cat([mask.new_ones(mask.shape[0], m), mask], dim=1)
        hidden = self.hidden_states(embeds, attention)[:, m - 1 : -1]
        return token_cross_entropy(hidden, self.head_weight, input_ids, mask, keep_elements=self.keep_logits_elements)
