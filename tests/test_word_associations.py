"""Word associations: learned from labelled pairs (only what several stories share), read out of file for the
model's training, and seen by the same-story features where two reports say one thing in other words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from stories.grouping.associations import (
    MIN_STORIES,
    NO_ASSOCIATION,
    WordAssociations,
    word_associations,
)
from stories.grouping.features import FEATURES, StoryView, compare, make_view
from training.word_associations import learn_associations, out_of_file_values

MONDAY = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Example:
    new_only: frozenset[str]
    old_only: frozenset[str]
    same: bool
    stories: tuple[str, str]


def example(new: set[str], old: set[str], story: str, other: str | None = None) -> Example:
    return Example(frozenset(new), frozenset(old), other is None, (other or story, story))


def test_a_word_pair_is_learned_from_several_stories_only() -> None:
    pairs = [example({"quak", "night"}, {"seism"}, f"story-{n}") for n in range(MIN_STORIES)]
    # one story's own wording, however many of its pairs repeat it, is no association
    pairs += [example({"barg"}, {"ferri"}, "story-x") for _ in range(10)]
    table = {(left, right): score for left, right, score in learn_associations(pairs)}
    assert table[("quak", "seism")] == round(math.log((MIN_STORIES + 0.5) / 0.5), 4)
    assert ("night", "seism") in table  # words of a same-story pair are all candidates
    assert not any("barg" in key for key in table)
    fewer = learn_associations(pairs[: MIN_STORIES - 1])
    assert not any(row[:2] == ("quak", "seism") for row in fewer)


def test_a_word_pair_as_common_between_different_stories_is_dropped() -> None:
    same = [example({"bridg"}, {"cross"}, f"story-{n}") for n in range(MIN_STORIES)]
    different = [example({"bridg"}, {"cross"}, f"story-{n}", f"other-{n}") for n in range(2 * MIN_STORIES)]
    assert learn_associations(same)
    assert learn_associations(same + different) == []


def test_a_pairs_own_file_never_scores_it() -> None:
    # "quak" ~ "seism" is in same-story pairs of three stories of one file only: learned out of file, that
    # file's pairs see nothing, while "damag" ~ "harm", in three stories of every file, is seen everywhere.
    pairs: list[Example] = []
    groups: list[str] = []
    for file in range(10):
        for n in range(MIN_STORIES):
            new, old = ({"damag", "quak"}, {"harm", "seism"}) if file == 0 else ({"damag"}, {"harm"})
            pairs.append(example(new, old, f"f{file}-story-{n}"))
            groups.append(f"file-{file}.toml")
    values = out_of_file_values(pairs, np.array(groups))
    assert values.shape == (len(pairs), 3)
    first_file = values[:MIN_STORIES]
    assert (first_file[:, 0] == 1).all()  # "damag" ~ "harm" only, never its own "quak" ~ "seism"
    assert (values[:, 0] >= 1).all()


def test_evidence_counts_associated_words_of_the_two_sides() -> None:
    table = WordAssociations([("quak", "seism", 2.0), ("damag", "harm", 1.5), ("curfew", "noctur", 3.0)])
    assert len(table) == 3
    found = table.evidence({"quak", "damag", "town"}, {"seism", "harm", "river"})
    assert (found.count, found.strength, found.strongest) == (2.0, 3.5, 2.0)
    assert found.example == ("quak", "seism")
    assert table.evidence({"seism"}, {"quak"}).count == 1  # either way round
    assert table.evidence({"town"}, {"river"}) == NO_ASSOCIATION
    assert WordAssociations().evidence({"quak"}, {"seism"}) == NO_ASSOCIATION


def view(title: str, lead: str, language: str, hours: float = 0) -> StoryView:
    return make_view(title=title, lead=lead, language=language, time=MONDAY + timedelta(hours=hours),
                     link=f"https://wire.example/{language}/x", guid=None, names=frozenset({"cucut"}),
                     figures=(), days=frozenset(), updating=False, topics=("beat",))  # fmt: skip


def test_the_features_read_words_only_one_report_has() -> None:
    quake = view("Quake rattles Cucuta", "Damage reported in the border city.", "en")
    tremor = view("Tremor shakes Cucuta", "Harm to homes in the border city.", "en", 2)
    table = WordAssociations([("quak", "tremor", 2.0), ("damag", "harm", 1.5), ("cucut", "tremor", 9.0)])
    linked = compare(tremor, quake, explain=True, associations=table)
    values = dict(zip(FEATURES, linked.values, strict=True))
    # "cucut" is in both reports: shared words are the overlap features' business, not an association
    assert (values["associated_words"], values["association_strength"]) == (2.0, 3.5)
    assert values["strongest_association"] == 2.0
    assert "associated words (tremor ~ quak)" in linked.notes["associated_words"]
    alone_words = (
        tremor.text_vector.keys() - quake.text_vector.keys(),
        quake.text_vector.keys() - tremor.text_vector.keys(),
    )
    assert values["unshared_words"] == min(map(len, alone_words)) > 0
    alone = dict(zip(FEATURES, compare(tremor, quake, associations=WordAssociations()).values, strict=True))
    assert alone["associated_words"] == alone["association_strength"] == 0.0


def test_the_shipped_table_links_an_agency_name_across_languages() -> None:
    # The bridge lexicon keeps names as written, so "ACNUR" and "UNHCR" never meet as shared words; the
    # learned table links them (dev pairs of several stories told them so).
    assert len(word_associations()) > 1000
    spanish = view("ACNUR pide ayuda para desplazados en Arauca", "La agencia de la ONU alertó.", "es")
    english = view("UNHCR seeks aid for displaced in Arauca", "The UN agency warned.", "en", 1)
    values = dict(zip(FEATURES, compare(english, spanish).values, strict=True))
    assert values["associated_words"] >= 1
