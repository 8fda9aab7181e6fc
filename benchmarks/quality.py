"""Quality benchmark: can the model answer what has left its context window?

One run, one model, one chat template, one scorer, greedy replies, the same questions for every method.

Product sections (training/product.py): each sample goes into a real GradMemConversationMemory and every
question whose facts left the recent window is read eight ways side by side: the hybrid READ that respond()
feeds (the chosen memory blocks, the old turns full-text search recalls, the recent window), recalled turns
alone, chosen blocks alone, every block (memory-only READ), the hybrid reading another chat's blocks (the
control that separates what memory holds from the adapter being on), the whole history as text, a summary by
the same model, and the recent window alone; each arm is paired with the hybrid (McNemar).
- dev-chats, dev-sessions, dev-documents: generated validation data, to choose runs and settings;
- heldout-chats (98 hand-written chats; all but their last 4 messages written into memory), heldout-sessions
  (14 hand-written sessions of 62-80 messages, the default policy), heldout-handbooks (8 hand-written
  documents, ingested as `gradmem ingest` does): read once per candidate that is about to ship.

Lab sections (one block and the last 4 messages as text; methods: full context, truncation, summary, frozen
and trained GradMem): the hand-written chats (chats, chats-b, chats-c), generated chats of the validation
(dev, dev-recent) and test splits (test), bAbI qa1-qa3 (babi) and key-value retrieval (kv).
Prints a table, saves JSON and a PNG plot.

    python benchmarks/quality.py --device cuda                       # the dev-* product sections
    python benchmarks/quality.py --sections heldout-sessions,heldout-handbooks,heldout-chats
    python benchmarks/quality.py --quick                             # small sizes for a CPU smoke run
    python benchmarks/quality.py --merge a.json b.json    # one report from sections run in parallel processes
    python benchmarks/quality.py --paired base.json adapter.json --sections chats,test
        # question by question: what each method answered alone, and McNemar's p that the difference is chance
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch

from gradmem_agent import GradMem
from gradmem_agent.engine import SHIPPED_ADAPTERS
from gradmem_agent.models import DEFAULT_MODEL_NAME
from gradmem_agent.policy import DEFAULT_SEGMENT_TOKENS, MemoryPolicy
from gradmem_agent.training.data import babi_samples, chat_samples, document_samples, kv_samples, session_samples
from gradmem_agent.training.episodes import flatten
from gradmem_agent.training.evaluate import evaluate
from gradmem_agent.training.product import ARMS, evaluate_product
from gradmem_agent.training.scoring import paired
from gradmem_agent.write import WriteConfig
from heldout import HELDOUT_SETS, load_heldout_chats, load_heldout_handbooks, load_heldout_long_sessions

FROZEN_WRITE = {"steps": 100, "lr": 0.3, "optimizer": "adam", "target_accuracy": 1.0}
# Questions asked through the product (training/product.py): generated dev splits to choose runs and settings,
# hand-written held-out sets read once per candidate that is about to ship.
PRODUCT_SECTIONS = ("dev-chats", "dev-sessions", "dev-documents", "heldout-chats", "heldout-sessions",
                    "heldout-handbooks")
ARM_LABELS = {"hybrid": "hybrid: blocks + recalled turns + window", "recall": "recalled turns + window, no memory",
              "blocks": "chosen blocks + window", "memory": "every block + window (memory only)",
              "control": "hybrid reading another chat's blocks", "full": "whole history as text",
              "summary": "summary by the same model + window", "truncation": "recent window only"}


def product_samples(name: str, args) -> tuple[list, int | None]:
    """A product section's samples, and keep_last (the single-chat sets: all but the last 4 messages written)."""
    if name == "dev-chats":
        return chat_samples(args.dev, split="val", seed=321, turns=(8, 16), facts=(2, 6)), 4
    if name == "dev-sessions":
        return session_samples(args.dev_long, split="val", seed=654), None
    if name == "dev-documents":
        return document_samples(args.dev_long, split="val", seed=655), None
    if name == "heldout-chats":
        return [c for path in HELDOUT_SETS.values() for c in load_heldout_chats(path)], 4
    if name == "heldout-sessions":
        return load_heldout_long_sessions(), None
    return load_heldout_handbooks(), None


