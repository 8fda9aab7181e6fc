"""Tool calls in the default model's own format: the prompt that lists the tools, `tool_choice`, the parser, and a
streaming splitter that lets text through while the output cannot be a tool call.

The format is the one SmolLM2 (and Qwen/Hermes-style chat models) were tuned on, and the one the conversation
history is rendered in (storage.records.Message.turn)::

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

The project's earlier `{"tool": name, "args": {...}}` replies are parsed too. A forced choice (a tool's name, or
"any"/"required") is honoured by prefilling the reply with ``<tool_call>`` and, where known, the tool's name, so
the model only writes the arguments.
"""

from __future__ import annotations

import difflib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TOOL_OPEN, TOOL_CLOSE = "<tool_call>", "</tool_call>"
FORCING = ("any", "required")


def tool_names(tools: Sequence[dict]) -> list[str]:
    return [t.get("function", t)["name"] for t in tools]


def _signature(fn: dict) -> str:
    params = fn.get("parameters") or {}
    required = set(params.get("required") or [])
    args = ", ".join(f"{name}{'' if name in required else '?'}: {spec.get('type', 'any')}"
                     for name, spec in (params.get("properties") or {}).items())
    return f"{fn['name']}({args})"


def tools_prompt(tools: Sequence[dict]) -> str:
    """The system-prompt section that lists `tools` (OpenAI tool dicts) and the call format: one line per tool
    and a concrete example, which small models follow best."""
    fns = [t.get("function", t) for t in tools]
    lines = ["You can call these tools:"]
    lines += [f"- {_signature(fn)}: {fn.get('description', '').strip()}" for fn in fns]
    first = fns[0]
    example = {name: "..." for name in list((first.get("parameters") or {}).get("properties") or {})[:1]}
    call = json.dumps({"name": first["name"], "arguments": example}, ensure_ascii=False)
    lines.append(f"To call a tool, reply with only:\n{TOOL_OPEN}\n{call}\n{TOOL_CLOSE}")
    return "\n".join(lines)


def resolve_tool_choice(tool_choice: Any, names: Sequence[str]) -> str | None:
    """The forced choice as a tool name, "any" (some tool, the model picks) or None (the model decides).

    Accepts None, "auto", "none", "any", "required", True (any), a tool name, or the OpenAI / LangChain dict
    forms ``{"type": "function", "function": {"name": ...}}`` and ``{"name": ...}``. ValueError otherwise."""
    if tool_choice is None or tool_choice is False or tool_choice in ("auto", "none"):
        return None
    if isinstance(tool_choice, dict):
        name = tool_choice.get("function", tool_choice).get("name")
        if tool_choice.get("type") in FORCING:
            return "any" if len(names) != 1 else names[0]
        tool_choice = name
    if tool_choice is True or tool_choice in FORCING:
        if not names:
            raise ValueError(f"tool_choice={tool_choice!r} needs at least one tool")
        return names[0] if len(names) == 1 else "any"
    if isinstance(tool_choice, str) and tool_choice in names:
        return tool_choice
    raise ValueError(f"tool_choice must be 'auto', 'none', 'any', 'required' or one of the tools {list(names)}, "
                     f"got {tool_choice!r}")


def call_prefix(forced: str | None) -> str:
    """What the reply is prefilled with to force a call: the tag and, for a named tool, its name."""
    if forced is None:
        return ""
    if forced == "any":
        return f'{TOOL_OPEN}\n{{"name": "'
    return f'{TOOL_OPEN}\n{{"name": {json.dumps(forced)}, "arguments": '


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def _call(name: str, args: Any) -> dict | None:
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            return None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None
    return {"name": name, "args": args, "id": new_call_id(), "type": "tool_call"}


def _as_call(obj: Any, names: Sequence[str]) -> dict | None:
    if not isinstance(obj, dict):
        return None
    name = obj.get("name", obj.get("tool"))
    if name not in names:
        return None
    return _call(name, obj.get("arguments", obj.get("args", obj.get("parameters"))))


def json_objects(text: str) -> list[tuple[int, int, Any]]:
    """Every top-level JSON object in text, as (start, end, value)."""
    decoder, found, i = json.JSONDecoder(), [], text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        found.append((i, end, obj))
        i = text.find("{", end)
    return found


