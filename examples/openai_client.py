"""The official `openai` client talking to `gradmem serve` (local default model, offline).

    python examples/openai_client.py --db /tmp/serve.db

Starts the server in this process on a free port of 127.0.0.1 (as `gradmem serve --db ...` would in its own),
then chats in one session: the session is the X-Session-Id header, and each request sends only the new
message; the server keeps the rest and moves old turns into memory between requests. The second reply is
streamed.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="SQLite file of the sessions")
    parser.add_argument("--session", default="ada")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import openai
    from gradmem_agent.integrations.server import GradMemServer, ServerThread

    from gradmem_agent import GradMem

    server = GradMemServer(GradMem.from_pretrained(), url=f"sqlite:///{args.db}", max_tokens=args.max_new_tokens)
    running = ServerThread(server)

    client = openai.OpenAI(base_url=running.base_url, api_key="unused")
    session = {"X-Session-Id": args.session}
    print("models:", [m.id for m in client.models.list().data])
    reply = client.chat.completions.create(
        model="gradmem", extra_headers=session,
        messages=[{"role": "user", "content": "Hi! I'm Ada and I keep three beehives."}])
    print("bot:", reply.choices[0].message.content)
    print("bot (streamed): ", end="", flush=True)
    for chunk in client.chat.completions.create(
            model="gradmem", extra_headers=session, stream=True,
            messages=[{"role": "user", "content": "How many beehives do I keep?"}]):
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()
    running.stop()  # shutting down closes the server: background compression finishes, the store closes
    print(f"session turns stored: {_count(args.db, args.session)}")
    return 0


def _count(db: str, session: str) -> int:
    from gradmem_agent.storage import SQLStore

    store = SQLStore(f"sqlite:///{db}")
    try:
        return len(store.messages(session))
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
