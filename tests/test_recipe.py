"""Training recipes: the shipped recipe matches the shipped adapter; legs run in order, skip and resume."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch
from safetensors.torch import load_file

from gradmem_agent.adapter import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from gradmem_agent.engine import SHIPPED_ADAPTERS
from gradmem_agent.training.recipe import RecipeError, load_recipe, parse_recipe, recipe_names, run_recipe, steps_done
from gradmem_agent.training.toy import ToyConfig
from gradmem_agent.training.train import Stage, TrainConfig

from .test_training import tiny_dir  # noqa: F401  (fixture)

STAGE = {"start": 0, "inner_steps": 1, "chat_turns": [6, 8], "segment_tokens": 64, "kv_pairs": [1, 3],
         "facts": [1, 2], "memory_only": 0.5}


def test_the_shipped_recipe_reaches_the_shipped_adapters_training():
    assert "smollm2-135m" in recipe_names()
    recipe = load_recipe("smollm2-135m")
    assert recipe.legs[0].is_toy and all(isinstance(leg.config, TrainConfig) for leg in recipe.legs[1:])
    last = recipe.leg(recipe.shipped)
    shipped = json.loads((SHIPPED_ADAPTERS / "SmolLM2-135M-Instruct" / ADAPTER_CONFIG).read_text())["training"]
    mine = json.loads(json.dumps(asdict(last.config)))
    # Stage fields added since the adapter was trained hold their defaults (which train as before).
    defaults = json.loads(json.dumps(asdict(Stage(0, 1, (1, 1), 8))))
    for stage, recorded in zip(mine["curriculum"], shipped["curriculum"], strict=True):
        for key in set(stage) - set(recorded):
            assert stage.pop(key) == defaults[key], key
    overlap = set(mine) & set(shipped) - {"max_steps", "init_adapter"}  # what the leg's steps and init set
    assert overlap >= {"lr", "seed", "mix", "curriculum", "samples_per_step", "inner_lr", "precision"}
    assert {k: mine[k] for k in overlap} == {k: shipped[k] for k in overlap}
    assert last.steps == shipped["steps_done"] and last.processes == 1
    assert all(leg.init.kind != "fresh" for leg in recipe.legs[1:])  # one lineage from the toy reader on


def recipe_of(tiny, *legs: dict) -> dict:
    settings = {"model": str(tiny), "memory_tokens": 4, "lora_rank": 2, "samples_per_step": 2, "lr": 1e-2,
                "warmup": 1, "mix": {"chat": 1.0}, "curriculum": [STAGE]}
    return {"name": "tiny", "legs": [{**leg, "train": {**settings, **leg.get("train", {})}} for leg in legs]}


@pytest.mark.parametrize(("legs", "message"), [
    ([{"name": "a", "steps": 1}, {"name": "a", "steps": 1}], "two legs are called a"),
    ([{"name": "a", "steps": 1, "init": {"adapter": "b"}}, {"name": "b", "steps": 1}], "not an earlier leg"),
    ([{"name": "a", "steps": 2}, {"name": "b", "steps": 2, "init": {"resume": "a"}}], "stopped before step 2"),
    ([{"name": "a", "steps": 1, "init": {"soup": ["a"]}}], "names 2 leg"),
    ([{"name": "a", "steps": 1, "init": {"adapter": "x", "weight": 0.3}}], "one of adapter"),
    ([{"name": "a", "steps": 1, "train": {"max_steps": 5}}], "come from the leg's steps and init"),
    ([{"name": "a", "steps": 1, "train": {"mix": {"text": 1.0}}}], "unknown task"),
    ([{"name": "a", "steps": 1, "train": {"grow_memory": True}}], "needs an 'adapter' or 'soup' init"),
    ([{"name": "a", "steps": 1, "train": {"lora_rnak": 2}}], "lora_rnak"),
    ([{"name": "../a", "steps": 1}], "names a folder"),
    ([{"name": "a", "steps": 0}], "at least 1"),
])
def test_a_recipe_that_cannot_run_is_refused_when_read(legs, message, tmp_path):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(recipe_of(tmp_path, *legs))


def test_a_toy_leg_starts_fresh_in_one_process_and_unknown_recipes_are_named():
    toy = {"name": "toy", "steps": 1, "toy": {"seeds": [0]}, "processes": 2}
    with pytest.raises(RecipeError, match="starts fresh, in one process"):
        parse_recipe({"name": "t", "legs": [toy]})
    with pytest.raises(RecipeError, match="seeds is empty"):
        parse_recipe({"name": "t", "legs": [{"name": "toy", "steps": 1, "toy": {"seeds": []}}]})
    with pytest.raises(RecipeError, match="no recipe 'nope'; recipes: smollm2-135m"):
        load_recipe("nope")


def test_legs_run_in_order_skip_when_done_and_resume(tiny_dir, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    two = recipe_of(tiny_dir, {"name": "first", "steps": 2}, {"name": "second", "steps": 2,
                                                              "init": {"adapter": "first"}})
    with pytest.raises(RecipeError, match="starts from leg first, which has not reached its 2 steps"):
        run_recipe(parse_recipe(two), out, leg="second", device="cpu")
    assert run_recipe(parse_recipe(two), out, device="cpu")
    first, second = out / "first" / "checkpoint", out / "second" / "checkpoint"
    assert steps_done(out / "first") == 2 and steps_done(out / "second") == 2
    record = json.loads((second / ADAPTER_CONFIG).read_text())["training"]
    assert record["init_adapter"] == str(first) and record["max_steps"] == 2
    before = {p: p.read_bytes() for p in (first / ADAPTER_WEIGHTS, second / ADAPTER_WEIGHTS)}

    # a recipe whose last leg goes further: the first leg is skipped untouched, the second resumes at step 2
    two["legs"][1]["steps"] = 3
    assert run_recipe(parse_recipe(two), out, device="cpu")
    assert (first / ADAPTER_WEIGHTS).read_bytes() == before[first / ADAPTER_WEIGHTS]
    assert steps_done(out / "second") == 3
    assert torch.load(second / "state.pt", weights_only=False)["step"] == 3
    assert (second / ADAPTER_WEIGHTS).read_bytes() != before[second / ADAPTER_WEIGHTS]

    # no time left: nothing trains, and the call says it did not finish
    two["legs"][1]["steps"] = 4
    assert not run_recipe(parse_recipe(two), out, minutes=0, device="cpu")
    assert steps_done(out / "second") == 3

    # legs after the shipped one are candidates: the whole recipe stops at the shipped leg
    two["shipped"] = "first"
    candidate = {**two["legs"][1], "name": "candidate", "steps": 1, "processes": 8}
    two["legs"].append(candidate)
    assert run_recipe(parse_recipe(two), out, device="cpu")
    assert not (out / "candidate").exists()
    with pytest.raises(RecipeError, match="runs as 8 process"):
        run_recipe(parse_recipe(two), out, leg="candidate", device="cpu")


def test_a_soup_and_a_resumed_leg(tiny_dir, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    recipe = parse_recipe(recipe_of(
        tiny_dir, {"name": "a", "steps": 1}, {"name": "b", "steps": 1, "train": {"seed": 7}},
        {"name": "ab", "steps": 1, "init": {"soup": ["a", "b"], "weight": 0.25}},
        {"name": "ab-on", "steps": 2, "init": {"resume": "ab"}, "train": {"lr": 1e-6}}))
    assert run_recipe(recipe, out, device="cpu")
    a, b, soup = (load_file(str(out / name / ADAPTER_WEIGHTS)) for name in ("a/checkpoint", "b/checkpoint", "ab/soup"))
    assert all(torch.allclose(soup[k], 0.25 * a[k] + 0.75 * b[k]) for k in a)
    noted = json.loads((out / "ab" / "soup" / ADAPTER_CONFIG).read_text())["training"]["soup"]
    assert noted["a"] == "recipe tiny, leg a, step 1" and noted["weight_a"] == 0.25
    # the resumed leg counts on from the soup-started leg's step 1 with a fresh optimiser: one step of lr 1e-6
    resumed = load_file(str(out / "ab-on" / "checkpoint" / ADAPTER_WEIGHTS))
    started = load_file(str(out / "ab" / "checkpoint" / ADAPTER_WEIGHTS))
    assert steps_done(out / "ab-on") == 2 and (resumed["m0"] - started["m0"]).abs().max() < 1e-4
    assert not (out / "ab-on" / "checkpoint.partial").exists()


def test_a_toy_leg_keeps_the_first_seed_that_reads_and_a_chat_leg_starts_from_it(tiny_dir, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    toy = {"model": str(tiny_dir), "memory_tokens": 4, "lora_rank": 2, "samples_per_step": 2, "seeds": [3, 4]}
    never = {"name": "toy", "steps": 1, "toy": {**toy, "seeds": [3], "min_gap": 2.0}}  # a gap cannot reach 2
    with pytest.raises(RecipeError, match=r"none of the seeds \[3\] reads"):
        run_recipe(parse_recipe({"name": "t", "legs": [never]}), out, device="cpu")
    assert not (out / "toy" / "checkpoint").exists()
    always = {"name": "toy", "steps": 1, "toy": {**toy, "min_gap": -1.0}}  # any seed counts: the first is kept
    chat = recipe_of(tiny_dir, {"name": "chat", "steps": 1, "init": {"adapter": "toy"}})["legs"][0]
    recipe = parse_recipe({"name": "t", "legs": [always, chat]})
    assert isinstance(recipe.legs[0].config, ToyConfig)
    assert run_recipe(recipe, out, device="cpu")
    kept = json.loads((out / "toy" / "checkpoint" / ADAPTER_CONFIG).read_text())["training"]
    assert kept["seed"] == 3 and kept["steps_done"] == 1
    assert steps_done(out / "chat") == 1
