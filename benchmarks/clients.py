"""How the client paths perform on the default model: batch against a loop, and time to the first streamed token.

    python benchmarks/clients.py [--quick]

Measured side by side in one process, on the same engine and prompts:
- ChatGradMem: `batch(prompts)` (one batched decode) against `[invoke(p) for p in prompts]`; the replies must
  be the same, token for token (greedy decoding).
- time to the first text chunk and to the whole reply: ChatGradMem.stream with and without a tool bound (text
  streams while the reply cannot be a tool call), and `gradmem serve` over SSE with the official openai client
  against the same server's non-streamed reply.

Saves JSON and a PNG under benchmarks/results/ (clients-DATE-MACHINE.*).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
import warnings
from pathlib import Path

PROMPTS = ["What is the capital of France?", "Name three fruits.", "Write a haiku about the sea.",
           "How do I boil an egg?", "What is two plus two?", "Say hello in Spanish.", "Name a large planet.",
           "What colour is the sky?"]


def timed_stream(chunks) -> tuple[float, float, int]:
    """(seconds to the first non-empty text chunk, seconds to the end, text chunks)."""
    start, first, count = time.perf_counter(), None, 0
    for text in chunks:
        if text:
            count += 1
            if first is None:
                first = time.perf_counter() - start
    total = time.perf_counter() - start
    return (first if first is not None else total), total, count


def bench_batch(model, prompts: list[str]) -> dict:
    start = time.perf_counter()
    loop = [model.invoke(p).content for p in prompts]
    loop_s = time.perf_counter() - start
    start = time.perf_counter()
    batched = [m.content for m in model.batch(prompts)]
    batch_s = time.perf_counter() - start
    return {"prompts": len(prompts), "loop_s": round(loop_s, 2), "batch_s": round(batch_s, 2),
            "speedup": round(loop_s / batch_s, 2), "same_replies": loop == batched}


def bench_stream(model, question: str) -> dict:
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        return "sunny"

    rows = {}
    for label, runnable in (("ChatGradMem.stream", model), ("ChatGradMem.stream, tool bound",
                                                           model.bind_tools([get_weather]))):
        first, total, n = timed_stream(c.content for c in runnable.stream(question))
        rows[label] = {"first_token_s": round(first, 3), "total_s": round(total, 2), "text_chunks": n}
    return rows


def bench_server(engine, question: str, max_tokens: int, db: Path) -> dict:
    import openai
    from gradmem_agent.integrations.server import GradMemServer, ServerThread

    running = ServerThread(GradMemServer(engine, url=f"sqlite:///{db}", max_tokens=max_tokens))
    client = openai.OpenAI(base_url=running.base_url, api_key="unused")
    ask = [{"role": "user", "content": question}]
    try:
        start = time.perf_counter()
        client.chat.completions.create(model="gradmem", messages=ask)
        whole = time.perf_counter() - start
        first, total, n = timed_stream(c.choices[0].delta.content if c.choices else ""
                                       for c in client.chat.completions.create(model="gradmem", messages=ask,
                                                                               stream=True))
    finally:
        running.stop()
    return {"serve, non-streamed": {"first_token_s": round(whole, 3), "total_s": round(whole, 2), "text_chunks": 1},
            "serve, SSE": {"first_token_s": round(first, 3), "total_s": round(total, 2), "text_chunks": n}}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    b = report["batch"]
    left.bar(["loop of invoke", "batch"], [b["loop_s"], b["batch_s"]], color=["#999", "#2a7"])
    left.set_ylabel("seconds")
    left.set_title(f"{b['prompts']} prompts, {report['max_new_tokens']} new tokens")
    labels = list(report["stream"])
    right.barh(labels, [report["stream"][k]["total_s"] for k in labels], color="#ccc", label="whole reply")
    right.barh(labels, [report["stream"][k]["first_token_s"] for k in labels], color="#27a", label="first token")
    right.set_xlabel("seconds")
    right.legend()
    right.set_title("time to first token")
    fig.suptitle(f"client paths, {report['model']}, {report['machine']['label']} ({report['date'][:10]})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 prompts, 8 new tokens")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's). On a loaded shared CPU, 2 threads on the main "
                             "thread can decode many times slower than 1: compare runs with the same setting")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (the PNG goes beside it)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import tempfile

    import torch
    from gradmem_agent.integrations.langchain import ChatGradMem

    from gradmem_agent import GradMem

    if args.threads:
        torch.set_num_threads(args.threads)
    max_new = args.max_new_tokens or (8 if args.quick else 32)
    prompts = PROMPTS[:4] if args.quick else PROMPTS
    engine = GradMem.from_pretrained()
    model = ChatGradMem(engine=engine, max_new_tokens=max_new)
    model.invoke("warm up")
    question = "Write a short poem about the weather in spring."
    with tempfile.TemporaryDirectory() as tmp:
        report = {"benchmark": "clients", "model": engine.name, "adapter": engine.adapter_id,
                  "max_new_tokens": max_new, "batch": bench_batch(model, prompts),
                  "stream": {**bench_stream(model, question),
                             **bench_server(engine, question, max_new, Path(tmp) / "serve.db")}}
    stamp = dt.datetime.now(dt.timezone.utc)
    device = "gpu" if engine.device.type == "cuda" else f"cpu{torch.get_num_threads()}"
    report["date"] = stamp.isoformat(timespec="seconds")
    report["machine"] = {"label": device, "platform": platform.platform(), "python": platform.python_version(),
                         "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                         "load_average_1m": round(os.getloadavg()[0], 2)}
    out = args.out or Path(__file__).parent / "results" / f"clients-{stamp:%Y-%m-%d}-{device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    plot(report, out.with_suffix(".png"))
    print(json.dumps(report, indent=1))
    print(f"saved {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
