"""benchmarks/reliability.py's short mode: kills during WRITEs and transactions, and the bad-input fuzzer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_fault_injection(tmp_path):
    out = tmp_path / "reliability.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "reliability.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert out.exists(), done.stdout + done.stderr
    report = json.loads(out.read_text())
    databases = ["sqlite"] + (["postgresql+psycopg"] if os.environ.get("GRADMEM_TEST_POSTGRES_URL") else [])
    assert [k["database"] for k in report["kills"]] == [f["database"] for f in report["fuzz"]] == databases
    for kills in report["kills"]:
        assert kills["kills"] == 6 and kills["kills_in_write"] + kills["kills_in_transaction"] >= 4
        assert kills["acknowledged"] == kills["found"] == kills["expected"] == 40
        assert kills["lost"] == kills["duplicates"] == kills["stalls_over_limit"] == 0
        assert kills["seqs_contiguous"] and kills["memory_contiguous"]
    for fuzz in report["fuzz"]:
        assert fuzz["tried"] >= 200 and set(fuzz["by_surface"]) == {"python", "langchain", "cli"}
        assert fuzz["typed"] == fuzz["tried"], fuzz["untyped"] + fuzz["accepted"]
        assert fuzz["state_changes"] == 0, fuzz["changed"]
    assert report["passed"] and done.returncode == 0, done.stdout
    assert out.with_suffix(".png").exists()
