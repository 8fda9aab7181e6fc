"""Seeded, download-free data for meta-training and evaluating the chat memory."""

from .babi import babi_samples
from .chat import chat_samples
from .cloze import cloze_samples
from .documents import document_samples
from .jsonl import load_samples, save_samples
from .kv import kv_samples
from .schema import QA, Sample
from .sessions import session_samples
from .text import text_samples

__all__ = [
    "QA",
    "Sample",
    "babi_samples",
    "chat_samples",
    "cloze_samples",
    "document_samples",
    "kv_samples",
    "load_samples",
    "save_samples",
    "session_samples",
    "text_samples",
]
