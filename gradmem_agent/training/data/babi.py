"""bAbI-style stories (tasks 1-3) from our own generator, with held-out person names per split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .schema import QA, Sample
from .splits import check_split, values_in_split
from .vocab import FIRST_NAMES

LOCATIONS = ("bathroom", "hallway", "kitchen", "garden", "office", "bedroom", "garage", "balcony")
OBJECTS = ("football", "apple", "milk", "book", "umbrella", "keys", "guitar", "hat")
MOVE_VERBS = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
GET_VERBS = ("picked up", "got", "grabbed", "took")
DROP_VERBS = ("dropped", "discarded", "put down", "left")
STORY_LENGTHS = {1: (2, 10), 2: (4, 15), 3: (8, 20)}


@dataclass
class _World:
    """Tracks who is where and, for each object, the sentence indices that explain its location."""

    sentences: list[str] = field(default_factory=list)
    person_at: dict[str, tuple[str, int]] = field(default_factory=dict)  # person -> (location, move index)
    held_by: dict[str, tuple[str, int]] = field(default_factory=dict)  # object -> (person, get index)
    dropped_at: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    # object -> [(location, supporting indices)], one entry per change of location
    trail: dict[str, list[tuple[str, tuple[int, ...]]]] = field(default_factory=dict)

    def move(self, rng: random.Random, person: str, location: str) -> None:
        index = len(self.sentences)
        self.sentences.append(f"{person} {rng.choice(MOVE_VERBS)} the {location}.")
        self.person_at[person] = (location, index)
        for obj, (holder, get_index) in self.held_by.items():
            if holder == person:
                self._enter(obj, location, (get_index, index))

    def get(self, rng: random.Random, person: str, obj: str) -> None:
        index = len(self.sentences)
        self.sentences.append(f"{person} {rng.choice(GET_VERBS)} the {obj}.")
        self.held_by[obj] = (person, index)
        self.dropped_at.pop(obj, None)
        location, move_index = self.person_at[person]
        self._enter(obj, location, (move_index, index))

    def drop(self, rng: random.Random, person: str, obj: str) -> None:
        index = len(self.sentences)
        self.sentences.append(f"{person} {rng.choice(DROP_VERBS)} the {obj}.")
        del self.held_by[obj]
        location, move_index = self.person_at[person]
        self.dropped_at[obj] = (location, (move_index, index))

    def where_is(self, obj: str) -> tuple[str, tuple[int, ...]] | None:
        if obj in self.held_by:
            holder, get_index = self.held_by[obj]
            location, move_index = self.person_at[holder]
            return location, tuple(sorted({get_index, move_index}))
        return self.dropped_at.get(obj)

    def _enter(self, obj: str, location: str, support: tuple[int, ...]) -> None:
        trail = self.trail.setdefault(obj, [])
        if not trail or trail[-1][0] != location:
            trail.append((location, support))


def babi_samples(task: int, n: int, *, split: str = "train", seed: int = 0) -> list[Sample]:
    if task not in STORY_LENGTHS:
        raise ValueError(f"unknown bAbI task {task!r}; expected 1, 2 or 3")
    names = values_in_split(FIRST_NAMES, check_split(split))
    rng = random.Random(seed)
    samples = []
    while len(samples) < n:
        world = _tell_story(rng, task, names)
        qas = _ask(rng, task, world)
        if qas:
            document = " ".join(world.sentences)
            samples.append(Sample(kind=f"babi{task}", messages=[], document=document, qas=qas,
                                  meta={"split": split, "task": task, "sentences": len(world.sentences)}))
    return samples


def _tell_story(rng: random.Random, task: int, names: list[str]) -> _World:
    world = _World()
    people = rng.sample(names, k=rng.randint(2, 3 if task == 3 else 4))
    objects = rng.sample(OBJECTS, k=rng.randint(1, 3) if task == 3 else rng.randint(2, 4))
    length = rng.randint(*STORY_LENGTHS[task])
    while len(world.sentences) < length:
        person = rng.choice(people)
        here = world.person_at.get(person, ("", -1))[0]
        holding = [obj for obj, (holder, _) in world.held_by.items() if holder == person]
        free_here = [obj for obj in objects if obj not in world.held_by
                     and world.dropped_at.get(obj, (here, ()))[0] == here]
        roll = rng.random()
        if task > 1 and here and free_here and roll < 0.3:
            world.get(rng, person, rng.choice(free_here))
        elif task > 1 and holding and roll < 0.42:
            world.drop(rng, person, rng.choice(holding))
        else:
            world.move(rng, person, rng.choice([place for place in LOCATIONS if place != here]))
    return world


def _ask(rng: random.Random, task: int, world: _World) -> list[QA]:
    if task == 1:
        people = rng.sample(sorted(world.person_at), k=min(len(world.person_at), rng.choice((1, 2))))
        return [QA(f"Where is {person}?", world.person_at[person][0], fact_turns=(world.person_at[person][1],))
                for person in people]
    if task == 2:
        located = {obj: found for obj in sorted(world.trail) if (found := world.where_is(obj)) is not None}
        asked = rng.sample(sorted(located), k=min(len(located), rng.choice((1, 2))))
        return [QA(f"Where is the {obj}?", located[obj][0], fact_turns=located[obj][1]) for obj in asked]
    options = []
    for obj, trail in sorted(world.trail.items()):
        places = [location for location, _ in trail]
        for i in range(1, len(trail)):
            if places.count(places[i]) == 1:
                support = tuple(sorted(set(trail[i - 1][1]) | set(trail[i][1])))
                options.append(QA(f"Where was the {obj} before the {places[i]}?", places[i - 1], fact_turns=support))
    return [rng.choice(options)] if options else []

