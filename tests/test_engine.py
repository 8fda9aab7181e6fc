"""Mechanics of WRITE and READ on a tiny random-weight Llama (fast)."""

from __future__ import annotations

import pytest
import torch

from gradmem_agent import AdapterConfig, AdapterMismatchError, GradMem, GradMemAdapter, MemoryBlock
from gradmem_agent.losses import token_cross_entropy
from gradmem_agent.write import (
    ACCELERATOR_WRITE_BATCH,
    CPU_WRITE_BATCH,
    WriteConfig,
    unrolled_write,
    write_batch_size,
)
from tests.conftest import make_tiny_llama

TEXT_A = "The blue lighthouse on Vesta Point keeps a logbook of every ship since 1911."
TEXT_B = (
    "Remember: the spare key is under the third flowerpot, the Wi-Fi password is marmalade-42, "
    "and Oskar feeds the fish."
)


def weights(gm: GradMem) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in gm.model.state_dict().items()}


def test_write_shapes_and_stats(tiny_gm):
    mems = tiny_gm.write([TEXT_A, TEXT_B], memory_tokens=4, steps=3, lr=0.1)
    assert len(mems) == 2
    for mem, text in zip(mems, [TEXT_A, TEXT_B], strict=True):
        assert isinstance(mem, MemoryBlock) and mem.first_seq is None
        assert mem.vectors.shape == (4, 32) and mem.vectors.dtype == torch.float32
        assert mem.stats.tokens == tiny_gm.count_tokens(text)
        assert mem.stats.steps == 3 and len(mem.stats.history) == 4
        assert 0.0 <= mem.stats.token_accuracy <= 1.0 and mem.stats.seconds > 0
        assert mem.model_fingerprint == tiny_gm.fingerprint


def test_write_leaves_weights_frozen(tiny_gm):
    before = weights(tiny_gm)
    tiny_gm.write([TEXT_A, TEXT_B], memory_tokens=4, steps=5, lr=0.3)
    after = weights(tiny_gm)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None and not p.requires_grad for p in tiny_gm.model.parameters())


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_sample_is_independent_of_batch_and_padding(tiny_gm, optimizer):
    kwargs = dict(memory_tokens=4, steps=6, lr=0.2, optimizer=optimizer, target_accuracy=None)
    alone = tiny_gm.write([TEXT_A], **kwargs)[0]
    # TEXT_B is longer, so TEXT_A is right-padded in the batch.
    batched = tiny_gm.write([TEXT_B, TEXT_A, TEXT_B], **kwargs)
    assert torch.allclose(alone.vectors, batched[1].vectors, atol=1e-5)
    assert alone.stats.loss == pytest.approx(batched[1].stats.loss, rel=1e-4)
    assert torch.allclose(batched[0].vectors, batched[2].vectors, atol=1e-6)


def test_write_batch_follows_the_device_unless_given(tiny_gm):
    auto = WriteConfig()
    assert write_batch_size(auto, torch.device("cpu")) == CPU_WRITE_BATCH < ACCELERATOR_WRITE_BATCH
    assert write_batch_size(auto, torch.device("cuda")) == ACCELERATOR_WRITE_BATCH
    assert write_batch_size(WriteConfig(batch_size=3), torch.device("cuda")) == 3
    with pytest.raises(ValueError, match="batch_size"):
        WriteConfig(batch_size=0)
    kwargs = dict(memory_tokens=4, steps=2, lr=0.2, optimizer="sgd", target_accuracy=None)
    texts = [TEXT_A, TEXT_B] * 3  # on the CPU: a pass of 4, then one of 2
    passes = tiny_gm.write(texts, **kwargs)
    one_pass = tiny_gm.write(texts, batch_size=len(texts), **kwargs)
    assert all(torch.allclose(a.vectors, b.vectors, atol=1e-5) for a, b in zip(passes, one_pass, strict=True))


def test_padding_tokens_do_not_change_the_loss(tiny_gm):
    ids = torch.tensor([tiny_gm.tokenizer(TEXT_A, add_special_tokens=False)["input_ids"]])
    mask = torch.ones_like(ids)
    memory = torch.randn(1, 4, 32)
    base, _, _ = tiny_gm.backbone.reconstruction(memory, ids, mask)
    padded_ids = torch.cat([ids, torch.randint(0, 100, (1, 7))], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(1, 7, dtype=torch.long)], dim=1)
    padded, _, count = tiny_gm.backbone.reconstruction(memory, padded_ids, padded_mask)
    assert int(count) == ids.shape[1]
    assert torch.allclose(base, padded, atol=1e-5)


