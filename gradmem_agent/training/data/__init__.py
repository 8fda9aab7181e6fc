"""Seeded, download-free data for meta-training and evaluating the chat memory."""

from .babi import babi_samples
from .chat import chat_samples
from .heldout import load_heldout_chats
from .kv import kv_samples
from .schema import QA, Sample
from .text import text_samples

__all__ = ["QA", "Sample", "babi_samples", "chat_samples", "kv_samples", "load_heldout_chats", "text_samples"]
