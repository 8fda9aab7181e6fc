"""Recipes: the chain of training legs that produced an adapter, kept as data (`training/recipes/NAME.json`).

A leg is one `Trainer` run with its own `TrainConfig` (or, first in a chain, the toy reader of `toy.py`), the
outer step it trains to, the number of processes it runs as (one a GPU, averaging their gradients), and
where it starts (`init` in the JSON):
  - null: a fresh adapter;
  - {"adapter": LEG}: LEG's adapter in a fresh run (step 0, a new optimiser): `TrainConfig.init_adapter`;
  - {"soup": [A, B], "weight": w}: the tensor-wise average of two legs' adapters (`soup.py`), as a fresh run;
  - {"resume": LEG}: LEG's adapter without its optimiser state: the step count (and with it the step-seeded
    data) goes on and the learning rate re-warms. History has such legs where a GPU machine was lost between
    two time-boxed calls and only the adapter had come back.

`run_recipe` runs the legs in order, each in OUT/<leg>/, and skips every leg whose checkpoint has reached its
steps; a time limit stops it inside a leg, and the next call resumes there.
"""

from __future__ import annotations

import gc
import json
import math
import re
import shutil
import time
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal

import torch

from ..adapter import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from .episodes import DATA_KINDS
from .soup import average_adapters
from .toy import ToyConfig, train_toy
from .train import Stage, TrainConfig, Trainer

RECIPES = "recipes"  # the folder of recipe files beside this module (package data)
INIT_KINDS = ("adapter", "soup", "resume")
_LEG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SET_BY_LEG = ("max_steps", "init_adapter")  # TrainConfig fields a leg's steps and init decide


class RecipeError(ValueError):
    """A recipe that cannot be run as written, or a leg run out of order."""


@dataclass(frozen=True)
class Init:
    kind: Literal["fresh", "adapter", "soup", "resume"] = "fresh"
    legs: tuple[str, ...] = ()
    weight: float = 0.5  # soup: the first leg's share

    def __post_init__(self) -> None:
        wanted = {"fresh": 0, "adapter": 1, "resume": 1, "soup": 2}.get(self.kind)
        if wanted is None:
            raise RecipeError(f"init kind must be fresh, {', '.join(INIT_KINDS)}; got {self.kind!r}")
        if len(self.legs) != wanted:
            raise RecipeError(f"init {self.kind!r} names {wanted} leg(s), got {list(self.legs)}")
        if not 0.0 <= self.weight <= 1.0:
            raise RecipeError(f"soup weight must lie in [0, 1], got {self.weight}")

    @classmethod
    def from_json(cls, data: dict | None) -> Init:
        if data is None:
            return cls()
        kinds = [k for k in INIT_KINDS if k in data]
        extra = set(data) - set(INIT_KINDS) - {"weight"}
        if len(kinds) != 1 or extra or ("weight" in data and kinds != ["soup"]):
            raise RecipeError(f"init must be null or hold one of {', '.join(INIT_KINDS)} (a soup may add 'weight'); "
                              f"got {data}")
        legs = data[kinds[0]]
        return cls(kinds[0], tuple(legs) if isinstance(legs, list) else (legs,), data.get("weight", 0.5))


@dataclass(frozen=True)
class Leg:
    name: str
    steps: int  # the outer step the leg's checkpoint reaches (counted on from the source for "resume")
    config: TrainConfig | ToyConfig
    init: Init = Init()
    processes: int = 1
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _LEG_NAME.fullmatch(self.name):
            raise RecipeError(f"leg name {self.name!r}: letters, digits, '.', '_' and '-' only (it names a folder)")
        if self.steps < 1 or self.processes < 1:
            raise RecipeError(f"leg {self.name}: steps and processes must be at least 1")
        if isinstance(self.config, ToyConfig) and (self.init.kind != "fresh" or self.processes != 1):
            raise RecipeError(f"leg {self.name}: a toy leg starts fresh, in one process")
        if isinstance(self.config, TrainConfig):
            unknown = set(self.config.mix) - set(DATA_KINDS)
            if unknown:
                raise RecipeError(f"leg {self.name}: unknown task(s) {sorted(unknown)} in mix; known: {DATA_KINDS}")
            if self.config.grow_memory and self.init.kind not in ("adapter", "soup"):
                raise RecipeError(f"leg {self.name}: grow_memory repeats the M0 of the adapter it starts from, so it "
                                  "needs an 'adapter' or 'soup' init")

    @property
    def is_toy(self) -> bool:
        return isinstance(self.config, ToyConfig)


