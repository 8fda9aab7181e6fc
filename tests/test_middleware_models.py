"""GradMemMiddleware with the model it is given: a model that cannot read memory vectors (langchain_core's
GenericFakeChatModel standing in for a hosted one) gets the recalled old turns as text and loads no GradMem
model; a ChatGradMem reads memory blocks; the window never passes its trigger. Real create_agent and savers."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from gradmem_agent.integrations.langchain import ChatGradMem, GradMemMiddleware
from gradmem_agent.integrations.middleware import RECALL_HEADER
from gradmem_agent.integrations.token_counting import counter_for, encoding, tiktoken_counter
from langchain.agents import create_agent
from langchain.agents.middleware import wrap_model_call
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.memory import InMemorySaver

from gradmem_agent import GradMem, SQLStore
from tests.conftest import make_tiny_llama

FACTS = ["My sister Marta lives in Lisbon and teaches violin.", "The blue bicycle was stolen in March.",
         "I water the lemon tree every Sunday morning.", "Our cat Pixel sleeps on the printer.",
         "The dentist appointment is on the ninth.", "I keep the spare key under the green pot."]


def words(messages) -> int:
    """A stand-in for a hosted model's tokenizer: one token a word, two per message of framing."""
    return sum(len(str(m.content).split()) + 2 for m in messages)


def recorder(seen: list):
    @wrap_model_call
    def record(request, handler):
        seen.append(request)
        return handler(request)

    return record


def fake_model() -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=(AIMessage("Noted.") for _ in itertools.count()))  # a new id each reply


def test_any_model_gets_recalled_turns_as_text_and_no_vectors(tmp_path):
    seen: list = []
    mw = GradMemMiddleware(url=f"sqlite:///{tmp_path / 'm.db'}", trigger=("tokens", 40), token_counter=words)
    agent = create_agent(model=fake_model(), middleware=[mw, recorder(seen)], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "hosted"}}
    for fact in FACTS:
        result = agent.invoke({"messages": [HumanMessage(fact)]}, config)
        assert words(result["messages"]) <= 40  # the window never passes the trigger
    agent.invoke({"messages": [HumanMessage("Who lives in Lisbon and teaches violin?")]}, config)
    request = seen[-1]
    assert all("Lisbon" not in str(m.content) for m in request.messages[:-1])  # it left the window...
    system = request.system_message.text
    assert RECALL_HEADER in system and "user: " + FACTS[0] in system  # ...and came back as text, recalled
    assert "bicycle" not in system  # only what the question shares words with
    assert mw._engine is None and mw.store.blocks("hosted") == []  # no model loaded, no vectors written
    assert len(mw.store.messages("hosted")) == 2 * len(FACTS) + 2  # the whole transcript is kept
    mw.close()


def test_async_any_model_and_write_memory_on_request(tiny_gm, tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 'm.db'}")
    mw = GradMemMiddleware(tiny_gm, store=store, trigger=("messages", 4),
                           keep=("messages", 2), write_memory=True, segment_tokens=48, memory_tokens=4, steps=1)
    agent = create_agent(model=fake_model(), middleware=[mw], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "asked"}}

    async def run():
        for fact in FACTS[:4]:
            result = await agent.ainvoke({"messages": [HumanMessage(fact)]}, config)
            assert len(result["messages"]) <= 4
        await mw.aclose()

    asyncio.run(run())
    assert store.blocks("asked")  # vectors written although this model cannot read them: asked to
    store.close()


def test_chatgradmem_window_is_a_true_cap(tokenizer, tmp_path):
    wide = GradMem(make_tiny_llama(len(tokenizer), max_positions=1024), tokenizer, name="tiny-llama")
    mw = GradMemMiddleware(wide, url=f"sqlite:///{tmp_path / 'm.db'}", recent_tokens=96, segment_tokens=48,
                           memory_tokens=4, steps=1)
    model = ChatGradMem(engine=wide, max_new_tokens=4)
    agent = create_agent(model=model, middleware=[mw], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "cap"}}
    for fact in FACTS * 2:
        result = agent.invoke({"messages": [HumanMessage(fact)]}, config)
        sizes = mw._sizes(result["messages"], "cap")
        assert sum(sizes) <= 96, sizes
    conv = mw.memory("cap")
    assert conv.memory_blocks and [m.content for m in conv.messages] == [m.content or "(empty)"
                                                                         for m in result["messages"]]
    assert result["messages"][-1].response_metadata["memory_blocks"] > 0  # the model read the memory
    mw.close()


@pytest.mark.parametrize("bad", [{"foo": 1}, {"recent_tokens": -1}, {"keep": ("fraction", 0.5)},
                                 {"trigger": ("tokens", 10), "keep": ("tokens", 20)}, {"token_counter": 3},
                                 {"write_memory": "yes"}, {"recall_tokens": -1}, {"max_blocks": 1},
                                 {"url": "sqlite://", "store": object()}, {"engine": "gpt-4o"}])
def test_bad_arguments_are_refused_at_construction(bad):
    with pytest.raises((TypeError, ValueError)):
        GradMemMiddleware(**bad)


def test_tiktoken_counts_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))  # empty: the shipped files must seed it
    encoding.cache_clear()
    enc = encoding("gpt-4o")
    assert enc.name == "o200k_base" and enc.encode("hello world") == [24912, 2375]
    count = tiktoken_counter("gpt-4")
    assert count([HumanMessage("hello world")]) == len(encoding("cl100k_base").encode("hello world")) + 6
    assert counter_for(GenericFakeChatModel(messages=iter([]))) is count_tokens_approximately
    encoding.cache_clear()
