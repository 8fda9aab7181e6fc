"""Meta-training mechanics on a tiny random Llama: the outer gradient, checkpoints and resume."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from gradmem_agent.adapter import ADAPTER_CONFIG
from gradmem_agent.backbone import Backbone
from gradmem_agent.training.episodes import flatten, sample_mix
from gradmem_agent.training.meta import collate, outer_loss
from gradmem_agent.training.train import Stage, TrainConfig, build_adapter, main, trainable

from .conftest import make_tiny_llama

TINY_CURRICULUM = json.dumps([{"start": 0, "inner_steps": 2, "chat_turns": [6, 8], "segment_tokens": 64,
                               "kv_pairs": [1, 3], "facts": [1, 2], "memory_only": 0.5}])


@pytest.fixture
def tiny_dir(tokenizer, tmp_path):
    path = tmp_path / "tiny-llama"
    make_tiny_llama(len(tokenizer), max_positions=2048).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def tiny_batch(tokenizer, seed: int = 3):
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    rng = random.Random(seed)
    samples = sample_mix(rng, 3, {"chat": 1.0, "kv": 1.0}, seed, "train", (6, 8), (1, 3), (1, 2))
    return collate(flatten(samples, count, 64, 2), tokenizer, "cpu")


def gradients(tokenizer, second_order) -> dict[str, torch.Tensor]:
    model = make_tiny_llama(len(tokenizer), max_positions=2048)
    model.set_attn_implementation("eager")  # SDPA kernels have no double backward
    config = TrainConfig(memory_tokens=4, lora_rank=2, curriculum=[Stage(0, 2, (6, 8), 64)])
    adapter = build_adapter(model, config, "tiny")
    params = trainable(adapter)
    for p in params:
        p.requires_grad_(True)
    loss, metrics = outer_loss(Backbone(model, adapter), tiny_batch(tokenizer), steps=2, lr=0.4,
                               second_order=second_order, recon_weight=0.1)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    assert metrics["segments"] > 0 and 0.0 <= metrics["answer_exact"] <= 1.0
    return {"m0": grads[0], "projection": grads[1], "lora": torch.cat([g.flatten() for g in grads[2:]])}


def test_outer_gradient_reaches_every_trainable_part(tokenizer):
    second = gradients(tokenizer, True)
    for name, grad in second.items():
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    first = gradients(tokenizer, False)
    # the second-order term through the inner steps changes M0's gradient
    assert not torch.allclose(first["m0"], second["m0"])
    last_one = gradients(tokenizer, 1)
    assert torch.isfinite(last_one["m0"]).all()


def test_train_saves_and_resumes(tiny_dir, tmp_path):
    out = tmp_path / "run"
    common = ["--out", str(out), "--model", str(tiny_dir), "--device", "cpu", "--samples-per-step", "2",
              "--lora-rank", "2", "--curriculum", TINY_CURRICULUM, "--warmup", "1", "--lr", "1e-2"]
    main([*common, "--max-steps", "2"])
    ckpt = out / "checkpoint"
    saved = json.loads((ckpt / ADAPTER_CONFIG).read_text())
    assert saved["training"]["steps_done"] == 2 and (ckpt / "state.pt").is_file()
    assert saved["segment_tokens"] == 64  # the curriculum's, so that READ cuts text as training did
    before = load_file(str(ckpt / "adapter.safetensors"))
    # resumes at step 2 for one bf16 step; a new process, as each time-boxed leg is (accelerate's state is global)
    leg = subprocess.run([sys.executable, "-m", "gradmem_agent.training.train", *common, "--max-steps", "3",
                          "--precision", "bf16"], capture_output=True, text=True, timeout=300)
    assert leg.returncode == 0, leg.stderr[-2000:]
    assert "resumed from step 2" in leg.stdout
    after = load_file(str(ckpt / "adapter.safetensors"))
    assert json.loads((ckpt / ADAPTER_CONFIG).read_text())["training"]["steps_done"] == 3
    assert set(before) == set(after)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert torch.load(ckpt / "state.pt", weights_only=False)["step"] == 3


def test_spike_steps_are_skipped():
    from gradmem_agent.training.train import Trainer

    trainer = Trainer.__new__(Trainer)  # the guard needs only its config and running norm
    trainer.config, trainer.norm_ema, trainer.skips_in_row = TrainConfig(spike_factor=8.0), None, 0
    assert not any(trainer._is_spike(n) for n in (1.0, 1.2, 0.9))
    assert trainer._is_spike(7288.0) and trainer._is_spike(float("nan")) and trainer._is_spike(float("inf"))
    assert 0.9 < trainer.norm_ema < 1.2  # spikes do not move the running norm
    assert not trainer._is_spike(5.0)
    # a lasting change of scale is accepted after ten skips in a row
    assert all(trainer._is_spike(100.0) for _ in range(10)) and not trainer._is_spike(100.0)
    assert trainer.norm_ema == 100.0 and not trainer._is_spike(120.0)


def test_skipped_tokens_are_hidden_from_the_write(tokenizer):
    model = make_tiny_llama(len(tokenizer), max_positions=2048)
    backbone = Backbone(model)
    memory = torch.randn(2, 4, model.config.hidden_size)
    ids = torch.tensor([[5, 6, 7, 8, 9], [11, 12, 13, 14, 15]])
    mask = torch.ones_like(ids)
    hidden_first = mask.clone()
    hidden_first[:, 0] = 0
    with torch.no_grad():
        skipped, _, count = backbone.reconstruction(memory, ids, mask, padded=False, skip_tokens=1)
        masked, _, _ = backbone.reconstruction(memory, ids, hidden_first)
        visible, _, _ = backbone.reconstruction(memory, ids, mask, padded=False)
    # token 0 is neither predicted nor attended to: the same as masking it out
    assert torch.allclose(skipped, masked) and count.tolist() == [4, 4]
    assert not torch.allclose(skipped, visible)


def test_normalised_inner_step_has_a_fixed_size(tokenizer):
    from gradmem_agent.write import WriteConfig, unrolled_write, write_batch

    model = make_tiny_llama(len(tokenizer), max_positions=2048)
    backbone = Backbone(model)
    m0 = torch.randn(4, model.config.hidden_size) * 0.02
    ids = torch.tensor([[5, 6, 7, 8, 9], [11, 12, 13, 14, 15]])
    memory, _ = unrolled_write(backbone, m0, ids, torch.ones_like(ids), steps=1, lr=0.1, optimizer="nsgd")
    rms = (memory - m0).pow(2).mean(dim=(1, 2)).sqrt()
    assert torch.allclose(rms, torch.full_like(rms, 0.1), rtol=1e-4)
    # inference takes the same step (the adapter records write_optimizer="nsgd")
    config = WriteConfig(memory_tokens=4, steps=1, lr=0.1, optimizer="nsgd", target_accuracy=None)
    (written, _), _ = write_batch(backbone, m0, ids, torch.ones_like(ids), config)
    assert torch.allclose(written, memory[0].detach(), atol=1e-5)
    with pytest.raises(ValueError, match="optimizer"):
        WriteConfig(optimizer="lbfgs")
    with pytest.raises(ValueError, match="optimizer"):
        unrolled_write(backbone, m0, ids, torch.ones_like(ids), steps=1, lr=0.1, optimizer="adam")


def test_reading_control_and_recall_term(tokenizer):
    model = make_tiny_llama(len(tokenizer), max_positions=2048)
    model.set_attn_implementation("eager")
    config = TrainConfig(memory_tokens=4, lora_rank=2, curriculum=[Stage(0, 1, (6, 8), 64)])
    adapter = build_adapter(model, config, "tiny")
    params = trainable(adapter)
    for p in params:
        p.requires_grad_(True)
    backbone, batch = Backbone(model, adapter), tiny_batch(tokenizer)
    plain, metrics = outer_loss(backbone, batch, steps=1, lr=0.1, second_order=True, skip_tokens=1,
                                optimizer="nsgd")
    assert "memory_exact_other" in metrics and metrics["recall_loss"] == 0.0
    with_recall, metrics = outer_loss(backbone, batch, steps=1, lr=0.1, second_order=True, skip_tokens=1,
                                      optimizer="nsgd", recall_weight=0.5)
    assert metrics["recall_loss"] > 0 and with_recall > plain
    (grad,) = torch.autograd.grad(with_recall - plain, [adapter.m0])
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0  # the recall term trains M0 through the WRITE


def test_engine_writes_as_the_adapter_was_trained(tokenizer, tmp_path):
    from gradmem_agent import GradMem
    from gradmem_agent.adapter import GradMemAdapter

    model = make_tiny_llama(len(tokenizer), max_positions=2048)
    config = TrainConfig(memory_tokens=4, lora_rank=0, inner_lr=0.1, inner_optimizer="nsgd", write_skip_tokens=1,
                         curriculum=[Stage(0, 2, (6, 8), 64)])
    build_adapter(model, config, "").save(tmp_path / "adapter")
    gm = GradMem(model, tokenizer, GradMemAdapter.load(tmp_path / "adapter", model))
    assert (gm.write_config.optimizer, gm.write_config.lr, gm.write_config.steps) == ("nsgd", 0.1, 2)
    assert gm.write_config.skip_tokens == 1
    (memory,) = gm.write("User: my cat is called Tom.")
    assert memory.stats.steps == 2 and memory.stats.tokens > 1


def test_a_fresh_run_starts_from_a_saved_adapter(tiny_dir, tmp_path):
    common = ["--model", str(tiny_dir), "--device", "cpu", "--samples-per-step", "2", "--curriculum", TINY_CURRICULUM,
              "--warmup", "1", "--lr", "1e-2", "--max-steps", "1", "--memory-tokens", "4"]
    main(["--out", str(tmp_path / "a"), "--lora-rank", "2", *common])
    source = tmp_path / "a" / "checkpoint"
    marked = load_file(str(source / "adapter.safetensors"))
    marked["m0"] += 1.0  # far from any fresh init, so the warm run's M0 shows where it started
    save_file(marked, str(source / "adapter.safetensors"))

    def leg(out: str, rank: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gradmem_agent.training.train", "--out", str(tmp_path / out),
                               "--lora-rank", rank, "--init-adapter", str(source), *common],
                              capture_output=True, text=True, timeout=300)

    warm = leg("b", "2")
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert f"initialised from {source}" in warm.stdout
    after = load_file(str(tmp_path / "b/checkpoint/adapter.safetensors"))
    assert (after["m0"] - marked["m0"]).abs().max() < 0.05  # one step of lr 1e-2 from the saved M0
    saved = json.loads((tmp_path / "b/checkpoint" / ADAPTER_CONFIG).read_text())["training"]
    assert saved["init_adapter"] == str(source) and saved["steps_done"] == 1
    assert "another WRITE" not in warm.stdout
    config = json.loads((source / ADAPTER_CONFIG).read_text())
    (source / ADAPTER_CONFIG).write_text(json.dumps({**config, "write_lr": 0.1}))
    rewritten = leg("d", "2")
    assert rewritten.returncode == 0 and "another WRITE (write_lr 0.1 -> 0.4)" in rewritten.stdout
    wrong = leg("c", "4")
    assert wrong.returncode != 0 and "does not fit this run" in wrong.stderr
    assert not (tmp_path / "c" / "checkpoint").exists()


def test_answers_are_trained_to_end_the_turn_whatever_the_tokenizer_calls_eos(tokenizer):
    import copy

    from gradmem_agent.layout import turn_markers

    assert turn_markers(tokenizer) == ("<|im_start|>", "<|im_end|>")
    odd = copy.deepcopy(tokenizer)
    odd.eos_token = "<|im_start|>"  # what transformers 5.17 reports for the default model's GGUF tokenizer
    samples = sample_mix(random.Random(0), 2, {"chat": 1.0}, 0, "train", (6, 8), (1, 2), (1, 2))
    episodes = flatten(samples, lambda t: len(odd(t)["input_ids"]), 64, 2)
    batch = collate(episodes, odd, "cpu")
    assert {ids[-1] for ids in batch.read_ids} == {tokenizer.convert_tokens_to_ids("<|im_end|>")}
    llama3 = copy.deepcopy(tokenizer)
    llama3.chat_template = ("{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
                            "{{ m.content }}<|eot_id|>{% endfor %}")
    assert turn_markers(llama3) == ("<|start_header_id|>", "<|eot_id|>")


def test_grow_memory_repeats_a_smaller_saved_m0(tiny_dir, tmp_path):
    common = ["--model", str(tiny_dir), "--device", "cpu", "--samples-per-step", "2", "--curriculum", TINY_CURRICULUM,
              "--warmup", "1", "--lr", "1e-6", "--max-steps", "1", "--lora-rank", "2"]
    main(["--out", str(tmp_path / "small"), "--memory-tokens", "2", *common])
    source = tmp_path / "small" / "checkpoint"
    small = load_file(str(source / "adapter.safetensors"))["m0"]
    main(["--out", str(tmp_path / "grown"), "--memory-tokens", "6", "--init-adapter", str(source), "--grow-memory",
          *common])
    grown = load_file(str(tmp_path / "grown/checkpoint/adapter.safetensors"))["m0"]
    assert grown.shape[0] == 6
    assert torch.allclose(grown, small.repeat(3, 1), atol=1e-4)  # one step of lr 1e-6 from the repeated M0
    with pytest.raises(ValueError, match="not a multiple"):
        main(["--out", str(tmp_path / "odd"), "--memory-tokens", "5", "--init-adapter", str(source),
              "--grow-memory", *common])
    with pytest.raises(ValueError, match="--grow-memory repeats"):
        main(["--out", str(tmp_path / "plain"), "--memory-tokens", "6", "--init-adapter", str(source), *common])


def test_mix_names_only_tasks_the_sampler_draws(tiny_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "run"), "--model", str(tiny_dir), "--mix", '{"chat": 0.5, "text": 0.5}'])
    assert "unknown task(s) ['text']" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_read_layout_is_what_the_conversation_memory_reads(tokenizer, tmp_path):
    """Training in the READ layout sees, for every question, the blocks, the recalled turns and the recent text
    that GradMemConversationMemory's read_context gives after the same chat is added in one call."""
    from gradmem_agent import GradMem, GradMemConversationMemory, MemoryPolicy
    from gradmem_agent.training.data import session_samples
    from gradmem_agent.training.episodes import Recaller, read_episodes

    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    sample = session_samples(1, split="train", seed=5, chats=(3, 4))[0]
    policy = MemoryPolicy(recent_tokens=160, segment_tokens=128, memory_tokens=4, steps=1, mode="inline",
                          read_blocks=2, recall_tokens=96)
    episodes = read_episodes(sample, count, policy, Recaller(), tokenizer)
    gm = GradMem(make_tiny_llama(len(tokenizer), max_positions=2048), tokenizer, name="tiny-llama")
    conv = GradMemConversationMemory("layout", gm, url=f"sqlite:///{tmp_path / 'c.db'}", policy=policy)
    conv.add_messages(sample.messages)
    blocks = conv.memory_blocks
    try:
        assert len(blocks) > 2 and len(episodes) == len(sample.qas)
        assert any(len(e.recent) > 2 for e in episodes)  # something was recalled
        for episode in episodes:
            ctx = conv.read_context(episode.question, reply_tokens=8)
            assert episode.messages() == ctx.messages
            assert len(episode.segments) == len(ctx.blocks) == 2
            assert episode.in_memory == all(t < ctx.recent[0].seq for t in episode.qa.fact_turns)
    finally:
        conv.close()


