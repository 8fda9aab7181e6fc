"""Word lists and templates shipped as data files under words/, read once through importlib.resources."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def read_json(name: str) -> Any:
    """A JSON file under words/, parsed (cached: callers must not mutate what they get)."""
    return json.loads(files(__package__).joinpath("words", name).read_text(encoding="utf-8"))


@cache
def read_lines(name: str) -> tuple[str, ...]:
    """The non-empty lines of a text file under words/ that do not start with '#', stripped."""
    text = files(__package__).joinpath("words", name).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
