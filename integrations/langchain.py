"""LangChain 1.x / LangGraph integration of GradMem.

    from gradmem_agent.integrations.langchain import ChatGradMem, GradMemMiddleware, GradMemChatMessageHistory

- ChatGradMem: a BaseChatModel over the local engine that reads a session's memory blocks as a soft prompt;
  tool calls in the model's <tool_call> format with tool_choice, structured output, batched batch()
  (langchain-core only).
- GradMemChatMessageHistory: a BaseChatMessageHistory for RunnableWithMessageHistory (langchain-core only).
- GradMemMiddleware: create_agent middleware that keeps the window under a cap per LangGraph thread: old
  messages go into memory for a ChatGradMem, or come back as recalled text for any other chat model (needs
  the ``langchain`` extra: ``pip install 'gradmem-agent[langchain]'``; imported on first access).

The OpenAI-compatible server is gradmem_agent.integrations.server (``gradmem serve``, the ``server`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chat_model import ChatGradMem
from .history import GradMemChatMessageHistory
from .tools import parse_tool_call, parse_tool_calls

if TYPE_CHECKING:
    from .middleware import GradMemMiddleware, GradMemState

__all__ = ["ChatGradMem", "GradMemChatMessageHistory", "GradMemMiddleware", "GradMemState", "parse_tool_call",
           "parse_tool_calls"]


def __getattr__(name: str) -> Any:
    if name in ("GradMemMiddleware", "GradMemState"):
        from . import middleware

        return getattr(middleware, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
