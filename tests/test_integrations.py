"""LangChain / LangGraph integration: real langchain, langgraph and checkpointer objects, tiny random Llama for the
mechanics, the real default model only for the examples (run as scripts)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import pytest
from gradmem_agent.integrations.langchain import (
    ChatGradMem,
    GradMemChatMessageHistory,
    GradMemMiddleware,
    parse_tool_call,
)
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from gradmem_agent import GradMem, GradMemConversationMemory
from gradmem_agent.messages import to_langchain
from tests.conftest import make_tiny_llama, postgres_url

ROOT = Path(__file__).parent.parent
SMALL = {"recent_tokens": 64, "segment_tokens": 48, "memory_tokens": 4, "steps": 2, "max_blocks": 8}


@tool
def garden_size(plant: str) -> str:
    """How many of a plant are in the garden."""
    return f"There are 12 {plant}."


def turn(i: int, tag: str = "") -> str:
    return f"{tag}Note {i}: I planted {i * 3} tulips and {i} roses by the north fence."


def model(gm, **kw) -> ChatGradMem:
    return ChatGradMem(engine=gm, max_new_tokens=4, memory_options=SMALL, **kw)


def agent_for(gm, url: str, checkpointer):
    mw = GradMemMiddleware(gm, url=url, **SMALL)
    agent = create_agent(model=model(gm), tools=[garden_size], middleware=[mw], checkpointer=checkpointer)
    return agent, mw


def texts(messages) -> list[str]:
    """Contents as stored (the tiny random model may reply with nothing, stored as "(empty)")."""
    return [m.content or "(empty)" for m in messages]


def assert_pairs_whole(messages) -> None:
    """Every tool call in `messages` has its results there, and no result lacks its call."""
    call_ids = {c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
    result_ids = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    assert call_ids == result_ids


# -- ChatGradMem --------------------------------------------------------------------------------------------------


def test_chat_model_invoke_stream_batch_usage(tiny_gm):
    llm = model(tiny_gm)
    reply = llm.invoke("Hello there")
    assert isinstance(reply, AIMessage)
    usage = reply.usage_metadata
    assert usage["input_tokens"] > 0 and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["memory_vectors"] == 0 and reply.response_metadata["session_id"] is None

    chunks = list(llm.stream([HumanMessage("Hello there")]))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    joined = sum(chunks[1:], chunks[0])
    assert joined.content.strip() == reply.content  # greedy: the same reply
    assert joined.usage_metadata["output_tokens"] == usage["output_tokens"]

    replies = llm.batch(["Hi", "Hello there"])
    assert [r.content for r in replies][1] == reply.content

    chain = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{q}")]) | llm
    assert isinstance(chain.invoke({"q": "Hello"}), AIMessage)

    async def run():
        a = await llm.ainvoke("Hello there")
        pieces = [c async for c in llm.astream("Hello there")]
        b = await llm.abatch(["Hi", "Hello there"])
        return a, sum(pieces[1:], pieces[0]), b

    a, streamed, b = asyncio.run(run())
    assert a.content == reply.content == streamed.content.strip() == b[1].content
    assert streamed.usage_metadata["input_tokens"] == usage["input_tokens"]


def test_chat_model_reads_session_memory(tiny_gm, tmp_path):
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    with GradMemConversationMemory("alice", tiny_gm, url=url, mode="inline", **SMALL) as conv:
        for i in range(8):
            conv.add_messages([{"role": "user", "content": turn(i)}, {"role": "assistant", "content": "Noted."}])
        blocks = conv.read_context().blocks  # the newest read_blocks of them
    assert len(blocks) == conv.policy.read_blocks < len(conv.memory_blocks)
    llm = model(tiny_gm, url=url)
    with_memory = llm.invoke("How many tulips?", config={"configurable": {"session_id": "alice"}})
    meta = with_memory.response_metadata
    assert meta["session_id"] == "alice" and meta["memory_blocks"] == len(blocks)
    assert meta["memory_vectors"] == sum(b.vectors.shape[0] for b in blocks) > 0
    plain = llm.invoke("How many tulips?")
    assert plain.response_metadata["memory_vectors"] == 0
    assert with_memory.usage_metadata["input_tokens"] == plain.usage_metadata["input_tokens"] + meta["memory_vectors"]
    other = llm.invoke("How many tulips?", config={"configurable": {"session_id": "bob"}})
    assert other.response_metadata["memory_vectors"] == 0  # sessions never see each other's memory
    fixed = model(tiny_gm, url=url, session_id="alice").invoke("How many tulips?")
    assert fixed.response_metadata["memory_blocks"] == len(blocks)


def test_bind_tools_best_effort(tiny_gm):
    names = ["garden_size"]
    call = parse_tool_call('Sure. {"tool": "garden_size", "args": {"plant": "roses"}}', names)
    assert call["name"] == "garden_size" and call["args"] == {"plant": "roses"} and call["id"]
    assert parse_tool_call('{"tool": "unknown", "args": {}}', names) is None
    assert parse_tool_call("no json {here", names) is None
    bound = model(tiny_gm).bind_tools([garden_size])
    reply = bound.invoke("How many roses?")
    assert isinstance(reply, AIMessage)
    streamed = list(bound.stream("How many roses?"))
    assert sum(streamed[1:], streamed[0]).content == reply.content


# -- GradMemMiddleware ------------------------------------------------------------------------------------------


def test_middleware_compresses_and_survives_restart(tiny_gm, tmp_path):
    url, ckpt = f"sqlite:///{tmp_path / 'mem.db'}", tmp_path / "ckpt.db"
    config = {"configurable": {"thread_id": "t1"}}
    conn = sqlite3.connect(ckpt, check_same_thread=False)
    agent, mw = agent_for(tiny_gm, url, SqliteSaver(conn))
    for i in range(6):
        result = agent.invoke({"messages": [HumanMessage(turn(i))]}, config)
    conv = mw.memory("t1")
    blocks, transcript = conv.memory_blocks, conv.transcript
    assert blocks and len(transcript) == 12  # every human + AI message stored once
    state_messages = result["messages"]
    assert len(state_messages) < len(transcript)
    assert texts(state_messages) == texts(conv.messages)  # state = the text part
    assert result["messages"][-1].response_metadata["memory_blocks"] > 0  # the model read the memory
    mw.close()
    conn.close()

    conn = sqlite3.connect(ckpt, check_same_thread=False)  # "restart": new objects over the same files
    agent2, mw2 = agent_for(tiny_gm, url, SqliteSaver(conn))
    assert texts(agent2.get_state(config).values["messages"]) == texts(state_messages)
    agent2.invoke({"messages": [HumanMessage("How many tulips did I plant?")]}, config)
    streamed = [c for c, _ in agent2.stream({"messages": [HumanMessage("And roses?")]}, config, stream_mode="messages")
                if isinstance(c, AIMessageChunk)]
    assert streamed and streamed[-1].response_metadata["memory_blocks"] > 0  # _stream reads the memory too
    conv2 = mw2.memory("t1")
    assert len(conv2.transcript) == 16
    assert [b.first_seq for b in conv2.memory_blocks][: len(blocks)] == [b.first_seq for b in blocks]
    mw2.close()
    conn.close()


def test_middleware_never_splits_tool_calls(tokenizer, tmp_path):
    wide = GradMem(make_tiny_llama(len(tokenizer), max_positions=1024), tokenizer, name="tiny-llama")  # tool prompt
    agent, mw = agent_for(wide, f"sqlite:///{tmp_path / 'mem.db'}", InMemorySaver())
    config = {"configurable": {"thread_id": "tools"}}
    for i in range(3):
        cid = f"call_{i}"
        history = [
            HumanMessage(turn(i)),
            AIMessage("", tool_calls=[{"name": "garden_size", "args": {"plant": "tulips"}, "id": cid},
                                      {"name": "garden_size", "args": {"plant": "roses"}, "id": cid + "b"}]),
            ToolMessage(f"There are {i} tulips.", tool_call_id=cid),
            ToolMessage(f"There are {i} roses in bed number {i}.", tool_call_id=cid + "b"),
            AIMessage(f"You have {i} tulips."),
            HumanMessage("And what else?"),
        ]
        result = agent.invoke({"messages": history}, config)
        assert_pairs_whole(result["messages"])
        assert not isinstance(result["messages"][0], ToolMessage)
    conv = mw.memory("tools")
    assert conv.memory_blocks
    transcript = conv.transcript
    upto = conv.memory_blocks[-1].last_seq  # the memory/text boundary never falls inside a call/result group
    assert_pairs_whole([to_langchain(m) for m in transcript[: upto + 1]])
    assert_pairs_whole([to_langchain(m) for m in transcript[upto + 1 :]])
    mw.close()


def test_middleware_async_and_threads_isolated(tiny_gm, tmp_path):
    agent, mw = agent_for(tiny_gm, f"sqlite:///{tmp_path / 'mem.db'}", InMemorySaver())

    async def run():
        for i in range(5):
            for tag in ("A", "B"):
                await agent.ainvoke({"messages": [HumanMessage(turn(i, f"[{tag}] "))]},
                                    {"configurable": {"thread_id": f"thread-{tag}"}})

    asyncio.run(run())
    a, b = mw.memory("thread-A"), mw.memory("thread-B")
    assert a.memory_blocks and b.memory_blocks
    a_users = [m.content for m in a.transcript if m.role == "user"]
    b_users = [m.content for m in b.transcript if m.role == "user"]
    assert a_users == [turn(i, "[A] ") for i in range(5)] and b_users == [turn(i, "[B] ") for i in range(5)]
    state = agent.get_state({"configurable": {"thread_id": "thread-A"}}).values["messages"]
    assert all("[B]" not in m.content for m in state)
    mw.close()


@pytest.mark.postgres
def test_middleware_with_postgres_saver(tiny_gm):
    if not postgres_url():
        pytest.skip("GRADMEM_TEST_POSTGRES_URL is not set")
    from langgraph.checkpoint.postgres import PostgresSaver

    pg, thread = postgres_url(), f"pg-{uuid.uuid4().hex}"
    config = {"configurable": {"thread_id": thread}}
    conninfo = pg.replace("postgresql+psycopg://", "postgresql://")
    try:
        for _restart in range(2):
            with PostgresSaver.from_conn_string(conninfo) as saver:
                saver.setup()
                agent, mw = agent_for(tiny_gm, pg, saver)
                for i in range(4):
                    result = agent.invoke({"messages": [HumanMessage(turn(i))]}, config)
                conv = mw.memory(thread)
                assert texts(result["messages"]) == texts(conv.messages)
                mw.close()
        assert conv.memory_blocks and len(conv.transcript) == 16
    finally:
        conv.clear()
        with PostgresSaver.from_conn_string(conninfo) as saver:
            saver.delete_thread(thread)


def test_middleware_import_error_names_the_extra():
    code = ("import sys; sys.modules['langchain.agents'] = None\n"
            "from gradmem_agent.integrations.langchain import ChatGradMem, GradMemChatMessageHistory\n"
            "try:\n    from gradmem_agent.integrations.langchain import GradMemMiddleware\n"
            "except ImportError as exc:\n    print(exc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "gradmem-agent[langchain]" in out.stdout, out.stderr[-2000:]


# -- GradMemChatMessageHistory --------------------------------------------------------------------------------


def test_history_with_runnable_with_message_history(tiny_gm, tmp_path):
    url = f"sqlite:///{tmp_path / 'hist.db'}"
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{question}")])

    def get_history(session_id: str) -> GradMemChatMessageHistory:  # a new object per call, as is common
        return GradMemChatMessageHistory(session_id, tiny_gm, url=url, **SMALL)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_core.runnables.history import RunnableWithMessageHistory

        chain = RunnableWithMessageHistory(prompt | model(tiny_gm, url=url), get_history,
                                           input_messages_key="question", history_messages_key="history")
    for i in range(6):
        reply = chain.invoke({"question": turn(i)}, {"configurable": {"session_id": "s1"}})
    history = get_history("s1")
    transcript = history.transcript
    assert [m.content for m in transcript if isinstance(m, HumanMessage)] == [turn(i) for i in range(6)]
    assert len(transcript) == 12 and [m.type for m in transcript] == ["human", "ai"] * 6
    assert history.memory.memory_blocks and len(history.messages) < len(transcript)
    assert reply.response_metadata["memory_blocks"] > 0  # ChatGradMem read s1's memory via configurable.session_id

    async def more():
        await chain.ainvoke({"question": "Anything else?"}, {"configurable": {"session_id": "s1"}})
        return await history.aget_messages()

    recent = asyncio.run(more())
    assert len(history.transcript) == 14 and recent[-2].content == "Anything else?"
    history.clear()
    assert history.messages == [] and history.transcript == []
    asyncio.run(history.aadd_messages([HumanMessage("hi"), AIMessage("hello")]))
    assert [m.content for m in history.messages] == ["hi", "hello"]
    asyncio.run(history.aclear())
    assert history.messages == []
    history.close()


# -- examples (real default model) ----------------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize("script", ["langgraph_agent.py", "lcel_history.py"])
def test_example_runs(script, tmp_path, default_model_dir):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--db", str(tmp_path / "ex.db"),
                           "--max-new-tokens", "6"],
                          capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "memory blocks:" in proc.stdout
    blocks = int(proc.stdout.rsplit("memory blocks:", 1)[1].split()[0])
    assert blocks > 0