def policy_fields(text: str) -> dict:
    """"read_blocks=2,recall_tokens=96" -> {"read_blocks": 2, "recall_tokens": 96}, checked by MemoryPolicy."""
    fields = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {item!r}")
        fields[key.strip()] = None if value.strip().lower() == "none" else json.loads(value)
    try:
        MemoryPolicy(**fields)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return fields


def machine(device: str) -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "device": device, "threads": torch.get_num_threads()}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def section(name, episodes, methods, results, save) -> None:
    rows = results.setdefault(name, {})
    for label, (gm, method, write) in methods.items():
        t0 = time.time()
        out = evaluate(gm, episodes, method, **write)
        out["seconds"] = round(time.time() - t0, 2)
        rows[label] = out
        save()  # after every method: a part cut by a time limit keeps what it measured
        print(f"  {name:<10} {label:<28} {out['correct']:>4}/{out['total']:<4} {100 * out['accuracy']:5.1f}%"
              f"  ({out['seconds']} s)", flush=True)


def paired_rows(results: dict) -> dict:
    """Each trained GradMem row against every other row of its section that answered the same questions; the
    hand-written sets also pooled ("chats + chats-b", and with chats-c when it ran) for the rows they all have."""
    out: dict = {}
    for names in (("chats", "chats-b"), tuple(HELDOUT_SETS)):
        if all(name in results for name in names):
            sets = [results[name] for name in names]
            results = {**results, " + ".join(names): {
                label: {"predictions": [p for rows in sets for p in rows[label]["predictions"]]}
                for label in sets[0] if all(rows.get(label, {}).get("predictions") for rows in sets)}}
    for name, rows in results.items():
        scored = {label: row["predictions"] for label, row in rows.items()
                  if isinstance(row, dict) and row.get("predictions")}
        for label in [lab for lab in scored if lab.startswith("GradMem trained")]:
            questions = [p["question"] for p in scored[label]]
            for other, predictions in scored.items():
                done = f"{other} vs {label}" in out.get(name, {})
                if other != label and not done and [p["question"] for p in predictions] == questions:
                    out.setdefault(name, {})[f"{label} vs {other}"] = paired(
                        [p["correct"] for p in scored[label]], [p["correct"] for p in predictions])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--adapter", default=str(SHIPPED_ADAPTERS / DEFAULT_MODEL_NAME))
    parser.add_argument("--babi", type=int, default=100, help="stories per bAbI task")
    parser.add_argument("--babi-tasks", default="1,2,3")
    parser.add_argument("--kv", type=int, default=32, help="samples per key-value point")
    parser.add_argument("--kv-pairs", default="4,8,16,32,64")
    parser.add_argument("--segment-tokens", type=int, default=None,
                        help="most tokens one WRITE holds (MemoryPolicy.segment_tokens; default: the adapter's, "
                             "else 256)")
    parser.add_argument("--write-batch", type=int, default=None,
                        help="texts one WRITE pass holds (default: the engine's, 32 on a GPU, 4 on the CPU)")
    parser.add_argument("--write-precision", default=None, choices=["fp32", "bf16"],
                        help="the trained engine's WRITE precision (default: the engine's)")
    parser.add_argument("--decode-weights", default=None, choices=["fp32", "int8", "gguf"],
                        help="product sections: replies one by one through the trained engine's own decoder with "
                             "these weights (gguf: llama.cpp), as respond() decodes (default: batched generate)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CPU smoke run")
    parser.add_argument("--dev", type=int, default=60, help="generated validation chats in the dev section")
    parser.add_argument("--test", type=int, default=120, help="generated test-split chats in the test section")
    parser.add_argument("--dev-long", type=int, default=40,
                        help="generated sessions and documents in dev-sessions and dev-documents")
    parser.add_argument("--arms", default=",".join(ARMS), help="the product sections' ways of reading")
    parser.add_argument("--policy", type=policy_fields, default={}, metavar="FIELD=VALUE,...",
                        help="MemoryPolicy fields for the product sections, e.g. read_blocks=2,recall_tokens=96 "
                             "(none for None)")
    parser.add_argument("--sections", default=None,
                        help=f"any of {','.join(PRODUCT_SECTIONS)} (questions through the product), "
                             "chats,chats-b,chats-c,babi,kv,dev,dev-recent,test (the lab layout: one block and 4 "
                             "messages of text) (default: the dev-* product sections; with --paired: every section)")
    parser.add_argument("--methods", default=None,
                        help="only these of full,truncation,summary,frozen,trained,trained-truncation,trained-full")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--merge", nargs="+", type=Path, default=None, metavar="JSON",
                        help="merge reports of the same adapter (sections run in parallel) into --out")
    parser.add_argument("--paired", nargs="+", type=Path, default=None, metavar="JSON",
                        help="compare question by question the trained rows of these reports with every other row "
                             "on the same questions (e.g. an adapter's report against a baselines report)")
    args = parser.parse_args()
    try:  # the library's own checks, before any model loads
        if args.segment_tokens is not None:
            MemoryPolicy(segment_tokens=args.segment_tokens)
        if args.write_batch is not None:
            WriteConfig(batch_size=args.write_batch)
    except ValueError as err:
        parser.error(str(err))
    if args.merge:
        return merge(args.merge, args.out, plot_it=not args.no_plot)
    if args.paired:
        return compare(args.paired, args.out, args.sections.split(",") if args.sections else None)
    if args.quick:
        args.babi, args.kv, args.kv_pairs, args.dev, args.test, args.dev_long = 4, 4, "4,8", 4, 4, 2

    frozen = GradMem.from_pretrained(adapter=None, device=args.device, dtype="fp32")
    device = str(frozen.device)
    trained = None
    if args.adapter and args.adapter != "none" and Path(args.adapter).is_dir():
        options = {"write_precision": args.write_precision} if args.write_precision else {}
        if args.decode_weights:
            options |= {"fast_decode": True, "decode_weights": args.decode_weights}
        trained = GradMem.from_pretrained(adapter=args.adapter, device=args.device, dtype="fp32", **options)
    if args.write_batch is not None:  # the memory a WRITE needs, not what it writes: each text is its own sample
        for engine in (frozen, trained):
            if engine is not None:
                engine.write_config = replace(engine.write_config, batch_size=args.write_batch)
    count = frozen.count_tokens
    seg = args.segment_tokens
    if seg is None:
        seg = trained.adapter.config.segment_tokens if trained is not None else DEFAULT_SEGMENT_TOKENS
    methods = {  # short id -> (label, engine, method, WRITE settings)
        "full": ("full context", frozen, "full", {}),
        "truncation": ("truncation", frozen, "truncation", {}),
        "summary": ("summary (same model)", frozen, "summary", {}),
        "frozen": ("GradMem frozen (Adam 100)", frozen, "gradmem", FROZEN_WRITE),
    }
    if trained is not None:
        cfg = trained.adapter.config
        methods["trained"] = (f"GradMem trained (SGD K={cfg.write_steps})", trained, "gradmem", {})
        # Diagnostics of the reader's LoRA, kept on although no memory is read (GradMem.generate would switch it
        # off there, so the product's answers without memory are the base model's, i.e. the rows above):
        # with the old turns gone, its prior over answers (e.g. the format); with the whole history as text,
        # what it does to reading text.
        forced = {"force_reader": True}
        methods["trained-truncation"] = ("truncation, trained adapter", trained, "truncation", forced)
        if cfg.lora_phases == "both":
            methods["trained-full"] = ("full context, trained adapter", trained, "full", forced)
    if args.methods:
        methods = {key: methods[key] for key in args.methods.split(",") if key in methods}
    methods = {label: rest for label, *rest in methods.values()}
    results: dict = {}
    sections = args.sections.split(",") if args.sections else [n for n in PRODUCT_SECTIONS if n.startswith("dev-")]
    t0 = time.time()
    stamp = dt.datetime.now(dt.timezone.utc)
    out = args.out or Path(__file__).parent / "results" / f"quality-{stamp:%Y-%m-%d}-{device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(finished: bool = False) -> dict:
        """Rewritten after every method, so a run cut short keeps what it measured."""
        report = {"benchmark": "quality", "date": stamp.isoformat(timespec="seconds"), "machine": machine(device),
                  "model": DEFAULT_MODEL_NAME, "adapter": trained.adapter_id if trained else None,
                  "adapter_config": trained.adapter.config.__dict__ if trained else None,
                  "write_precision": trained.write_precision if trained else None,
                  "replies": f"one by one, decode_weights={args.decode_weights}" if args.decode_weights else "batched",
                  "segment_tokens": seg, "policy": args.policy, "seconds": round(time.time() - t0, 1),
                  "finished": finished,
                  "results": results, "paired": paired_rows(results)}
        out.write_text(json.dumps(report, indent=1, default=str) + "\n")
        return report

    def short_chats(n: int, split: str, seed: int) -> list:
        """Generated chats of 8-16 messages, the last 4 kept as text (the dev and test layout)."""
        return flatten(chat_samples(n, split=split, seed=seed, turns=(8, 16), facts=(2, 6)), count, seg,
                       recent_messages=4)

    for name, path in HELDOUT_SETS.items():
        if name in sections:
            section(name, flatten(load_heldout_chats(path), count, seg, recent_messages=4), methods, results, save)
    if "dev" in sections or "dev-recent" in sections:
        dev = short_chats(args.dev, "val", 321)
        if "dev" in sections:
            section("dev", [e for e in dev if e.in_memory], methods, results, save)
        if "dev-recent" in sections:  # the fact is still in the window: memory in front must not hurt
            section("dev-recent", [e for e in dev if not e.in_memory], methods, results, save)
    if "test" in sections:  # never used to choose between runs
        section("test", [e for e in short_chats(args.test, "test", 987) if e.in_memory], methods, results, save)
    engine = trained or frozen
    for name in [n for n in PRODUCT_SECTIONS if n in sections]:
        samples, keep_last = product_samples(name, args)
        rows = evaluate_product(engine, samples, arms=args.arms.split(","), keep_last=keep_last,
                                through_decoder=args.decode_weights is not None and engine is trained,
                                **{"segment_tokens": seg, **args.policy})
        results[name] = {f"{ARM_LABELS[arm]} (product)": row for arm, row in rows.items()}
        save()
        for label, row in results[name].items():
            vs = row.get("paired_with_hybrid")
            versus = f"; vs hybrid {vs['only_second']} vs {vs['only_first']}, p = {vs['mcnemar_p']:.3f}" if vs else ""
            print(f"  {name:<18} {label:<48} {row['correct']:>4}/{row['total']:<4} {100 * row['accuracy']:5.1f}%"
                  f"  (blocks {row['mean_blocks']:.1f}, read {row['mean_blocks_read']:.1f}{versus})", flush=True)
    if "babi" in sections:
        for task in [int(t) for t in args.babi_tasks.split(",")]:
            eps = flatten(babi_samples(task, args.babi, split="test", seed=123), count, seg, 0)
            section(f"babi qa{task}", eps, methods, results, save)
    if "kv" in sections:
        kv: dict = {}
        for pairs in [int(p) for p in args.kv_pairs.split(",")]:
            eps = flatten(kv_samples(pairs, args.kv, seed=7), count, seg, 0)
            for vectors in (8, 16) if "GradMem frozen (Adam 100)" in methods else ():
                for k in range(1, 6):
                    r = evaluate(frozen, eps, "gradmem", memory_tokens=vectors, steps=k, lr=0.4, optimizer="sgd",
                                 target_accuracy=None)
                    kv[f"frozen m={vectors} K={k} pairs={pairs}"] = r["accuracy"]
                r = evaluate(frozen, eps, "gradmem", memory_tokens=vectors, **FROZEN_WRITE)
                kv[f"frozen m={vectors} Adam100 pairs={pairs}"] = r["accuracy"]
            if trained is not None and any(engine is trained and kind == "gradmem" for engine, kind, _ in
                                           methods.values()):
                for k in range(1, 6):
                    r = evaluate(trained, eps, "gradmem", steps=k)
                    kv[f"trained m={trained.adapter.config.memory_tokens} K={k} pairs={pairs}"] = r["accuracy"]
            if "full context" in methods:
                kv[f"full context pairs={pairs}"] = evaluate(frozen, eps, "full")["accuracy"]
            print(f"  kv pairs={pairs}: " + ", ".join(f"{k.split(' pairs')[0]}={v:.2f}" for k, v in kv.items()
                                                        if k.endswith(f"pairs={pairs}")), flush=True)
            results["kv"] = kv
            save()

    print_paired(save(finished=True)["paired"])
    if not args.no_plot:
        plot(json.loads(out.read_text()), out.with_suffix(".png"))
    print(f"saved {out}")


