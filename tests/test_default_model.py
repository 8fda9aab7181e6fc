"""The real default model (few, small): WRITE reaches full reconstruction and READ gives it back; the shipped
adapter reads a held-out chat from memory."""

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


def test_the_shipped_adapter_reads_a_held_out_chat_from_memory():
    """GradMem.from_pretrained() loads the trained adapter for the default model; one WRITE step puts a held-out
    chat's first 8 turns into 16 vectors, and the reader gives back the booking code that only memory holds."""
    from gradmem_agent import GradMem
    from gradmem_agent.engine import SHIPPED_ADAPTERS
    from gradmem_agent.training.episodes import flatten
    from gradmem_agent.training.evaluate import evaluate
    from heldout import load_heldout_chats

    gm = GradMem.from_pretrained()
    assert gm.adapter is not None and gm.adapter_id == GradMem.from_pretrained(
        adapter=SHIPPED_ADAPTERS / "SmolLM2-135M-Instruct").adapter_id
    assert gm.adapter.config.model_fingerprint == gm.fingerprint
    assert (gm.write_config.memory_tokens, gm.write_config.steps) == (16, 1)
    chat = next(c for c in load_heldout_chats() if any("camper" in qa.question for qa in c.qas))
    episode = next(e for e in flatten([chat], gm.count_tokens, 256, recent_messages=4) if "camper" in e.question)
    assert episode.in_memory and len(episode.segments) == 1
    assert "VAN-7720" not in "".join(m["content"] for m in episode.recent)
    from_memory = evaluate(gm, [episode], "gradmem")["predictions"][0]
    assert from_memory["correct"], from_memory
    without = evaluate(gm, [episode], "truncation")["predictions"][0]
    assert not without["correct"], without


def test_processes_that_start_together_build_the_cached_copy_once(default_model_dir, tmp_path):
    """Two processes on an empty cache: one dequantises, the other waits for it; neither sees a half-built copy."""
    import os
    import subprocess
    import sys

    child = (
        "import logging; logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        "from transformers import AutoConfig, AutoTokenizer\n"
        "from gradmem_agent.models import cached_default_model_dir\n"
        "path = cached_default_model_dir()\n"
        "AutoTokenizer.from_pretrained(path, local_files_only=True); AutoConfig.from_pretrained(path)\n"
        "print('loaded', path)\n"
    )
    env = {**os.environ, "GRADMEM_CACHE_DIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", child], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert "loaded" in out
    assert sum("dequantising" in err for _, err in outputs) == 1
    (built,) = tmp_path.joinpath("models").iterdir()
    assert [p.name for p in built.iterdir() if not p.name.endswith(".lock")] == [default_model_dir.name]


def test_the_same_gguf_at_two_paths_shares_one_cached_copy(default_model_dir, tmp_path, monkeypatch):
    """Two installs of one wheel (two virtual environments) must not evict each other's copy."""
    import shutil

    from gradmem_agent.models import cached_default_model_dir, default_gguf_path

    elsewhere = tmp_path / "other-venv" / "model.gguf"
    elsewhere.parent.mkdir()
    shutil.copy(default_gguf_path(), elsewhere)
    built = default_model_dir.stat().st_mtime_ns
    monkeypatch.setenv("GRADMEM_DEFAULT_GGUF", str(elsewhere))
    assert cached_default_model_dir() == default_model_dir
    monkeypatch.delenv("GRADMEM_DEFAULT_GGUF")
    assert cached_default_model_dir() == default_model_dir
    assert default_model_dir.stat().st_mtime_ns == built  # not rebuilt
    from gradmem_agent.models import gguf_identity

    elsewhere.write_bytes(elsewhere.read_bytes()[:-1] + b"\x00")  # another file would get another copy's name
    assert gguf_identity(elsewhere) != gguf_identity(default_gguf_path())
