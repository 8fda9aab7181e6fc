"""A LangChain 1.x `create_agent` agent whose old messages move into GradMem memory (local model, offline).

    python examples/langgraph_agent.py --db /tmp/agent.db

GradMemMiddleware keeps the recent messages of each LangGraph thread as text and writes older ones into memory
blocks (SQL at --db); ChatGradMem reads those blocks as a soft prompt. The agent state is checkpointed with
SqliteSaver (at --db + ".ckpt"), so running the script again continues the same thread. The default 135M
model rarely calls the tool (tool calling is best-effort for local models); the memory works either way.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="SQLite file for the memory (checkpoints go to DB.ckpt)")
    parser.add_argument("--thread", default="garden", help="LangGraph thread id")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--recent-tokens", type=int, default=32, help="text window, in model tokens")
    parser.add_argument("--segment-tokens", type=int, default=40, help="most text one memory block holds")
    parser.add_argument("--steps", type=int, default=1, help="WRITE steps per block")
    parser.add_argument("--max-new-tokens", type=int, default=10)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from gradmem_agent.integrations.langchain import ChatGradMem, GradMemMiddleware
    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from langgraph.checkpoint.sqlite import SqliteSaver

    @tool
    def garden_size(plant: str) -> str:
        """How many of a plant grow in the garden."""
        return f"There are 12 {plant} in the garden."

    middleware = GradMemMiddleware(
        url=f"sqlite:///{args.db}", recent_tokens=args.recent_tokens, segment_tokens=args.segment_tokens,
        steps=args.steps,
    )
    model = ChatGradMem(max_new_tokens=args.max_new_tokens)  # the same default engine as the middleware
    facts = [
        "Hi! I'm Ada. I keep three beehives behind the greenhouse.",
        "My favourite flowers are blue irises; I planted forty of them this spring.",
        "The tomatoes did badly this year because of the late frost in May.",
        "My neighbour Tom lends me his ladder for pruning the old apple tree.",
        "What flowers do I like?",
    ]
    config = {"configurable": {"thread_id": args.thread}}
    with sqlite3.connect(f"{args.db}.ckpt", check_same_thread=False) as conn:
        agent = create_agent(model=model, tools=[garden_size], middleware=[middleware],
                             checkpointer=SqliteSaver(conn), system_prompt="You are a friendly gardening assistant.")
        for i in range(args.turns):
            text = facts[i % len(facts)] if i < args.turns - 1 else facts[-1]
            result = agent.invoke({"messages": [{"role": "user", "content": text}]}, config)
            reply = result["messages"][-1]
            print(f"user: {text}\nagent: {reply.content!r}  [state messages: {len(result['messages'])}, "
                  f"memory vectors read: {reply.response_metadata.get('memory_vectors')}]")
        stats = middleware.memory(args.thread).stats()
        middleware.close()
    print(f"transcript messages: {stats.messages}, as text: {stats.text_messages}")
    print(f"memory blocks: {stats.blocks} ({stats.vectors} vectors holding {stats.tokens_in_memory} tokens)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
