"""Opt-in READ decoding through llama.cpp on the GGUF's own weights (`decode_weights="gguf"`).

The memory rows of a READ input go in as an embeddings batch, the chat prompt as token ids, then replies are
decoded token by token. Sampling is decode.py's (the same logits processors and choice), applied to
llama.cpp's logits of the last position. A memory READ runs with the adapter's LoRA, converted once into a
llama.cpp LoRA GGUF in the cache dir; a plain READ runs with it off, as GradMemAdapter.phase does. The KV cache
of the previous input is kept and its longest equal prefix reused.

Needs llama-cpp-python (the `gguf` extra) and a model loaded from a GGUF (the default model).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from .adapter import LORA_PREFIX, GradMemAdapter
from .backbone import Backbone
from .decode import logits_processors, next_token
from .models import COMPLETE, ModelNotFoundError, cache_root, default_gguf_path, gguf_identity
from .read import SamplingConfig

INSTALL_HINT = ('install llama-cpp-python (built without native CPU flags) with:\n'
                '    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF" '
                'pip install "gradmem-agent[gguf]"')
BATCH = 512  # positions per llama_decode call of a prefill
# peft module names of a Llama-style layer -> llama.cpp tensor names (convert_hf_to_gguf's mapping)
LORA_TENSORS = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
                "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}
_LORA_NAME = re.compile(r"layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.[^.]+\.weight$")


class GgufDecodeError(RuntimeError):
    """decode_weights="gguf" cannot be used: llama-cpp-python is missing or the model has no GGUF."""


def llama_cpp_module():
    try:
        import llama_cpp
    except ImportError as exc:
        raise GgufDecodeError(f"decode_weights='gguf' needs llama-cpp-python ({exc}); {INSTALL_HINT}") from exc
    return llama_cpp


def source_gguf(model: torch.nn.Module) -> Path:
    """The GGUF file a model was dequantised from (models.cached_default_model_dir), else GgufDecodeError."""
    folder = Path(str(getattr(model.config, "name_or_path", "") or "."))
    marker = folder / COMPLETE
    if not marker.is_file():
        raise GgufDecodeError(f"decode_weights='gguf' needs a model loaded from a GGUF file (the default model); "
                              f"{str(folder)!r} is not one. Use decode_weights='fp32' or 'int8' for other models.")
    sha = json.loads(marker.read_text()).get("gguf_sha256")
    try:
        path = default_gguf_path()
    except ModelNotFoundError as exc:
        raise GgufDecodeError(f"the GGUF this model was loaded from is not installed: {exc}") from exc
    if gguf_identity(path) != sha:
        raise GgufDecodeError(f"{path} is not the GGUF this model was loaded from (sha256 {sha})")
    return path


# LoRA -----------------------------------------------------------------------------------------------
def rope_permute(weight: np.ndarray, heads: int) -> np.ndarray:
    """Rows of a q/k projection in llama.cpp's order (convert_hf_to_gguf's LlamaModel.permute)."""
    return (weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def lora_arrays(tensors: dict[str, torch.Tensor], heads: int, kv_heads: int) -> dict[str, np.ndarray]:
    """peft LoRA tensors ("lora.<module>.lora_A.<adapter>.weight") -> {blk.N.<tensor>.weight.lora_a: array}.

    lora_a keeps peft's A [r, in] and lora_b its B [out, r]; B of q and k gets the rotary row permutation the
    GGUF's own q and k weights got, so that B·A lines up with them."""
    arrays = {}
    for name, tensor in tensors.items():
        match = _LORA_NAME.search(name) if name.startswith(LORA_PREFIX) else None
        if match is None:
            continue
        layer, module, side = match.groups()
        if module not in LORA_TENSORS:
            raise GgufDecodeError(f"LoRA on {module!r} has no llama.cpp counterpart")
        array = tensor.detach().float().cpu().numpy()
        if side == "B" and module in ("q_proj", "k_proj"):
            array = rope_permute(array, heads if module == "q_proj" else kv_heads)
        arrays[f"blk.{layer}.{LORA_TENSORS[module]}.weight.lora_{side.lower()}"] = np.ascontiguousarray(array)
    return arrays


