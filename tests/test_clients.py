"""ChatGradMem as LangChain users call it: tool calls in the model's own format, tool_choice, streaming next to
tools, structured output, token counts, arguments checked at construction, batch, close; and the examples of
the client paths. Tiny random Llama for the mechanics, the real default model for the agent round trip."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gradmem_agent.integrations.langchain import ChatGradMem
from gradmem_agent.integrations.tools import ToolStream, parse_tool_call, parse_tool_calls, resolve_tool_choice
from langchain.agents import create_agent
from langchain.agents.middleware import wrap_model_call
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, ValidationError

import gradmem_agent

ROOT = Path(__file__).parent.parent
NAMES = ["get_weather"]


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 C in {city}."


class Person(BaseModel):
    name: str
    age: int


# -- parsing ------------------------------------------------------------------------------------------------------


def test_parses_the_models_own_format_and_the_projects():
    text, calls = parse_tool_calls(
        'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', NAMES)
    assert text == "Let me look." and calls[0]["name"] == "get_weather" and calls[0]["args"] == {"city": "Paris"}
    two = '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}</tool_call>' * 2
    assert [c["args"] for c in parse_tool_calls(two, NAMES)[1]] == [{"city": "Oslo"}] * 2
    assert parse_tool_call('{"tool": "get_weather", "args": {"city": "Rome"}}', NAMES)["args"] == {"city": "Rome"}
    assert parse_tool_call('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Bern"}}', NAMES)  # unclosed
    assert parse_tool_calls('{"name": "unknown", "arguments": {}}', NAMES) == ('{"name": "unknown", "arguments": {}}',
                                                                              [])
    assert parse_tool_call("no json {here", NAMES) is None


def test_tool_stream_lets_text_through_until_a_call_can_start():
    stream = ToolStream(NAMES)
    out = [stream.feed(p) for p in ["Sure", ", let me check <tool", "_call>\n{\"name\": \"get_weather\", ",
                                    "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"]]
    assert out == ["Sure", ", let me check ", "", ""]
    rest, calls = stream.finish()
    assert rest == "" and calls[0]["args"] == {"city": "Paris"}
    plain = ToolStream(NAMES)
    assert [plain.feed(p) for p in ["Hi", " there <", "b>"]] == ["Hi", " there ", "<b>"]
    assert plain.finish() == ("", [])


def test_tool_choice_is_resolved_and_checked():
    assert resolve_tool_choice("auto", NAMES) is None and resolve_tool_choice("none", NAMES) is None
    assert resolve_tool_choice("any", NAMES) == "get_weather"  # one tool: "any" names it
    assert resolve_tool_choice("required", [*NAMES, "b"]) == "any"
    assert resolve_tool_choice({"type": "function", "function": {"name": "b"}}, [*NAMES, "b"]) == "b"
    with pytest.raises(ValueError, match="tool_choice"):
        resolve_tool_choice("nope", NAMES)


# -- ChatGradMem (tiny model) -------------------------------------------------------------------------------------


def test_forced_tool_choice_makes_a_call_invoked_and_streamed(tiny_gm):
    model = ChatGradMem(engine=tiny_gm, max_new_tokens=8)
    with pytest.raises(ValueError, match="tool_choice"):
        model.bind_tools([get_weather], tool_choice="get_wether")
    for choice in ("get_weather", "any", "required"):
        bound = model.bind_tools([get_weather], tool_choice=choice)
        reply = bound.invoke("Weather in Paris?")
        assert reply.content == "" and [c["name"] for c in reply.tool_calls] == ["get_weather"]
        assert reply.response_metadata["finish_reason"] == "tool_calls"
        chunks = list(bound.stream("Weather in Paris?"))
        merged = sum(chunks[1:], chunks[0])
        assert [c["name"] for c in merged.tool_calls] == ["get_weather"]


def test_streaming_with_tools_bound_streams_text(tiny_gm):
    model = ChatGradMem(engine=tiny_gm, max_new_tokens=12, temperature=1.0, seed=0)
    plain = list(model.stream("Tell me a story"))
    tooled = list(model.bind_tools([get_weather]).stream("Tell me a story"))
    text = sum(tooled[1:], tooled[0])
    assert len(tooled) == len(plain) > 2  # token by token, not one buffered chunk
    assert text.content.strip() == sum(plain[1:], plain[0]).content.strip() and text.tool_calls == []


def test_structured_output_parses_or_raises_never_none(tiny_gm):
    model = ChatGradMem(engine=tiny_gm, max_new_tokens=6)
    with pytest.raises(OutputParserException, match=r"Person|JSON"):
        model.with_structured_output(Person).invoke("Bob is 30.")
    raw = model.with_structured_output(Person, include_raw=True).invoke("Bob is 30.")
    assert raw["parsed"] is None and isinstance(raw["parsing_error"], OutputParserException)
    assert isinstance(raw["raw"], AIMessage) and raw["raw"].content.startswith("{")
    from gradmem_agent.integrations.structured import parse

    assert parse(AIMessage('{"name": "Bob", "age": 30}'), schema=Person, json_schema=None) == Person(name="Bob",
                                                                                                     age=30)
    assert parse('x {"a": 1}', schema={"type": "object", "required": ["a"]}, json_schema={"required": ["a"]}) == {
        "a": 1}
    with pytest.raises(OutputParserException, match="age"):
        parse('{"name": "Bob"}', schema=Person, json_schema=None)


def test_token_counts_use_the_models_tokenizer(tiny_gm):
    model = ChatGradMem(engine=tiny_gm)
    text = "The quick brown fox jumps over the lazy dog."
    assert model.get_num_tokens(text) == tiny_gm.count_tokens(text) > 0
    messages = [HumanMessage(text)]
    assert model.get_num_tokens_from_messages(messages) > model.get_num_tokens(text)
    assert model.get_num_tokens_from_messages(messages, tools=[get_weather]) > model.get_num_tokens_from_messages(
        messages)


@pytest.mark.parametrize("bad", [{"foo": 1}, {"temperature": -2}, {"top_p": 0}, {"max_new_tokens": 0},
                                 {"memory_options": {"recnt_tokens": 3}}, {"memory_options": {"recent_tokens": -1}},
                                 {"engine": "gpt-4o"}, {"url": "sqlite://", "store": object()}])
def test_bad_arguments_are_refused_at_construction(bad):
    with pytest.raises((ValidationError, TypeError, ValueError)):
        ChatGradMem(**bad)


def test_top_level_exports_and_py_typed():
    for name in ("MemoryPolicy", "SamplingConfig", "StorageError", "AdapterMismatchError", "ModelNotFoundError",
                 "ConcurrentCompressionError", "CorruptBlockError", "FingerprintMismatchError"):
        assert getattr(gradmem_agent, name).__name__ == name
    assert (Path(gradmem_agent.__file__).parent / "py.typed").is_file()
    assert "py.typed" in (ROOT / "pyproject.toml").read_text()


def test_close_and_aclose_finish_sessions(tiny_gm, tmp_path):
    model = ChatGradMem(engine=tiny_gm, url=f"sqlite:///{tmp_path / 'c.db'}", max_new_tokens=2,
                        memory_options={"segment_tokens": 32, "memory_tokens": 4})
    model.invoke("hi", config={"configurable": {"session_id": "a"}})
    model.close()
    asyncio.run(model.ainvoke("hi", config={"configurable": {"session_id": "b"}}))
    asyncio.run(model.aclose())
    assert model._sessions == {}


# -- the default model --------------------------------------------------------------------------------------------


@pytest.mark.model
def test_create_agent_tool_round_trip_on_the_default_model(real_gm):
    ran: list[str] = []

    @tool
    def weather(city: str) -> str:
        """Get the current weather in a city."""
        ran.append(city)
        return f"It is sunny and 21 C in {city}."

    @wrap_model_call
    def call_then_answer(request, handler):
        answered = any(isinstance(m, ToolMessage) for m in request.messages)
        return handler(request.override(tool_choice="none" if answered else "weather"))

    agent = create_agent(model=ChatGradMem(engine=real_gm, max_new_tokens=16), tools=[weather],
                         middleware=[call_then_answer])
    result = agent.invoke({"messages": [{"role": "user", "content": "What is the weather in Paris?"}]})
    kinds = [type(m).__name__ for m in result["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert result["messages"][1].tool_calls[0]["args"] == {"city": "Paris"} and ran == ["Paris"]
    assert result["messages"][2].content == "It is sunny and 21 C in Paris."
    assert result["messages"][3].content and not result["messages"][3].tool_calls


@pytest.mark.model
@pytest.mark.parametrize(("script", "expect"), [("tool_agent.py", "tool results: 1"),
                                                ("openai_client.py", "session turns stored: 4"),
                                                ("any_model_middleware.py", "recalled into the prompt:")])
def test_client_examples_run(script, expect, tmp_path, default_model_dir):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--db", str(tmp_path / "ex.db")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert expect in proc.stdout


def test_batch_decodes_together_with_the_loops_replies_and_callbacks(tiny_gm):
    from langchain_core.callbacks import BaseCallbackHandler

    class Count(BaseCallbackHandler):
        starts = 0

        def on_chat_model_start(self, *args, **kwargs) -> None:
            Count.starts += 1

    model = ChatGradMem(engine=tiny_gm, max_new_tokens=6)
    prompts = ["Name a fruit.", "What is the capital of France?", "Hi", "Write a haiku about the sea."]
    loop = [model.invoke(p).content for p in prompts]
    assert [m.content for m in model.batch(prompts, config={"callbacks": [Count()]})] == loop
    assert Count.starts == len(prompts)
    assert [m.content for m in asyncio.run(model.abatch(prompts))] == loop
    bound = model.bind_tools([get_weather], tool_choice="any")  # not batchable: one by one, still right
    assert all(m.tool_calls for m in bound.batch(prompts[:2]))


@pytest.mark.parametrize("bad", [{"foo": 1}, {"recent_tokens": -1}, {"policy": "fast"}, {"mode": "later"},
                                 {"engine": "gpt-4o"}, {"on_mismatch": "ignore"}])
def test_conversation_memory_refuses_bad_arguments_at_construction(bad):
    from gradmem_agent import GradMemConversationMemory

    with pytest.raises((TypeError, ValueError)):
        GradMemConversationMemory("s", url="sqlite://", **bad)
    conv = GradMemConversationMemory("s", url="sqlite://", policy=gradmem_agent.MemoryPolicy(read_blocks=2),
                                     recent_tokens=64)
    assert (conv.policy.recent_tokens, conv.policy.read_blocks) == (64, 2)  # one left out keeps the policy's
    conv.close()
