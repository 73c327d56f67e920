"""How `make eval` scores story grouping: pairwise, and only the pairs the labels say something of."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from tests.eval.dataset import EvalEntry, labels_relate
from tests.eval.metrics import grouping_score, near_match_score


def _entry(key: str, story: str, origin: str) -> EvalEntry:
    return EvalEntry(key, "wire-en", "en", 1, story, True, "original", key, "", (),
                     datetime(2025, 5, 12, 9, tzinfo=UTC), origin=origin)  # fmt: skip


def test_a_join_of_two_files_entries_is_counted_apart_not_as_an_error() -> None:
    # Two helpers wrote the same day's attack on one army base into two files, under two story names.
    first, update = _entry("h1", "h-attack", "grouping_h.toml"), _entry("h2", "h-attack", "grouping_h.toml")
    other_file = _entry("ac1", "ac-attack", "grouping_ac.toml")
    trap = _entry("h3", "h-seizure", "grouping_h.toml")
    stories = {"h1": 1, "h2": 1, "ac1": 1, "h3": 2}
    score = grouping_score([first, update, other_file, trap], stories)
    assert (score.true_positives, score.false_positives, score.false_negatives) == (1, 0, 0)
    assert score.unscored_joins == 2
    # Within one file the same join is an error.
    same_file = dataclasses.replace(other_file, origin="grouping_h.toml")
    score = grouping_score([first, update, same_file, trap], stories)
    assert (score.true_positives, score.false_positives, score.unscored_joins) == (1, 2, 0)


def test_one_story_labelled_across_two_files_is_scored() -> None:
    real, written = _entry("r", "closure", "leo2166_pairs.toml"), _entry("w", "closure", "on_beat.toml")
    assert labels_relate(real, written)
    score = grouping_score([real, written], {"r": 1, "w": 2})
    assert score.false_negatives == 1


def test_possibly_the_same_story_lines_are_scored_against_the_gold_stories() -> None:
    # a1 and a2 are one story the bot told apart, a2's line naming a1's story (right); b1 and b2 are two
    # stories, b2's line naming b1's (wrong); c2 started apart from its story's c1 and said nothing.
    keys = ("a1", "a2", "b1", "b2", "c1", "c2")
    at = {key: datetime(2025, 5, 12, int(key[1]), tzinfo=UTC) for key in keys}
    gold = {"a1": "a", "a2": "a", "b1": "b", "b2": "bb", "c1": "c", "c2": "c"}
    items = [dataclasses.replace(_entry(key, gold[key], "unseen_x.toml"), published=at[key]) for key in keys]
    stories = {"a1": 1, "a2": 2, "b1": 3, "b2": 4, "c1": 5, "c2": 6}
    score = near_match_score(items, stories, {"a2": 1, "b2": 3})
    assert (score.named, score.right) == (2, 1)
    assert (score.apart, score.apart_named) == (2, 1)  # a2 and c2 started apart; a2 said so