def test_a_read_layout_step_trains_on_sessions_documents_and_cloze(tiny_dir, tmp_path):
    from gradmem_agent.training.train import Trainer

    stage = Stage(0, 1, (8, 12), 64, memory_only=0.5, recent_tokens=[96], questions=2, read_layout=True,
                  recall_tokens=[0, 64], read_blocks=[2, None])
    config = TrainConfig(model=str(tiny_dir), memory_tokens=4, lora_rank=2, samples_per_step=3,
                         mix={"session": 1.0, "document": 1.0, "cloze": 1.0}, curriculum=[stage])
    trainer = Trainer(config, tmp_path / "run", device="cpu")
    rows = [trainer.train_step() for _ in range(2)]
    assert all(r["episodes"] > 0 and r["segments"] > 0 and math.isfinite(r["loss"]) for r in rows)


def test_question_cap_and_micro_batches_give_the_full_step_gradient(tiny_dir, tmp_path):
    """Stage.questions keeps at most that many questions a sample; accumulating over micro-batches of samples
    gives the gradient of one pass over all of them."""
    from gradmem_agent.training.train import Trainer

    stage = Stage(0, 1, (24, 32), 64, facts=(3, 4), memory_only=0.0, recent_tokens=[96], questions=2)
    grads = []
    for micro in (None, 1):
        config = TrainConfig(model=str(tiny_dir), memory_tokens=4, lora_rank=2, samples_per_step=3, mix={"chat": 1.0},
                             micro_samples=micro, curriculum=[stage])
        trainer = Trainer(config, tmp_path / f"run{micro}", device="cpu")
        row = trainer.train_step()
        assert row["episodes"] == 6 and row["micro_samples"] == (micro or 3)
        grads.append(torch.cat([p.grad.flatten() for p in trainer.params if p.grad is not None]))
    assert torch.allclose(grads[0], grads[1], rtol=1e-3, atol=1e-6)


