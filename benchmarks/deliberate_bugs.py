"""Deliberate bugs: apply each to the code, run the tests meant to catch it, put the code back.

    python benchmarks/deliberate_bugs.py [name fragment ...]

Each bug is one a review found the suite missing (issue 22) or one of this issue's own fixes undone; a bug the
tests do not catch "survived". Prints one line each and saves JSON under benchmarks/results/. Edits files of
the working tree while it runs (restored afterwards, also on error): run it on a clean tree, alone.
"""
import json
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
PY = sys.executable

MUTANTS = [
    ("block and mark in two transactions", "storage/store.py",
     '''        args = _addition(session_id, [block], expected_compressed_upto)
        return self._run(memory.add, *args, write=True)[0]
''',
     '''        args = _addition(session_id, [block], expected_compressed_upto)
        upto = block.last_seq
        def insert_only(session, sid, specs, expected):
            row = memory._locked_session(session, sid)
            old = row.compressed_upto
            out = memory.add(session, sid, specs, expected)
            row.compressed_upto = old
            return out
        def mark(session, sid):
            memory._locked_session(session, sid).compressed_upto = upto
        out = self._run(insert_only, *args, write=True)[0]
        self._run(mark, session_id, write=True)
        return out
''', "tests/test_robustness.py", "block_and_its_mark"),
    ("clean_cut ignores a tool result at the boundary", "gradmem_agent/policy.py",
     "while end > 0 and ((end < len(messages) and messages[end].role == \"tool\") "
     "or has_tool_calls(messages[end - 1])):",
     '''while end > 0 and has_tool_calls(messages[end - 1]):''', "tests/test_robustness.py", "clean_cut"),
    ("one sample at the target stops the batch", "gradmem_agent/write.py",
     '''        if not keep:
            break''',
     '''        if not keep or "target" in stopped:
            break''', "tests/test_engine.py", "early_stop_per_sample"),
    ("finished samples run on", "gradmem_agent/write.py",
     '''                stopped[row] = "target"
''',
     '''                stopped[row] = "target"
                if needs_grad:
                    keep.append(j)
''', "tests/test_engine.py", "early_stop_per_sample"),
    ("prune(session) ignores its session (transcript)", "storage/retention.py",
     '''    stmt = delete(MessageRow).where(MessageRow.created_at < before, MessageRow.seq <= covered_upto)
    if session_id is not None:''',
     '''    stmt = delete(MessageRow).where(MessageRow.created_at < before, MessageRow.seq <= covered_upto)
    if False:''', "tests/test_robustness.py", "prune_touches_only"),
    ("prune(session) ignores its session (memory)", "storage/retention.py",
     '''    stmt = delete(BlockRow).where(BlockRow.created_at < before)
    if session_id is not None:''',
     '''    stmt = delete(BlockRow).where(BlockRow.created_at < before)
    if False:''', "tests/test_robustness.py", "prune_touches_only"),
    ("recent window budget off by one", "gradmem_agent/policy.py",
     '''total + sizes[i] > policy.recent_tokens''', '''total + sizes[i] >= policy.recent_tokens''',
     "tests/test_robustness.py", "recent_window_boundaries"),
    ("recent window min_keep off by one", "gradmem_agent/policy.py",
     '''if kept >= policy.min_keep_messages and''', '''if kept > policy.min_keep_messages and''',
     "tests/test_robustness.py", "recent_window_boundaries"),
    ("READ's recent window off by one", "gradmem_agent/recall.py",
     '''        if used + size > budget:''', '''        if used + size >= budget:''',
     "tests/test_robustness.py", "recent_window_boundaries"),
    ("dead owner's lease not taken over", "storage/lease.py",
     '''    if not acquired and holder is not None and dead_local_owner(holder):''',
     '''    if False:''', "tests/test_robustness.py", "dead_process"),
    ("no key lookup (retries duplicate)", "storage/transcript.py",
     '''    known = _keyed(session, session_id, [m.key for m in messages if m.key is not None])''',
     '''    known = {}''', "tests/test_robustness.py", "keys"),
    ("refusal after storing (engine checked late)", "gradmem_agent/conversation.py",
     '''        if self.policy.mode == "inline" or self._engine is not None:
            yield from self._ready()''', '''        if False:
            yield''', "tests/test_robustness.py", "refused_calls"),
]


def main(only: list[str]) -> list[dict]:
    env = {**os.environ}
    results = []
    for name, path, old, new, test, k in MUTANTS:
        if only and not any(o in name for o in only):
            continue
        full = Path(ROOT) / path
        src = full.read_text()
        assert src.count(old) == 1, f"{name}: the code to break is not in {path} exactly once"
        full.write_text(src.replace(old, new))
        try:
            run = subprocess.run([PY, "-m", "pytest", "-q", "-x", test, "-k", k, "-p", "no:cacheprovider"],
                                 cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)
        finally:
            full.write_text(src)
        lines = run.stdout.strip().splitlines()
        results.append({"bug": name, "file": path, "test": f"{test} -k {k}", "caught": run.returncode != 0,
                        "pytest": lines[-1] if lines else run.stderr[-200:]})
        print(("caught   " if run.returncode else "SURVIVED ") + f"{name} ({test} -k {k}): {results[-1]['pytest']}",
              flush=True)
    return results


if __name__ == "__main__":
    results = main(sys.argv[1:])
    stamp = datetime.now(timezone.utc)
    out = Path(ROOT) / "benchmarks" / "results" / f"deliberate_bugs-{stamp:%Y-%m-%d}-{socket.gethostname()}.json"
    report = {"benchmark": "deliberate_bugs", "date": stamp.isoformat(timespec="seconds"),
              "machine": {"host": socket.gethostname(), "platform": platform.platform()},
              "postgres": bool(os.environ.get("GRADMEM_TEST_POSTGRES_URL")),
              "caught": sum(r["caught"] for r in results), "total": len(results), "bugs": results}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['caught']}/{report['total']} caught; saved {out}")
    sys.exit(0 if report["caught"] == report["total"] else 1)