def merge(paths: list[Path], out: Path | None, plot_it: bool = True) -> None:
    reports = [json.loads(p.read_text()) for p in paths]
    if len({r["adapter"] for r in reports}) > 1:
        raise SystemExit("refusing to merge reports of different adapters: " + ", ".join(str(p) for p in paths))
    merged = {**reports[0], "results": {}, "seconds": max(r["seconds"] for r in reports),
              "finished": all(r.get("finished", True) for r in reports), "merged_from": [p.name for p in paths]}
    for report in reports:
        for name, rows in report["results"].items():
            merged["results"].setdefault(name, {}).update(rows)
    order = [*PRODUCT_SECTIONS, *HELDOUT_SETS, "test", "dev", "dev-recent", "babi qa1", "babi qa2", "babi qa3", "kv"]
    merged["results"] = dict(sorted(merged["results"].items(), key=lambda kv: order.index(kv[0])
                                    if kv[0] in order else len(order)))
    merged["paired"] = paired_rows(merged["results"])
    print_paired(merged["paired"])
    out = out or paths[0].with_name(paths[0].name.replace(".json", "-merged.json"))
    out.write_text(json.dumps(merged, indent=1, default=str) + "\n")
    if plot_it:
        plot(merged, out.with_suffix(".png"))
    print(f"saved {out}")