def test_running_out_of_gpu_memory_halves_the_passes_for_a_while_then_tries_the_full_size(tiny_dir, tmp_path,
                                                                                         monkeypatch):
    from gradmem_agent.training import train as train_module
    from gradmem_agent.training.train import Trainer

    stage = Stage(0, 1, (24, 32), 64, facts=(3, 4), memory_only=0.0, recent_tokens=[96], questions=1)
    config = TrainConfig(model=str(tiny_dir), memory_tokens=4, lora_rank=2, samples_per_step=4, mix={"chat": 1.0},
                         micro_samples=4, curriculum=[stage])
    trainer = Trainer(config, tmp_path / "run", device="cpu")
    accumulate, sizes = trainer._accumulate, []

    def out_of_memory_once(chunks, stage):
        sizes.append(trainer.micro_samples)
        if len(sizes) == 1:
            raise torch.OutOfMemoryError("simulated")
        return accumulate(chunks, stage)

    trainer._accumulate = out_of_memory_once
    monkeypatch.setattr(train_module, "OOM_RETRY_STEPS", 3)
    rows = [trainer.train_step() for _ in range(train_module.OOM_RETRY_STEPS + 1)]
    assert sizes[:3] == [4, 2, 2] and rows[0]["micro_samples"] == 2
    assert rows[-2]["micro_samples"] == 2 and rows[-1]["micro_samples"] == 4
    assert all(r["data_seconds"] > 0 for r in rows)


