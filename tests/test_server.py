"""`gradmem serve`: the official openai client against servers started here on 127.0.0.1 (uvicorn in a thread,
and the CLI in a subprocess for the real default model); the tiny random Llama for the mechanics."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from gradmem_agent.integrations.server import GradMemServer, ServerThread
from gradmem_agent.storage import SQLStore

ROOT = Path(__file__).parent.parent
SMALL = {"recent_tokens": 48, "segment_tokens": 32, "memory_tokens": 4, "steps": 1, "recall_tokens": 0}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}


def free_port() -> int:
    """For the `gradmem serve` subprocess."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running(ServerThread):
    """A GradMemServer on a thread, with the test's OpenAI client."""

    def client(self, api_key: str = "none", **kw) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=api_key, max_retries=0, timeout=120, **kw)


@pytest.fixture
def running(tiny_gm, tmp_path):
    started: list[Running] = []

    def start(**kw) -> Running:
        kw.setdefault("url", f"sqlite:///{tmp_path / 'serve.db'}")
        kw.setdefault("memory_options", SMALL)
        kw.setdefault("max_tokens", 6)
        run = Running(GradMemServer(tiny_gm, **kw))
        started.append(run)
        return run

    yield start
    for run in started:
        run.stop()


def session(sid: str) -> dict:
    return {"extra_headers": {"X-Session-Id": sid}}


def test_models_and_stateless_completion(running, tmp_path):
    run = running()
    client = run.client()
    assert [m.id for m in client.models.list().data] == ["tiny-llama", "gradmem"]
    reply = client.chat.completions.create(model="tiny-llama", messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}])
    assert reply.object == "chat.completion" and reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 0 and reply.usage.total_tokens >= reply.usage.prompt_tokens
    assert run.server.store.list_sessions() == []  # no session: nothing stored


def test_streaming_stores_the_turn(running):
    run = running()
    stream = run.client().chat.completions.create(
        model="gradmem", messages=[{"role": "user", "content": "Tell me a story"}], stream=True,
        max_tokens=12, temperature=1.0, seed=3, stream_options={"include_usage": True}, **session("s1"))
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # several deltas, not one
    assert chunks[-2].choices[0].finish_reason in ("stop", "length") and chunks[-1].usage.completion_tokens > 0
    stored = run.server.store.messages("s1")
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].content == (text.strip() or "(empty)")


def test_sessions_never_see_each_other(running):
    run = running()
    client = run.client()
    client.chat.completions.create(model="gradmem", messages=[{"role": "user", "content": "My dog is Rex."}],
                                   **session("alice"))
    client.chat.completions.create(model="gradmem", messages=[{"role": "user", "content": "My cat is Tom."}],
                                   user="bob")
    # alice sends only her new message; bob sends his whole conversation, as chat front-ends do
    client.chat.completions.create(model="gradmem", messages=[{"role": "user", "content": "And my dog?"}],
                                   **session("alice"))
    first = run.server.store.messages("bob")
    client.chat.completions.create(model="gradmem", user="bob", messages=[
        *({"role": m.role, "content": m.content} for m in first), {"role": "user", "content": "And my cat?"}])
    alice, bob = run.server.store.messages("alice"), run.server.store.messages("bob")
    assert [m.content for m in alice if m.role == "user"] == ["My dog is Rex.", "And my dog?"]
    assert [m.content for m in bob if m.role == "user"] == ["My cat is Tom.", "And my cat?"]
    assert len(alice) == len(bob) == 4
    seen = run.server.session("alice")[0].read_context("question").messages
    assert not any("Tom" in m["content"] for m in seen)


def test_restart_keeps_memory(running, tmp_path):
    run = running()
    client = run.client()
    for i in range(6):
        client.chat.completions.create(model="gradmem", messages=[
            {"role": "user", "content": f"Note {i}: I planted {i * 3} tulips by the north fence today."}],
            **session("garden"))
    run.stop()  # shutdown waits for background compression
    store = SQLStore(f"sqlite:///{tmp_path / 'serve.db'}")
    blocks, before = len(store.blocks("garden")), len(store.messages("garden"))
    store.close()
    assert blocks > 0 and before == 12

    again = running()
    reply = again.client().chat.completions.create(
        model="gradmem", messages=[{"role": "user", "content": "How many tulips?"}], **session("garden"))
    vectors = sum(b.vector_count for b in again.server.store.blocks("garden"))
    assert reply.usage.prompt_tokens > vectors > 0  # the memory blocks were read
    assert len(again.server.store.messages("garden")) == before + 2


