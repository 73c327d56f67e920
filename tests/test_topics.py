"""TOPICS_FILE: the shipped catalog, fuzzy suggestions, and one-line errors for malformed files."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from config.settings import DEFAULT_TOPICS_FILE, ConfigurationError
from stories.topics import TopicsFileError, fold_spans, fold_words, load_topics

MINIMAL = """
[beat]
name = "test-beat"
title = "Test beat"
colour = "#102030"

[beat.groups.country]
any = ["Ruritania"]

[[beat.rules]]
name = "the country"
all = ["country"]

[[topics]]
name = "floods"
title = "Floods"
en = ["flood*"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_has_the_beat_and_its_subtopics() -> None:
    catalog = load_topics(DEFAULT_TOPICS_FILE)
    assert catalog.beat.name == "venezuela-colombia-border"
    assert catalog.names()[0] == catalog.beat.name
    assert set(catalog.names()[1:]) == {
        "military-deserters",
        "migration-refugees",
        "humanitarian-aid",
        "armed-groups-security",
        "crossings-trade",
    }
    for topic in catalog.topics[1:]:
        assert topic.parent == catalog.beat.name
        assert topic.title and 0 <= topic.colour <= 0xFFFFFF
    assert len({topic.colour for topic in catalog.topics}) == len(catalog.topics)


def test_get_and_suggest() -> None:
    catalog = load_topics(DEFAULT_TOPICS_FILE)
    assert catalog.get("Crossings-Trade") is catalog.topics[-1]
    assert catalog.get("nope") is None
    assert catalog.suggest("venezuala") == "venezuela-colombia-border"
    assert catalog.suggest("desertors") == "military-deserters"
    assert catalog.suggest("refugees") == "migration-refugees"
    assert catalog.suggest("qqqqzzzz") is None
    assert catalog.suggest("") is None


def test_minimal_file_loads_with_colour_and_prefix_terms(tmp_path: Path) -> None:
    catalog = load_topics(write(tmp_path, MINIMAL))
    assert catalog.beat.colour == 0x102030
    assert catalog.get("floods") is not None
    assert catalog.source == tmp_path / "topics.toml"


def test_fold_words_ignores_case_and_accents_and_keeps_word_boundaries() -> None:
    assert fold_words("CÚCUTA, Ureña—hondureña") == ["cucuta", "urena", "hondurena"]
    assert fold_words("frontera colombo-venezolana") == ["frontera", "colombo", "venezolana"]


def _fold_words_by_definition(text: str) -> list[str]:
    """NFKD, combining accents dropped, lower case, runs of letters and digits: what the fast paths match."""
    decomposed = re.sub(r"[\u0300-\u036f]", "", unicodedata.normalize("NFKD", text))
    return re.findall(r"[^\W_]+", decomposed.lower())


TRICKY_TEXTS = [
    "¿Qué pasó en Cúcuta? «Nada», dijo.",  # Latin-1 marks
    "µg ½ ¼ ß ª º ² x_y 3.5",  # Latin-1 that does not fold to one Latin-1 character
    "Ureña… 5 € — fin",  # beyond Latin-1
    "ΟΔΟΣ ΣΑΣ Σ",  # final sigma depends on the neighbours
    "e\u0301 n\u0303 \u0301start",  # combining accents, one at a part's start
    "İstanbul ﬁn Ⅻ ١٢ 💔 a\u2060b",
    "nul\x00inside and \x01 control",
    "",
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_fold_words_matches_its_definition(text: str) -> None:
    assert fold_words(text) == _fold_words_by_definition(text)


def test_fold_spans_folds_each_part_as_fold_words_does() -> None:
    parts = [*TRICKY_TEXTS, "Σ", "ς end", "...", "Cúcuta"]
    tokens, starts, ends = fold_spans(parts)
    expected = [words for words in map(fold_words, parts) if words]
    assert [tokens[start:end] for start, end in zip(starts, ends, strict=True)] == expected
    clean = [part for part in parts if "\x00" not in part]  # without a NUL, the one-pass path
    tokens, starts, ends = fold_spans(clean)
    assert [tokens[start:end] for start, end in zip(starts, ends, strict=True)] == [
        words for words in map(fold_words, clean) if words
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[beat\nname = 'x'", "not valid TOML"),
        ("[other]\nx = 1", "unknown key 'other'"),
        (MINIMAL.replace('all = ["country"]', 'all = ["contry"]'), "unknown group 'contry'"),
        (MINIMAL.replace('any = ["Ruritania"]', "any = []"), "has no terms"),
        (MINIMAL.replace('colour = "#102030"', 'colour = "blue"'), "colour must look like"),
        (MINIMAL.replace('name = "floods"', 'name = "test-beat"'), "used twice"),
        (MINIMAL.replace('any = ["Ruritania"]', 'any = ["--"]'), "no letters"),
        (MINIMAL.replace('name = "the country"\n', ""), "needs a name"),
        (MINIMAL.replace('en = ["flood*"]', 'en = "flood"'), "must be a list"),
        (MINIMAL.replace('en = ["flood*"]', 'en = ["fl*"]'), "too short for a '*'"),
        (MINIMAL.replace("[[beat.rules]]", "[[beat.rule]]"), "unknown key 'rule'"),
    ],
)
def test_malformed_file_fails_with_one_line_naming_file_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TopicsFileError) as raised:
        load_topics(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert problem in message
    assert isinstance(raised.value, ConfigurationError)  # bot.py prints these as one line


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TopicsFileError, match="not found"):
        load_topics(tmp_path / "absent.toml")
