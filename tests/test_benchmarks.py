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


def test_paired_counts_the_questions_each_method_answered_alone():
    from gradmem_agent.training.scoring import paired

    row = paired([True] * 19 + [False] * 11 + [True] * 7 + [False] * 41,
                 [False] * 19 + [True] * 11 + [True] * 7 + [False] * 41)
    assert row == {"questions": 78, "both": 7, "only_first": 19, "only_second": 11, "mcnemar_p": 0.2005}
    assert paired([True, False], [True, False])["mcnemar_p"] == 1.0
    assert paired([True] * 10, [False] * 10)["mcnemar_p"] == 0.002
    with pytest.raises(ValueError, match="same questions"):
        paired([True], [True, False])


def test_compare_pairs_an_adapter_report_with_a_baselines_report(quality, tmp_path):
    def rows(label: str, correct: list[bool], questions: str = "abcd") -> dict:
        predictions = [{"question": q, "answer": "x", "reply": "", "correct": c} for q, c in zip(questions, correct,
                                                                                                   strict=True)]
        return {label: {"accuracy": sum(correct) / 4, "correct": sum(correct), "total": 4, "predictions": predictions}}

    trained = "GradMem trained (SGD K=1)"
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"results": {"chats": {**rows("summary", [True, False, False, False]),
                                                      **rows(trained, [True, False, False, False])},
                                            "test": rows("summary", [True] * 4, "wxyz")}}))
    adapter = tmp_path / "adapter.json"
    adapter.write_text(json.dumps({"results": {"chats": rows(trained, [True, True, True, False]),
                                               "test": rows(trained, [True] * 3 + [False], "wxyv")}}))
    out = tmp_path / "paired.json"
    quality.compare([base, adapter], out)
    chats = json.loads(out.read_text())["paired"]["chats"]
    new, old = f"{trained} [adapter.json]", f"{trained} [base.json]"
    assert chats[f"{new} vs summary"] == {"questions": 4, "both": 1, "only_first": 2, "only_second": 0,
                                          "mcnemar_p": 0.5}
    assert f"{old} vs {new}" in chats and f"{new} vs {old}" not in chats  # each pair once
    assert "test" not in json.loads(out.read_text())["paired"]  # other questions: not paired
    quality.compare([base, adapter], out, sections=["test"])
    assert json.loads(out.read_text())["paired"] == {}
