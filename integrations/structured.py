"""Structured output for ChatGradMem: the schema as a prompt, the reply parsed and validated, never None.

A reply that holds no JSON object, or one that does not match the schema, raises OutputParserException with
the reply attached (``llm_output``), so a caller can retry or show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import BaseMessage
from langchain_core.utils.function_calling import convert_to_json_schema
from pydantic import BaseModel, ValidationError

from .tools import json_objects


def is_pydantic(schema: Any) -> bool:
    return isinstance(schema, type) and issubclass(schema, BaseModel)


def json_schema(schema: Any) -> dict:
    """The JSON schema of a pydantic class, a TypedDict, a function or a JSON schema dict."""
    if is_pydantic(schema):
        return schema.model_json_schema()
    if isinstance(schema, dict) and ("properties" in schema or schema.get("type") == "object"):
        return schema
    return convert_to_json_schema(schema)


def schema_prompt(schema: dict) -> str:
    return ("Reply with only one JSON object, no other text. It must match this JSON schema:\n"
            + json.dumps(schema, ensure_ascii=False))


def _text(message: BaseMessage | str) -> str:
    if isinstance(message, str):
        return message
    content = message.content
    return content if isinstance(content, str) else "".join(
        b if isinstance(b, str) else b.get("text", "") for b in content if isinstance(b, str | dict))


def parse(message: BaseMessage | str, *, schema: Any, json_schema: dict | None) -> Any:
    """The first JSON object of the reply, validated: a pydantic instance for a pydantic schema, else a dict
    with every required key. OutputParserException otherwise."""
    text = _text(message)
    objects = [obj for _, _, obj in json_objects(text) if isinstance(obj, dict)]
    if not objects:
        raise OutputParserException(f"the model's reply holds no JSON object: {text[:300]!r}", llm_output=text)
    obj = objects[0]
    if is_pydantic(schema):
        try:
            return schema.model_validate(obj)
        except ValidationError as exc:
            raise OutputParserException(f"the model's JSON does not match {schema.__name__}: {exc}",
                                        llm_output=text) from exc
    missing = [k for k in (json_schema or {}).get("required", []) if k not in obj]
    if missing:
        raise OutputParserException(f"the model's JSON lacks the required keys {missing}: {text[:300]!r}",
                                    llm_output=text)
    return obj


def parse_with_raw(message: BaseMessage, *, parse: Callable[[BaseMessage], Any]) -> dict[str, Any]:
    """LangChain's include_raw=True shape: {"raw", "parsed", "parsing_error"}."""
    try:
        return {"raw": message, "parsed": parse(message), "parsing_error": None}
    except OutputParserException as exc:
        return {"raw": message, "parsed": None, "parsing_error": exc}