@dataclass(frozen=True)
class Recipe:
    """Legs in order; `shipped` names the leg whose adapter ships (legs after it are candidates, not shipped)."""

    name: str
    description: str
    legs: tuple[Leg, ...]
    notes: tuple[str, ...] = ()
    shipped: str | None = None

    def __post_init__(self) -> None:
        if not self.legs:
            raise RecipeError(f"recipe {self.name} has no legs")
        if self.shipped is not None and self.shipped not in {leg.name for leg in self.legs}:
            raise RecipeError(f"recipe {self.name} ships leg {self.shipped!r}, which it does not have")
        seen: dict[str, Leg] = {}
        for leg in self.legs:
            if leg.name in seen:
                raise RecipeError(f"recipe {self.name}: two legs are called {leg.name}")
            for source in leg.init.legs:
                if source not in seen:
                    raise RecipeError(f"leg {leg.name} starts from {source!r}, which is not an earlier leg")
                if leg.init.kind == "resume" and (seen[source].is_toy or seen[source].steps >= leg.steps):
                    raise RecipeError(f"leg {leg.name} resumes {source}: it must be a trained leg that stopped "
                                      f"before step {leg.steps}")
            seen[leg.name] = leg

    def leg(self, name: str) -> Leg:
        for leg in self.legs:
            if leg.name == name:
                return leg
        raise RecipeError(f"recipe {self.name} has no leg {name!r}; its legs: {', '.join(x.name for x in self.legs)}")


def parse_recipe(data: dict) -> Recipe:
    """A recipe from its JSON form (see training/recipes/*.json); every problem is a RecipeError."""
    try:
        legs = tuple(_parse_leg(item) for item in data["legs"])
        return Recipe(data["name"], data.get("description", ""), legs, tuple(data.get("notes", ())),
                      data.get("shipped"))
    except KeyError as exc:
        raise RecipeError(f"recipe field {exc} is missing") from None


def _parse_leg(item: dict) -> Leg:
    name = item.get("name", "?")
    kinds = [k for k in ("train", "toy") if k in item]
    if len(kinds) != 1:
        raise RecipeError(f"leg {name}: give its settings under exactly one of 'train' and 'toy'")
    settings = dict(item[kinds[0]])
    try:
        if kinds[0] == "toy":
            config: TrainConfig | ToyConfig = ToyConfig(**settings)
        else:
            fixed = sorted(set(settings) & set(_SET_BY_LEG))
            if fixed:
                raise RecipeError(f"leg {name}: {fixed} come from the leg's steps and init, not its settings")
            if "curriculum" in settings:
                settings["curriculum"] = [Stage(**stage) for stage in settings["curriculum"]]
            config = TrainConfig(**settings)
        return Leg(item["name"], item["steps"], config, Init.from_json(item.get("init")), item.get("processes", 1),
                   tuple(item.get("notes", ())))
    except RecipeError:
        raise
    except (TypeError, ValueError) as exc:  # a field the config does not have, or one its checks refuse
        raise RecipeError(f"leg {name}: {exc}") from None
    except KeyError as exc:
        raise RecipeError(f"leg {name}: field {exc} is missing") from None


def recipe_names() -> list[str]:
    folder = resources.files(__package__) / RECIPES
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_recipe(name: str) -> Recipe:
    """The recipe shipped as training/recipes/<name>.json."""
    path = resources.files(__package__) / RECIPES / f"{name}.json"
    if not _LEG_NAME.fullmatch(name) or not path.is_file():
        raise RecipeError(f"no recipe {name!r}; recipes: {', '.join(recipe_names())}")
    recipe = parse_recipe(json.loads(path.read_text()))
    if recipe.name != name:
        raise RecipeError(f"{name}.json calls its recipe {recipe.name!r}")
    return recipe


def steps_done(leg_dir: Path) -> int | None:
    """The step the leg's checkpoint reached; None when it has none."""
    config = leg_dir / "checkpoint" / ADAPTER_CONFIG
    if not config.is_file():
        return None
    return int(json.loads(config.read_text()).get("training", {}).get("steps_done", 0))