def test_early_stop_per_sample(tiny_gm):
    """Each sample stops at the first step its own accuracy reaches the target: neither when another sample
    does, nor later."""
    full = tiny_gm.write([TEXT_A, TEXT_B], memory_tokens=4, steps=6, lr=0.1, target_accuracy=None)
    curves = [[h["token_accuracy"] for h in m.stats.history] for m in full]
    target = 0.09  # the tiny model's A reaches it after a few steps, B never within 6
    expected = [next((step for step, acc in enumerate(curve) if acc >= target), None) for curve in curves]
    assert expected[0] is not None and expected[0] > 0 and expected[1] is None, curves
    a, b = tiny_gm.write([TEXT_A, TEXT_B], memory_tokens=4, steps=6, lr=0.1, target_accuracy=target)
    assert (a.stats.stopped, a.stats.steps) == ("target", expected[0])
    assert [h["token_accuracy"] for h in a.stats.history] == curves[0][: expected[0] + 1]
    assert (b.stats.stopped, b.stats.steps) == ("steps", 6)
    assert [h["token_accuracy"] for h in b.stats.history] == curves[1]
    first = tiny_gm.write([TEXT_A, TEXT_B], memory_tokens=4, steps=6, lr=0.1, target_accuracy=0.0)
    assert all(m.stats.stopped == "target" and m.stats.steps == 0 for m in first)


def test_nonfinite_loss_stops_that_sample_and_keeps_its_best_memory(tiny_gm, monkeypatch):
    # Fault injection: from the third forward on, the first sample's loss is NaN (as in an fp16 overflow).
    real = tiny_gm._write.get().reconstruction
    calls = {"n": 0}

    def flaky(memory, ids, mask, padded=None, **kwargs):
        loss, correct, count = real(memory, ids, mask, padded, **kwargs)
        calls["n"] += 1
        if calls["n"] >= 3 and memory.shape[0] == 2:
            loss = torch.cat([loss[:1] * float("nan"), loss[1:]])
        return loss, correct, count

    monkeypatch.setattr(tiny_gm._write.get(), "reconstruction", flaky)
    bad, good = tiny_gm.write([TEXT_A, TEXT_B], memory_tokens=4, steps=6, lr=0.1, target_accuracy=None)
    assert bad.stats.stopped == "nonfinite" and bad.stats.steps == 2
    assert torch.isfinite(bad.vectors).all() and bad.stats.loss == min(h["loss"] for h in bad.stats.history[:2])
    assert good.stats.stopped == "steps" and good.stats.steps == 6


@pytest.mark.parametrize(
    ("texts", "error", "match"),
    [
        ([""], ValueError, "empty"),
        (["   \n"], ValueError, "empty"),
        ([123], TypeError, "must be str"),
        ([], ValueError, "at least one"),
        (["word " * 400], ValueError, "at most 252"),
    ],
)
def test_bad_write_input(tiny_gm, texts, error, match):
    with pytest.raises(error, match=match):
        tiny_gm.write(texts, memory_tokens=4, steps=1)


