"""Shared fixtures. Fast tests use a tiny random-weight Llama with the default model's tokenizer."""

from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def default_model_dir():
    from gradmem_agent.models import ModelNotFoundError, cached_default_model_dir

    try:
        return cached_default_model_dir()
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def tokenizer(default_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_model_dir, local_files_only=True)


def make_tiny_llama(vocab_size: int, seed: int = 0, max_positions: int = 256):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_positions,
        tie_word_embeddings=True, pad_token_id=2, eos_token_id=2, bos_token_id=1,
    )
    config.name_or_path = "tiny-llama"
    model = LlamaForCausalLM(config).eval()
    model.generation_config.pad_token_id = 2
    return model


@pytest.fixture
def tiny_gm(tokenizer):
    from gradmem_agent import GradMem

    # fp32 WRITE: the same numbers on every CPU ("auto" picks bf16 on some; test_speed.py tests that choice)
    return GradMem(make_tiny_llama(len(tokenizer)), tokenizer, name="tiny-llama", write_precision="fp32")


@pytest.fixture(scope="session")
def real_gm():
    """The real default model (session-wide: load it once)."""
    from gradmem_agent import GradMem
    from gradmem_agent.models import ModelNotFoundError

    try:
        return GradMem.from_pretrained(adapter=None)
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))


def postgres_url() -> str | None:
    return os.environ.get("GRADMEM_TEST_POSTGRES_URL") or None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """A test's database: a fresh SQLite file, then the test PostgreSQL (skipped where it is not set)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    if not postgres_url():
        pytest.skip("GRADMEM_TEST_POSTGRES_URL is not set")
    return postgres_url()
