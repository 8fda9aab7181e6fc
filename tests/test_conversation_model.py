"""GradMemConversationMemory with the real default model (frozen GradMem): slow, so only two tests."""

from __future__ import annotations

import pytest

from gradmem_agent import GradMemConversationMemory

pytestmark = pytest.mark.model

FACTS = [
    {"role": "user", "content": "Hi! My name is Priya and I live in Lisbon with my cat Mango."},
    {"role": "assistant", "content": "Nice to meet you, Priya! Lisbon is lovely."},
    {"role": "user", "content": "I work as a nurse and my favourite food is ramen."},
    {"role": "assistant", "content": "Ramen is a great choice."},
    {"role": "user", "content": "On weekends I play the cello."},
    {"role": "assistant", "content": "How wonderful."},
    {"role": "user", "content": "Tomorrow I am visiting my sister."},
    {"role": "assistant", "content": "Have a good trip!"},
]


def test_compression_fires_once_and_the_block_holds_its_turns(real_gm, tmp_path):
    conv = GradMemConversationMemory("priya", real_gm, url=f"sqlite:///{tmp_path / 'chat.db'}", mode="inline",
                                     segment_tokens=80, recent_tokens=40)
    conv.add_messages(FACTS)
    (block,) = conv.memory_blocks  # the first four turns: one full segment; the rest stays text
    assert (block.first_seq, block.last_seq) == (0, 3) and block.vectors.shape == (16, real_gm.hidden_size)
    assert block.stats.token_accuracy >= 0.9
    text = real_gm.reconstruct(block)
    assert "Priya" in text and "ramen" in text
    assert [m.seq for m in conv.messages] == [4, 5, 6, 7]

    reply = conv.respond("What is my cat called?", max_new_tokens=16)
    assert isinstance(reply, str) and reply.strip()
    assert len(conv.memory_blocks) == 1 and len(conv.transcript) == 10
    stats = conv.stats()
    assert stats.blocks == 1 and stats.vectors == 16 and stats.compression_ratio > 4
    conv.close()


def test_defaults_need_only_a_session_id(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # where storage.default_url() puts gradmem.db
    conv = GradMemConversationMemory("alice")
    assert conv._compressor is None  # the model loads on first use, not at construction
    assert conv.policy.mode == "background" and conv.policy.memory_tokens is None
    conv.add_user_message("Hello, I keep bees.")
    conv.add_ai_message("Bees are fascinating!")
    pieces = list(conv.stream("Say hello back in one word.", max_new_tokens=8))
    assert "".join(pieces).strip()
    conv.wait()
    assert conv.stats().messages == 4 and conv.memory_blocks == []  # far below a segment: all text
    assert str(tmp_path) in repr(conv.store)
    conv.close()