def test_bad_write_settings(tiny_gm):
    with pytest.raises(ValueError, match="optimizer"):
        tiny_gm.write([TEXT_A], optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr"):
        tiny_gm.write([TEXT_A], lr=-1.0)


def test_generate_stream_and_reconstruct(tiny_gm):
    mem = tiny_gm.write([TEXT_A], memory_tokens=4, steps=2)[0]
    messages = [{"role": "user", "content": "Where is the logbook?"}]
    text = tiny_gm.generate(messages, memory=[mem, mem], max_new_tokens=8)
    streamed = "".join(tiny_gm.stream(messages, memory=[mem, mem], max_new_tokens=8))
    assert isinstance(text, str) and text == streamed.strip()
    assert isinstance(tiny_gm.reconstruct(mem, max_new_tokens=5), str)
    embeds, attention, n_prompt = tiny_gm.build_inputs(messages, [mem, mem])
    assert embeds.shape[1] == 8 + n_prompt and attention.sum() == embeds.shape[1]


def test_replies_end_at_a_turn_marker(tiny_gm):
    """A reply stops where the model closes its turn or opens a new one (a reader trained on a wrong end token
    answered "Saturday<|im_start|>user\nI'm a doctor.")."""
    tok = tiny_gm.tokenizer
    word, start = tok("Saturday", add_special_tokens=False)["input_ids"], tok.convert_tokens_to_ids("<|im_start|>")
    script = iter([*word, start] + [word[0]] * 20)

    def force_next(_module, _inputs, logits):
        forced = torch.full_like(logits[:, -1:], -1e4)
        forced[..., next(script)] = 1e4
        return torch.cat([logits[:, :-1], forced], dim=1)

    handle = tiny_gm.model.get_output_embeddings().register_forward_hook(force_next)
    try:
        assert tiny_gm.generate([{"role": "user", "content": "Which day?"}], max_new_tokens=12) == "Saturday"
    finally:
        handle.remove()
    assert set(tiny_gm.stop_ids) >= {start, tok.convert_tokens_to_ids("<|im_end|>")}


def test_read_rejects_bad_messages(tiny_gm):
    with pytest.raises(ValueError, match="unknown role"):
        tiny_gm.generate([{"role": "wizard", "content": "hi"}])
    with pytest.raises(ValueError, match="empty"):
        tiny_gm.generate([])
    with pytest.raises(ValueError, match="hidden size"):
        tiny_gm.generate([{"role": "user", "content": "hi"}], memory=torch.zeros(4, 7))


def test_chunked_loss_matches_one_chunk():
    torch.manual_seed(0)
    hidden = torch.randn(3, 17, 8, requires_grad=True)
    weight = torch.randn(50, 8)
    labels = torch.randint(0, 50, (3, 17))
    mask = torch.rand(3, 17) > 0.2
    full = token_cross_entropy(hidden, weight, labels, mask, chunk_elements=10**9)
    chunked = token_cross_entropy(hidden, weight, labels, mask, chunk_elements=3 * 50 * 4)
    assert torch.allclose(full[0], chunked[0], atol=1e-6) and torch.equal(full[1], chunked[1])
    (g_full,) = torch.autograd.grad(full[0].sum(), hidden)
    (g_chunk,) = torch.autograd.grad(chunked[0].sum(), hidden)
    assert torch.allclose(g_full, g_chunk, atol=1e-6)


def test_sgd_write_matches_unrolled_write(tiny_gm):
    mem = tiny_gm.write([TEXT_A], memory_tokens=4, steps=3, lr=0.05, optimizer="sgd", target_accuracy=None)[0]
    ids = torch.tensor([tiny_gm.tokenizer(TEXT_A, add_special_tokens=False)["input_ids"]])
    final, _ = unrolled_write(tiny_gm.backbone, tiny_gm.m0(4), ids, torch.ones_like(ids), steps=3, lr=0.05,
                              second_order=False)
    with torch.no_grad():
        final_loss, _, _ = tiny_gm.backbone.reconstruction(final.detach(), ids, torch.ones_like(ids))
    assert float(final_loss) == pytest.approx(mem.stats.history[-1]["loss"], rel=1e-5)


def test_second_order_reaches_m0_through_the_inner_loop(tiny_gm):
    tiny_gm.model.set_attn_implementation("eager")  # SDPA kernels have no double backward
    ids = torch.tensor([tiny_gm.tokenizer(TEXT_A, add_special_tokens=False)["input_ids"]])
    mask = torch.ones_like(ids)
    grads = {}
    for order in (True, False):
        m0 = tiny_gm.m0(4).clone().requires_grad_(True)
        final, _ = unrolled_write(tiny_gm.backbone, m0, ids, mask, steps=2, lr=0.5, second_order=order)
        (grads[order],) = torch.autograd.grad(final.pow(2).sum(), m0)
    assert torch.isfinite(grads[True]).all()
    assert not torch.allclose(grads[True], grads[False])


def lora_adapter(model, tokenizer, phases: str) -> GradMemAdapter:
    """An adapter with non-zero LoRA (q, v) attached to `model`."""
    config = AdapterConfig(hidden_size=32, memory_tokens=4, model_fingerprint=GradMem(model, tokenizer).fingerprint,
                           lora_rank=2, lora_targets=["q_proj", "v_proj"], lora_phases=phases)
    adapter = GradMemAdapter(config, m0=torch.randn(4, 32))
    adapter.attach_lora(model)
    with torch.no_grad():
        for _, p in adapter.lora_parameters():
            p.add_(0.5)
    return adapter


def test_adapter_roundtrip_and_lora_phases(tokenizer, tmp_path):
    model = make_tiny_llama(len(tokenizer))
    adapter = lora_adapter(model, tokenizer, "write")
    with torch.no_grad():
        adapter.projection.weight.mul_(0.9)
    adapter.save(tmp_path / "ad")

    fresh = make_tiny_llama(len(tokenizer))
    loaded = GradMemAdapter.load(tmp_path / "ad", fresh)
    assert torch.equal(loaded.m0, adapter.m0) and loaded.adapter_id == adapter.adapter_id
    gm = GradMem(fresh, tokenizer, loaded)
    assert gm.write_config.steps == 3 and gm.write_config.optimizer == "sgd"
    mem = gm.write([TEXT_A])[0]
    assert mem.adapter_id == loaded.adapter_id and mem.vectors.shape == (4, 32)
    with pytest.raises(ValueError, match="trained for 4 memory tokens"):
        gm.write([TEXT_A], memory_tokens=8)

    ids = torch.tensor([[5, 6, 7]])
    plain = make_tiny_llama(len(tokenizer))
    with torch.no_grad():
        base = plain(ids).logits
        with loaded.phase("read"):
            read_logits = fresh(ids).logits
        with loaded.phase("write"):
            write_logits = fresh(ids).logits
    assert torch.allclose(base, read_logits, atol=1e-5)  # READ sees the untouched base model
    assert not torch.allclose(base, write_logits, atol=1e-3)


def test_a_reply_without_memory_goes_through_the_base_model(tokenizer):
    """A reader trained in both phases changes answers only where memory is read: with none in the prompt
    (a new conversation, nothing compressed yet) the reply is the base model's own."""
    from gradmem_agent.training.evaluate import answer_batch

    model = make_tiny_llama(len(tokenizer))
    gm = GradMem(model, tokenizer, lora_adapter(model, tokenizer, "both"))
    base = GradMem(make_tiny_llama(len(tokenizer)), tokenizer)
    messages = [{"role": "user", "content": "Where is the logbook?"}]
    ids = torch.tensor([tokenizer("Where is the logbook?")["input_ids"]])
    with torch.no_grad():
        base_logits = base.model(ids).logits
        with gm.read_phase(0):
            plain_logits = model(ids).logits
        with gm.read_phase(4):
            reader_logits = model(ids).logits
    assert torch.allclose(base_logits, plain_logits, atol=1e-5)
    assert not torch.allclose(base_logits, reader_logits, atol=1e-3)
    assert gm.generate(messages, max_new_tokens=6) == base.generate(messages, max_new_tokens=6)
    assert "".join(gm.stream(messages, max_new_tokens=6)).strip() == base.generate(messages, max_new_tokens=6)
    mem = gm.write([TEXT_A])[0]
    items = [(None, messages), (mem.vectors, messages)]
    plain, read = answer_batch(gm, items, max_new_tokens=6)
    assert plain == base.generate(messages, max_new_tokens=6)
    assert read == gm.generate(messages, memory=mem, max_new_tokens=6)
    assert answer_batch(gm, items[:1], max_new_tokens=6, force_reader=True)[0] != plain  # the LoRA kept on
    assert answer_batch(gm, items, max_new_tokens=6, through_decoder=True) == [plain, read]  # the engine's decoder
    with pytest.raises(ValueError, match="force_reader"):
        answer_batch(gm, items, max_new_tokens=6, force_reader=True, through_decoder=True)
    with pytest.raises(ValueError, match="phase must be"), gm.phase("reading"):
        pass


def test_adapter_for_another_model_is_refused(tokenizer, tmp_path):
    config = AdapterConfig(hidden_size=32, memory_tokens=4, model_fingerprint="other-model-123")
    with pytest.raises(AdapterMismatchError, match="trained for model other-model-123"):
        GradMem(make_tiny_llama(len(tokenizer)), tokenizer, GradMemAdapter(config))


def test_a_shared_write_queue_writes_two_callers_in_one_pass(tokenizer):
    """Texts that two conversations want written at once share one WRITE; each caller gets its own blocks,
    the same as a WRITE of its text alone; a caller whose progress callback fails (a lost lease) gets that
    error and the other its blocks."""
    import threading
    from dataclasses import replace

    from gradmem_agent.write_queue import WriteQueue

    gm = GradMem(make_tiny_llama(len(tokenizer)), tokenizer, name="tiny-llama", write_precision="fp32")
    gm.write_config = replace(gm.write_config, batch_size=2, target_accuracy=None)
    queue = WriteQueue(gm, max_wait_s=30)  # the second caller, not the clock, completes the pass
    results: dict = {}

    def lost_lease(done: int, total: int) -> None:
        raise RuntimeError("lost the lease")

    def call(name: str, text: str, progress=None) -> None:
        try:
            results[name] = queue.write([text], memory_tokens=4, steps=2, lr=0.1, progress=progress)
        except RuntimeError as exc:
            results[name] = exc

    threads = [threading.Thread(target=call, args=("a", TEXT_A)), threading.Thread(target=call, args=("b", TEXT_B))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert queue.passes == 1
    for name, text in (("a", TEXT_A), ("b", TEXT_B)):
        (alone,) = gm.write([text], memory_tokens=4, steps=2, lr=0.1, target_accuracy=None)
        assert torch.allclose(results[name][0].vectors, alone.vectors, atol=1e-4)
    threads = [threading.Thread(target=call, args=("a", TEXT_A, lost_lease)),
               threading.Thread(target=call, args=("b", TEXT_B))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert queue.passes == 2 and isinstance(results["a"], RuntimeError) and len(results["b"]) == 1
