"""Chat messages (storage.Message) checked and converted from dicts and LangChain, and back to LangChain.

Every input is checked here, before anything touches the database, so a bad message leaves the stored
state unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .storage import Message

ROLE_ALIASES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant",
                "system": "system", "tool": "tool"}
_DICT_KEYS = {"role", "type", "content", "name", "tool_calls", "tool_call_id", "extra", "key"}


def to_langchain(message: Message):
    """The LangChain message object of a Message."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    kwargs = {"name": message.name} if message.name else {}
    if message.role == "user":
        return HumanMessage(message.content, **kwargs)
    if message.role == "system":
        return SystemMessage(message.content, **kwargs)
    if message.role == "tool":
        return ToolMessage(message.content, tool_call_id=message.tool_call_id or "", **kwargs)
    calls = [{"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"}
             for c in message.tool_calls or []]
    return AIMessage(message.content, tool_calls=calls, **kwargs)


def has_tool_calls(message: Message) -> bool:
    return bool(message.tool_calls)


def to_messages(items: Iterable[Any]) -> list[Message]:
    """Check and convert every item; the first bad one raises (naming its index) and nothing is kept."""
    if isinstance(items, str | bytes | dict) or not isinstance(items, Iterable):
        raise TypeError(f"expected a list of messages, got {type(items).__name__}")
    return [to_message(item, where=f"message {i}") for i, item in enumerate(items)]


def to_message(item: Any, where: str = "message") -> Message:
    """A Message from a Message, a dict {"role", "content", ...} or a LangChain message object."""
    if isinstance(item, Message):
        fields = item.to_dict()
        fields.pop("seq", None)
    elif isinstance(item, dict):
        if unknown := set(item) - _DICT_KEYS:
            raise ValueError(f"{where} has unknown keys {sorted(unknown)}; expected some of {sorted(_DICT_KEYS)}")
        fields = dict(item)
        if "role" not in fields and "type" in fields:
            fields["role"] = fields.pop("type")
        fields.pop("type", None)
    elif hasattr(item, "type") and hasattr(item, "content"):
        fields = _from_langchain(item)
    else:
        raise TypeError(f"{where} must be a dict, a Message or a LangChain message, got {type(item).__name__}")
    if "content" not in fields or "role" not in fields:
        raise ValueError(f"{where} needs a 'role' and a 'content'")

    role = _role(fields["role"], where)
    tool_calls = _tool_calls(fields.get("tool_calls"), where) if role == "assistant" else None
    if role != "assistant" and fields.get("tool_calls"):
        raise ValueError(f"{where}: only assistant messages can carry tool_calls, not {role!r}")
    content = _text(fields["content"], where)
    if not content.strip() and not tool_calls:
        raise ValueError(f"{where} is empty; there is nothing to remember")
    name = _optional_text(fields.get("name"), f"{where} name")
    tool_call_id = _optional_text(fields.get("tool_call_id"), f"{where} tool_call_id")
    key = _optional_text(fields.get("key"), f"{where} key")
    return Message(role, content, name, tool_calls, tool_call_id, extra=fields.get("extra"), key=key)


def _from_langchain(msg: Any) -> dict[str, Any]:
    kind = msg.type
    role = getattr(msg, "role", kind) if kind == "chat" else kind
    fields = {"role": role, "content": msg.content, "name": getattr(msg, "name", None)}
    if kind == "ai":
        fields["tool_calls"] = list(getattr(msg, "tool_calls", None) or [])
    if kind == "tool":
        fields["tool_call_id"] = msg.tool_call_id
    return fields


def _role(role: Any, where: str) -> str:
    if not isinstance(role, str) or role not in ROLE_ALIASES:
        raise ValueError(f"{where} has unknown role {role!r}; expected one of {sorted(ROLE_ALIASES)}")
    return ROLE_ALIASES[role]


def _text(content: Any, where: str) -> str:
    """str as is; LangChain content blocks: text blocks joined by newlines, anything else rejected."""
    if isinstance(content, list):
        parts = []
        for i, block in enumerate(content):
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
            else:
                kind = block.get("type") if isinstance(block, dict) else type(block).__name__
                raise TypeError(f"{where} content block {i} is {kind!r}, not text; only text can be remembered")
        content = "\n".join(parts)
    if not isinstance(content, str):
        raise TypeError(f"{where} content must be str (or a list of text blocks), got {type(content).__name__}")
    return _check_encodable(content, f"{where} content")


def _check_encodable(text: str, what: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid UTF-8 (lone surrogate {text[exc.start]!r} at {exc.start})") from None
    if "\x00" in text:
        raise ValueError(f"{what} contains a NUL character")
    return text


def _optional_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, got {type(value).__name__}")
    return _check_encodable(value, what)


def _tool_calls(calls: Any, where: str) -> list[dict] | None:
    """LangChain {"name", "args", "id"} or OpenAI {"id", "function": {"name", "arguments"}} -> LangChain form."""
    if not calls:
        return None
    if not isinstance(calls, list | tuple):
        raise TypeError(f"{where} tool_calls must be a list, got {type(calls).__name__}")
    out = []
    for i, call in enumerate(calls):
        if not isinstance(call, dict):
            raise TypeError(f"{where} tool_calls[{i}] must be a dict, got {type(call).__name__}")
        if isinstance(call.get("function"), dict):
            name, args = call["function"].get("name"), call["function"].get("arguments", {})
            if isinstance(args, str):
                try:
                    args = json.loads(args) if args.strip() else {}
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{where} tool_calls[{i}] arguments are not JSON: {exc}") from None
        else:
            name, args = call.get("name"), call.get("args", {})
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where} tool_calls[{i}] needs a tool name")
        if not isinstance(args, dict):
            raise TypeError(f"{where} tool_calls[{i}] args must be a dict, got {type(args).__name__}")
        call_id = _optional_text(call.get("id"), f"{where} tool_calls[{i}] id")
        out.append({"name": _check_encodable(name, f"{where} tool name"), "args": args, "id": call_id})
    return out
