"""Samples to and from JSON Lines, so that data generated on one machine (with its manual pages) can be carried to
another (a GPU machine without them) and read back identically."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .schema import QA, Sample

_FIELDS = {"kind", "messages", "document", "qas", "meta"}
_QA_FIELDS = {"question", "answer", "aliases", "fact_turns"}


def save_samples(path: str | Path, samples: Iterable[Sample]) -> int:
    """Writes one sample per line (UTF-8) and returns how many; an existing file is replaced only once every sample
    has been encoded. meta must hold JSON values: tuples in it come back as lists."""
    lines = [json.dumps(_encode(sample), ensure_ascii=False) for sample in samples]
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)
    return len(lines)


def load_samples(path: str | Path) -> list[Sample]:
    samples = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                samples.append(_decode(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a sample record ({exc})") from exc
    return samples


def _encode(sample: Sample) -> dict:
    if not isinstance(sample, Sample):
        raise TypeError(f"expected a Sample, got {type(sample).__name__}")
    return {
        "kind": sample.kind,
        "messages": sample.messages,
        "document": sample.document,
        "qas": [{"question": qa.question, "answer": qa.answer, "aliases": list(qa.aliases),
                 "fact_turns": list(qa.fact_turns)} for qa in sample.qas],
        "meta": sample.meta,
    }


def _decode(record: dict) -> Sample:
    if not isinstance(record, dict) or set(record) != _FIELDS:
        raise ValueError(f"expected the fields {sorted(_FIELDS)}")
    qas = []
    for qa in record["qas"]:
        if set(qa) != _QA_FIELDS:
            raise ValueError(f"a QA needs the fields {sorted(_QA_FIELDS)}")
        qas.append(QA(qa["question"], qa["answer"], tuple(qa["aliases"]), tuple(int(t) for t in qa["fact_turns"])))
    messages = [dict(message) for message in record["messages"]]
    return Sample(record["kind"], messages, record["document"], qas, dict(record["meta"]))
