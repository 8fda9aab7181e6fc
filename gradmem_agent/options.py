"""Options: the Literal types of those that take one of a few words, and the one way each kind is checked."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
import typing
from collections.abc import Iterable
from typing import Any, Literal, get_args

Mode = Literal["background", "inline"]  # when a conversation compresses: on a worker thread, or in the call
Optimizer = Literal["sgd", "nsgd", "adam"]  # the WRITE's inner optimiser
OnMismatch = Literal["raise", "rebuild"]  # blocks written by another model or adapter
LoraPhases = Literal["write", "both"]  # where an adapter's LoRA is on
Phase = Literal["write", "read", "plain"]  # what the model is doing (plain: a READ with no memory)
Precision = Literal["fp32", "bf16"]
# the WRITE's weights: auto = bf16 for an fp32 model on a CPU that multiplies bf16 natively, else the model's dtype
WritePrecision = Literal["auto", "fp32", "bf16"]
CompileMode = Literal["default", "reduce-overhead", "max-autotune"]  # torch.compile of the WRITE step
# the weights the CPU decoder reads (gguf: through llama.cpp; auto: gguf where it can be used, else fp32)
DecodeWeights = Literal["auto", "fp32", "int8", "gguf"]


def check_option(value: Any, kind: Any, name: str) -> Any:
    """`value` if it is one of the words of the Literal type `kind`, else ValueError naming `name`."""
    allowed = get_args(kind)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_real(value: object, name: str) -> float:
    """A finite number (an int or float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_count(value: object, name: str, minimum: int) -> int:
    """An int (not a bool) >= minimum."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_positive(value: object, name: str) -> float:
    """A finite number (not a bool) > 0."""
    if check_real(value, name) <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def add_options(parser: argparse._ActionsContainer, cls: type, names: Iterable[str] | None = None) -> None:
    """Command-line options `--field-name` for the fields of the dataclass `cls` (all, or `names`), with help
    from its `Args:` docstring, choices from Literal types and JSON for structured values. Options left out
    are absent from the parsed namespace, so `given(args, cls)` keeps the dataclass's own defaults."""
    hints = typing.get_type_hints(cls)
    helps = _args_help(cls.__doc__ or "")
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for name in names if names is not None else [f.name for f in dataclasses.fields(cls)]:
        kind = [a for a in typing.get_args(hints[name]) if a is not type(None)] or [hints[name]]
        kind = kind[0] if len(kind) == 1 else hints[name]
        default = defaults[name]
        shown = "" if default is dataclasses.MISSING else f" (default: {default})"
        options: dict[str, Any] = {"default": argparse.SUPPRESS, "help": helps.get(name, "") + shown}
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is Literal:
            options["choices"] = typing.get_args(kind)
        elif kind in (int, float, str):
            options["type"] = kind
        else:
            options.update(type=_json, metavar="JSON")
        parser.add_argument("--" + name.replace("_", "-"), dest=name, **options)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of `cls` that were given on the command line (see add_options)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None


def _args_help(doc: str) -> dict[str, str]:
    """{field: text} from a Google-style `Args:` section ("a, b: text" documents both)."""
    helps: dict[str, str] = {}
    lines = iter(inspect.cleandoc(doc).partition("Args:")[2].splitlines())
    names: list[str] = []
    for line in lines:
        if line and not line.startswith(" "):
            break
        head, sep, text = line.strip().partition(": ")
        if sep and line.startswith("    ") and not line.startswith("     ") and head.replace(", ", "").isidentifier():
            names = head.split(", ")
            for name in names:
                helps[name] = text
        elif line.strip():
            for name in names:
                helps[name] += " " + line.strip()
    return helps