def compare(paths: list[Path], out: Path | None, sections: list[str] | None = None) -> None:
    """Rows of several reports side by side; a label that two reports share gets its file's name."""
    reports = {p.name: {k: v for k, v in json.loads(p.read_text())["results"].items() if not sections or k in sections}
               for p in paths}
    combined: dict = {}
    for name, results in reports.items():
        for section_name, rows in results.items():
            for label, row in rows.items():
                shared = sum(label in r.get(section_name, {}) for r in reports.values()) > 1
                combined.setdefault(section_name, {})[f"{label} [{name}]" if shared else label] = row
    comparisons = paired_rows(combined)
    print_paired(comparisons)
    if out:
        out.write_text(json.dumps({"benchmark": "quality-paired", "reports": list(reports), "paired": comparisons},
                                  indent=1) + "\n")
        print(f"saved {out}")


def print_paired(comparisons: dict) -> None:
    for name, rows in comparisons.items():
        for label, c in rows.items():
            print(f"  {name:<10} {label}: {c['only_first']} vs {c['only_second']} answered by one only "
                  f"({c['both']} by both), McNemar p = {c['mcnemar_p']:.3f}")


def plot(report: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    results = report["results"]
    tables = [k for k in results if k != "kv"]
    fig, axes = plt.subplots(1, 2 if "kv" in results else 1, figsize=(14, 5), squeeze=False)
    ax = axes[0][0]
    if tables:
        methods = list(dict.fromkeys(m for t in tables for m in results[t]))  # a part cut short lacks some
        width = 0.8 / len(methods)
        for j, method in enumerate(methods):
            ax.bar([i + j * width for i in range(len(tables))],
                   [100 * results[t][method]["accuracy"] if method in results[t] else float("nan") for t in tables],
                   width, label=method)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(tables))], tables)
        ax.set_ylabel("answered correctly (%)")
        ax.legend(fontsize=7)
    if "kv" in results:
        ax = axes[0][1]
        series: dict[str, list[tuple[int, float]]] = {}
        for key, acc in results["kv"].items():
            name, pairs = key.rsplit(" pairs=", 1)
            if "K=" in name and not name.endswith(("K=1", "K=5")):
                continue
            series.setdefault(name, []).append((int(pairs), 100 * acc))
        for name, pts in series.items():
            ax.plot(*zip(*sorted(pts), strict=True), marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("key-value pairs")
        ax.set_ylabel("exact match (%)")
        ax.legend(fontsize=7)
    fig.suptitle(f"{report['model']} — {report['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
