"""A tool-calling `create_agent` agent on the local default model (offline).

    python examples/tool_agent.py --question "What is the weather in Paris?"

ChatGradMem lists the tools in the model's own `<tool_call>` format and parses its calls. A 135M model seldom
decides to call a tool on its own, so a three-line middleware sets `tool_choice`: "any" until the question has
a tool result (ChatGradMem forces the call by prefilling `<tool_call>`; the model writes the arguments), then
"none" so that the model answers from the result.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--question", default="What is the weather in Paris?")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--db", default=None, help="unused: this example stores nothing")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from gradmem_agent.integrations.langchain import ChatGradMem
    from langchain.agents import create_agent
    from langchain.agents.middleware import wrap_model_call
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        return f"It is sunny and 21 C in {city}."

    @wrap_model_call
    def one_tool_call_per_question(request, handler):
        since_question = request.messages[max(i for i, m in enumerate(request.messages)
                                              if isinstance(m, HumanMessage)):]
        answered = any(isinstance(m, ToolMessage) for m in since_question)
        return handler(request.override(tool_choice="none" if answered else "any"))

    agent = create_agent(model=ChatGradMem(max_new_tokens=args.max_new_tokens), tools=[get_weather],
                         middleware=[one_tool_call_per_question])
    result = agent.invoke({"messages": [{"role": "user", "content": args.question}]})
    for message in result["messages"]:
        calls = getattr(message, "tool_calls", None)
        print(f"{message.type}: {message.content!r}" + (f" tool_calls={calls}" if calls else ""))
    print(f"tool results: {sum(isinstance(m, ToolMessage) for m in result['messages'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
