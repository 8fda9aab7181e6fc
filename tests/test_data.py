"""Fast checks of the seeded data generators, the held-out sets (benchmarks/heldout.py) and the answer scorer."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path

import pytest

from gradmem_agent.training.data import (
    QA,
    babi_samples,
    chat_samples,
    kv_samples,
    text_samples,
    vocab,
)
from gradmem_agent.training.data.chat import FACT_KINDS
from gradmem_agent.training.data.facts_open import KEY_POOLS, OPEN_KINDS
from gradmem_agent.training.data.resources import read_json
from gradmem_agent.training.data.splits import SPLITS, split_of_generated, values_in_split
from gradmem_agent.training.scoring import is_correct, normalize
from heldout import (
    HELDOUT_B_PATH,
    HELDOUT_C_PATH,
    HELDOUT_PATH,
    heldout_sessions,
    load_heldout_chats,
    load_heldout_handbooks,
    load_heldout_long_sessions,
)

NAME_POOLS = ("FIRST_NAMES", "CITIES", "PET_NAMES")
ANSWER_POOLS = (*NAME_POOLS, "PET_SPECIES", "COLOURS", "FOODS", "SPORTS", "LANGUAGES", "JOB_TITLES")


@pytest.fixture(scope="module")
def chats() -> dict[str, list]:
    return {split: chat_samples(300, split=split, seed=11) for split in SPLITS}


def _train_values(pool_names: tuple[str, ...]) -> set[str]:
    return {value for name in pool_names for value in values_in_split(getattr(vocab, name), "train")}


def _mentions(text: str, qa: QA) -> bool:
    padded = f" {normalize(text)} "
    return any(f" {normalize(target)} " in padded for target in (qa.answer, *qa.aliases))


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_output() -> None:
    assert chat_samples(20, seed=3) == chat_samples(20, seed=3)
    assert chat_samples(20, seed=3) != chat_samples(20, seed=4)
    for task in (1, 2, 3):
        assert babi_samples(task, 20, seed=3) == babi_samples(task, 20, seed=3)
    assert kv_samples(16, 10, seed=3, questions=2) == kv_samples(16, 10, seed=3, questions=2)
    assert text_samples(20, seed=3) == text_samples(20, seed=3)


def test_unknown_split_or_task_raises() -> None:
    with pytest.raises(ValueError):
        chat_samples(1, split="dev")
    with pytest.raises(ValueError):
        babi_samples(4, 1)
    with pytest.raises(ValueError):
        text_samples(1, split="holdout")
    with pytest.raises(ValueError):
        kv_samples(2, 1, questions=3)


# --- splits ------------------------------------------------------------------------------------


def test_value_pools_are_large_and_split_disjointly() -> None:
    assert len(vocab.FIRST_NAMES) >= 300 and len(vocab.CITIES) >= 150 and len(vocab.PET_NAMES) >= 150
    for name in ANSWER_POOLS:
        slices = {split: set(values_in_split(getattr(vocab, name), split)) for split in SPLITS}
        assert all(slices.values()), name
        for a, b in itertools.combinations(SPLITS, 2):
            assert not slices[a] & slices[b], (name, a, b)
    # A value shared by two pools could land in train in one and test in the other.
    for a, b in itertools.combinations(ANSWER_POOLS, 2):
        assert not set(getattr(vocab, a)) & set(getattr(vocab, b)), (a, b)


def test_chat_splits_are_disjoint(chats: dict[str, list]) -> None:
    def collect(key: str, split: str) -> set[str]:
        return {item for sample in chats[split] for item in sample.meta[key]}

    for key in ("families", "topics"):
        for a, b in itertools.combinations(SPLITS, 2):
            assert not collect(key, a) & collect(key, b), (key, a, b)
    train_answers = {qa.answer for sample in chats["train"] for qa in sample.qas}
    for split in ("val", "test"):
        held_answers = {qa.answer for sample in chats[split] for qa in sample.qas}
        assert not held_answers & _train_values(ANSWER_POOLS)
        # numbers, codes, dates and weekdays are random; named things must not repeat
        random_value = re.compile(rf"[\d:A-Z -]+|({'|'.join(vocab.MONTHS)}) \d+|{'|'.join(vocab.WEEKDAYS)}")
        assert not {a for a in held_answers & train_answers if not random_value.fullmatch(a)}


def test_template_counts() -> None:
    assert len(FACT_KINDS) >= 25
    for kind in FACT_KINDS:
        assert len(kind.statements) >= 8 and len(kind.questions) >= 4, kind.name


def test_word_files_hold_each_fact_kind_once_and_clean_pools() -> None:
    files = ("facts_people.json", "facts_numbers.json", "facts_life.json", "facts_preferences.json", "facts_open.json")
    named = [kind for file in files for kind in read_json(file)["kinds"]]
    assert sorted(named) == sorted(kind.name for kind in (*FACT_KINDS, *OPEN_KINDS))
    pools = {name: pool for name, pool in vars(vocab).items() if name.isupper() and not name.startswith("_")}
    assert len(pools) >= 25
    for name, pool in pools.items():
        assert isinstance(pool, tuple) and all(isinstance(word, str) and word == word.strip() for word in pool), name
        if name != "CODAS":  # repeated empty codas weight the draw towards open syllables
            assert all(pool) and len(set(pool)) == len(pool), name


def test_babi_and_text_splits_are_disjoint() -> None:
    def names(split: str) -> set[str]:
        stories = [s for task in (1, 2, 3) for s in babi_samples(task, 100, split=split, seed=2)]
        return {sentence.split()[0] for s in stories for sentence in s.document.split(". ")}

    assert not names("train") & names("test")
    assert not names("train") & names("val")

    def modules(split: str) -> set[str]:
        return {s.meta["source"] for s in text_samples(300, split=split, seed=2)} - {"chat"}

    assert not modules("train") & modules("test")


# --- chats -------------------------------------------------------------------------------------


def test_chat_structure_and_lengths(chats: dict[str, list]) -> None:
    for sample in itertools.chain(*chats.values()):
        roles = [message["role"] for message in sample.messages]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert 8 <= len(roles) <= 16 and sample.document is None
        assert all(3 <= len(message["content"]) <= 320 for message in sample.messages)
        assert 2 <= len(sample.qas) <= 5
        assert all(1 <= len(qa.answer.split()) <= 4 for qa in sample.qas)
    twelve = [sum(len(m["content"]) for m in s.messages) for s in chats["train"] if len(s.messages) == 12]
    assert twelve and min(twelve) >= 400 and max(twelve) <= 1400
    assert 550 <= sum(twelve) / len(twelve) <= 900  # ~150-350 tokens with the chat template


def test_chat_answers_are_in_their_fact_turns(chats: dict[str, list]) -> None:
    corrections = 0
    for sample in itertools.chain(*chats.values()):
        for qa in sample.qas:
            assert qa.fact_turns == tuple(sorted(qa.fact_turns))
            assert all(sample.messages[turn]["role"] == "user" for turn in qa.fact_turns)
            assert _mentions(sample.messages[qa.fact_turns[-1]]["content"], qa), (qa, sample.messages)
            corrections += len(qa.fact_turns) > 1
    assert corrections > 50


def test_facts_spread_over_the_chat(chats: dict[str, list]) -> None:
    first_turns = [qa.fact_turns[0] for sample in chats["train"] for qa in sample.qas]
    assert first_turns.count(0) > first_turns.count(10) > 0


def test_invented_names_are_stated_asked_and_split() -> None:
    listed = {value for pool in vars(vocab).values() if isinstance(pool, tuple) for value in pool}
    assert chat_samples(20, seed=3, invented_names=0.0)[5].messages == chat_samples(20, seed=3)[5].messages
    for split in SPLITS:
        names = [(sample, qa) for sample in chat_samples(200, split=split, seed=4, invented_names=1.0)
                 for qa in sample.qas if qa.answer.isalpha() and qa.answer.istitle() and qa.answer not in listed]
        assert len(names) > 100
        for sample, qa in names:
            assert _mentions(sample.messages[qa.fact_turns[-1]]["content"], qa)
            assert split_of_generated(qa.answer) == split
    with pytest.raises(ValueError, match="invented_names"):
        chat_samples(1, invented_names=1.5)


def test_open_facts_are_keyed_asked_and_held_apart() -> None:
    assert chat_samples(20, seed=3, open_facts=0.0)[5].messages == chat_samples(20, seed=3)[5].messages
    open_names = {kind.name for kind in OPEN_KINDS}
    seen: dict[str, set[str]] = {}
    for split in SPLITS:
        samples = chat_samples(150, split=split, seed=6, turns=(12, 20), facts=(3, 6), open_facts=1.0)
        for sample in samples:
            assert set(sample.meta["kinds"]) <= open_names
            for qa in sample.qas:
                assert _mentions(sample.messages[qa.fact_turns[-1]]["content"], qa)
        families = {f for sample in samples for f in sample.meta["families"]}
        seen[split] = families
        repeats = [s for s in samples if len(set(s.meta["kinds"])) < len(s.meta["kinds"])]
        assert len(repeats) > 30  # two facts of one kind, told apart by their key
        for sample in repeats:
            questions = [qa.question for qa in sample.qas]
            assert len(set(questions)) == len(questions)
    assert not seen["train"] & seen["test"] and not seen["train"] & seen["val"]
    with pytest.raises(ValueError, match="open_facts"):
        chat_samples(1, open_facts=-0.1)


def test_open_keys_are_none_of_the_hand_written_questions() -> None:
    questions = [qa.question.lower() for chats in (load_heldout_chats(HELDOUT_PATH), load_heldout_chats(HELDOUT_B_PATH))
                 for sample in chats for qa in sample.qas]
    keys = [key for pool in KEY_POOLS for key in pool]
    assert len(questions) > 150 and len(keys) > 200
    hits = [(key, q) for key in keys for q in questions if re.search(rf"\b{re.escape(key.lower())}\b", q)]
    assert not hits


def test_chat_fact_count_range() -> None:
    samples = chat_samples(50, seed=1, turns=(12, 12), facts=(3, 3))
    assert all(len(s.messages) == 12 and len(s.meta["kinds"]) == 3 for s in samples)


# --- bAbI --------------------------------------------------------------------------------------

MOVE = re.compile(r"(\w+) (?:moved to|went to|journeyed to|travelled to|went back to) the (\w+)")
GET = re.compile(r"(\w+) (?:picked up|got|grabbed|took) the (\w+)")
DROP = re.compile(r"(\w+) (?:dropped|discarded|put down|left) the (\w+)")


def _replay(sentences: list[str]) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """Independent tracker: where each person and object is, and where each object has been."""
    person_at: dict[str, str] = {}
    object_at: dict[str, str] = {}
    holder: dict[str, str] = {}
    history: dict[str, list[str]] = {}

    def place(obj: str, location: str) -> None:
        object_at[obj] = location
        if not history.get(obj) or history[obj][-1] != location:
            history.setdefault(obj, []).append(location)

    for sentence in sentences:
        if match := MOVE.fullmatch(sentence):
            person, location = match.groups()
            person_at[person] = location
            for obj, who in holder.items():
                if who == person:
                    place(obj, location)
        elif match := GET.fullmatch(sentence):
            person, obj = match.groups()
            assert obj not in holder and object_at.get(obj, person_at[person]) == person_at[person]
            holder[obj] = person
            place(obj, person_at[person])
        elif match := DROP.fullmatch(sentence):
            person, obj = match.groups()
            assert holder.pop(obj) == person
        else:
            raise AssertionError(f"unparsed sentence {sentence!r}")
    return person_at, object_at, history


@pytest.mark.parametrize("task", [1, 2, 3])
def test_babi_answers_match_an_independent_tracker(task: int) -> None:
    for sample in babi_samples(task, 200, seed=7):
        sentences = [s.rstrip(".") for s in sample.document.split(". ")]
        assert sample.kind == f"babi{task}" and sample.qas
        assert {1: 10, 2: 15, 3: 20}[task] >= len(sentences) >= 2
        for qa in sample.qas:
            assert all(0 <= turn < len(sentences) for turn in qa.fact_turns)
            person_at, object_at, _ = _replay(sentences[: max(qa.fact_turns) + 1])
            final_person_at, final_object_at, final_history = _replay(sentences)
            if task == 1:
                person = qa.question.removeprefix("Where is ").rstrip("?")
                assert qa.answer == final_person_at[person] == person_at[person]
            elif task == 2:
                obj = qa.question.removeprefix("Where is the ").rstrip("?")
                assert qa.answer == final_object_at[obj] == object_at[obj]
            else:
                match = re.fullmatch(r"Where was the (\w+) before the (\w+)\?", qa.question)
                obj, later = match.groups()
                trail = final_history[obj]
                assert trail.count(later) == 1 and trail[trail.index(later) - 1] == qa.answer


# --- kv and text -------------------------------------------------------------------------------


def test_kv_documents() -> None:
    for sample in kv_samples(32, 30, seed=5, questions=3):
        lines = sample.document.split("\n")
        pairs = [re.fullmatch(r"([A-Z0-9]{4,6})(?:: |=)([A-Z0-9]{4,6})", line).groups() for line in lines]
        keys = [key for key, _ in pairs]
        assert len(lines) == 32 and len(set(keys)) == 32 and len(sample.qas) == 3
        for qa in sample.qas:
            key, value = pairs[qa.fact_turns[0]]
            assert qa.question == f"What is the value of {key}?" and qa.answer == value


def test_text_samples() -> None:
    samples = text_samples(200, seed=4, max_chars=600)
    assert all(s.kind == "text" and s.qas == [] and 0 < len(s.document) <= 600 for s in samples)
    sources = {s.meta["source"] for s in samples}
    assert "chat" in sources and len(sources) > 20


# --- held-out sets (benchmarks/heldout.py) -----------------------------------------------------


# chats-b was written to a token range (200-250 rendered), which for its shortest chat is 626 characters
@pytest.mark.parametrize("path, count, min_chars",
                         [(HELDOUT_PATH, 26, 650), (HELDOUT_B_PATH, 36, 600), (HELDOUT_C_PATH, 36, 600)],
                         ids=["chats", "chats-b", "chats-c"])
def test_heldout_chats(path: Path, count: int, min_chars: int) -> None:
    chats = load_heldout_chats(path)
    assert len(chats) == count and len({c.meta["id"] for c in chats}) == len(chats)
    train_names = _train_values(NAME_POOLS)
    corrections = 0
    for chat in chats:
        assert chat.kind == "chat" and chat.meta["split"] == "heldout"
        assert [m["role"] for m in chat.messages] == ["user", "assistant"] * 6
        assert min_chars <= sum(len(m["content"]) for m in chat.messages[:8]) <= 950, chat.meta["id"]
        assert len(chat.qas) == 3
        for qa in chat.qas:
            assert max(qa.fact_turns) < 8
            assert _mentions(chat.messages[qa.fact_turns[-1]]["content"], qa), qa
            assert not _mentions(" ".join(m["content"] for m in chat.messages[8:]), qa), qa
            corrections += len(qa.fact_turns) > 1
        capitalised = set(re.findall(r"[A-Z][a-z]+", " ".join(m["content"] for m in chat.messages)))
        assert not capitalised & train_names, (chat.meta["id"], capitalised & train_names)
    assert corrections >= 4


@pytest.mark.parametrize("first_path, second_path",
                         [(HELDOUT_PATH, HELDOUT_B_PATH), (HELDOUT_PATH, HELDOUT_C_PATH),
                          (HELDOUT_B_PATH, HELDOUT_C_PATH)], ids=["a-b", "a-c", "b-c"])
def test_the_heldout_sets_share_no_chat_topic_or_answer(first_path: Path, second_path: Path) -> None:
    first, second = load_heldout_chats(first_path), load_heldout_chats(second_path)
    assert not {c.meta["id"] for c in first} & {c.meta["id"] for c in second}
    assert not {c.meta["topic"] for c in first} & {c.meta["topic"] for c in second}
    answers = [{normalize(qa.answer) for c in chats for qa in c.qas} for chats in (first, second)]
    assert not answers[0] & answers[1], answers[0] & answers[1]


def test_heldout_sessions_join_chats_and_keep_each_question_on_its_fact() -> None:
    chats = load_heldout_chats(HELDOUT_C_PATH)
    sessions = heldout_sessions(chats, per_session=4)
    assert len(sessions) == 9 and sum(len(s.messages) for s in sessions) == sum(len(c.messages) for c in chats)
    for session in sessions:
        assert len(session.messages) == 48 and session.meta["id"].count("+") == 3
        for qa in session.qas:
            assert _mentions(session.messages[qa.fact_turns[-1]]["content"], qa), qa
    # a question asked of two chats of one session would have two answers: dropped from both
    twice = [chats[0], replace(chats[1], qas=[*chats[1].qas, chats[0].qas[0]])]
    (joined,) = heldout_sessions(twice, per_session=2)
    assert chats[0].qas[0].question not in [qa.question for qa in joined.qas] and len(joined.qas) == 5
    with pytest.raises(ValueError, match="per_session"):
        heldout_sessions(chats, per_session=0)


@pytest.mark.parametrize("load, count, questions", [(load_heldout_long_sessions, 14, 102),
                                                     (load_heldout_handbooks, 8, 94)], ids=["sessions", "handbooks"])
def test_heldout_counts_and_styles(load, count: int, questions: int) -> None:
    samples = load()
    assert len(samples) == count and len({s.meta["id"] for s in samples}) == count
    assert sum(len(s.qas) for s in samples) == questions
    for sample in samples:
        assert sample.meta["split"] == "heldout" and len(sample.meta["styles"]) == len(sample.qas) >= 4
    assert {style for s in samples for style in s.meta["styles"]} == {"same-words", "paraphrase"}


def test_heldout_long_sessions_keep_each_answer_in_its_fact_turns() -> None:
    for session in load_heldout_long_sessions():
        roles = [m["role"] for m in session.messages]
        assert session.kind == "chat" and session.document is None
        assert roles == ["user", "assistant"] * (len(roles) // 2) and len(roles) >= 60
        for qa in session.qas:
            assert qa.fact_turns and list(qa.fact_turns) == sorted(set(qa.fact_turns))
            assert all(0 <= turn < len(roles) for turn in qa.fact_turns)
            assert _mentions(" ".join(session.messages[turn]["content"] for turn in qa.fact_turns), qa)


def test_heldout_handbooks_keep_each_answer_in_its_evidence() -> None:
    for handbook in load_heldout_handbooks():
        assert handbook.kind == "document" and handbook.messages == [] and len(handbook.document) > 4000
        assert handbook.meta["title"] and len(handbook.meta["evidence"]) == len(handbook.qas)
        for qa, evidence in zip(handbook.qas, handbook.meta["evidence"], strict=True):
            assert qa.fact_turns == () and evidence in handbook.document
            assert _mentions(evidence, qa)


@pytest.mark.parametrize("load", [load_heldout_chats, load_heldout_long_sessions, load_heldout_handbooks])
def test_missing_heldout_file(load, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="held-out"):
        load(tmp_path / "nope.json")


def test_the_package_reads_nothing_outside_itself() -> None:
    """What the package reads ships as package data: no module climbs out of its folder through __file__ or names
    the repository's benchmarks/ folder (whose held-out sets only benchmarks/heldout.py loads)."""
    root = Path(__file__).resolve().parents[1]
    escape = re.compile(r"__file__\)(\.resolve\(\))?\.(parents\[|parent\.parent)|[\"']benchmarks[\"'/]")
    folders = [root / name for name in ("gradmem_agent", "storage", "integrations")]
    modules = [path for folder in folders for path in folder.rglob("*.py")]
    assert len(modules) > 30
    assert not [path.name for path in modules if escape.search(path.read_text(encoding="utf-8"))]


# --- scoring -----------------------------------------------------------------------------------


def test_normalize() -> None:
    assert normalize("  The Cat, a DOG!  ") == "cat dog"
    assert normalize("seven") == "7"
    assert normalize("twenty-one") == "21"
    assert normalize("one hundred and five") == "105"
    assert normalize("March 14th") == "march 14"
    assert normalize("QX-4821") == "qx 4821"


def test_is_correct() -> None:
    assert is_correct("Your cat is called Luna.", QA("q", "Luna"))
    assert is_correct("the cat", QA("q", "cat"))
    assert not is_correct("It is a category.", QA("q", "cat"))
    assert is_correct("You have seven kids.", QA("q", "7"))
    assert is_correct("7", QA("q", "seven"))
    assert not is_correct("17", QA("q", "7"))
    assert is_correct("It's QX4821", QA("q", "QX-4821", aliases=("QX4821",)))
    assert is_correct("on the 14th of March", QA("q", "March 14", aliases=("14 March",)))
    assert not is_correct("", QA("q", "Porto"))