_TAGGED = re.compile(re.escape(TOOL_OPEN) + r"(.*?)(?:" + re.escape(TOOL_CLOSE) + r"|$)", re.S)


def parse_tool_calls(text: str, names: Sequence[str]) -> tuple[str, list[dict]]:
    """(the text outside the calls, the calls) for the known tool `names`.

    Calls are ``<tool_call>`` blocks holding ``{"name", "arguments"}`` (the closing tag may be missing at the
    end), or, in untagged replies, JSON objects ``{"tool", "args"}`` / ``{"name", "arguments"}``. An object
    naming no known tool is left as text."""
    calls: list[dict] = []
    if TOOL_OPEN in text:
        kept = []
        last = 0
        for match in _TAGGED.finditer(text):
            objs = json_objects(match.group(1))
            call = _as_call(objs[0][2], names) if objs else None
            if call is None:
                continue
            calls.append(call)
            kept.append(text[last:match.start()])
            last = match.end()
        kept.append(text[last:])
        return "".join(kept).strip(), calls
    kept, last = [], 0
    for start, end, obj in json_objects(text):
        call = _as_call(obj, names)
        if call is not None:
            calls.append(call)
            kept.append(text[last:start])
            last = end
    kept.append(text[last:])
    return ("".join(kept).strip() if calls else text), calls


def parse_tool_call(text: str, names: Sequence[str]) -> dict | None:
    """The first tool call in text (see parse_tool_calls), or None."""
    calls = parse_tool_calls(text, names)[1]
    return calls[0] if calls else None


def forced_calls(text: str, forced: str, names: Sequence[str]) -> tuple[str, list[dict]]:
    """("", the calls) from a reply that was prefilled with call_prefix(forced) (text includes the prefix): the
    reply is the call, nothing else. A forced call always yields a call: a name the model garbled maps to the
    closest known one, arguments that do not parse become {} (the tool's own validation then reports what is
    missing)."""
    calls = parse_tool_calls(text, names)[1]
    if calls:
        return "", calls
    body = text[len(TOOL_OPEN):] if text.startswith(TOOL_OPEN) else text
    name = forced
    if forced == "any":
        written = body.split('"name": "', 1)[-1].split('"', 1)[0]
        name = next((n for n in names if written.startswith(n)), None) or (
            difflib.get_close_matches(written, names, n=1, cutoff=0.0) or [names[0]])[0]
    after = body.split('"arguments":', 1)[1] if '"arguments":' in body else ""
    objs = json_objects(after)
    call = _call(name, objs[0][2] if objs and isinstance(objs[0][2], dict) else {})
    assert call is not None
    return "", [call]


@dataclass
class ToolStream:
    """Splits a streamed reply into text that can be shown at once and a tail that may be a tool call.

    feed(piece) returns the text that is safe to emit: everything before a ``<tool_call>`` tag (a trailing
    partial tag is held back), and nothing while the reply so far could still be an untagged JSON call.
    finish() returns (the text still held, the tool calls)."""

    names: Sequence[str]
    held: str = ""
    emitted: str = ""
    calling: bool = False

    def feed(self, piece: str) -> str:
        self.held += piece
        if self.calling:
            return ""
        if not self.emitted and self.held.lstrip().startswith("{"):
            return ""  # an untagged JSON call, or JSON text: decided at the end
        tag = self.held.find(TOOL_OPEN)
        if tag != -1:
            self.calling = True
            out, self.held = self.held[:tag], self.held[tag:]
        else:
            keep = next((k for k in range(min(len(TOOL_OPEN) - 1, len(self.held)), 0, -1)
                         if TOOL_OPEN.startswith(self.held[-k:])), 0)
            out, self.held = self.held[: len(self.held) - keep], self.held[len(self.held) - keep:]
        if not self.emitted:
            out = out.lstrip()
        self.emitted += out
        return out

    def finish(self) -> tuple[str, list[dict]]:
        rest, calls = parse_tool_calls(self.held, self.names)
        if not self.emitted:
            rest = rest.lstrip()
        return (rest if calls else self.held if self.emitted else self.held.strip()), calls
