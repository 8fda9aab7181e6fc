"""decode_weights="gguf": READ decoding through llama.cpp on the GGUF's own weights (gradmem_agent/gguf_decode.py)."""

from __future__ import annotations

import sys
import threading
from unittest import mock

import numpy as np
import pytest
import torch

from gradmem_agent import GradMem
from gradmem_agent.decode import Decoder
from gradmem_agent.gguf_decode import GgufDecodeError, GgufDecoder, lora_arrays, rope_permute, write_lora_gguf
from gradmem_agent.read import SamplingConfig
from tests.conftest import make_tiny_llama

AGREE = 8  # greedy tokens that must equal the fp32 torch path's (the GGUF is Q4_1/Q8_0: later ones may differ)


def test_bad_option_combinations_raise_typed_errors(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    with pytest.raises(ValueError, match="fast_decode"):
        GradMem(model, tokenizer, decode_weights="gguf", fast_decode=False)
    with mock.patch.dict(sys.modules, {"llama_cpp": None}), \
            pytest.raises(GgufDecodeError, match=r"pip install .*gradmem-agent\[gguf\]"):
        GradMem(model, tokenizer, decode_weights="gguf")


def test_auto_decodes_through_torch_where_llama_cpp_cannot_be_used(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    gm = GradMem(model, tokenizer)  # the CPU's fast decoder; no GGUF behind the tiny Llama
    assert gm.decode_weights == "fp32" and isinstance(gm.decoder, Decoder)
    with mock.patch.dict(sys.modules, {"llama_cpp": None}):
        assert GradMem(model, tokenizer).decode_weights == "fp32"
    assert GradMem(model, tokenizer, fast_decode=False).decoder is None


def test_a_model_not_loaded_from_a_gguf_is_refused(tokenizer):
    pytest.importorskip("llama_cpp")
    with pytest.raises(GgufDecodeError, match="loaded from a GGUF"):
        GradMem(make_tiny_llama(len(tokenizer)), tokenizer, decode_weights="gguf")


def test_lora_conversion_names_shapes_and_rotary_order(tmp_path):
    gguf = pytest.importorskip("gguf")
    r, d, heads, kv_heads = 2, 8, 2, 1
    a = torch.randn(r, d)
    b_q, b_k, b_up = torch.randn(d, r), torch.randn(d // 2, r), torch.randn(16, r)
    tensors = {"lora.model.layers.1.self_attn.q_proj.lora_A.gradmem.weight": a,
               "lora.model.layers.1.self_attn.q_proj.lora_B.gradmem.weight": b_q,
               "lora.model.layers.1.self_attn.k_proj.lora_B.gradmem.weight": b_k,
               "lora.model.layers.0.mlp.up_proj.lora_B.gradmem.weight": b_up,
               "m0": torch.zeros(1), "projection": torch.eye(d)}
    arrays = lora_arrays(tensors, heads, kv_heads)
    assert sorted(arrays) == ["blk.0.ffn_up.weight.lora_b", "blk.1.attn_k.weight.lora_b",
                              "blk.1.attn_q.weight.lora_a", "blk.1.attn_q.weight.lora_b"]
    np.testing.assert_array_equal(arrays["blk.1.attn_q.weight.lora_a"], a.numpy())  # A [r, in] as peft has it
    np.testing.assert_array_equal(arrays["blk.0.ffn_up.weight.lora_b"], b_up.numpy())  # B [out, r]
    # q and k rows in the GGUF's rotary order: (B A) permuted == permuted(B) A
    np.testing.assert_allclose(arrays["blk.1.attn_q.weight.lora_b"] @ a.numpy(),
                               rope_permute((b_q @ a).numpy(), heads), rtol=1e-6)
    np.testing.assert_array_equal(arrays["blk.1.attn_k.weight.lora_b"], rope_permute(b_k.numpy(), kv_heads))
    path = tmp_path / "lora.gguf"
    write_lora_gguf(path, arrays, alpha=16.0)
    reader = gguf.GGUFReader(str(path))
    fields = {name: reader.fields[name] for name in ("general.type", "adapter.type", "adapter.lora.alpha",
                                                    "general.architecture")}
    assert bytes(fields["general.type"].parts[-1]).decode() == "adapter"
    assert bytes(fields["adapter.type"].parts[-1]).decode() == "lora"
    assert bytes(fields["general.architecture"].parts[-1]).decode() == "llama"
    assert float(fields["adapter.lora.alpha"].parts[-1][0]) == 16.0
    assert {t.name for t in reader.tensors} == set(arrays)


# the real default model ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engines():
    pytest.importorskip("llama_cpp")
    from gradmem_agent.models import ModelNotFoundError

    try:
        ours = GradMem.from_pretrained(device="cpu", fast_decode=True, decode_weights="fp32")
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))
    gguf = GradMem(ours.model, ours.tokenizer, ours.adapter, name=ours.name, decode_weights="gguf")
    return ours, gguf


def test_auto_decodes_the_default_model_through_llama_cpp(engines):
    ours, _ = engines
    auto = GradMem(ours.model, ours.tokenizer, ours.adapter, name=ours.name)
    assert auto.decode_weights == "gguf" and isinstance(auto.decoder, GgufDecoder) and auto.decoder._ready
    with mock.patch.dict(sys.modules, {"llama_cpp": None}):
        assert GradMem(ours.model, ours.tokenizer, ours.adapter).decode_weights == "fp32"
    with mock.patch.object(GgufDecoder, "prepare", side_effect=GgufDecodeError("no context")):
        assert isinstance(GradMem(ours.model, ours.tokenizer, ours.adapter).decoder, Decoder)
        with pytest.raises(GgufDecodeError, match="no context"):  # asked for by name: the error shows
            GradMem(ours.model, ours.tokenizer, ours.adapter, decode_weights="gguf").generate(
                [{"role": "user", "content": "Hi"}], max_new_tokens=2)


def _same_prefix(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


QUESTION = [{"role": "user", "content": "Where is the spare key to the shed?"}]
GREEDY = SamplingConfig(max_new_tokens=AGREE)


@pytest.mark.model
def test_plain_greedy_reply_agrees_with_torch(engines):
    ours, gguf = engines
    embeds, _, ids = ours._read_inputs(QUESTION, None)
    with ours.phase("plain"):
        reference = list(ours.decoder.decode(embeds, GREEDY, key="plain"))
    assert list(gguf.decoder.decode(embeds, GREEDY, key="plain", prompt_ids=ids)) == reference
    # the same input as embeddings only (no ids) gives the same tokens
    assert list(gguf.decoder.decode(embeds, GREEDY, key="plain"))[:4] == reference[:4]
    assert gguf.generate(QUESTION, max_new_tokens=AGREE) == ours.generate(QUESTION, max_new_tokens=AGREE)


@pytest.mark.model
def test_memory_read_applies_the_lora(engines):
    ours, gguf = engines
    block = ours.write("The spare key to the shed is under the blue flowerpot by the back door.")[0]
    embeds, _, ids = ours._read_inputs(QUESTION, block)
    with ours.phase("read"):
        reference = ours.model(inputs_embeds=embeds).logits[0, -1]
        tokens = list(ours.decoder.decode(embeds, GREEDY, key="read"))
    with ours.phase("plain"):
        reference_off = ours.model(inputs_embeds=embeds).logits[0, -1]
    with_lora = gguf.decoder.next_logits(embeds, key="read", prompt_ids=ids)[0]
    without = gguf.decoder.next_logits(embeds, key="plain", prompt_ids=ids)[0]
    # llama.cpp with the converted LoRA is much closer to torch with LoRA than llama.cpp without it, and the
    # LoRA moves llama.cpp's logits the way it moves torch's
    assert (with_lora - reference).abs().max() < 0.5 * (without - reference).abs().max()
    assert torch.corrcoef(torch.stack([with_lora - without, reference - reference_off]))[0, 1] > 0.9
    assert _same_prefix(list(gguf.decoder.decode(embeds, GREEDY, key="read", prompt_ids=ids)), tokens) >= 4


@pytest.mark.model
def test_prefix_reuse_gives_the_fresh_reply(engines):
    _, gguf = engines
    block = gguf.write("Ingrid works at the harbour office in Tromsø; her dog is called Pilot.")[0]
    first = gguf.generate(QUESTION, block, max_new_tokens=12)
    turns = [*QUESTION, {"role": "assistant", "content": first}, {"role": "user", "content": "Who is Pilot?"}]
    reused = gguf.generate(turns, block, max_new_tokens=12)
    assert gguf.decoder.last_reused > 16  # the memory block and the first question came from the cache
    gguf.decoder.clear()
    assert gguf.generate(turns, block, max_new_tokens=12) == reused
    assert gguf.decoder.last_reused == 0
    streamed = "".join(gguf.stream(turns, block, max_new_tokens=12)).strip()
    assert streamed == reused


@pytest.mark.model
def test_sampling_and_threads_share_one_context(engines):
    _, gguf = engines
    sampled = dict(max_new_tokens=10, temperature=0.9, top_k=20, top_p=0.9, repetition_penalty=1.3, seed=3)
    first = gguf.generate(QUESTION, **sampled)
    gguf.generate([{"role": "user", "content": "Say hello."}], max_new_tokens=4)  # another input in between
    assert gguf.generate(QUESTION, **sampled) == first
    replies: list[str] = []
    threads = [threading.Thread(target=lambda: replies.append(gguf.generate(QUESTION, max_new_tokens=8)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [gguf.generate(QUESTION, max_new_tokens=8)] * 3
    pieces = gguf.stream(QUESTION, max_new_tokens=8)
    next(pieces)
    pieces.close()  # a reply abandoned half way leaves the context usable
    assert gguf.generate(QUESTION, max_new_tokens=8) == replies[0]
