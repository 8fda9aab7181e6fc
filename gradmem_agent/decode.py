"""Reply decoding on the CPU: few Python ops a token, the KV cache of a prompt's unchanged prefix kept between
calls, and optionally int8 weights (packed.py).

Each turn of a chat sends [memory blocks; system; older turns; new question]: everything but the end is what
the previous turn already ran through the model (its prompt and its reply). The decoder keeps the key/value
cache of the last few inputs, finds the longest matching prefix of the new input (compared as input
embeddings, so memory vectors and tokens alike), crops that cache to it and runs only the rest. Sampling
uses transformers' own logits processors in the order `generate` applies them, so replies are the same.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache
from transformers.generation.logits_process import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from .backbone import Backbone
from .packed import int8_kernel_available, quantize_linears
from .read import SamplingConfig

DEFAULT_CACHE_SLOTS = 4


@dataclass(eq=False)  # entries are told apart by identity
class _Entry:
    key: str  # what else the cache depends on (the LoRA phase)
    inputs: torch.Tensor  # [L, d] the input embeddings whose keys and values `cache` holds
    cache: DynamicCache


def logits_processors(sampling: SamplingConfig) -> LogitsProcessorList:
    """The processors `generate` builds for these options, in its order (penalty, temperature, top-k, top-p)."""
    processors = LogitsProcessorList()
    if sampling.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty))
    if sampling.temperature > 0:
        if sampling.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(sampling.temperature))
        if sampling.top_k:
            processors.append(TopKLogitsWarper(sampling.top_k))
        if sampling.top_p < 1.0:
            processors.append(TopPLogitsWarper(sampling.top_p))
    return processors


def next_token(processors: LogitsProcessorList, generated: torch.Tensor, logits: torch.Tensor,
               sampling: SamplingConfig) -> torch.Tensor:
    """The next token [1, 1] as `generate` picks it: the processors, then argmax or a sample."""
    scores = processors(generated, logits)
    if sampling.temperature > 0:
        return torch.multinomial(scores.softmax(-1), num_samples=1)
    return scores.argmax(-1, keepdim=True)


def shared_prefix(cached: torch.Tensor, inputs: torch.Tensor) -> int:
    """How many leading rows of two [L, d] tensors are equal."""
    n = min(cached.shape[0], inputs.shape[0])
    if n == 0:
        return 0
    differs = (cached[:n] != inputs[:n]).any(-1)
    return int(differs.int().argmax()) if bool(differs.any()) else n


class Decoder:
    """Greedy or sampled decoding from input embeddings, with a prefix cache shared by all callers.

    Args:
        backbone: the model and adapter to decode with.
        int8: decode with int8 weight-only linear layers and head (CPU; replies may differ from fp32).
        cache_slots: how many past inputs keep their key/value cache (least recently used ones go first).
        models: the backbone to decode with for a key (the phase), where it is not `backbone` (a LoRA merged in).
    """

    def __init__(self, backbone: Backbone, *, int8: bool = False, cache_slots: int = DEFAULT_CACHE_SLOTS,
                 models: Callable[[str], Backbone] | None = None) -> None:
        self.backbone = backbone
        self.int8 = int8
        self.cache_slots = cache_slots
        self.models = models
        self.last_reused = 0  # prompt positions the last call took from the prefix cache
        self._prepared: set[int] = set()  # ids of the models made ready
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        params = inspect.signature(backbone.model.forward).parameters
        self._extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    def prepare(self, backbone: Backbone | None = None) -> Backbone:
        """Quantize a model's weights once where int8 is asked for; later calls do nothing."""
        backbone = backbone or self.backbone
        with self._lock:
            if id(backbone.model) in self._prepared:
                return backbone
            if self.int8:
                if backbone.device.type != "cpu" or not int8_kernel_available():
                    raise RuntimeError("int8 decoding needs the CPU and torch's _weight_int8pack_mm")
                quantize_linears(backbone.model)
            self._prepared.add(id(backbone.model))
        return backbone

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    # the prefix cache ---------------------------------------------------------------------------------
    def _take(self, key: str, inputs: torch.Tensor) -> tuple[DynamicCache | None, int]:
        """The cached entry sharing the longest prefix with `inputs` (removed from the store) and that length."""
        with self._lock:
            best, length = None, 0
            for entry in self._entries:
                if entry.key == key:
                    n = shared_prefix(entry.inputs, inputs)
                    if n > length:
                        best, length = entry, n
            if best is None:
                return None, 0
            self._entries.remove(best)
        length = min(length, inputs.shape[0] - 1)  # the last input position always runs: it gives the logits
        if length <= 0 or not getattr(best.cache, "is_croppable", True):
            return None, 0
        surplus = best.cache.get_seq_length() - length
        if surplus:
            best.cache.crop(-surplus)  # a negative count removes that many positions, in every transformers 4.5x-5.x
        return best.cache, length

    def _store(self, key: str, inputs: torch.Tensor, cache: DynamicCache) -> None:
        if self.cache_slots <= 0:
            return
        with self._lock:
            self._entries.append(_Entry(key, inputs, cache))
            del self._entries[: -self.cache_slots]

    # decoding -----------------------------------------------------------------------------------------
    def _run(self, embeds: torch.Tensor, cache: DynamicCache, backbone: Backbone | None = None) -> torch.Tensor:
        """The next-token logits [1, V] after feeding embeds; the model's own forward, as `generate` runs it."""
        model = (backbone or self.backbone).model
        out = model(inputs_embeds=embeds, use_cache=True, **{self._cache_arg: cache}, **self._extra)
        return out.logits[:, -1].float()

    @torch.no_grad()
    def decode(self, embeds: torch.Tensor, sampling: SamplingConfig, stop_ids: Sequence[int] = (),
               key: str = "", prompt_ids: Sequence[int] | None = None) -> Iterator[int]:
        """Yield the reply's token ids (the stop token included, as `generate` returns it) for embeds [1, L, d].

        key: anything else the keys and values depend on (the adapter phase): only equal keys share a cache.
        prompt_ids: unused here (the GGUF decoder's input); this decoder compares and runs embeddings.
        """
        backbone = self.prepare(self.models(key) if self.models is not None else None)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        inputs = embeds[0].detach()
        cache, start = self._take(key, inputs)
        self.last_reused = start
        cache = cache if cache is not None else DynamicCache(config=backbone.model.config)
        fed = [inputs]
        processors = logits_processors(sampling)
        stops = set(stop_ids)
        generated = torch.zeros(1, 0, dtype=torch.long, device=embeds.device)
        whole = False  # the cache matches `fed` (not left half-updated by an error inside a forward pass)
        try:
            logits = self._run(embeds[:, start:], cache, backbone)
            whole = True
            for _ in range(sampling.max_new_tokens):
                token = next_token(processors, generated, logits, sampling)
                generated = torch.cat([generated, token], dim=1)
                value = int(token)
                yield value
                if value in stops or generated.shape[1] == sampling.max_new_tokens:
                    break
                step = backbone.embed(token)
                whole = False
                logits = self._run(step, cache, backbone)
                fed.append(step[0])
                whole = True
        finally:
            if whole:  # later calls may reuse any prefix of what the cache holds
                self._store(key, torch.cat(fed, dim=0), cache)