def test_product_arms_read_the_conversation_as_the_product_does(tokenizer):
    from gradmem_agent import GradMem
    from gradmem_agent.training.data import document_samples, session_samples
    from gradmem_agent.training.product import ARMS, evaluate_product

    tiny_gm = GradMem(make_tiny_llama(len(tokenizer), max_positions=2048), tokenizer, name="tiny-llama")
    samples = session_samples(2, split="val", seed=7, chats=(3, 4))
    policy = {"recent_tokens": 160, "segment_tokens": 128, "memory_tokens": 4, "steps": 1, "read_blocks": 2}
    rows = evaluate_product(tiny_gm, samples, max_new_tokens=2, **policy)
    assert set(rows) == set(ARMS)
    total = rows["hybrid"]["total"]
    assert total > 0 and all(r["total"] == total for r in rows.values())
    assert rows["hybrid"]["mean_blocks"] > 2 and rows["hybrid"]["mean_blocks_read"] <= 2
    assert rows["recall"]["paired_with_hybrid"]["questions"] == total
    for row in rows["hybrid"]["predictions"]:
        assert row["blocks"] <= 2 and (row["blocks_after_fact"] is None or row["blocks_after_fact"] >= 0)
    docs = evaluate_product(tiny_gm, document_samples(1, split="val", seed=3), arms=("hybrid", "truncation"),
                            max_new_tokens=2, **policy)
    assert docs["hybrid"]["total"] == len(document_samples(1, split="val", seed=3)[0].qas)
    with pytest.raises(ValueError, match="unknown arm"):
        evaluate_product(tiny_gm, samples, arms=("hybrid", "kv"))


