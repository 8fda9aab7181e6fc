"""The real default model (few, small): WRITE reaches full reconstruction and READ gives it back."""

from __future__ import annotations

import pytest

from gradmem_agent.layout import render_turns

pytestmark = pytest.mark.model

DIALOGUE = [
    {"role": "user", "content": "Hi! I'm Dana and I just moved to Lisbon with my cat Pixel."},
    {"role": "assistant", "content": "Welcome to Lisbon, Dana! How is Pixel settling in?"},
    {"role": "user", "content": "She loves the balcony. My flat number is 42, and I start at Acme Robotics on Monday."},
    {"role": "assistant", "content": "Congratulations on the new job at Acme Robotics! Good luck on Monday."},
    {"role": "user", "content": "Thanks! My sister Marta visits in June, so I need a second key by then."},
]


def test_dialogue_is_written_into_16_vectors_and_reconstructed(real_gm):
    text = render_turns(DIALOGUE)
    assert 100 <= real_gm.count_tokens(text) <= 140
    weights = {k: v.clone() for k, v in real_gm.model.state_dict().items()}
    mem = real_gm.write([text], memory_tokens=16, steps=150, lr=0.3, optimizer="adam", target_accuracy=1.0)[0]
    assert mem.stats.token_accuracy >= 0.99, mem.stats.history[-1]
    assert mem.stats.stopped == "target"
    assert real_gm.reconstruct(mem) == text
    assert all(v.equal(weights[k]) for k, v in real_gm.model.state_dict().items())
    reply = real_gm.generate([{"role": "user", "content": "Say hello."}], memory=[mem], max_new_tokens=8)
    assert isinstance(reply, str) and reply