def test_bad_requests_get_4xx_json_and_store_nothing(running):
    run = running(api_key="secret")
    good = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.AuthenticationError) as err:
        run.client("wrong").chat.completions.create(model="gradmem", messages=good, **session("x"))
    assert err.value.status_code == 401 and err.value.body["type"] == "authentication_error"
    client = run.client("secret")
    bad = [
        ({"model": "gradmem", "messages": []}, "messages"),
        ({"model": "gradmem", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0]"),
        ({"model": "gradmem", "messages": good, "max_tokens": 0}, "max_tokens"),
        ({"model": "gradmem", "messages": good, "temperature": 5}, "temperature"),
        ({"model": "gradmem", "messages": good, "n": 2}, "n"),
        ({"model": "gradmem", "messages": good, "tools": [WEATHER], "tool_choice": "nope"}, "tool_choice"),
        ({"model": "gradmem", "messages": [{"role": "user", "content": "hi"},
                                            {"role": "assistant", "content": "hello"}]}, "messages"),
    ]
    for body, param in bad:
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(**body, **session("x"))
        assert err.value.status_code == 400 and err.value.body["param"].startswith(param), body
        assert err.value.body["type"] == "invalid_request_error" and err.value.body["message"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=good, **session("x"))
    raw = httpx.post(f"{run.base_url}/chat/completions", content=b"{not json",
                     headers={"Authorization": "Bearer secret", "Content-Type": "application/json"})
    assert raw.status_code == 400 and "error" in raw.json()
    assert run.server.store.list_sessions() == []


def test_client_disconnect_mid_stream_stores_nothing(running):
    run = running()
    body = {"model": "gradmem", "messages": [{"role": "user", "content": "Talk for a long time"}], "stream": True,
            "max_tokens": 200, "temperature": 1.0, "seed": 1}
    with httpx.stream("POST", f"{run.base_url}/chat/completions", json=body, headers={"X-Session-Id": "gone"},
                      timeout=60) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        got = [line for line, _ in zip(lines, range(3), strict=False) if line.startswith("data:")]
        assert got
    time.sleep(1.0)
    assert run.server.store.messages("gone") == []
    reply = run.client().chat.completions.create(model="gradmem", messages=[{"role": "user", "content": "hi"}],
                                                 **session("gone"))
    assert reply.choices[0].message.role == "assistant"
    assert run.server.store.messages("gone")[0].content == "hi"


def test_concurrent_clients(running):
    run = running()

    def talk(i: int) -> str:
        client = run.client()
        for j in range(2):
            reply = client.chat.completions.create(model="gradmem", stream=j == 1, **session(f"c{i}"),
                                                   messages=[{"role": "user", "content": f"c{i} m{j}"}])
            if j == 1:
                list(reply)  # a stream is only answered in full if it is read to the end
        return f"c{i}"

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(talk, range(4)))
    for sid in ids:
        assert [m.content for m in run.server.store.messages(sid) if m.role == "user"] == [f"{sid} m0", f"{sid} m1"]


def test_forced_tool_call_round_trip(running):
    run = running()
    client = run.client()
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    reply = client.chat.completions.create(model="gradmem", messages=ask, tools=[WEATHER],
                                           tool_choice={"type": "function", "function": {"name": "get_weather"}},
                                           **session("tools"))
    call = reply.choices[0].message.tool_calls[0]
    assert reply.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)
    streamed = list(client.chat.completions.create(model="gradmem", messages=ask, tools=[WEATHER],
                                                   tool_choice="required", stream=True))
    deltas = [c.choices[0].delta for c in streamed if c.choices and c.choices[0].delta.tool_calls]
    assert deltas and deltas[0].tool_calls[0].function.name == "get_weather"
    # the client runs the tool and sends the result: stored with the call it answers
    client.chat.completions.create(model="gradmem", tools=[WEATHER], **session("tools"), messages=[
        *ask, reply.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"}])
    stored = run.server.store.messages("tools")
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[1].tool_calls[0]["id"] == call.id == stored[2].tool_call_id


@pytest.mark.model
def test_cli_serve_with_the_default_model(tmp_path, default_model_dir):
    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", "GRADMEM_API_KEY": "k"}
    proc = subprocess.Popen([sys.executable, "-m", "gradmem_agent.cli", "serve", "--port", str(port), "--db",
                             f"sqlite:///{tmp_path / 'cli.db'}", "--max-new-tokens", "8"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0, timeout=120)
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                name = client.models.list().data[0].id
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        ask = [{"role": "user", "content": "What is the capital of France?"}]
        stream = client.chat.completions.create(model=name, stream=True, user="cli", messages=ask)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text.strip()
    finally:
        proc.terminate()
        proc.wait(60)
    store = SQLStore(f"sqlite:///{tmp_path / 'cli.db'}")
    assert [m.role for m in store.messages("cli")] == ["user", "assistant"]
    store.close()