def write_lora_gguf(path: Path, arrays: dict[str, np.ndarray], alpha: float, arch: str = "llama") -> None:
    """A llama.cpp LoRA adapter file (the layout of llama.cpp's convert_lora_to_gguf.py)."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for name in sorted(arrays):
        writer.add_tensor(name, arrays[name])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def lora_gguf(adapter: GradMemAdapter, model: torch.nn.Module) -> Path | None:
    """The adapter's LoRA as a llama.cpp adapter file in the cache dir (written once per content), or None
    when the adapter has no LoRA that a READ uses."""
    cfg = adapter.config
    if cfg.lora_rank <= 0 or cfg.lora_phases != "both":
        return None
    arrays = lora_arrays(adapter.state_tensors(), model.config.num_attention_heads,
                         getattr(model.config, "num_key_value_heads", None) or model.config.num_attention_heads)
    if not arrays:
        return None
    digest = hashlib.sha256(f"v1 alpha={cfg.lora_alpha}".encode())
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(arrays[name].tobytes())
    path = cache_root().parent / "lora-gguf" / f"{digest.hexdigest()[:16]}.gguf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            write_lora_gguf(Path(tmp), arrays, cfg.lora_alpha)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        finally:
            Path(tmp).unlink(missing_ok=True)
    return path


def lora_on(adapter: GradMemAdapter | None, phase: str) -> bool:
    """Whether a decode in this phase runs with the LoRA (GradMemAdapter.phase's rule for a READ)."""
    return (adapter is not None and adapter.config.lora_rank > 0 and adapter.config.lora_phases == "both"
            and phase == "read")


# decoding ---------------------------------------------------------------------------------------------
class _Batch:
    """A reusable llama_batch of up to `size` tokens or embedding rows, all in sequence 0."""

    def __init__(self, lib, size: int, embd: int) -> None:
        self.lib, self.size, self.embd = lib, size, embd
        self.batch = lib.llama_batch_init(size, embd, 1)

    def fill(self, start: int, tokens: Sequence[int] | None = None, rows: np.ndarray | None = None) -> None:
        """Positions start.. with logits of the last one only."""
        n = len(tokens) if tokens is not None else rows.shape[0]
        if not 0 < n <= self.size:
            raise ValueError(f"a batch of {n} positions does not fit {self.size}")
        batch = self.batch
        batch.n_tokens = n
        if rows is not None:
            ctypes.memmove(batch.embd, rows.ctypes.data, rows.nbytes)
        for i in range(n):
            if tokens is not None:
                batch.token[i] = tokens[i]
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = i == n - 1

    def free(self) -> None:
        if self.batch is not None:
            self.lib.llama_batch_free(self.batch)
            self.batch = None


class GgufDecoder:
    """Replies decoded by llama.cpp from READ inputs; the same `decode` as decode.Decoder, plus prompt_ids.

    One llama.cpp context serves every caller: a decode holds it until its reply ends (other threads wait).
    The adapter's LoRA is converted at the first reply: an adapter changed after that needs a new engine.

    Args:
        backbone: the engine's model and adapter (the memory rows come already projected).
        gguf: the GGUF file the model was loaded from (default: found from the model, see source_gguf).
    """

    def __init__(self, backbone: Backbone, gguf: Path | None = None) -> None:
        self._lib = llama_cpp_module()
        self.backbone = backbone
        self.gguf = gguf or source_gguf(backbone.model)
        self.last_reused = 0  # prompt positions the last call took from the kept KV cache
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._ready = False
        self._fed: list[Hashable] = []  # what the KV cache holds, one key per position
        self._lora_active = False

    # setup ----------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Load the model, the LoRA and a context once; later calls do nothing."""
        if self._ready:
            return
        lib = self._lib
        _quiet(lib)
        lib.llama_backend_init()
        params = lib.llama_model_default_params()
        self._model = lib.llama_model_load_from_file(str(self.gguf).encode(), params)
        if not self._model:
            raise GgufDecodeError(f"llama.cpp could not load {self.gguf}")
        lora_path = lora_gguf(self.backbone.adapter, self.backbone.model) if self.backbone.adapter else None
        self._lora = None
        if lora_path is not None:
            self._lora = lib.llama_adapter_lora_init(self._model, str(lora_path).encode())
            if not self._lora:
                raise GgufDecodeError(f"llama.cpp could not load the LoRA adapter {lora_path}")
        threads = torch.get_num_threads()
        cparams = lib.llama_context_default_params()
        cparams.n_ctx = self.backbone.max_positions
        cparams.n_batch = cparams.n_ubatch = BATCH
        cparams.n_seq_max = 1
        cparams.n_threads = cparams.n_threads_batch = threads
        cparams.no_perf = True
        self._ctx = lib.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            raise GgufDecodeError("llama.cpp could not create a context")
        self._memory = lib.llama_get_memory(self._ctx)
        self._vocab = lib.llama_vocab_n_tokens(lib.llama_model_get_vocab(self._model))
        self._embd = lib.llama_model_n_embd(self._model)
        if self._embd != self.backbone.hidden_size:
            raise GgufDecodeError(f"{self.gguf} has hidden size {self._embd}, the model {self.backbone.hidden_size}")
        self._tokens = _Batch(lib, BATCH, 0)
        self._rows = _Batch(lib, BATCH, self._embd)
        self._ready = True

    def close(self) -> None:
        if not self._ready:
            return
        lib = self._lib
        self._tokens.free()
        self._rows.free()
        lib.llama_free(self._ctx)
        if self._lora:
            lib.llama_adapter_lora_free(self._lora)
        lib.llama_model_free(self._model)
        self._ready = False

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: the library may be gone already
            self.close()

    def clear(self) -> None:
        with self._hold():
            if self._ready:
                self._lib.llama_memory_clear(self._memory, True)
            self._fed = []

    # internals -------------------------------------------------------------------------------------
    def _hold(self):
        if self._owner == threading.get_ident():
            raise RuntimeError("a GgufDecoder reply is still being decoded in this thread; finish or close it first")
        return _Held(self)

    def _set_lora(self, active: bool) -> None:
        if active == self._lora_active:
            return
        lib = self._lib
        if active:
            if self._lora is None:
                raise GgufDecodeError("a memory READ needs the adapter's LoRA, which could not be converted")
            adapters = (lib.llama_adapter_lora_p_ctypes * 1)(self._lora)
            scales = (ctypes.c_float * 1)(1.0)
            status = lib.llama_set_adapters_lora(self._ctx, adapters, 1, scales)
        else:
            status = lib.llama_set_adapters_lora(self._ctx, None, 0, None)
        if status != 0:
            raise GgufDecodeError(f"llama_set_adapters_lora failed ({status})")
        self._lora_active = active

    def _run(self, batch: _Batch, start: int, **items) -> None:
        batch.fill(start, **items)
        status = self._lib.llama_decode(self._ctx, batch.batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed ({status}) at position {start} "
                               f"(context of {self.backbone.max_positions} positions)")

    def _logits(self) -> torch.Tensor:
        pointer = self._lib.llama_get_logits_ith(self._ctx, -1)
        return torch.from_numpy(np.ctypeslib.as_array(pointer, shape=(self._vocab,)).copy()).unsqueeze(0)

    def _feed(self, rows: np.ndarray, tokens: list[int], keys: list[Hashable]) -> torch.Tensor:
        """Run the positions past the reusable prefix; the logits of the last one."""
        reuse = _common(self._fed, keys)
        reuse = min(reuse, len(keys) - 1)  # the last position always runs: it gives the logits
        if reuse < len(self._fed):
            self._lib.llama_memory_seq_rm(self._memory, 0, reuse, -1)
            del self._fed[reuse:]
        self.last_reused = reuse
        n_rows, size = rows.shape[0], self._rows.size
        for start in range(reuse, n_rows, size):
            chunk = rows[start : start + size]
            self._run(self._rows, start, rows=chunk)
            self._fed += keys[start : start + chunk.shape[0]]
        for start in range(max(reuse, n_rows), len(keys), size):
            chunk = tokens[start - n_rows : start - n_rows + size]
            self._run(self._tokens, start, tokens=chunk)
            self._fed += keys[start : start + len(chunk)]
        return self._logits()

    def _inputs(self, embeds: torch.Tensor, key: str, prompt_ids: Sequence[int] | None
                ) -> tuple[np.ndarray, list[int], list[Hashable], bool]:
        """(embedding rows, prompt tokens, one key per position, LoRA on), the context set up for them."""
        self.prepare()
        threads = torch.get_num_threads()
        self._lib.llama_set_n_threads(self._ctx, threads, threads)
        tokens = list(prompt_ids) if prompt_ids is not None else []
        n_rows = embeds.shape[1] - len(tokens)
        if n_rows < 0:
            raise ValueError(f"{len(tokens)} prompt ids for {embeds.shape[1]} input positions")
        rows = np.ascontiguousarray(embeds[0, :n_rows].detach().float().cpu().numpy())
        active = lora_on(self.backbone.adapter, key)
        keys: list[Hashable] = [row.tobytes() for row in rows] + tokens
        if active != self._lora_active:  # keys and values computed with the other weights cannot be reused
            self._lib.llama_memory_clear(self._memory, True)
            self._fed = []
            self._set_lora(active)
        return rows, tokens, keys, active

    @torch.no_grad()
    def next_logits(self, embeds: torch.Tensor, key: str = "", prompt_ids: Sequence[int] | None = None
                    ) -> torch.Tensor:
        """llama.cpp's next-token logits [1, V] for READ inputs (to check against the torch path)."""
        with self._hold():
            rows, tokens, keys, _ = self._inputs(embeds, key, prompt_ids)
            try:
                return self._feed(rows, tokens, keys)
            except BaseException:
                self._lib.llama_memory_clear(self._memory, True)
                self._fed = []
                raise

    @torch.no_grad()
    def decode(self, embeds: torch.Tensor, sampling: SamplingConfig, stop_ids: Sequence[int] = (), key: str = "",
               prompt_ids: Sequence[int] | None = None) -> Iterator[int]:
        """Yield the reply's token ids (the stop token included) for READ inputs embeds [1, L, d].

        key: the phase ("read" runs with the LoRA, anything else without). prompt_ids: the token ids of the
        last len(prompt_ids) positions, fed as tokens; without them every position goes in as an embedding.
        """
        with self._hold():
            rows, tokens, keys, _ = self._inputs(embeds, key, prompt_ids)
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            processors = logits_processors(sampling)
            stops = set(stop_ids)
            generated = torch.zeros(1, 0, dtype=torch.long)
            position = len(keys)
            whole = False  # the KV cache matches self._fed (not left half-updated by a failed llama_decode)
            try:
                logits = self._feed(rows, tokens, keys)
                whole = True
                for _ in range(sampling.max_new_tokens):
                    token = next_token(processors, generated, logits, sampling)
                    generated = torch.cat([generated, token], dim=1)
                    value = int(token)
                    yield value
                    if value in stops or generated.shape[1] == sampling.max_new_tokens:
                        break
                    whole = False
                    self._run(self._tokens, position, tokens=[value])
                    self._fed.append(value)
                    whole = True
                    position += 1
                    logits = self._logits()
            finally:
                if not whole:  # a failed llama_decode may leave part of a batch in the cache: start afresh
                    self._lib.llama_memory_clear(self._memory, True)
                    self._fed = []


class _Held:
    """The decoder's lock for one decode, remembering the thread that holds it (to refuse re-entry)."""

    def __init__(self, decoder: GgufDecoder) -> None:
        self.decoder = decoder

    def __enter__(self) -> None:
        self.decoder._lock.acquire()
        self.decoder._owner = threading.get_ident()

    def __exit__(self, *exc: object) -> None:
        self.decoder._owner = None
        self.decoder._lock.release()


def _common(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def _quiet(lib) -> None:
    """llama-cpp-python routes llama.cpp's log to the `llama-cpp-python` logger; keep only errors."""
    logger = logging.getLogger("llama-cpp-python")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)
