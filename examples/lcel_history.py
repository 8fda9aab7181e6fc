"""`prompt | ChatGradMem()` under RunnableWithMessageHistory, with GradMemChatMessageHistory over SQLite (offline).

    python examples/lcel_history.py --db /tmp/history.db

The history returns only the recent turns as text; older ones are compressed into memory blocks, which
ChatGradMem reads for the same `configurable.session_id`. RunnableWithMessageHistory is deprecated in
langchain-core 1.x (LangGraph persistence replaces it) but still common; its warning is silenced here.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="SQLite file for the history and its memory")
    parser.add_argument("--session", default="ada")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--recent-tokens", type=int, default=32, help="text window, in model tokens")
    parser.add_argument("--segment-tokens", type=int, default=40, help="most text one memory block holds")
    parser.add_argument("--steps", type=int, default=1, help="WRITE steps per block")
    parser.add_argument("--max-new-tokens", type=int, default=10)
    args = parser.parse_args(argv)

    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_core.runnables.history import RunnableWithMessageHistory

    from gradmem_agent.integrations.langchain import ChatGradMem, GradMemChatMessageHistory

    url = f"sqlite:///{args.db}"
    policy = {"recent_tokens": args.recent_tokens, "segment_tokens": args.segment_tokens, "steps": args.steps,
              "mode": "inline"}
    histories: dict[str, GradMemChatMessageHistory] = {}

    def get_history(session_id: str) -> GradMemChatMessageHistory:
        if session_id not in histories:
            histories[session_id] = GradMemChatMessageHistory(session_id, url=url, **policy)
        return histories[session_id]

    prompt = ChatPromptTemplate.from_messages([
        ("system", "You are a friendly gardening assistant. Answer briefly."),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ])
    chain = prompt | ChatGradMem(url=url, max_new_tokens=args.max_new_tokens)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        chat = RunnableWithMessageHistory(chain, get_history, input_messages_key="question",
                                          history_messages_key="history")
    questions = [
        "Hi! I'm Ada. I keep three beehives behind the greenhouse.",
        "My favourite flowers are blue irises; I planted forty of them this spring.",
        "The tomatoes did badly this year because of the late frost in May.",
        "My neighbour Tom lends me his ladder for pruning the old apple tree.",
    ]
    config = {"configurable": {"session_id": args.session}}
    for i in range(args.turns):
        question = questions[i % len(questions)] if i < args.turns - 1 else "What flowers do I like?"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            reply = chat.invoke({"question": question}, config)
        print(f"user: {question}\nassistant: {reply.content!r}  "
              f"[memory vectors read: {reply.response_metadata['memory_vectors']}]")
    history = get_history(args.session)
    stats = history.memory.stats()
    print(f"history.messages (sent as text): {len(history.messages)}, transcript: {len(history.transcript)}")
    print(f"memory blocks: {stats.blocks} ({stats.vectors} vectors holding {stats.tokens_in_memory} tokens)")
    history.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
