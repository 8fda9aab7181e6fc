"""Fast checks of the reading-layout generators: long sessions, prose documents, cloze passages, JSONL transport."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from gradmem_agent.training.data import (
    chat_samples,
    cloze_samples,
    document_samples,
    load_samples,
    manpages,
    save_samples,
    session_samples,
)
from gradmem_agent.training.data.chat import FACT_KINDS
from gradmem_agent.training.data.cloze import BLANK, OPTION
from gradmem_agent.training.data.doc_facts import DIRECT, PARAPHRASE, entities
from gradmem_agent.training.data.reading import answer_words, content_words, count_answer, split_sentences
from gradmem_agent.training.data.sessions import _join
from gradmem_agent.training.data.splits import SPLITS, split_of_generated, values_in_split
from gradmem_agent.training.data.text import DOC_MODULES
from gradmem_agent.training.data.vocab import MONTHS, WEEKDAYS
from gradmem_agent.training.scoring import normalize


def _mentions(text: str, answer: str) -> bool:
    return count_answer(answer_words(text), answer) > 0


@pytest.fixture(scope="module")
def sessions() -> dict[str, list]:
    return {split: session_samples(40, split=split, seed=5, open_facts=0.4, invented_names=0.3) for split in SPLITS}


@pytest.fixture(scope="module")
def documents() -> dict[str, list]:
    return {split: document_samples(40, split=split, seed=5) for split in SPLITS}


@pytest.fixture(scope="module")
def cloze() -> dict[str, list]:
    return {split: cloze_samples(40, split=split, seed=5) for split in SPLITS}


# --- determinism and arguments -----------------------------------------------------------------


def test_same_seed_same_output() -> None:
    assert session_samples(4, seed=3) == session_samples(4, seed=3) != session_samples(4, seed=4)
    assert document_samples(4, seed=3) == document_samples(4, seed=3) != document_samples(4, seed=4)
    assert cloze_samples(6, seed=3) == cloze_samples(6, seed=3) != cloze_samples(6, seed=4)


@pytest.mark.parametrize("call", [
    lambda: session_samples(1, split="dev"),
    lambda: session_samples(1, chats=(3, 2)),
    lambda: session_samples(1, chats=(6, 6), turns=(24, 24), messages=(40, 120)),
    lambda: document_samples(1, tokens=(900, 400)),
    lambda: document_samples(1, paraphrased=1.5),
    lambda: document_samples(1, facts=(0, 3)),
    lambda: cloze_samples(1, split="heldout"),
    lambda: cloze_samples(1, man_share=-0.1),
    lambda: cloze_samples(1, questions=(2, 1)),
])
def test_bad_arguments_raise(call) -> None:
    with pytest.raises(ValueError):
        call()


# --- sessions ----------------------------------------------------------------------------------


def test_sessions_join_chats_into_long_ones(sessions: dict[str, list]) -> None:
    for session in itertools.chain(*sessions.values()):
        roles = [message["role"] for message in session.messages]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert 40 <= len(roles) <= 120 and 3 <= session.meta["chats"] <= 6
        assert session.meta["boundaries"][0] == 0 and session.meta["boundaries"] == sorted(session.meta["boundaries"])
        assert session.kind == "chat" and session.document is None


def test_session_answers_are_in_their_fact_turns(sessions: dict[str, list]) -> None:
    corrections = 0
    for session in itertools.chain(*sessions.values()):
        questions = [normalize(qa.question) for qa in session.qas]
        assert len(set(questions)) == len(questions)  # never the same question twice in a session
        for qa in session.qas:
            assert qa.fact_turns == tuple(sorted(qa.fact_turns))
            assert all(session.messages[turn]["role"] == "user" for turn in qa.fact_turns)
            assert _mentions(session.messages[qa.fact_turns[-1]]["content"], qa.answer)
            corrections += len(qa.fact_turns) > 1  # the newest statement holds the answer
    assert corrections > 10
    asked = sum(len(s.qas) for s in sessions["train"])
    assert asked > 10 * len(sessions["train"])  # few questions are lost to ambiguity


def test_a_fact_kind_told_in_two_chats_is_asked_of_neither() -> None:
    chats = chat_samples(200, seed=9, facts=(4, 5), turns=(12, 16))
    groups = {kind.name: kind.exclusive_group for kind in FACT_KINDS}

    def kinds(chat) -> list[str]:  # chat_samples ends meta["families"] with one "<kind>.q<n>" per question
        return [groups[family.rsplit(".q", 1)[0]] for family in chat.meta["families"][-len(chat.qas):]]

    first = chats[0]
    second = next(chat for chat in chats[1:] if set(kinds(chat)) & set(kinds(first))
                  and not {qa.question for qa in chat.qas} & {qa.question for qa in first.qas})
    shared = set(kinds(first)) & set(kinds(second))
    session = _join([first, second], "train")
    kept = [qa.question for qa in session.qas]
    for chat in (first, second):
        for qa, kind in zip(chat.qas, kinds(chat), strict=True):
            assert (qa.question in kept) == (kind not in shared), (kind, qa.question)
    assert session.meta["dropped"] == sum(kind in shared for chat in (first, second) for kind in kinds(chat))
    offset = len(first.messages)
    for qa in session.qas:
        if qa.fact_turns[0] >= offset:
            assert qa.answer in {q.answer for q in second.qas}


def test_open_facts_of_one_kind_with_different_keys_are_both_kept() -> None:
    chats = chat_samples(300, seed=2, open_facts=1.0, facts=(3, 4), turns=(10, 12))
    for first, second in itertools.combinations(chats[:60], 2):
        same_kind = set(first.meta["kinds"]) & set(second.meta["kinds"])
        if same_kind and not {qa.question for qa in first.qas} & {qa.question for qa in second.qas}:
            session = _join([first, second], "train")
            if session.meta["dropped"] == 0:
                assert len(session.qas) == len(first.qas) + len(second.qas)
                return
    pytest.fail("no pair of chats with one open kind under two keys")


def test_session_splits_are_disjoint(sessions: dict[str, list]) -> None:
    families = {split: {f for s in sessions[split] for f in s.meta["families"]} for split in SPLITS}
    topics = {split: {t for s in sessions[split] for t in s.meta["topics"]} for split in SPLITS}
    for a, b in itertools.combinations(SPLITS, 2):
        assert not families[a] & families[b] and not topics[a] & topics[b]


# --- documents ---------------------------------------------------------------------------------


def test_documents_hold_each_answer_once_in_its_sentence(documents: dict[str, list]) -> None:
    for doc in itertools.chain(*documents.values()):
        sentences = split_sentences(doc.document)
        words = answer_words(doc.document)
        assert doc.kind == "document" and not doc.messages and 6 <= len(doc.qas) <= 15
        assert len(doc.meta["qa_kinds"]) == len(doc.meta["overlaps"]) == len(doc.qas)
        for qa in doc.qas:
            (turn,) = qa.fact_turns
            assert count_answer(words, qa.answer) == 1
            assert count_answer(answer_words(sentences[turn]), qa.answer) == 1
            assert not _mentions(qa.question, qa.answer)
            for alias in qa.aliases:  # "45 euros" for "€45": elsewhere in the text neither
                assert count_answer(words, alias) == count_answer(answer_words(sentences[turn]), alias)


def test_paraphrased_questions_share_few_words_with_the_fact(documents: dict[str, list]) -> None:
    kinds = []
    for doc in itertools.chain(*documents.values()):
        sentences = split_sentences(doc.document)
        names = {fact.split(":", 1)[1] for fact in doc.meta["facts"]}
        for qa, kind in zip(doc.qas, doc.meta["qa_kinds"], strict=True):
            shared = content_words(qa.question) & content_words(sentences[qa.fact_turns[0]])
            kinds.append(kind)
            if kind == PARAPHRASE:
                assert len(shared) <= 1, (qa.question, sentences[qa.fact_turns[0]])
                assert not any(content_words(qa.question) & content_words(name) for name in names
                               if name in sentences[qa.fact_turns[0]])
            else:
                assert kind == DIRECT and len(shared) >= 1, (qa.question, sentences[qa.fact_turns[0]])
    assert 0.35 <= kinds.count(PARAPHRASE) / len(kinds) <= 0.6


def test_documents_vary_in_genre_and_layout(documents: dict[str, list]) -> None:
    genres = {doc.meta["genre"] for doc in documents["train"]}
    assert "free" in genres and len(genres) >= 5
    texts = [doc.document for doc in documents["train"]]
    first_lines = {text.splitlines()[0] for text in texts}
    assert len(first_lines) > 20


def test_document_splits_are_disjoint(documents: dict[str, list]) -> None:
    def entities_of(split: str) -> set[str]:
        return {fact.split(":", 1)[1] for doc in documents[split] for fact in doc.meta["facts"]}

    def families_of(split: str) -> set[str]:
        return {part for doc in documents[split] for family in doc.meta["families"] for part in family.split("+")}

    # named answers (people, colours, places); numbers, codes, times, weekdays and dates are random
    random_value = re.compile(rf".*\d.*|{'|'.join(WEEKDAYS)}|({'|'.join(MONTHS)}) \d+")

    def named_answers(split: str) -> set[str]:
        return {qa.answer for doc in documents[split] for qa in doc.qas if not random_value.fullmatch(qa.answer)}

    for a, b in itertools.combinations(SPLITS, 2):
        assert not entities_of(a) & entities_of(b)
        assert not families_of(a) & families_of(b), families_of(a) & families_of(b)
        assert not named_answers(a) & named_answers(b), named_answers(a) & named_answers(b)


def test_entity_descriptions_share_no_word_with_the_name() -> None:
    from gradmem_agent.training.data.doc_facts import fact_types

    for kind in fact_types():
        assert len(entities(kind)) >= 20
        for entity in entities(kind):
            for about in entity.about:
                assert not content_words(about) & content_words(entity.name), (entity.name, about)


def test_document_lengths_in_model_tokens(documents: dict[str, list], tokenizer) -> None:
    lengths = [len(tokenizer(doc.document).input_ids) for doc in itertools.chain(*documents.values())]
    assert min(lengths) >= 400 and max(lengths) <= 1500
    assert max(lengths) - min(lengths) > 600


# --- cloze -------------------------------------------------------------------------------------


def test_cloze_answer_occurs_once_and_is_blanked_from_its_sentence(cloze: dict[str, list]) -> None:
    for sample in itertools.chain(*cloze.values()):
        sentences = split_sentences(sample.document)
        words = answer_words(sample.document)
        assert sample.kind == "cloze" and 1 <= len(sample.qas) <= 3
        for qa, kind in zip(sample.qas, sample.meta["qa_kinds"], strict=True):
            assert count_answer(words, qa.answer) == 1
            pattern = rf"(?<![\w-]){re.escape(qa.answer)}(?![\w-])"
            assert len(re.findall(pattern, sample.document)) == 1
            assert re.search(pattern, sentences[qa.fact_turns[0]])
            assert not _mentions(qa.question, qa.answer)
            if kind == BLANK:
                assert "____" in qa.question
            else:
                assert kind == OPTION and qa.answer.startswith("-")


def test_cloze_lengths_in_model_tokens(cloze: dict[str, list], tokenizer) -> None:
    lengths = [len(tokenizer(sample.document).input_ids) for sample in itertools.chain(*cloze.values())]
    assert min(lengths) >= 150 and max(lengths) <= 1200


def test_cloze_splits_are_disjoint_by_source(cloze: dict[str, list]) -> None:
    def sources(split: str) -> set[str]:
        found = set()
        for sample in cloze[split]:
            origin, name = sample.meta["source"].split(":", 1)
            found.add(f"doc:{name}" if origin == "doc" else f"man:{manpages.family(name)}")
        return found

    for split in SPLITS:
        for source in sources(split):
            origin, name = source.split(":", 1)
            assert (name in values_in_split(DOC_MODULES, split)) if origin == "doc" else \
                split_of_generated(name) == split
    families = {split: {f for s in cloze[split] for f in s.meta["families"]} for split in SPLITS}
    for a, b in itertools.combinations(SPLITS, 2):
        assert not sources(a) & sources(b) and not families[a] & families[b]


def test_cloze_reads_manual_pages_when_installed(cloze: dict[str, list]) -> None:
    origins = {sample.meta["source"].split(":")[0] for sample in cloze["train"]}
    assert "doc" in origins
    assert ("man" in origins) == manpages.available()


def test_cloze_without_manual_pages_uses_docstrings_deterministically(monkeypatch) -> None:
    monkeypatch.setattr(manpages, "available", lambda: False)
    samples = cloze_samples(8, seed=4)
    assert all(sample.meta["source"].startswith("doc:") for sample in samples)
    assert samples == cloze_samples(8, seed=4, man_share=0.0)


# --- JSONL -------------------------------------------------------------------------------------


def test_jsonl_round_trip(tmp_path: Path) -> None:
    samples = [*session_samples(2, seed=1), *document_samples(2, seed=1), *cloze_samples(2, seed=1),
               *chat_samples(2, seed=1)]
    path = tmp_path / "samples.jsonl"
    assert save_samples(path, samples) == len(samples)
    assert load_samples(path) == samples
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(samples)


def test_jsonl_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    save_samples(path, document_samples(1, seed=1))
    before = path.read_text(encoding="utf-8")
    with pytest.raises(TypeError):
        save_samples(path, [{"kind": "chat"}])
    assert path.read_text(encoding="utf-8") == before  # nothing written when encoding fails
    path.write_text(before + json.dumps({"kind": "chat", "qas": []}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"samples.jsonl:2"):
        load_samples(path)
