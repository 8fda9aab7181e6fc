"""The OpenAI chat-completions wire format: requests checked into records, replies and stream chunks built.

Only what a chat front-end or the official ``openai`` client sends is read; unknown request fields are ignored
as OpenAI-compatible servers do, while a field that is present with a bad value is refused (ApiError, 4xx).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from gradmem_agent.storage import Message
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gradmem_agent.messages import to_message
from gradmem_agent.read import SamplingConfig

SESSION_HEADER = "X-Session-Id"


class ApiError(Exception):
    """A request the server refuses: sent as ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


class ChatRequest(BaseModel):
    """The fields of a chat-completions request that this server reads."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = Field(default=None, ge=0)
    n: Literal[1] = 1
    stop: str | list[str] | None = None
    user: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None

    @field_validator("tools")
    @classmethod
    def _tools(cls, tools: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for i, tool in enumerate(tools or []):
            fn = tool.get("function")
            if tool.get("type") != "function" or not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise ValueError(f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ..., ...}}}}")
        return tools

    def sampling(self, default_max_tokens: int) -> SamplingConfig:
        return SamplingConfig(max_new_tokens=self.max_completion_tokens or self.max_tokens or default_max_tokens,
                              temperature=self.temperature or 0.0, top_p=self.top_p or 1.0, seed=self.seed)

    @property
    def stops(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop or [])


def parse_request(body: Any) -> ChatRequest:
    try:
        return ChatRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first.get("loc", ())) or None
        raise ApiError(400, f"invalid request: {param}: {first.get('msg')}", param=param) from None


def _content(value: Any, where: str) -> str:
    """OpenAI content: a str, None, or a list of parts of which only text parts are supported."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, f"{where}: only text content parts are supported", param=where)
            texts.append(part["text"])
        return "\n".join(texts)
    raise ApiError(400, f"{where}: content must be a string or a list of text parts", param=where)


def _tool_calls(calls: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(calls, list):
        raise ApiError(400, f"{where}.tool_calls must be a list", param=where)
    out = []
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ApiError(400, f"{where}.tool_calls[{j}] must hold a function with a name", param=where)
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except (TypeError, json.JSONDecodeError):
            raise ApiError(400, f"{where}.tool_calls[{j}].function.arguments is not a JSON object",
                           param=where) from None
        if not isinstance(args, dict):
            raise ApiError(400, f"{where}.tool_calls[{j}].function.arguments is not a JSON object", param=where)
        out.append({"name": fn["name"], "args": args, "id": str(call.get("id") or f"call_{uuid.uuid4().hex[:24]}")})
    return out


def to_records(messages: list[dict[str, Any]]) -> tuple[str | None, list[Message]]:
    """(the system prompt, the other messages as checked Messages). ApiError for a bad message."""
    system, records = [], []
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        role = msg.get("role") if isinstance(msg, dict) else None
        if role in ("system", "developer"):
            system.append(_content(msg.get("content"), where))
            continue
        if role not in ("user", "assistant", "tool"):
            raise ApiError(400, f"{where}.role must be system, developer, user, assistant or tool, got {role!r}",
                           param=where)
        record: dict[str, Any] = {"role": role, "content": _content(msg.get("content"), where)}
        if role == "assistant" and msg.get("tool_calls"):
            record["tool_calls"] = _tool_calls(msg["tool_calls"], where)
        if role == "tool":
            record["tool_call_id"] = msg.get("tool_call_id")
        if not record["content"].strip() and not record.get("tool_calls"):
            if role != "assistant":
                raise ApiError(400, f"{where}.content is empty", param=where)
            record["content"] = "(empty)"
        try:
            records.append(to_message(record, where))
        except (ValueError, TypeError) as exc:
            raise ApiError(400, str(exc), param=where) from None
    if not records:
        raise ApiError(400, "messages holds no user, assistant or tool message", param="messages")
    return ("\n\n".join(system) or None), records


def openai_tool_calls(calls: list[dict]) -> list[dict[str, Any]]:
    return [{"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c["args"], ensure_ascii=False)}} for c in calls]


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def completion(cid: str, model: str, text: str, calls: list[dict], usage: dict[str, int],
               finish: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        message["tool_calls"] = openai_tool_calls(calls)
    return {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}], "usage": usage}


def chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None,
          usage: dict[str, int] | None = None) -> str:
    body: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model,
                            "choices": [] if usage is not None else [
                                {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
