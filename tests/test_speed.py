"""The CPU fast paths give what the old paths give: packed weights, the Decoder, the prefix cache, the WRITE."""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from transformers import DynamicCache

from gradmem_agent import GradMem, write_model
from gradmem_agent import engine as engine_module
from gradmem_agent.decode import shared_prefix
from gradmem_agent.packed import Int8Linear, int8_kernel_available, quantize_linears
from gradmem_agent.read import SamplingConfig, generate_ids
from tests.conftest import make_tiny_llama

needs_kernel = pytest.mark.skipif(not int8_kernel_available(), reason="this torch lacks _weight_int8pack_mm")


@needs_kernel
def test_int8_linear_keeps_parameters_and_dense_path_for_gradients(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    names = [n for n, _ in model.named_parameters()]
    assert quantize_linears(model) == 2 * 7 + 1  # every linear layer and the head
    assert [n for n, _ in model.named_parameters()] == names  # same parameters, same state dict
    layer = model.model.layers[0].mlp.up_proj
    assert isinstance(layer, Int8Linear)
    x = torch.randn(2, 32, requires_grad=True)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), x @ layer.weight.T, rtol=0.05, atol=0.02)
    layer(x).sum().backward()  # grad mode: the dense fp32 path, differentiable and exact
    torch.testing.assert_close(x.grad, layer.weight.sum(0).expand(2, -1))