def test_two_processes_train_one_adapter_and_stop_together(tiny_dir, tmp_path):
    """DDP as on a several-GPU machine, here two CPU processes over gloo: they step together through the
    gradient all-reduce, save one checkpoint, resume it, and a time limit ends both (a process stopping a step
    before the other would leave it in the all-reduce until the timeout)."""
    out = tmp_path / "ddp"
    common = ["--out", str(out), "--model", str(tiny_dir), "--device", "cpu", "--samples-per-step", "2",
              "--lora-rank", "2", "--curriculum", TINY_CURRICULUM, "--warmup", "1", "--lr", "1e-2",
              "--memory-tokens", "4"]
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
              "-m", "gradmem_agent.training.train", *common]
    leg = subprocess.run([*launch, "--max-steps", "3"], capture_output=True, text=True, timeout=300)
    assert leg.returncode == 0, leg.stderr[-3000:]
    ckpt = out / "checkpoint"
    assert json.loads((ckpt / ADAPTER_CONFIG).read_text())["training"]["steps_done"] == 3
    # a leg of a few seconds: whichever process's clock runs out first stops both after the same step
    timed = subprocess.run([*launch, "--minutes", "0.05"], capture_output=True, text=True, timeout=300)
    assert timed.returncode == 0, timed.stderr[-3000:]
    assert "resumed from step 3" in timed.stdout
    assert torch.load(ckpt / "state.pt", weights_only=False)["step"] > 3


