"""GradMemMiddleware with a chat model that cannot read memory vectors (a hosted one, here a stand-in).

    python examples/any_model_middleware.py --db /tmp/hosted.db

langchain_core's GenericFakeChatModel stands in for a hosted chat model (swap in ChatOpenAI(...) and drop
token_counter to count in tiktoken). The middleware keeps the agent's window under its trigger; old turns
stay in the SQL transcript, and for each question the ones that share its words come back as text in the
system message. No GradMem model loads and no vectors are written.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="SQLite file of the transcripts")
    parser.add_argument("--trigger-tokens", type=int, default=60, help="the window's cap, in tokens")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from gradmem_agent.integrations.langchain import GradMemMiddleware
    from langchain.agents import create_agent
    from langchain.agents.middleware import wrap_model_call
    from langchain_core.language_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langgraph.checkpoint.memory import InMemorySaver

    hosted = GenericFakeChatModel(messages=(AIMessage("Noted.") for _ in itertools.count()))
    prompts: list[str] = []

    @wrap_model_call
    def show_prompt(request, handler):  # what the hosted model is sent
        prompts.append(request.system_message.text if request.system_message is not None else "")
        return handler(request)

    memory = GradMemMiddleware(url=f"sqlite:///{args.db}", trigger=("tokens", args.trigger_tokens))
    agent = create_agent(model=hosted, middleware=[memory, show_prompt], checkpointer=InMemorySaver(),
                         system_prompt="You are a helpful assistant.")
    config = {"configurable": {"thread_id": "hosted"}}
    for text in ["My sister Marta lives in Lisbon and teaches violin.", "The blue bicycle was stolen in March.",
                 "I water the lemon tree every Sunday morning.", "Our cat Pixel sleeps on the printer.",
                 "Where does my sister live?"]:
        result = agent.invoke({"messages": [{"role": "user", "content": text}]}, config)
    print(f"messages in the agent's state: {len(result['messages'])}; in the transcript: "
          f"{len(memory.store.messages('hosted'))}; memory blocks: {len(memory.store.blocks('hosted'))}")
    print(f"recalled into the prompt:\n{prompts[-1]}")
    memory.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
