"""Plain texts for reconstruction pre-training: stdlib docstrings and rendered chats, split by source."""

from __future__ import annotations

import importlib
import inspect
import random
import re
import warnings
from functools import lru_cache
from types import ModuleType

from .chat import chat_samples
from .schema import Sample
from .splits import check_split, values_in_split

# Imported only to read their docstrings; no side effects on import.
DOC_MODULES = (
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "bz2", "calendar", "cmath", "codecs",
    "collections", "colorsys", "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime",
    "decimal", "difflib", "dis", "doctest", "email", "enum", "filecmp", "fileinput", "fnmatch", "fractions",
    "ftplib", "functools", "gc", "getopt", "gettext", "glob", "graphlib", "gzip", "hashlib", "heapq",
    "hmac", "html", "http.client", "imaplib", "inspect", "io", "ipaddress", "itertools", "json", "keyword",
    "linecache", "locale", "logging", "lzma", "mailbox", "math", "mimetypes", "netrc", "numbers",
    "operator", "optparse", "os", "os.path", "pathlib", "pdb", "pickle", "pkgutil", "platform", "plistlib",
    "poplib", "pprint", "profile", "queue", "quopri", "random", "re", "reprlib", "runpy", "sched",
    "secrets", "selectors", "shelve", "shlex", "shutil", "signal", "smtplib", "socket", "sqlite3",
    "statistics", "string", "struct", "subprocess", "symtable", "tarfile", "tempfile", "textwrap",
    "threading", "time", "timeit", "token", "tokenize", "trace", "traceback", "types", "typing", "unittest",
    "urllib.parse", "urllib.request", "uuid", "warnings", "wave", "weakref", "xml.dom.minidom",
    "xml.etree.ElementTree", "zipfile", "zlib",
)  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_CODE_LIKE = re.compile(r">>>|^\s*\.\.\.|^\s{4,}\S|[{}]|^\s*[-=*]{3,}|::\s*$", re.MULTILINE)


def text_samples(n: int, *, split: str = "train", seed: int = 0, max_chars: int = 900) -> list[Sample]:
    """Mix of stdlib docstring chunks (60%) and chat transcripts (40%), each at most `max_chars` long."""
    check_split(split)
    if max_chars < 80:
        raise ValueError(f"max_chars must be at least 80, got {max_chars}")
    rng = random.Random(seed)
    doc_chunks = list(_doc_chunks(split, max_chars))
    rng.shuffle(doc_chunks)
    samples: list[Sample] = []
    for _ in range(n):
        if doc_chunks and rng.random() < 0.6:
            module, chunk = doc_chunks[sum(s.meta["source"] != "chat" for s in samples) % len(doc_chunks)]
            samples.append(Sample("text", [], chunk, [], {"split": split, "source": f"doc:{module}"}))
        else:
            chat = chat_samples(1, split=split, seed=rng.randrange(2**31))[0]
            samples.append(Sample("text", [], _render_chat(chat, max_chars), [], {"split": split, "source": "chat"}))
    return samples


def _render_chat(chat: Sample, max_chars: int) -> str:
    lines: list[str] = []
    for message in chat.messages:
        line = f"{message['role'].capitalize()}: {message['content']}"
        if lines and len("\n".join([*lines, line])) > max_chars:
            break
        lines.append(line[:max_chars])
    return "\n".join(lines)


@lru_cache(maxsize=16)
def _doc_chunks(split: str, max_chars: int) -> tuple[tuple[str, str], ...]:
    chunks = []
    for module_name in values_in_split(DOC_MODULES, split):
        sentences = [s for paragraph in _module_paragraphs(module_name) for s in _sentences(paragraph, max_chars)]
        chunks += [(module_name, chunk) for chunk in _pack(sentences, max_chars) if len(chunk) >= 120]
    return tuple(chunks)


def _module_paragraphs(module_name: str) -> list[str]:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return []
    with warnings.catch_warnings():  # touching deprecated aliases (typing.io) warns
        warnings.simplefilter("ignore", DeprecationWarning)
        return _paragraphs(_docstrings(module))


def _docstrings(module: ModuleType) -> list[str]:
    docs = [module.__doc__ or ""]
    for name, member in sorted(vars(module).items()):
        if name.startswith("_") or getattr(member, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(member):
            docs.append(member.__doc__ or "")
            docs += [method.__doc__ or "" for method_name, method in sorted(vars(member).items())
                     if not method_name.startswith("_") and callable(method)]
        elif inspect.isfunction(member) or inspect.isbuiltin(member):
            docs.append(member.__doc__ or "")
    return docs


def _paragraphs(docs: list[str]) -> list[str]:
    paragraphs = []
    for doc in docs:
        for block in inspect.cleandoc(doc).split("\n\n"):
            if _CODE_LIKE.search(block) or sum(c.isalpha() for c in block) < 0.6 * max(len(block), 1):
                continue
            paragraph = " ".join(block.split())
            if len(paragraph) >= 40 and paragraph[-1] in ".!?":
                paragraphs.append(paragraph)
    return list(dict.fromkeys(paragraphs))  # some docstrings are shared by aliases


def _sentences(paragraph: str, max_chars: int) -> list[str]:
    sentences = []
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:  # rare run-on sentence: cut at a word boundary
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            sentences.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        sentences.append(sentence)
    return sentences


def _pack(sentences: list[str], max_chars: int) -> list[str]:
    chunks, current = [], ""
    for sentence in sentences:
        candidate = f"{current} {sentence}" if current else sentence
        if len(candidate) > max_chars:
            chunks.append(current)
            candidate = sentence
        current = candidate
    if current:
        chunks.append(current)
    return chunks
