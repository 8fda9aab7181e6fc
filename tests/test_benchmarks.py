"""The quality benchmark's merge of sections that ran in parallel processes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

QUALITY = Path(__file__).resolve().parents[1] / "benchmarks" / "quality.py"


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("quality_benchmark", QUALITY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(path: Path, adapter: str, results: dict, finished: bool = True) -> Path:
    row = lambda c: {"accuracy": c / 10, "correct": c, "total": 10}  # noqa: E731
    results = {name: {label: row(c) for label, c in rows.items()} if name != "kv" else rows
               for name, rows in results.items()}
    path.write_text(json.dumps({"benchmark": "quality", "date": "2026-11-26T00:00:00+00:00", "model": "m",
                                "adapter": adapter, "seconds": 5.0, "finished": finished, "results": results}))
    return path


def test_merge_combines_sections_and_rows(quality, tmp_path):
    a = report(tmp_path / "a.json", "ad-1", {"babi qa2": {"full context": 3}, "kv": {"full context pairs=4": 0.5}})
    b = report(tmp_path / "b.json", "ad-1", {"chats": {"full context": 7}, "babi qa2": {"truncation": 0},
                                             "kv": {"full context pairs=8": 0.0}}, finished=False)
    out = tmp_path / "merged.json"
    quality.merge([a, b], out, plot_it=False)
    merged = json.loads(out.read_text())
    assert list(merged["results"]) == ["chats", "babi qa2", "kv"]  # the report's section order
    assert set(merged["results"]["babi qa2"]) == {"full context", "truncation"}
    assert merged["results"]["kv"] == {"full context pairs=4": 0.5, "full context pairs=8": 0.0}
    assert merged["finished"] is False and merged["merged_from"] == ["a.json", "b.json"]


def test_merge_refuses_different_adapters(quality, tmp_path):
    a = report(tmp_path / "a.json", "ad-1", {"chats": {"full context": 1}})
    b = report(tmp_path / "b.json", "ad-2", {"chats": {"truncation": 0}})
    with pytest.raises(SystemExit, match="different adapters"):
        quality.merge([a, b], tmp_path / "m.json", plot_it=False)


def test_plot_of_a_merge_where_a_part_was_cut_short(quality, tmp_path):
    pytest.importorskip("matplotlib")
    a = report(tmp_path / "a.json", "ad-1", {"chats": {"full context": 7, "frozen": 1}, "kv": {"full pairs=4": 0.5}})
    b = report(tmp_path / "b.json", "ad-1", {"babi qa2": {"full context": 3}}, finished=False)  # frozen row cut
    quality.merge([a, b], tmp_path / "merged.json")
    assert (tmp_path / "merged.png").stat().st_size > 0
