"""Disjoint train/val/test slices of value pools and template families.

Values are ranked by a stable hash within their pool (80/10/10), so the assignment is the same on
every machine; templates by position in their list (about 1 in 5 for test).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

SPLITS = ("train", "val", "test")
T = TypeVar("T")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return split


def _stable_hash(value: str) -> int:
    return int(hashlib.sha256(value.strip().lower().encode()).hexdigest()[:12], 16)


@lru_cache(maxsize=256)
def _pool_splits(pool: tuple[str, ...]) -> dict[str, str]:
    # Rank by hash instead of bucketing so that small pools still get a non-empty val/test slice.
    ranked = sorted(pool, key=_stable_hash)
    n_held = max(1, round(len(ranked) * 0.1))
    return {
        value: "test" if rank < n_held else "val" if rank < 2 * n_held else "train"
        for rank, value in enumerate(ranked)
    }


def split_of_index(index: int) -> str:
    if index % 5 == 4:
        return "test"
    if index % 10 == 3:
        return "val"
    return "train"


def split_of_value(value: str, pool: Sequence[str]) -> str:
    return _pool_splits(tuple(pool))[value]


def values_in_split(pool: Sequence[str], split: str) -> list[str]:
    check_split(split)
    assignment = _pool_splits(tuple(pool))
    return [value for value in pool if assignment[value] == split]


def indexed_in_split(items: Sequence[T], split: str) -> list[tuple[int, T]]:
    """(index, item) pairs of the items whose position belongs to `split`."""
    check_split(split)
    return [(i, item) for i, item in enumerate(items) if split_of_index(i) == split]


def split_of_generated(value: str) -> str:
    """Split of a value made up on the fly (invented band, company...): a plain 80/10/10 hash bucket."""
    bucket = _stable_hash(value) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"