def run_recipe(recipe: Recipe, out: Path, leg: str | None = None, minutes: float | None = None,
               device: str | None = None) -> bool:
    """Run the recipe's legs in order up to the shipped one (or only `leg`: candidates run by name) in
    out/<leg>/, skipping legs already done. Stops when `minutes` are up (the leg in progress saves; the next
    call resumes it). Returns whether every leg asked for is done."""
    from accelerate import PartialState

    state = PartialState(cpu=device == "cpu")
    deadline = time.time() + minutes * 60 if minutes is not None else math.inf
    precision = None
    names = [item.name for item in recipe.legs]
    upto = names.index(recipe.shipped) + 1 if recipe.shipped else len(names)
    for item in [recipe.leg(leg)] if leg else recipe.legs[:upto]:
        done = steps_done(out / item.name)
        if done is not None and done >= item.steps:
            state.print(f"leg {item.name}: done ({done} steps)")
            continue
        if time.time() >= deadline:
            state.print(f"time is up before leg {item.name}: run again to continue")
            return False
        if state.num_processes != item.processes:
            raise RecipeError(f"leg {item.name} runs as {item.processes} process(es), this is {state.num_processes}: "
                              f"launch it with python -m torch.distributed.run --standalone --nproc_per_node "
                              f"{item.processes} -m gradmem_agent.training.train --recipe {recipe.name} "
                              f"--leg {item.name} --out {out}")
        for source in item.init.legs:
            if (steps_done(out / source) or 0) < recipe.leg(source).steps:
                raise RecipeError(f"leg {item.name} starts from leg {source}, which has not reached its "
                                  f"{recipe.leg(source).steps} steps in {out / source}: run it first")
        if item.is_toy:
            state.print(f"leg {item.name}: the toy reader, seeds {list(item.config.seeds)}")
            if train_toy(item.config, item.steps, out / item.name, device) is None:
                raise RecipeError(f"leg {item.name}: none of the seeds {list(item.config.seeds)} reads its memory "
                                  f"after {item.steps} steps; add seeds")
            continue
        if precision not in (None, item.config.precision):
            raise RecipeError(f"leg {item.name} trains in {item.config.precision}, this process already trained in "
                              f"{precision} (accelerate keeps one precision a process): run the command again")
        precision = item.config.precision
        state.print(f"leg {item.name}: to step {item.steps}")
        if not _train_leg(recipe, item, out, (deadline - time.time()) / 60, device, state):
            state.print(f"leg {item.name} stopped at its time limit: run again to continue")
            return False
    return True


def _train_leg(recipe: Recipe, leg: Leg, out: Path, minutes: float, device: str | None, state) -> bool:
    run = out / leg.name
    sources = [out / name / "checkpoint" for name in leg.init.legs]
    init_adapter = str(sources[0]) if leg.init.kind == "adapter" else None
    if leg.init.kind == "soup":
        init_adapter = str(run / "soup")
        if state.is_main_process and not (run / "soup" / ADAPTER_CONFIG).is_file():
            names = tuple(f"recipe {recipe.name}, leg {n}, step {recipe.leg(n).steps}" for n in leg.init.legs)
            _atomic(run / "soup", lambda tmp: average_adapters(*sources, tmp, leg.init.weight, names))
    if leg.init.kind == "resume" and state.is_main_process and not (run / "checkpoint").exists():
        def copy(tmp: Path) -> None:  # the adapter alone, as it came back from a lost machine
            tmp.mkdir(parents=True)
            for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
                shutil.copy2(sources[0] / name, tmp / name)

        _atomic(run / "checkpoint", copy)
    state.wait_for_everyone()
    trainer = Trainer(replace(leg.config, max_steps=leg.steps, init_adapter=init_adapter), run, device)
    trainer.run(minutes)
    reached = trainer.step >= leg.steps
    del trainer
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return reached


def _atomic(target: Path, build) -> None:
    """Build a folder beside `target` and move it into place, so an interrupted call leaves no half of it."""
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    build(tmp)
    tmp.rename(target)



def run_from_args(parser, args) -> None:
    """`gradmem train --recipe NAME [--leg LEG] --out OUT [--minutes M] [--device D]`."""
    if not args.recipe:
        parser.error("--leg needs --recipe")
    options = [name for name in vars(args) if name not in ("recipe", "leg", "out", "minutes", "device")]
    if options:  # training options are absent from args unless given (options.add_options)
        parser.error(f"--recipe sets the training options itself, so not {', '.join(_flag(n) for n in options)}")
    try:
        recipe = load_recipe(args.recipe)
        if args.leg:
            recipe.leg(args.leg)
    except RecipeError as exc:
        parser.error(str(exc))
    run_recipe(recipe, args.out, args.leg, args.minutes, args.device)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
