"""Counting an agent model's window in that model's tokens: tiktoken for OpenAI-style models, offline.

tiktoken downloads its encodings on first use, which fails on a machine without network. The ``bpe-openai``
package (in the ``langchain`` extra) ships the cl100k_base and o200k_base rank files; they are copied into
tiktoken's own cache (``TIKTOKEN_CACHE_DIR``, else ``DATA_GYM_CACHE_DIR``, else ``<tmp>/data-gym-cache``,
under the key tiktoken derives from the file's URL), so tiktoken loads them as if it had downloaded them and
still checks their SHA-256.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.messages.utils import count_tokens_approximately

TokenCounter = Callable[[Sequence[BaseMessage]], int]

_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
SHIPPED = ("cl100k_base", "o200k_base")
# As OpenAI's cookbook counts chat messages: a few tokens of framing per message and for the reply's start.
PER_MESSAGE, PER_REPLY = 3, 3


def _cache_dir() -> str:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _seed_cache(name: str) -> None:
    """Put the shipped rank file of encoding `name` into tiktoken's cache, if it is shipped and not there."""
    directory = _cache_dir()
    if name not in SHIPPED or not directory:
        return
    path = os.path.join(directory, hashlib.sha1(_URL.format(name).encode()).hexdigest())
    if os.path.exists(path):
        return
    spec = importlib.util.find_spec("bpe_openai")  # located, not imported: only its data files are used
    shipped = Path(spec.origin).parent / "data" / f"{name}.tiktoken.gz" if spec and spec.origin else None
    if shipped is None or not shipped.is_file():
        return
    packed = shipped.read_bytes()
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.decompress(packed))
    os.replace(tmp, path)


@lru_cache(maxsize=8)
def encoding(model_or_encoding: str) -> Any:
    """The tiktoken encoding of an OpenAI model name ("gpt-4o") or an encoding name ("cl100k_base")."""
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model_or_encoding)
    except KeyError:
        name = model_or_encoding
    _seed_cache(name)
    return tiktoken.get_encoding(name)


def _text(message: BaseMessage) -> str:
    from .chat_model import message_text

    text = message_text(message)
    for call in getattr(message, "tool_calls", None) or []:
        text += f"{call['name']}{call['args']}"
    return text


def tiktoken_counter(model_or_encoding: str = "o200k_base") -> TokenCounter:
    """A token_counter for the messages of an OpenAI-style chat model."""
    enc = encoding(model_or_encoding)

    def count(messages: Sequence[BaseMessage]) -> int:
        return sum(PER_MESSAGE + len(enc.encode(_text(m), disallowed_special=())) for m in messages) + PER_REPLY

    return count


def counter_for(model: Any) -> TokenCounter:
    """The counter for an agent's model: tiktoken for an OpenAI-style model (a name starting "gpt-", "o1"...,
    or a class with OpenAI in its name), else langchain_core's count_tokens_approximately."""
    name = str(getattr(model, "model_name", None) or getattr(model, "model", None) or "")
    if "openai" in type(model).__name__.lower() or name.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return tiktoken_counter(name or "o200k_base")
    return count_tokens_approximately