AVERAGE_CHECK = """
import sys
from pathlib import Path
import torch
from gradmem_agent.training.train import Stage, TrainConfig, Trainer
config = TrainConfig(model=sys.argv[1], memory_tokens=4, lora_rank=2, samples_per_step=1, mix={"chat": 1.0},
                     curriculum=[Stage(0, 1, (6, 8), 64)])
trainer = Trainer(config, Path(sys.argv[2]), device="cpu")
rank = trainer.acc.process_index
for i, p in enumerate(trainer.params):
    p.grad = None if (rank == 1 and i == 0) else torch.full_like(p, float(rank + 1 + i))
trainer._average_gradients()
for i, p in enumerate(trainer.params):
    want = (1 + i) / 2 if i == 0 else (1 + i + 2 + i) / 2
    assert torch.equal(p.grad, torch.full_like(p, want)), (rank, i, p.grad.flatten()[:3], want)
# One file per rank: the ranks share one stdout pipe, and unbuffered output can interleave their lines.
Path(sys.argv[3], f"averaged-{rank}").write_text(str(len(trainer.params)))
"""


def test_two_processes_average_their_gradients_and_count_a_missing_one_as_zero(tiny_dir, tmp_path):
    script = tmp_path / "average_check.py"
    script.write_text(AVERAGE_CHECK)
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          str(script), str(tiny_dir), str(tmp_path / "out"), str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.glob("averaged-*")) == ["averaged-0", "averaged-1"], run.stdout[-3000:]