def _engines(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    eager = GradMem(model, tokenizer, name="tiny-llama", fast_decode=False)
    twin = make_tiny_llama(len(tokenizer))
    twin.load_state_dict(model.state_dict())
    fast = GradMem(twin, tokenizer, name="tiny-llama", fast_decode=True)
    return eager, fast


def test_decoder_matches_generate(tokenizer):
    eager, fast = _engines(tokenizer)
    memory = eager.write("The shed key is under the blue flowerpot.", steps=2)[0]
    messages = [{"role": "user", "content": "Where is the key?"}]
    for mem in (None, memory):
        embeds, attention, _ = eager.build_inputs(messages, mem)
        greedy = SamplingConfig(max_new_tokens=12)
        assert generate_ids(eager.backbone, embeds, attention, greedy, min_new_tokens=12) == \
            list(fast.decoder.decode(embeds, greedy))
        sampled = SamplingConfig(max_new_tokens=12, temperature=0.9, top_k=20, top_p=0.9, repetition_penalty=1.3,
                                 seed=7)
        assert generate_ids(eager.backbone, embeds, attention, sampled, min_new_tokens=12) == \
            list(fast.decoder.decode(embeds, sampled))
        assert fast.generate(messages, mem, max_new_tokens=12) == eager.generate(messages, mem, max_new_tokens=12)
        streamed = "".join(fast.stream(messages, mem, max_new_tokens=12)).strip()
        assert streamed == eager.generate(messages, mem, max_new_tokens=12)


@needs_kernel
def test_int8_decoding_is_opt_in_and_close(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    fp32 = GradMem(model, tokenizer, name="tiny-llama")
    assert fp32.decoder is not None and not fp32.decoder.int8  # the CPU default: fp32 weights
    twin = make_tiny_llama(len(tokenizer))
    twin.load_state_dict(model.state_dict())
    int8 = GradMem(twin, tokenizer, name="tiny-llama", decode_weights="int8")
    embeds, _, _ = fp32.build_inputs([{"role": "user", "content": "Where is the key?"}])
    int8.decoder.prepare()
    with torch.no_grad():
        quantized = int8.decoder._run(embeds[:, :1], DynamicCache(config=model.config))
        exact = fp32.decoder._run(embeds[:, :1], DynamicCache(config=model.config))
    torch.testing.assert_close(quantized, exact, rtol=0.1, atol=0.1)
    assert len(list(int8.decoder.decode(embeds, SamplingConfig(max_new_tokens=6)))) == 6
    with pytest.raises(ValueError, match="decode_weights"):
        GradMem(model, tokenizer, decode_weights="int4")


def test_prefix_cache_gives_the_reply_of_a_fresh_decode(tokenizer):
    _, fast = _engines(tokenizer)
    memory = fast.write("My sister lives in Tromsø.", steps=2)[0]
    chat = [{"role": "user", "content": "Hello, who are you?"}]
    greedy = SamplingConfig(max_new_tokens=10)
    for _ in range(3):  # each turn extends the last: memory, older turns and the last reply are a cached prefix
        embeds, _, _ = fast.build_inputs(chat, memory)
        reused = list(fast.decoder.decode(embeds, greedy, key="read"))
        taken = fast.decoder.last_reused
        fast.decoder.clear()
        assert list(fast.decoder.decode(embeds, greedy, key="read")) == reused
        assert fast.decoder.last_reused == 0
        chat += [{"role": "assistant", "content": tokenizer.decode(reused, skip_special_tokens=True)},
                 {"role": "user", "content": "And then?"}]
    assert taken > 16  # the memory and the first turns came from the cache
    # another phase never takes a cache made in this one
    embeds, _, _ = fast.build_inputs(chat, memory)
    list(fast.decoder.decode(embeds, greedy, key="plain"))
    assert fast.decoder.last_reused == 0


def test_shared_prefix():
    a = torch.arange(12.0).reshape(6, 2)
    b = a.clone()
    b[4] = -1
    assert shared_prefix(a, b) == 4
    assert shared_prefix(a, a[:3]) == 3
    assert shared_prefix(a[:0], a) == 0


def test_write_keeping_logits_equals_recomputing_them(tiny_gm):
    texts = ["The shed key is under the blue flowerpot.", "Ingrid's dog is called Pilot."]
    new = tiny_gm.write(texts, steps=3, batch_size=2)
    backbone = tiny_gm._write.get()
    assert backbone.keep_logits_elements > 0
    with mock.patch.object(backbone, "keep_logits_elements", 0):  # every chunk recomputed in backward
        old = tiny_gm.write(texts, steps=3, batch_size=2)
    for a, b in zip(new, old, strict=True):
        torch.testing.assert_close(a.vectors, b.vectors, rtol=1e-5, atol=1e-6)
        assert a.stats.token_accuracy == b.stats.token_accuracy
        assert a.stats.loss == pytest.approx(b.stats.loss, rel=1e-5)


def test_bf16_write_stays_close_to_fp32(tokenizer):
    gm = GradMem(make_tiny_llama(len(tokenizer)), tokenizer, name="tiny-llama", write_precision="bf16")
    text = "The shed key is under the blue flowerpot, and the wifi password is heron-4417."
    bf16 = gm.write(text, steps=2, optimizer="sgd", lr=0.1)[0]
    fp32 = GradMem(gm.model, tokenizer, name="tiny-llama", write_precision="fp32").write(
        text, steps=2, optimizer="sgd", lr=0.1)[0]
    assert not torch.equal(bf16.vectors, fp32.vectors)  # two precisions, not one path twice
    m0 = gm.m0(16)
    cosine = torch.nn.functional.cosine_similarity((bf16.vectors - m0).flatten(), (fp32.vectors - m0).flatten(), 0)
    assert bf16.vectors.dtype == torch.float32 and cosine > 0.99
    with pytest.raises(ValueError, match="write_precision"):
        GradMem(gm.model, tokenizer, write_precision="fp16")


@pytest.mark.parametrize(("machine", "flags", "native"), [
    ("x86_64", "fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni", True),
    ("x86_64", "fpu sse2 avx2 amx_bf16 amx_tile", True),
    ("x86_64", "fpu sse2 avx2 avx512f avx512bw", False),  # oneDNN would emulate bf16: slower than fp32
    ("aarch64", "fp asimd bf16 i8mm", True),
    ("aarch64", "fp asimd", False),
])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path, monkeypatch, machine, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\n{'flags' if machine == 'x86_64' else 'Features'}\t: {flags}\n\n")
    monkeypatch.setattr(write_model.platform, "machine", lambda: machine)
    assert write_model.cpu_multiplies_bf16.__wrapped__(str(cpuinfo)) is native
    assert write_model.cpu_multiplies_bf16.__wrapped__(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("native", [True, False])
def test_auto_write_precision_is_bf16_only_where_the_cpu_multiplies_it(tokenizer, monkeypatch, native):
    monkeypatch.setattr(engine_module, "cpu_multiplies_bf16", lambda: native)
    model = make_tiny_llama(len(tokenizer))
    gm = GradMem(model, tokenizer, name="tiny-llama")
    assert gm.write_precision == ("bf16" if native else "fp32")
    assert gm._write.get().model.dtype == (torch.bfloat16 if native else torch.float32)
    assert GradMem(model, tokenizer, write_precision="fp32")._write.get().model is model
    assert GradMem(model.to(torch.bfloat16), tokenizer).write_precision == "fp32"  # already the model's dtype


@pytest.mark.model
def test_default_model_fast_decoder_replies_the_same(default_model_dir):
    eager = GradMem.from_pretrained(fast_decode=False, device="cpu")
    fast = GradMem.from_pretrained(device="cpu", decode_weights="fp32")
    messages = [{"role": "user", "content": "Name three colours of the sea."}]
    memory = eager.write("My sister Ingrid works at the harbour office in Tromsø.")
    for mem in (None, memory):
        assert fast.generate(messages, mem, max_new_tokens=24) == eager.generate(messages, mem, max_new_tokens=24)
