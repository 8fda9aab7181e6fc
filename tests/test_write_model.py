"""The WRITE's own model: LoRA merged into a private copy, in the WRITE's dtype; CUDA graphs of its passes."""

from __future__ import annotations

import pytest
import torch

from gradmem_agent import GradMem
from gradmem_agent.read import SamplingConfig, generate_ids
from gradmem_agent.write import write_batch
from gradmem_agent.write_graphs import bucket
from gradmem_agent.write_model import merged_model
from tests.conftest import make_tiny_llama
from tests.test_engine import TEXT_A, lora_adapter

TEXTS = [TEXT_A, "Pilot the dog sleeps by the stove; the spare key is under the blue flowerpot.", "Wifi: heron-4417."]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _switched_write(gm: GradMem, texts: list[str]) -> list[torch.Tensor]:
    """The WRITE as it ran before the merged copy: the shared model with LoRA switched on."""
    config = gm.write_config
    ids, mask = gm._pad(gm._encode_for_write(texts, config.memory_tokens))
    with gm.phase("write"):
        return [v for v, _ in write_batch(gm.backbone, gm.m0(config.memory_tokens), ids, mask, config)]


@pytest.mark.parametrize("phases", ["write", "both"])
def test_merged_write_equals_the_lora_switched_write(tokenizer, phases):
    model = make_tiny_llama(len(tokenizer))
    gm = GradMem(model, tokenizer, lora_adapter(model, tokenizer, phases), write_precision="fp32")
    merged = gm._write.get().model
    assert merged is not model and not any("lora_" in n for n, _ in merged.named_parameters())
    blocks = gm.write(TEXTS)
    for block, old in zip(blocks, _switched_write(gm, TEXTS), strict=True):
        torch.testing.assert_close(block.vectors, old, rtol=1e-4, atol=1e-5)
    with gm.phase("read"):  # merging left the shared model (and READ) as it was
        assert any(not layer.disable_adapters for layer in gm.adapter._lora_layers()) == (phases == "both")


def test_no_adapter_writes_on_the_model_itself(tiny_gm):
    assert tiny_gm._write.get().model is tiny_gm.model


def test_a_changed_adapter_is_merged_again(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    gm = GradMem(model, tokenizer, lora_adapter(model, tokenizer, "write"), write_precision="fp32")
    first, first_id = gm._write.get(), gm.adapter_id
    assert gm._write.get() is first
    with torch.no_grad():
        next(p for _, p in gm.adapter.lora_parameters()).add_(0.25)  # an optimiser step, in place
    assert gm._write.get() is not first and gm.adapter_id != first_id
    torch.testing.assert_close(gm.write(TEXT_A)[0].vectors, _switched_write(gm, [TEXT_A])[0], rtol=1e-4, atol=1e-5)


def test_bf16_write_keeps_a_bf16_copy_and_stays_close(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    adapter = lora_adapter(model, tokenizer, "write")
    gm32 = GradMem(model, tokenizer, adapter, write_precision="fp32")
    gm16 = GradMem(model, tokenizer, adapter, write_precision="bf16")
    assert gm16._write.get().model.dtype == torch.bfloat16 and model.dtype == torch.float32
    for a, b in zip(gm32.write(TEXTS), gm16.write(TEXTS), strict=True):
        assert a.vectors.dtype == b.vectors.dtype == torch.float32
        assert torch.nn.functional.cosine_similarity(a.vectors.flatten(), b.vectors.flatten(), dim=0) > 0.99


def test_merging_keeps_a_tied_head_tied(tokenizer):
    model = make_tiny_llama(len(tokenizer))
    model.lm_head.weight = model.model.embed_tokens.weight
    merged = merged_model(model, None, torch.bfloat16)
    assert merged.lm_head.weight is merged.model.embed_tokens.weight


def test_graph_buckets():
    assert bucket(1, 1) == (1, 64) and bucket(3, 64) == (4, 64) and bucket(5, 65) == (8, 128)
    assert bucket(32, 256) == (32, 256)


def test_graphs_need_cuda(tokenizer):
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    with pytest.raises(ValueError, match="CUDA"):
        GradMem(make_tiny_llama(len(tokenizer)), tokenizer, write_graphs=True)


@needs_cuda
@pytest.mark.parametrize("steps", [1, 3])
def test_graphed_write_equals_eager_on_a_gpu(tokenizer, steps):
    model = make_tiny_llama(len(tokenizer)).cuda()
    adapter = lora_adapter(model, tokenizer, "both")
    eager = GradMem(model, tokenizer, adapter, write_graphs=False)
    graphed = GradMem(model, tokenizer, adapter)
    assert graphed._graphs is not None and graphed._graphs.failure is None
    texts = [*TEXTS, TEXT_A * 3]
    for _ in range(2):  # the second call replays the graphs captured by the first
        for a, b in zip(eager.write(texts, steps=steps), graphed.write(texts, steps=steps), strict=True):
            torch.testing.assert_close(a.vectors, b.vectors, rtol=1e-3, atol=1e-4)
            assert a.stats.token_accuracy == pytest.approx(b.stats.token_accuracy, abs=1e-6)
            assert a.stats.loss == pytest.approx(b.stats.loss, rel=1e-3)
    captures = graphed._graphs.captures
    graphed.write(texts[:3], steps=steps)  # 3 rows pad to the 4-row bucket: nothing new to capture
    assert graphed._graphs.captures == captures and graphed._graphs.failure is None


@pytest.mark.parametrize("phases", ["write", "both"])
def test_reads_decode_without_lora_layers_and_reply_as_before(tokenizer, phases):
    model = make_tiny_llama(len(tokenizer))
    adapter = lora_adapter(model, tokenizer, phases)
    fast = GradMem(model, tokenizer, adapter, fast_decode=True, write_precision="fp32")
    eager = GradMem(model, tokenizer, adapter, fast_decode=False, write_precision="fp32")
    memory = fast.write(TEXT_A)[0]
    for phase in ("read", "plain"):
        used = fast.read_backbone(phase).model
        assert not any("lora_" in n for n, _ in used.named_parameters())
        assert (used is fast._write.get().model) == (phase == "read" and phases == "both")
    plain = fast.read_backbone("plain").model
    assert plain.model.embed_tokens.weight is model.model.embed_tokens.weight  # a view: no weight copied
    messages = [{"role": "user", "content": "Where is the key?"}]
    for mem in (None, memory):
        embeds, attention, _ = eager.build_inputs(messages, mem)
        phase = "read" if mem is not None else "plain"
        with eager.phase(phase):  # the switched shared model, as READ ran before
            switched = generate_ids(eager.backbone, embeds, attention, SamplingConfig(max_new_tokens=10),
                                    min_new_tokens=10)
        got = fast._reply_ids(embeds, attention, SamplingConfig(max_new_tokens=10), phase)
        assert got and got == switched[:len(got)]
        assert eager.generate(messages, mem, max_new_tokens=10) == fast.generate(messages, mem, max_new_tokens=10)
